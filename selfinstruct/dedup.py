"""Near-duplicate removal: Alpaca's ROUGE-L rule (exact, indexed) and MinHash over whole records.

The ROUGE-L rule (Stanford Alpaca's generate_instruction.py, after Self-Instruct): walk the
candidates in order and drop one when its ROUGE-L F-measure against any seed or earlier
kept instruction is > threshold (0.7). `RougeIndex` gives the same decisions as that
exhaustive scan without scoring every pair; `exhaustive_rouge_decisions` is the scan
itself, with rouge-score, kept as the reference for tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from records.minhash import MinHashIndex
from records.schema import RECORD_FIELDS
from selfinstruct.rouge_index import RougeIndex, RougeVerdict

__all__ = [
    "DedupDecision",
    "MinHashIndex",
    "RougeIndex",
    "RougeVerdict",
    "dedup_records",
    "exhaustive_rouge_decisions",
    "record_text",
]


@dataclass
class DedupDecision:
    """What happened to one record: kept or dropped, why, and what it was closest to."""

    index: int
    kept: bool
    reason: str | None  # "rouge_duplicate" | "minhash_duplicate" | None when kept
    nearest: str | None  # instruction (rouge) or record index as text (minhash) it matched
    score: float  # ROUGE-L F or estimated Jaccard against `nearest`; 0.0 when none


def record_text(record: dict) -> str:
    """The whole record as one text: instruction, input and output on separate lines."""
    return "\n".join(str(record.get(k) or "") for k in RECORD_FIELDS)


def dedup_records(records: Iterable[dict], *, seeds: Iterable[str] = (), rouge_threshold: float = 0.7,
                  tokenizer: str = "rouge", minhash_threshold: float | None = None,
                  report_floor: float | None = None) -> list[DedupDecision]:
    """Decide, in order, which records to keep; one decision per record.

    A record is dropped as "rouge_duplicate" when its instruction scores ROUGE-L F >
    `rouge_threshold` against a seed or an earlier kept instruction, else as
    "minhash_duplicate" when `minhash_threshold` is set and the whole record (instruction,
    input, output) has estimated Jaccard >= it against an earlier kept record. For kept
    records, `nearest`/`score` report the most similar earlier instruction when its score
    is >= `report_floor` (default min(0.5, rouge_threshold)).
    """
    rouge = RougeIndex(rouge_threshold, tokenizer, report_floor=report_floor)
    for seed in seeds:
        rouge.add(seed)
    minhash = MinHashIndex(minhash_threshold) if minhash_threshold is not None else None
    decisions = []
    for i, record in enumerate(records):
        instruction = str(record.get("instruction") or "")
        verdict = rouge.check(instruction)
        if verdict.duplicate:
            decisions.append(DedupDecision(i, False, "rouge_duplicate", verdict.nearest_text, verdict.score))
            continue
        if minhash is not None:
            signature = minhash.minhash(record_text(record))
            found, jaccard = minhash.nearest(signature)
            if found is not None:
                decisions.append(DedupDecision(i, False, "minhash_duplicate", found, jaccard))
                continue
            minhash.insert(str(i), signature)
        rouge.add(instruction)  # reuses the tokens and elements of the check above
        decisions.append(DedupDecision(i, True, None, verdict.nearest_text, verdict.score))
    return decisions


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
