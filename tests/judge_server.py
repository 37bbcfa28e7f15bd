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

# A block ends at the END marker with its own tag (the shipped prompt's), or at a bare one (a prompt without tags)
RESPONSE = re.compile(r"<<<RESPONSE ([AB])((?: \w+)?)>>>\n(.*?)\n<<<END RESPONSE \1\2>>>", re.S)
QUALITY = re.compile(r"quality (\d+)")


def quality(text: str) -> int:
    m = QUALITY.search(text)
    return int(m.group(1)) if m else 0


def distinct_words(text: str) -> int:
    """A stand-in for quality on real answers: how many different words an answer uses."""
    return len(set(re.findall(r"\w+", text.lower())))


class JudgeServer(LoopbackServer):
    def __init__(self, *, first_bias: float = 0.0, score=quality, **kw):
        super().__init__(**kw)
        self.first_bias = first_bias
        self.score = score

    def biased(self, prompt: str) -> bool:
        digest = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
        return digest % 1000 < self.first_bias * 1000

    def verdict(self, prompt: str) -> str:
        shown = {m.group(1): m.group(3) for m in RESPONSE.finditer(prompt)}
        if self.biased(prompt):
            return "A"
        qa, qb = self.score(shown.get("A", "")), self.score(shown.get("B", ""))
        return "A" if qa > qb else "B" if qb > qa else "C"

    def _reply(self, prompt: str, max_tokens: int, action: str) -> tuple[str, str]:
        if action == "garbage":
            return "Both responses have merits; I cannot decide.", "stop"
        text = f"Comparing the two responses on correctness and relevance.\n[[{self.verdict(prompt)}]]"
        if action == "cut":
            return text[:20], "length"
        return text, "stop"


if __name__ == "__main__":  # a standalone judge for benchmarks and trials: prints its URL, serves until killed
    import argparse
    import threading

    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible judge on 127.0.0.1.")
    parser.add_argument("--latency-s", type=float, default=0.2)
    parser.add_argument("--first-bias", type=float, default=0.0)
    parser.add_argument("--score", choices=("quality", "distinct-words"), default="quality",
                        help="prefer the answer saying a higher 'quality N', or the one using more different words")
    args = parser.parse_args()
    score = distinct_words if args.score == "distinct-words" else quality
    with JudgeServer(latency_s=args.latency_s, first_bias=args.first_bias, score=score) as srv:
        print(srv.url, flush=True)
        threading.Event().wait()
