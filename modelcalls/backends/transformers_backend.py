"""A local transformers checkpoint, in-process. Only local paths: nothing is downloaded.

Generation is batched in a rolling batch (rolling.py): up to `batch_size` rows decode together,
each left-padded with its own attention mask and positions, so a row's greedy output does not
depend on the rows beside it; a row leaves the batch the step it stops (EOS, a stop string, the
max-new-tokens cap; it reports which, with its own token counts) and a waiting prompt takes its
place. Concurrent `complete()` calls feed that batch through a MicroBatcher. `stream` yields the
text of one prompt as it is generated (with `model.generate`), for chat.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Iterator

from modelcalls.backends.base import Completion, Decoding, Response
from modelcalls.backends.microbatch import MicroBatcher, Row
from modelcalls.backends.rolling import decode
from modelcalls.errors import BackendError, ConfigError

DEFAULT_BATCH_SIZE = 16


class TransformersBackend:
    """Generates with `model.generate` on a local checkpoint, gathering concurrent requests into batches."""

    name = "transformers"
    provider = "transformers"

    def __init__(self, model_path: str, *, prompts_per_request: int = 1, device: str | None = None,
                 chat_template: bool | None = None, batch_size: int = DEFAULT_BATCH_SIZE):
        path = Path(model_path)
        if not (path / "config.json").exists():
            raise ConfigError(f"{model_path}: not a local transformers checkpoint (no config.json); "
                               "the transformers backend never downloads from a hub")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a local load takes seconds; its bar only clutters the output
        self.model = str(path)
        self.endpoint_host = "local"
        self.prompts_per_request = prompts_per_request
        self.batch_size = batch_size
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.tokenizer.padding_side = "left"  # decoder-only batches pad on the left
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        self._model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype).to(device).eval()
        self._device = device
        self.has_chat_template = bool(self.tokenizer.chat_template)
        # Instruction-tuned checkpoints ship a chat template; base models continue raw text.
        self.chat = self.has_chat_template if chat_template is None else chat_template
        self._eos_ids = _eos_ids(self._model.generation_config.eos_token_id, self.tokenizer.eos_token_id)
        self._model_lock = threading.Lock()  # one generate() at a time on one model
        self._batcher: MicroBatcher | None = None

    # -- prompts ----------------------------------------------------------------------------

    def render_chat(self, messages: list[dict]) -> str:
        """The model's chat template over `messages`, ending where the assistant's reply begins."""
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _texts(self, prompts: list[str]) -> tuple[list[str], bool]:
        """The text each prompt becomes, and whether the tokenizer should add its special tokens
        (a rendered chat template already holds them)."""
        if self.chat:
            return [self.render_chat([{"role": "user", "content": p}]) for p in prompts], False
        return list(prompts), True

    # -- batched generation -----------------------------------------------------------------

    def generate_batch(self, prompts: list[str], decoding: Decoding) -> list[Row]:
        """A Row per prompt, in order, decoded `batch_size` at a time in one rolling batch."""
        feed = _ListFeed(prompts)
        self.run_feed(feed, decoding)
        return feed.rows

    def run_feed(self, feed, decoding: Decoding) -> None:
        """Decode every prompt `feed` hands out (take/put/closed, as microbatch.PromptFeed), at most
        `batch_size` at a time; each finished row goes back at once, and a waiting prompt takes its slot."""
        torch = self._torch
        with self._model_lock, torch.inference_mode():
            if decoding.seed is not None:
                torch.manual_seed(decoding.seed)
            decode(self._model, _TokenFeed(self, feed, decoding), decoding, slots=self.batch_size,
                   eos_ids=self._eos_ids, tokenizer=self.tokenizer, pad_id=self.tokenizer.pad_token_id)

    def encode(self, prompts: list[str]) -> list[list[int]]:
        """The token ids of each prompt as the model sees it (chat template applied when in use)."""
        texts, special = self._texts(prompts)
        return self.tokenizer(texts, add_special_tokens=special)["input_ids"]

    def _generate_kwargs(self, decoding: Decoding) -> dict:
        sample = decoding.temperature > 0
        kwargs = {"max_new_tokens": decoding.max_tokens, "do_sample": sample,
                  "pad_token_id": self.tokenizer.pad_token_id, "eos_token_id": self._eos_ids}
        if sample:
            kwargs.update(temperature=decoding.temperature, top_p=decoding.top_p, top_k=0)
        else:  # greedy: clear any sampling defaults the checkpoint's generation_config carries
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def _stop_criteria(self, decoding: Decoding, width: int, *extra):
        """Stopping criteria: the stop strings (checked on each row's decoded text, which works for
        any tokenizer) and any `extra` criteria."""
        from transformers import StoppingCriteria, StoppingCriteriaList

        torch, tokenizer, stops = self._torch, self.tokenizer, decoding.stop
        # A stop string completed by the newest token lies within its last 4 bytes per character
        # (every token holds at least one byte), so only that tail is decoded at each step.
        window = 4 * max((len(s) for s in stops), default=0) + 4

        class StopStrings(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                start = max(width, input_ids.shape[1] - window)
                texts = tokenizer.batch_decode(input_ids[:, start:], skip_special_tokens=True)
                return torch.tensor([any(s in t for s in stops) for t in texts], device=input_ids.device)

        return StoppingCriteriaList(([StopStrings()] if stops else []) + list(extra))

    def _row(self, ids: list[int], decoding: Decoding, prompt_tokens: int) -> Row:
        """Text, finish reason and token count of one generated row (pads after its end removed)."""
        end = next((k for k, t in enumerate(ids) if t in self._eos_ids), None)
        if end is not None:
            kept, used, finish = ids[:end], end + 1, "stop"
        else:  # a row stopped by a stop string is padded after it
            kept = [t for t in ids if t != self.tokenizer.pad_token_id]
            used = len(kept)
            finish = "length" if used >= decoding.max_tokens else "stop"
        text = self.tokenizer.decode(kept, skip_special_tokens=True)
        cut = min((i for i in (text.find(s) for s in decoding.stop) if i >= 0), default=-1)
        if cut >= 0:  # generate() keeps the stop string; the APIs do not
            text, finish = text[:cut], "stop"
        return Row(text, finish, prompt_tokens, used)

    async def complete(self, prompts: list[str], decoding: Decoding) -> Response:
        loop = asyncio.get_running_loop()
        if self._batcher is None or self._batcher.loop is not loop:
            self._batcher = MicroBatcher(self.run_feed, self.batch_size)
        rows = await self._batcher.submit(prompts, decoding)
        return Response([Completion(r.text, r.finish_reason) for r in rows],
                        {"prompt_tokens": sum(r.prompt_tokens for r in rows),
                         "completion_tokens": sum(r.completion_tokens for r in rows)})

    @property
    def batch_sizes(self) -> list[int]:
        """Prompts drawn into the rolling batch at each draw for `complete()` so far (in this event loop)."""
        return list(self._batcher.batch_sizes) if self._batcher else []

    async def aclose(self) -> None:
        if self._batcher is not None and self._batcher.loop is asyncio.get_running_loop():
            await self._batcher.aclose()

    # -- streaming --------------------------------------------------------------------------

    def stream(self, prompt: str | list[dict], decoding: Decoding, *, add_special_tokens: bool = True) -> Iterator[str]:
        """Pieces of the reply as they are generated: to chat messages (rendered with the checkpoint's
        chat template) or to a text, used as given (no template is applied).

        Closing the iterator early stops generation at the next token, from any thread: a web server
        drops a disconnected client's reply, and the garbage collector may finalize it, in whichever
        thread is running, the generation's own included (which then ends by itself, unjoined).
        """
        from transformers import StoppingCriteria, TextIteratorStreamer

        if isinstance(prompt, list):
            prompt, add_special_tokens = self.render_chat(prompt), False  # the template holds the special tokens
        text = prompt

        torch = self._torch
        stop = threading.Event()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        batch = self.tokenizer([text], return_tensors="pt", add_special_tokens=add_special_tokens).to(self._device)
        width = batch["input_ids"].shape[1]
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with self._model_lock, torch.no_grad():
                    if decoding.seed is not None:
                        torch.manual_seed(decoding.seed)
                    self._model.generate(**batch, **self._generate_kwargs(decoding), streamer=streamer,
                                         stopping_criteria=self._stop_criteria(decoding, width, _Stop()))
            except BaseException as e:  # surfaced in the caller's thread below
                failure.append(e)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            yield from cut_at_stops(streamer, decoding.stop)
        finally:
            stop.set()
            if threading.current_thread() is not worker:  # a thread cannot wait for itself
                worker.join()
        if failure:
            raise BackendError(f"generation failed: {failure[0]}") from failure[0]


class _TokenFeed:
    """A prompt feed seen as token ids: prompts are encoded as they are drawn, finished ids become Rows."""

    def __init__(self, backend: TransformersBackend, feed, decoding: Decoding):
        self._backend, self._feed, self._decoding = backend, feed, decoding
        self._prompt_tokens: list[int] = []

    def take(self, n: int) -> list[list[int]]:
        prompts = self._feed.take(n)
        ids = self._backend.encode(prompts) if prompts else []
        self._prompt_tokens += [len(i) for i in ids]
        return ids

    def put(self, k: int, ids: list[int]) -> None:
        self._feed.put(k, self._backend._row(ids, self._decoding, self._prompt_tokens[k]))

    def closed(self) -> bool:
        return self._feed.closed()


class _ListFeed:
    """A fixed list of prompts, their rows collected in order."""

    def __init__(self, prompts: list[str]):
        self._prompts, self._next = list(prompts), 0
        self.rows: list[Row | None] = [None] * len(prompts)

    def take(self, n: int) -> list[str]:
        part = self._prompts[self._next:self._next + n]
        self._next += len(part)
        return part

    def put(self, k: int, row: Row) -> None:
        self.rows[k] = row

    def closed(self) -> bool:
        return False


def cut_at_stops(pieces, stops: tuple[str, ...]) -> Iterator[str]:
    """Pass streamed text through, ending before the first stop string; text that could be the
    start of a stop string is held back until the next piece decides."""
    if not stops:
        yield from (p for p in pieces if p)
        return
    held = ""
    for piece in pieces:
        held += piece
        hits = [i for i in (held.find(s) for s in stops) if i >= 0]
        if hits:
            if held[: min(hits)]:
                yield held[: min(hits)]
            return
        keep = max((k for s in stops for k in range(1, len(s)) if held.endswith(s[:k])), default=0)
        if len(held) > keep:
            yield held[: len(held) - keep]
            held = held[len(held) - keep:]
    if held:
        yield held


def _eos_ids(configured, tokenizer_eos) -> list[int]:
    ids = configured if isinstance(configured, list) else [configured] if configured is not None else []
    if tokenizer_eos is not None and tokenizer_eos not in ids:
        ids = [*ids, tokenizer_eos]
    return ids
