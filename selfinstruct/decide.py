"""The keep/drop stage: quality checks, then ROUGE-L on instructions, then MinHash on whole records.

Every place that decides records uses it: a generation run (`sieve.Sieve` parses responses, then
decides each candidate here), `selfinstruct dedup`, and `registry filter` / `registry dedup`
(commands/sieve_version.py). A record meets, in this order:

1. the quality checks of the `filters` profile: the first failing check is the drop reason;
2. ROUGE-L: `rouge_duplicate` when its instruction scores F > `rouge_threshold` against a seed or an
   earlier kept instruction (Alpaca's rule; `RougeIndex` gives exactly the exhaustive scan's decisions);
3. MinHash: `minhash_duplicate` when instruction, input and output together have estimated Jaccard
   >= `minhash_threshold` with an earlier kept record.

A dropped record's `nearest` has one meaning whatever the rule: the instruction it collided with
(a seed's or an earlier kept record's); `score` is the ROUGE-L F or the estimated Jaccard of that
collision. Decisions depend on order, so records are decided one at a time, in order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from selfinstruct.dedup import MinHashIndex, RougeIndex, record_text
from selfinstruct.filters import Check, checks_for, first_reason
from selfinstruct.sieve_options import SieveOptions


@dataclass(frozen=True)
class Decision:
    """Keep (reason None) or drop, and for a near-duplicate what it collided with."""

    reason: str | None
    nearest: str | None = None  # the instruction of the seed or kept record it collided with
    score: float | None = None  # ROUGE-L F (rouge_duplicate) or estimated Jaccard (minhash_duplicate)

    @property
    def kept(self) -> bool:
        return self.reason is None


class Decider:
    """The stage's order-dependent state: the ROUGE-L pool (seeds, then each kept instruction) and
    the MinHash index of kept records. `decide` keeps or drops one record and updates both."""

    def __init__(self, options: SieveOptions, seed_instructions: Iterable[str] = ()):
        self.options = options
        self.checks: tuple[Check, ...] = checks_for(options.filters, options.language) if options.filters else ()
        self.rouge = None
        if options.rouge_threshold is not None:
            # Decisions only: a kept record's nearest instruction is `sieve.annotate_nearest`'s job.
            self.rouge = RougeIndex(options.rouge_threshold, options.rouge_tokenizer,
                                    report_floor=options.rouge_threshold)
            for text in seed_instructions:
                self.rouge.add(text)
        self.minhash = MinHashIndex(options.minhash_threshold) if options.minhash_threshold is not None else None
        self._minhashed: list[str] = []  # the instruction of each record in the MinHash index; its key is the position

    def decide(self, record: dict, *, checks: tuple[Check, ...] | None = None, rouge: bool = True,
               minhash: bool = True) -> Decision:
        """Keep or drop `record`. `checks` replaces the profile's checks; `rouge`/`minhash` False skip
        a rule (and a kept record then does not join that rule's pool)."""
        if reason := first_reason(record, self.checks if checks is None else checks):
            return Decision(reason)
        instruction = record["instruction"]
        use_rouge = rouge and self.rouge is not None
        if use_rouge and (verdict := self.rouge.check(instruction)).duplicate:
            return Decision("rouge_duplicate", verdict.nearest_text, verdict.score)
        if minhash and self.minhash is not None:
            signature = self.minhash.minhash(record_text(record))
            key, jaccard = self.minhash.nearest(signature)
            if key is not None:
                return Decision("minhash_duplicate", self._minhashed[int(key)], jaccard)
            self.minhash.insert(str(len(self._minhashed)), signature)
            self._minhashed.append(instruction)
        if use_rouge:
            self.rouge.add(instruction)  # reuses the tokens of the check above
        return Decision(None)

    def decide_many(self, records: list[dict]) -> list[Decision]:
        """`decide` each record in order, with the same decisions; the ROUGE-L rule runs over all of
        them at once (`RougeIndex.check_and_add_many`), asking MinHash about each text it keeps."""
        if self.rouge is None:
            return [self.decide(record) for record in records]
        decisions: list[Decision | None] = [None] * len(records)
        passed = []  # positions of the records that pass the quality checks
        for i, record in enumerate(records):
            if reason := first_reason(record, self.checks):
                decisions[i] = Decision(reason)
            else:
                passed.append(i)

        def admit(k: int) -> bool:  # a ROUGE-L survivor joins the pool unless MinHash drops it
            decisions[passed[k]] = decision = self.decide(records[passed[k]], checks=(), rouge=False)
            return decision.kept

        verdicts = self.rouge.check_and_add_many([records[i]["instruction"] for i in passed], admit)
        for i, verdict in zip(passed, verdicts):
            if verdict.duplicate:
                decisions[i] = Decision("rouge_duplicate", verdict.nearest_text, verdict.score)
        return decisions


def dropped_row(record: dict, decision: Decision, origin: dict | None = None) -> dict:
    """A dropped record as written to dropped.jsonl / `--dropped`: the record, why, what it collided
    with, its ROUGE-L F for a ROUGE-L drop, then where it came from."""
    rouge_l = round(decision.score, 4) if decision.reason == "rouge_duplicate" else None
    return {**record, "drop_reason": decision.reason, "collided_with": decision.nearest, "rouge_l": rouge_l,
            **(origin or {})}


@dataclass
class Sieved:
    """What the stage made of a list of records, ready for a summary or a registry lineage."""

    total: int = 0
    kept: list[int] = field(default_factory=list)  # positions of the kept records, in input order
    dropped: list[dict] = field(default_factory=list)  # `dropped_row`s with their `record_index`
    drops: Counter = field(default_factory=Counter)  # reason -> records, in order of first drop

    @property
    def counts(self) -> dict:
        return {"before": self.total, "after": len(self.kept)}


def sieve_records(records: Iterable[dict], options: SieveOptions, *, seeds: Iterable[str] = ()) -> Sieved:
    """Decide `records` in order against the seed instructions; one pass, one Decider. For example
    `sieve_records(rows, SieveOptions(filters=None, minhash_threshold=0.8), seeds=seed_instructions)`
    is `selfinstruct dedup --minhash-threshold 0.8`."""
    records = list(records)
    decider, out = Decider(options, seeds), Sieved()
    for i, (record, decision) in enumerate(zip(records, decider.decide_many(records))):
        out.total += 1
        if decision.kept:
            out.kept.append(i)
        else:
            out.drops[decision.reason] += 1
            out.dropped.append(dropped_row(record, decision, {"record_index": i}))
    return out
