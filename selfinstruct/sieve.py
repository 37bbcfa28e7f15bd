"""Decide each parsed candidate in arrival order: quality checks, then near-duplicate rules.

The sieve holds the only order-dependent state of a run (the ROUGE-L pool of seeds and kept
instructions, the MinHash index of kept records), so replaying a journal's responses through a
fresh sieve reproduces the run's decisions exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from selfinstruct.decide import Decider, Decision, dropped_row
from selfinstruct.dedup import RougeIndex
from selfinstruct.filters import instruction_checks
from selfinstruct.parse import parse_completion
from selfinstruct.sieve_options import SieveOptions
from selfinstruct.staged import parse_answer, parse_instance, parse_instruction_list


@dataclass
class SieveStats:
    """Every candidate is kept, dropped with one reason, or (self-instruct) awaits its instance:
    candidates == kept + sum(drops) + awaiting_instance. Each drop has its row in `Sieve.dropped`."""

    requests: int = 0
    prompts: int = 0
    candidates: int = 0  # what replies offered as records (or, self-instruct, as instructions), readable or not
    drops: Counter = field(default_factory=Counter)  # reason -> candidates dropped, parse failures included
    unparsed: int = 0  # candidates the parser could not read (`truncated`, `parse_incomplete`)
    lists: int = 0  # self-instruct: instruction-list responses sieved
    instances: int = 0  # self-instruct: instance responses sieved (each decides one task's record)
    tasks: int = 0  # self-instruct: instructions accepted (checks and ROUGE-L passed)

    @property
    def awaiting_instance(self) -> int:
        """Accepted instructions whose instance was never decided (the run stopped first)."""
        return self.tasks - self.instances


class Sieve:
    """parse -> the keep/drop stage (`decide.py`: checks, ROUGE-L, optional MinHash), one response at a time.

    Responses of the self-instruct method's stages (the request's `stage`) are decided in two
    steps: an instruction list's candidates meet the instruction checks and ROUGE-L dedup and,
    accepted, join `tasks`; an instance response makes its task's record, which meets every check
    (and MinHash) before it is kept. Classification replies are only counted here.
    """

    def __init__(self, seed_instructions: list[str], options: SieveOptions = SieveOptions()):
        self.options = options
        self.profile = options.filters
        self.seed_instructions = list(seed_instructions)
        self.decider = Decider(options, self.seed_instructions)
        self.instruction_checks = instruction_checks(self.decider.checks)
        self.kept: list[dict] = []
        self.dropped: list[dict] = []
        self.tasks: list[dict] = []  # self-instruct: accepted instructions awaiting their instance
        self.stats = SieveStats()

    def admit_response(self, request: dict, response: dict) -> list[dict]:
        """Parse and decide every completion of a journaled response; returns the newly kept records."""
        self.stats.requests += 1
        stage = request.get("stage")
        if stage is not None:
            return self._admit_stage(stage, request, response)
        newly_kept = []
        for prompt_no, completion in enumerate(response["completions"]):
            self.stats.prompts += 1
            first_index = request["num_examples"][prompt_no] + 1
            parsed = parse_completion(completion["text"], first_index, completion.get("finish_reason"), self.profile)
            origin = {"request_id": request["id"], "prompt": prompt_no}
            for fields, reason in parsed.rejected:
                self._unparsed(fields, reason, origin)
            for k, record in enumerate(parsed.records):
                if request.get("answered_elsewhere"):  # a response model writes the output: a task for now
                    self.admit_instruction(record["instruction"], f"{request['id']}.{prompt_no}.{k}", origin,
                                           record["input"])
                elif (kept := self.admit(record, origin)) is not None:
                    newly_kept.append(kept)
        return newly_kept

    def _admit_stage(self, stage: str, request: dict, response: dict) -> list[dict]:
        self.stats.prompts += 1
        completion = response["completions"][0]
        origin = {"request_id": request["id"], "prompt": 0}
        if stage == "instructions":
            self.stats.lists += 1
            items, rejected = parse_instruction_list(completion["text"], completion.get("finish_reason"))
            for text, reason in rejected:
                self._unparsed({"instruction": text, "input": "", "output": ""}, reason, origin)
            for k, instruction in enumerate(items):
                self.admit_instruction(instruction, f"{request['id']}.{k}", origin)
            return []
        if stage in ("instances", "answers"):
            self.stats.instances += 1
            task = request["task"]
            if stage == "answers":  # the response model's whole reply is the output
                instance, failure = parse_answer(completion["text"], task["input"], completion.get("finish_reason"))
            else:
                instance, failure = parse_instance(completion["text"], task["classification"],
                                                   completion.get("finish_reason"))
            origin = {**origin, "task_id": task["id"]}
            if instance is None:  # the task, a candidate already, dropped for its unreadable instance
                record = {"instruction": task["instruction"], "input": task["input"], "output": ""}
                self._unparsed(record, failure, origin, counted=True)
                return []
            record = {"instruction": task["instruction"], **instance}
            kept = self.admit(record, origin, instruction_deduped=True)
            return [kept] if kept is not None else []
        return []  # classify: the driver reads the answer

    def admit_instruction(self, instruction: str, task_id: str, origin: dict, inp: str = "") -> dict | None:
        """Stage 1: the instruction checks and ROUGE-L; an accepted instruction becomes a task."""
        self.stats.candidates += 1
        record = {"instruction": instruction, "input": inp, "output": ""}
        decision = self.decider.decide(record, checks=self.instruction_checks, minhash=False)
        if not decision.kept:
            return self._drop(record, decision, origin)
        self.stats.tasks += 1
        task = {"id": task_id, "instruction": instruction, "input": inp}
        self.tasks.append(task)
        return task

    def admit(self, record: dict, origin: dict | None = None, *, instruction_deduped: bool = False) -> dict | None:
        """Keep or drop one candidate (an instance's instruction was deduplicated as a task already)."""
        origin = origin or {}
        if not instruction_deduped:
            self.stats.candidates += 1
        decision = self.decider.decide(record, rouge=not instruction_deduped)
        if not decision.kept:
            return self._drop(record, decision, origin)
        kept = {**record, **origin}
        self.kept.append(kept)
        return kept

    def _unparsed(self, record: dict, reason: str, origin: dict, *, counted: bool = False) -> None:
        """A candidate the parser rejected: counted (unless `counted` already) and dropped with its row."""
        if not counted:
            self.stats.candidates += 1
        self.stats.unparsed += 1
        self._drop(record, Decision(reason), origin)

    def _drop(self, record: dict, decision: Decision, origin: dict) -> None:
        self.stats.drops[decision.reason] += 1
        self.dropped.append(dropped_row(record, decision, origin))
        return None


NEAREST_FLOOR = 0.5


def annotate_nearest(kept: list[dict], seed_instructions: list[str], *, threshold: float, tokenizer: str,
                     floor: float = NEAREST_FLOOR) -> None:
    """Give each kept record its most similar earlier instruction (seeds and earlier kept ones) and
    the ROUGE-L F, exactly when that score is >= `floor` (else None and 0.0). Alpaca kept the top 10."""
    index = RougeIndex(threshold=threshold, tokenizer=tokenizer, report_floor=min(floor, threshold))
    for text in seed_instructions:
        index.add(text)
    for record in kept:
        verdict = index.check(record["instruction"])
        record["most_similar"], record["rouge_l"] = verdict.nearest_text, round(verdict.score, 4)
        index.add(record["instruction"])
