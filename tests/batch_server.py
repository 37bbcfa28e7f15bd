"""The loopback judge with OpenAI's files and batches endpoints, for batched runs driven by the real client.

    with BatchServer(polls_to_finish=3, fail={"request-2"}) as server:
        ...  # eval judge --batch --base-url server.url

`POST /v1/files` (multipart, purpose "batch") stores an input file; `POST /v1/batches` creates a
batch (counted in `created`), `GET /v1/batches/ID` moves it one status on per poll (validating,
in_progress, finalizing, then completed once `polls_to_finish` polls have seen it), `GET
/v1/batches` lists the newest first, `POST /v1/batches/ID/cancel` cancels it, and `GET
/v1/files/ID/content` downloads a file. A batch's results are the replies the synchronous routes
would give (`reply=f` answers each prompt with `f(prompt)`, else the judge's verdict). Scripted faults: custom ids in `fail` go to the error file (once each, unless
`fail_always`); batches whose creation index is in `expire` expire with the first half of their
requests answered; custom ids in `garble` get a 200 without choices (once), followed by a line
that is not JSON; `drop_create` loses the answers to that many creations (the batch exists all the same); `hold` keeps every batch in progress until it is cleared.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time

from tests.judge_server import JudgeServer

STEPS = ("validating", "in_progress", "finalizing")


class BatchServer(JudgeServer):
    def __init__(self, *, polls_to_finish: int = 3, fail=(), fail_always: bool = False, expire=(), garble=(), **kw):
        super().__init__(**kw)
        self.polls_to_finish, self.fail, self.fail_always, self.expire = polls_to_finish, set(fail), fail_always, set(expire)
        self.garble = set(garble)
        self.drop_create = 0  # creations whose answer is lost (the connection closes after the batch exists)
        self.hold = False
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.polls: dict[str, int] = {}
        self.created = 0  # POST /v1/batches received
        self._ids = itertools.count(1)
        self._batch_lock = threading.Lock()  # not the reply lock: replies are made while this one is held

    def _reply(self, prompt: str, max_tokens: int, action: str) -> tuple[str, str]:
        """`reply(prompt)` when given (answers), else the judge's verdict."""
        if self.reply is not None:
            return self.reply(prompt), "stop"
        return super()._reply(prompt, max_tokens, action)

    # --- the state ---------------------------------------------------------------------------------

    def new_file(self, data: bytes, purpose: str) -> dict:
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = data
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": "input.jsonl", "purpose": purpose, "status": "processed"}

    def new_batch(self, body: dict) -> dict:
        index = self.created
        self.created += 1
        batch_id = f"batch-{next(self._ids)}"
        lines = [json.loads(x) for x in self.files[body["input_file_id"]].splitlines() if x.strip()]
        batch = {"id": batch_id, "object": "batch", "endpoint": body["endpoint"], "input_file_id": body["input_file_id"],
                 "completion_window": body["completion_window"], "status": "validating", "created_at": int(time.time()),
                 "output_file_id": None, "error_file_id": None, "errors": None, "completed_at": None,
                 "expired_at": None, "cancelled_at": None, "metadata": body.get("metadata"),
                 "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "_index": index}
        self.batches[batch_id] = batch
        self.polls[batch_id] = 0
        return batch

    def advance(self, batch: dict) -> None:
        """One poll: the next status, and the results once the batch ends."""
        if batch["status"] == "cancelling":
            return self.finish(batch, "cancelled", answer=0)
        if batch["status"] not in STEPS or self.hold:
            return
        self.polls[batch["id"]] += 1
        if self.polls[batch["id"]] >= self.polls_to_finish:
            lines = self.files[batch["input_file_id"]].count(b"\n")
            if batch["_index"] in self.expire:
                return self.finish(batch, "expired", answer=lines // 2)
            return self.finish(batch, "completed", answer=lines)
        batch["status"] = STEPS[min(self.polls[batch["id"]], len(STEPS) - 1)]

    def finish(self, batch: dict, status: str, *, answer: int) -> None:
        """Write the output and error files: the first `answer` requests answered (unless scripted to fail)."""
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].splitlines() if x.strip()]
        output, errors, garbled = [], [], False  # garbled: a line that is not JSON follows the output
        for n, line in enumerate(lines[:answer]):
            if line["custom_id"] in self.fail:
                if not self.fail_always:
                    self.fail.discard(line["custom_id"])
                errors.append({"id": f"r-{n}", "custom_id": line["custom_id"],
                               "response": {"status_code": 500, "body": {"error": {"message": "scripted failure"}}},
                               "error": None})
                continue
            obj, choices, prompt_chars = self.choices(line["url"], line["body"], "ok")
            body = self.completion(obj, line["body"].get("model", "loopback"), choices, prompt_chars)
            if line["custom_id"] in self.garble:  # a 200 without a usable reply, once
                self.garble.discard(line["custom_id"])
                body, garbled = {"id": "x", "object": obj, "choices": []}, True
            output.append({"id": f"r-{n}", "custom_id": line["custom_id"],
                           "response": {"status_code": 200, "request_id": f"q-{n}", "body": body}, "error": None})
        output.reverse()  # results come in any order
        for name, rows in (("output_file_id", output), ("error_file_id", errors)):
            if rows:
                text = "".join(json.dumps(r) + "\n" for r in rows) + ("{not json\n" if rows is output and garbled else "")
                batch[name] = self.new_file(text.encode(), "batch_output")["id"]
        batch["status"] = status
        batch[f"{status}_at"] = int(time.time())
        batch["request_counts"] = {"total": len(lines), "completed": len(output), "failed": len(errors)}

    @staticmethod
    def public(batch: dict) -> dict:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    # --- HTTP ----------------------------------------------------------------------------------------

    def _handler(self):
        server = self
        base = super()._handler()

        class Handler(base):
            def do_GET(self):
                route = self.path.partition("?")[0]
                parts = route.strip("/").split("/")  # v1, files|batches, ...
                with server._batch_lock:
                    if parts[1:2] == ["batches"] and len(parts) == 2:
                        newest = sorted(server.batches.values(), key=lambda b: b["_index"], reverse=True)
                        return self._send(200, {"object": "list", "data": [server.public(b) for b in newest],
                                                "has_more": False})
                    if parts[1:2] == ["batches"] and parts[2] in server.batches:
                        batch = server.batches[parts[2]]
                        server.advance(batch)
                        return self._send(200, server.public(batch))
                    if parts[1:2] == ["files"] and parts[-1] == "content" and parts[2] in server.files:
                        data = server.files[parts[2]]
                        self.send_response(200)
                        self.send_header("Content-Type", "application/octet-stream")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self):
                route = self.path.partition("?")[0]
                parts = route.strip("/").split("/")
                if parts[1:2] not in (["files"], ["batches"]):
                    return super().do_POST()
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server._batch_lock:
                    if parts[1:] == ["files"]:
                        fields = multipart(self.headers["Content-Type"], data)
                        return self._send(200, server.new_file(fields["file"], fields["purpose"].decode()))
                    if parts[1:] == ["batches"]:
                        batch = server.new_batch(json.loads(data))
                        if server.drop_create:
                            server.drop_create -= 1
                            self.close_connection = True
                            return
                        return self._send(200, server.public(batch))
                    if len(parts) == 4 and parts[3] == "cancel" and parts[2] in server.batches:
                        batch = server.batches[parts[2]]
                        batch["status"] = "cancelling"
                        return self._send(200, server.public(batch))
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        return Handler


def multipart(content_type: str, data: bytes) -> dict[str, bytes]:
    """The fields of a multipart/form-data body, by name."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + data)
    return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
            for part in message.iter_parts()}
