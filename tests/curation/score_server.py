"""A loopback judge for record scores: it rates each record by a hidden function of its output.

Prompts carry the record between tagged markers (the shipped rubric); the reply is a one-line
reason and `Score: N`. Scripted faults: "garbage" (no score line), "cut" (stopped at the token
limit), and outputs containing "OUT OF RANGE" get `Score: 7`.
"""

from __future__ import annotations

import hashlib
import re

from tests.loopback_server import LoopbackServer

OUTPUT = re.compile(r"<<<OUTPUT (\w+)>>>\n(.*?)\n<<<END OUTPUT \1>>>", re.S)


def hidden_score(output: str) -> float:
    """0, 0.5, ... 5 from the output's text: what the stored layer must equal."""
    return int(hashlib.sha256(output.encode()).hexdigest()[:8], 16) % 11 / 2


def reply_for(prompt: str) -> str:
    match = OUTPUT.search(prompt)
    output = match.group(2) if match else ""
    if "OUT OF RANGE" in output:
        return "It is beyond praise.\nScore: 7"
    return f"The output has {len(output.split())} words.\nScore: {hidden_score(output):g}"


class ScoreServer(LoopbackServer):
    def __init__(self, **kw):
        super().__init__(reply=reply_for, **kw)


if __name__ == "__main__":  # a standalone record judge for benchmarks and trials: prints its URL, serves until killed
    import argparse
    import threading

    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible record judge on 127.0.0.1.")
    parser.add_argument("--latency-s", type=float, default=0.2)
    args = parser.parse_args()
    with ScoreServer(latency_s=args.latency_s) as srv:
        print(srv.url, flush=True)
        threading.Event().wait()
