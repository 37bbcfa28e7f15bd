"""An incremental pool answering "does this text score ROUGE-L > threshold against any earlier one?".

Decisions equal an exhaustive scan with rouge-score, at near-linear cost: a candidate
filter (`selfinstruct.rouge_candidates`, where the completeness argument is written out)
proposes the few texts that could reach the bound, and each is scored with an exact LCS
(rapidfuzz, many pairs per call) and rouge-score's own arithmetic.

Texts are decided in blocks: the candidates of a whole block are found and scored at once,
each text against the pool and against every earlier text of its block, and then the block
is walked in order, so a text meets exactly the earlier texts that were kept.
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import LCSseq
from rapidfuzz.process import cpdist

from records.rouge import fmeasure_from_lcs, fmeasures_from_lcs, token_codes, tokenize
from selfinstruct.rouge_batch import codes_of, read_batch, signature_words
from selfinstruct.rouge_candidates import BlockKeys, CandidateFilter

_FIRST_REBUILD = 512  # re-rank elements by frequency at 512, 1024, 2048, ... texts
BLOCK = 2048  # texts decided together by `check_and_add_many`


@dataclass(frozen=True)
class RougeVerdict:
    """Outcome of checking one text: is it a near-duplicate, and what is it closest to."""

    duplicate: bool
    nearest_id: int | None
    nearest_text: str | None
    score: float


@dataclass(slots=True)
class _Prepared:
    """A text read once: its token codes, its element ids and signature, those rarest first, and the
    pair keys it is indexed under (`CandidateFilter.pairs_of`)."""

    text: str
    codes: str | tuple[int, ...]
    elements: array
    sig: np.ndarray
    ordered: list[int] | None = None
    keyed: tuple[list[int], list[int]] | None = None
    looked: list | None = None  # what its keys' lists were when it was a probe (`CandidateFilter.add`)


_NONE = RougeVerdict(False, None, None, 0.0)


@contextmanager
def _no_cycle_collection():
    """Pause the cycle collector: a batch allocates millions of lists, each allocation burst starts a
    collection, and every full one walks the whole index (about 15% of the time at 1,000,000 texts).
    The index makes no reference cycles, so nothing is left for the collector to find."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
        self._vocab: dict[str, int] = {}  # token -> id; a text is kept as its ids' codes
        self._texts: list[str] = []
        self._codes: list[str | tuple[int, ...]] = []
        self._next_rebuild = _FIRST_REBUILD
        self._last_probe: _Prepared | None = None  # the last text `check`ed, for `add`
        self.candidates_verified = 0  # running total of exact LCS checks, for benchmarks

    def __len__(self) -> int:
        return len(self._texts)

    def text(self, id: int) -> str:
        """The text stored under `id`."""
        return self._texts[id]

    def add(self, text: str) -> int:
        """Add `text` to the pool unconditionally (e.g. a seed) and return its id."""
        last = self._last_probe
        prepared = last if last is not None and last.text == text else self._ordered(self._prepare(text))
        rid = self._insert(prepared)
        self._maybe_rebuild()
        return rid

    def check(self, text: str) -> RougeVerdict:
        """Score `text` against the pool without adding it."""
        prepared = self._ordered(self._prepare(text))
        verdict = self._decide_one(prepared)
        self._last_probe = prepared
        return verdict

    def check_and_add(self, text: str) -> RougeVerdict:
        """Score `text` against the pool and add it only when it is not a duplicate."""
        prepared = self._ordered(self._prepare(text))
        verdict = self._decide_one(prepared)
        if not verdict.duplicate:
            self._insert(prepared)
            self._maybe_rebuild()
        return verdict

    def check_and_add_many(self, texts: Sequence[str],
                           admit: Callable[[int], bool] | None = None) -> list[RougeVerdict]:
        """`check_and_add` each text in order, in blocks; the same verdicts as one at a time.

        `admit(i)`, when given, is asked about each text i that is not a duplicate, in order,
        and the text joins the pool only when it returns True (a later rule may still drop it).
        When the texts outnumber the pool, elements are first ranked by their frequency over
        both, which is known here in advance. The texts are read as columns (`rouge_batch`).
        """
        with _no_cycle_collection():
            return self._check_and_add_many(list(texts), admit)

    def _check_and_add_many(self, texts: list[str], admit: Callable[[int], bool] | None) -> list[RougeVerdict]:
        batch = read_batch(texts, self.tokenizer, self._vocab, self._filter)
        if len(texts) >= len(self._texts):
            self._filter.rerank(batch.elements, blocks=True)
            self._next_rebuild = 2 * (len(self._texts) + len(texts))
        verdicts: list[RougeVerdict] = []
        for lo in range(0, len(texts), BLOCK):
            hi = min(lo + BLOCK, len(texts))
            starts = batch.starts[lo:hi + 1] - batch.starts[lo]
            block = self._filter.block_keys(starts, batch.elements[batch.starts[lo]:batch.starts[hi]])
            offset_admit = None if admit is None else (lambda j, lo=lo: admit(lo + j))
            verdicts += self._decide_block(texts[lo:hi], codes_of(batch.tokens, batch.starts, lo, hi), block,
                                           batch.sigs[lo:hi], offset_admit)
            self._maybe_rebuild()
        return verdicts

    def _prepare(self, text: str) -> _Prepared:
        vocab = self._vocab
        ids = [vocab.setdefault(t, len(vocab)) for t in tokenize(text, self.tokenizer)]
        elements = self._filter.elements(ids)
        return _Prepared(text, token_codes(ids), elements, np.array(signature_words(elements), dtype=np.uint64))

    def _ordered(self, prepared: _Prepared) -> _Prepared:
        ordered = self._filter.order(prepared.elements)
        return _Prepared(prepared.text, prepared.codes, prepared.elements, prepared.sig, ordered,
                         self._filter.pairs_of(ordered))

    def _decide_block(self, texts: list[str], codes: list, block: BlockKeys, sigs: np.ndarray,
                      admit: Callable[[int], bool] | None) -> list[RougeVerdict]:
        """Verdicts for a block in order; each text that is no duplicate (and is admitted) joins the
        pool before the next one is decided."""
        self._last_probe = None  # the pool changes
        base = len(self._texts)
        self._filter.set_provisional(base, block.lengths(), sigs)
        probe, ids = self._filter.candidates_block(block, base)
        best_score, best_id, in_block = self._score(codes, base, probe, ids)
        final: dict[int, int] = {}  # block position -> id in the pool, for the texts kept so far
        verdicts = []
        for j, text in enumerate(texts):
            score, rid = best_score[j], best_id[j]
            # Pool ids precede block ids, and earlier block texts come first: a strict > keeps
            # the earliest text among equal scores.
            for i, other in in_block.get(j, ()):
                if other > score and i in final:
                    score, rid = other, final[i]
            verdict = self._verdict(rid, score)
            if not verdict.duplicate and (admit is None or admit(j)):
                final[j] = len(self._texts)
                self._texts.append(text)
                self._codes.append(codes[j])
            verdicts.append(verdict)
        kept = np.fromiter(final, dtype=np.int64, count=len(final))
        self._filter.add_block(block, kept, base, sigs[kept])
        return verdicts

    def _decide_one(self, prepared: _Prepared) -> RougeVerdict:
        """The verdict on one text (a block of one, without the block's array set-up)."""
        rid = len(self._texts)
        m = len(prepared.ordered)
        self._filter.set_provisional_one(rid, m, prepared.sig)
        prepared.looked = []
        ids = self._filter.candidates_one(prepared.ordered, rid, prepared.keyed, prepared.looked)
        self.candidates_verified += len(ids)
        best_id, best = -1, -1.0
        codes, x = self._codes, prepared.codes
        for i in ids.tolist():  # ascending ids: a strict > keeps the earliest among equal scores
            other = codes[i]
            score = fmeasure_from_lcs(LCSseq.similarity(x, other), m, len(other))
            if score > best:
                best_id, best = i, score
        return self._verdict(best_id, best)

    def _score(self, codes_block: list, base: int, probe: np.ndarray, ids: np.ndarray):
        """Exact F of every candidate pair; the best pool entry per probe (score -1.0 and id -1
        when none), and the block's own pairs as {probe: [(block position, F), ...]}."""
        best_score = [-1.0] * len(codes_block)
        best_id = [-1] * len(codes_block)
        in_block: dict[int, list[tuple[int, float]]] = {}
        if not len(ids):
            return best_score, best_id, in_block
        self.candidates_verified += len(ids)
        codes = self._codes
        queries = [codes_block[j] for j in probe.tolist()]
        choices = [codes[i] if i < base else codes_block[i - base] for i in ids.tolist()]
        # Threads pay off only on large batches; a single probe has a handful of pairs.
        workers = -1 if len(ids) >= 4096 else 1
        lcs = cpdist(queries, choices, scorer=LCSseq.similarity, dtype=np.int64, workers=workers)
        lens = self._filter.lengths()  # with the provisional lengths of the block, set by `candidates`
        scores = fmeasures_from_lcs(lcs, lens[base + probe], lens[ids])
        pool = ids < base
        p, i, f = probe[pool], ids[pool], scores[pool]
        order = np.lexsort((i, -f, p))  # per probe: highest score first, then the earliest id
        p, i, f = p[order], i[order], f[order]
        first = np.ones(len(p), dtype=bool)
        first[1:] = p[1:] != p[:-1]
        for j, rid, score in zip(p[first].tolist(), i[first].tolist(), f[first].tolist()):
            best_score[j], best_id[j] = score, rid
        for j, i, score in zip(probe[~pool].tolist(), (ids[~pool] - base).tolist(), scores[~pool].tolist()):
            in_block.setdefault(j, []).append((i, score))
        return best_score, best_id, in_block

    def _verdict(self, rid: int, score: float) -> RougeVerdict:
        if rid < 0 or score <= 0.0:
            return _NONE
        if score > self.threshold:
            return RougeVerdict(True, rid, self._texts[rid], score)
        if score >= self.report_floor:
            return RougeVerdict(False, rid, self._texts[rid], score)
        return _NONE

    def _insert(self, prepared: _Prepared) -> int:
        self._last_probe = None  # a rebuild may re-rank elements
        rid = len(self._texts)
        self._texts.append(prepared.text)
        self._codes.append(prepared.codes)
        self._filter.add(rid, prepared.elements, prepared.ordered, prepared.sig, prepared.keyed, prepared.looked)
        return rid

    def _maybe_rebuild(self) -> None:
        if len(self._texts) >= self._next_rebuild:
            self._filter.rerank()
            self._next_rebuild = 2 * len(self._texts)
