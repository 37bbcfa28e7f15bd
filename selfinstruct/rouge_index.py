"""An incremental pool answering "does this text score ROUGE-L > threshold against any earlier one?".

Decisions equal an exhaustive scan with rouge-score, at near-linear cost: a candidate
filter (`selfinstruct.rouge_candidates`, where the completeness argument is written out)
proposes the few texts that could reach the bound, and each is scored with an exact LCS
and rouge-score's own arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from records.rouge import fmeasure_from_lcs, lcs_with_masks, match_masks, tokenize
from selfinstruct.rouge_candidates import CandidateFilter

_FIRST_REBUILD = 512  # re-rank elements by frequency at 512, 1024, 2048, ... texts


@dataclass(frozen=True)
class RougeVerdict:
    """Outcome of checking one text: is it a near-duplicate, and what is it closest to."""

    duplicate: bool
    nearest_id: int | None
    nearest_text: str | None
    score: float


class RougeIndex:
    """Pool of texts; a text is a duplicate when its ROUGE-L F against any of them is > threshold.

    For a duplicate, the nearest entry is the one with the highest score (the earliest on
    ties). For a text that is not a duplicate, the nearest entry and its score are
    reported exactly when that score is >= `report_floor` (and > 0); otherwise nearest is
    None and score 0.0. The floor defaults to 0.5 (or the threshold, if lower); a lower
    floor makes the index examine more candidates, report_floor=threshold the fewest.
    """

    def __init__(self, threshold: float = 0.7, tokenizer: str = "rouge", *,
                 report_floor: float | None = None) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if report_floor is None:
            report_floor = min(0.5, threshold)
        if not 0.0 <= report_floor <= threshold:
            raise ValueError(f"report_floor must be in [0, threshold={threshold}], got {report_floor}")
        tokenize("", tokenizer)  # validates the name
        self.threshold = threshold
        self.tokenizer = tokenizer
        self.report_floor = report_floor
        # Candidates are complete down to the lower of the two levels.
        self._filter = CandidateFilter(min(threshold, report_floor))
        self._texts: list[str] = []
        self._tokens: list[list[str]] = []
        self._next_rebuild = _FIRST_REBUILD
        self._last_probe: tuple | None = None  # (text, tokens, elements, sig) of the last check
        self.candidates_verified = 0  # running total of exact LCS checks, for benchmarks

    def __len__(self) -> int:
        return len(self._texts)

    def text(self, id: int) -> str:
        """The text stored under `id`."""
        return self._texts[id]

    def add(self, text: str) -> int:
        """Add `text` to the pool unconditionally (e.g. a seed) and return its id."""
        last = self._last_probe
        if last is not None and last[0] == text:  # check(text) then add(text): reuse its work
            return self._insert(*last)
        tokens = tokenize(text, self.tokenizer)
        return self._insert(text, tokens, *self._filter.prepare(tokens))

    def check(self, text: str) -> RougeVerdict:
        """Score `text` against the pool without adding it."""
        tokens = tokenize(text, self.tokenizer)
        verdict, elements, sig = self._probe(tokens)
        self._last_probe = (text, tokens, elements, sig)
        return verdict

    def check_and_add(self, text: str) -> RougeVerdict:
        """Score `text` against the pool and add it only when it is not a duplicate."""
        tokens = tokenize(text, self.tokenizer)
        verdict, elements, sig = self._probe(tokens)
        if not verdict.duplicate:
            self._insert(text, tokens, elements, sig)
        return verdict

    def _probe(self, tokens: list[str]) -> tuple[RougeVerdict, list[str], int]:
        m = len(tokens)
        if m == 0:
            return RougeVerdict(False, None, None, 0.0), [], 0
        elements, sig = self._filter.prepare(tokens)
        masks = match_masks(tokens)
        best_id, best = None, -1.0
        all_tokens = self._tokens
        # Candidates come best upper bound first: once the bound drops below the best
        # score found, no later candidate can beat or tie it.
        for upper, rid in self._filter.candidates(elements, sig):
            if upper < best:
                break
            self.candidates_verified += 1
            other = all_tokens[rid]
            score = fmeasure_from_lcs(lcs_with_masks(masks, m, other), m, len(other))
            if score > best or (score == best and rid < best_id):
                best_id, best = rid, score
        if best_id is None or best <= 0.0:
            verdict = RougeVerdict(False, None, None, 0.0)
        elif best > self.threshold:
            verdict = RougeVerdict(True, best_id, self._texts[best_id], best)
        elif best >= self.report_floor:
            verdict = RougeVerdict(False, best_id, self._texts[best_id], best)
        else:
            verdict = RougeVerdict(False, None, None, 0.0)
        return verdict, elements, sig

    def _insert(self, text: str, tokens: list[str], elements: list[str], sig: int) -> int:
        self._last_probe = None  # a rebuild may re-rank elements
        rid = len(self._texts)
        self._texts.append(text)
        self._tokens.append(tokens)
        if tokens:
            self._filter.add(rid, elements, sig)
        if len(self._texts) >= self._next_rebuild:
            self._filter.rebuild(self._tokens)
            self._next_rebuild = 2 * len(self._texts)
        return rid
