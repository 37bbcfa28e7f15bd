"""Near-duplicate removal: Alpaca's ROUGE-L rule (exact, indexed) and MinHash over whole records.

The ROUGE-L rule (Stanford Alpaca's generate_instruction.py, after Self-Instruct): walk the
candidates in order and drop one when its ROUGE-L F-measure against any seed or earlier
kept instruction is > threshold (0.7). `RougeIndex` gives the same decisions as that
exhaustive scan without scoring every pair; `exhaustive_rouge_decisions` is the scan
itself, with rouge-score, kept as the reference for tests and benchmarks. The stage that applies
these rules to records, after the quality checks, is `selfinstruct.decide`.
"""

from __future__ import annotations

from collections.abc import Sequence

from records.minhash import MinHashIndex
from records.schema import RECORD_FIELDS
from selfinstruct.rouge_index import RougeIndex, RougeVerdict

__all__ = [
    "MinHashIndex",
    "RougeIndex",
    "RougeVerdict",
    "exhaustive_rouge_decisions",
    "record_text",
]


def record_text(record: dict) -> str:
    """The whole record as one text: instruction, input and output on separate lines."""
    return "\n".join(str(record.get(k) or "") for k in RECORD_FIELDS)


def exhaustive_rouge_decisions(instructions: Sequence[str], seeds: Sequence[str] = (),
                               threshold: float = 0.7) -> list[tuple[bool, float]]:
    """Alpaca's O(n^2) rule with rouge-score itself: (kept, max score) per instruction.

    Every pair is scored with rouge-score's public `RougeScorer.score`; its tokenizer is
    memoised so each instruction is tokenized once, as Alpaca's generate_instruction.py
    does. Max score is 0.0 when the pool is empty.
    """
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_memo_tokenizer())
    pool = list(seeds)
    out = []
    for instruction in instructions:
        best = max((scorer.score(instruction, p)["rougeL"].fmeasure for p in pool), default=0.0)
        kept = not best > threshold
        if kept:
            pool.append(instruction)
        out.append((kept, best))
    return out


def _memo_tokenizer():
    """rouge-score's default tokenizer (no stemming) behind a per-text cache."""
    from rouge_score.tokenizers import DefaultTokenizer, Tokenizer

    class MemoTokenizer(Tokenizer):
        def __init__(self):
            self._inner = DefaultTokenizer(use_stemmer=False)
            self._cache: dict[str, list[str]] = {}

        def tokenize(self, text):
            tokens = self._cache.get(text)
            if tokens is None:
                tokens = self._cache[text] = self._inner.tokenize(text)
            return tokens

    return MemoTokenizer()
