"""A loopback judge: the OpenAI-compatible test server answering comparisons with scripted verdicts.

Answers in the tests say how good they are ("quality 3"); the judge prefers the higher quality and
calls equal qualities a tie. With `first_bias`, a fixed share of prompts (chosen by a hash of the
prompt, so the same prompt always gets the same verdict) gets "whichever was shown first" instead.
The fault script of LoopbackServer still applies; "garbage" answers without a verdict and "cut"
stops at the token limit.
"""

from __future__ import annotations

import hashlib
import re

from tests.loopback_server import LoopbackServer

RESPONSE = re.compile(r"<<<RESPONSE ([AB])>>>\n(.*?)\n<<<END RESPONSE \1>>>", re.S)
QUALITY = re.compile(r"quality (\d+)")


def quality(text: str) -> int:
    m = QUALITY.search(text)
    return int(m.group(1)) if m else 0


class JudgeServer(LoopbackServer):
    def __init__(self, *, first_bias: float = 0.0, **kw):
        super().__init__(**kw)
        self.first_bias = first_bias

    def biased(self, prompt: str) -> bool:
        digest = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
        return digest % 1000 < self.first_bias * 1000

    def verdict(self, prompt: str) -> str:
        shown = dict(RESPONSE.findall(prompt))
        if self.biased(prompt):
            return "A"
        qa, qb = quality(shown.get("A", "")), quality(shown.get("B", ""))
        return "A" if qa > qb else "B" if qb > qa else "C"

    def _reply(self, prompt: str, max_tokens: int, action: str) -> tuple[str, str]:
        if action == "garbage":
            return "Both responses have merits; I cannot decide.", "stop"
        text = f"Comparing the two responses on correctness and relevance.\n[[{self.verdict(prompt)}]]"
        if action == "cut":
            return text[:20], "length"
        return text, "stop"


if __name__ == "__main__":  # a standalone judge for benchmarks: prints its URL, serves until killed
    import argparse
    import threading

    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-s", type=float, default=0.2)
    parser.add_argument("--first-bias", type=float, default=0.0)
    args = parser.parse_args()
    with JudgeServer(latency_s=args.latency_s, first_bias=args.first_bias) as srv:
        print(srv.url, flush=True)
        threading.Event().wait()
