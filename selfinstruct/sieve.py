"""Decide each parsed candidate in arrival order: quality checks, then near-duplicate rules.

The sieve holds the only order-dependent state of a run (the ROUGE-L pool of seeds and kept
instructions, the MinHash index of kept records), so replaying a journal's responses through a
fresh sieve reproduces the run's decisions exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from selfinstruct.dedup import MinHashIndex, RougeIndex, record_text
from selfinstruct.filters import checks_for, first_reason, instruction_checks
from selfinstruct.parse import parse_completion
from selfinstruct.staged import parse_answer, parse_instance, parse_instruction_list


@dataclass
class SieveStats:
    requests: int = 0
    prompts: int = 0
    candidates: int = 0
    drops: Counter = field(default_factory=Counter)  # drop and parse-failure reasons
    lists: int = 0  # self-instruct: instruction-list responses sieved
    instances: int = 0  # self-instruct: instance responses sieved (each decides one task's record)
    tasks: int = 0  # self-instruct: instructions accepted (checks and ROUGE-L passed)


class Sieve:
    """parse -> filters -> ROUGE-L dedup -> optional MinHash dedup, one response at a time.

    Responses of the self-instruct method's stages (the request's `stage`) are decided in two
    steps: an instruction list's candidates meet the instruction checks and ROUGE-L dedup and,
    accepted, join `tasks`; an instance response makes its task's record, which meets every check
    (and MinHash) before it is kept. Classification replies are only counted here.
    """

    def __init__(self, seed_instructions: list[str], *, profile: str = "strict", language: str = "en",
                 rouge_threshold: float = 0.7, rouge_tokenizer: str = "rouge", minhash_threshold: float | None = None):
        self.checks = checks_for(profile, language)
        self.profile = profile
        # Decisions only on the request path; each kept record's nearest earlier instruction below
        # the threshold is found afterwards by `annotate_nearest`, in one pass.
        self.rouge = RougeIndex(threshold=rouge_threshold, tokenizer=rouge_tokenizer, report_floor=rouge_threshold)
        self.seed_instructions = list(seed_instructions)
        for text in seed_instructions:
            self.rouge.add(text)
        self.minhash = MinHashIndex(minhash_threshold) if minhash_threshold else None
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
            self.stats.drops.update(parsed.failures)
            for k, record in enumerate(parsed.records):
                origin = {"request_id": request["id"], "prompt": prompt_no}
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
            items, failures = parse_instruction_list(completion["text"], completion.get("finish_reason"))
            self.stats.drops.update(failures)
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
            if instance is None:
                self.stats.drops[failure] += 1
                return []
            record = {"instruction": task["instruction"], **instance}
            kept = self.admit(record, {**origin, "task_id": task["id"]}, instruction_deduped=True)
            return [kept] if kept is not None else []
        return []  # classify: the driver reads the answer

    def admit_instruction(self, instruction: str, task_id: str, origin: dict, inp: str = "") -> dict | None:
        """Stage 1: the instruction checks and ROUGE-L; an accepted instruction becomes a task."""
        self.stats.candidates += 1
        record = {"instruction": instruction, "input": inp, "output": ""}
        if reason := first_reason(record, instruction_checks(self.checks)):
            return self._drop(record, reason, origin)
        verdict = self.rouge.check(instruction)
        if verdict.duplicate:
            return self._drop(record, "rouge_duplicate", origin, verdict.nearest_text, verdict.score)
        self.rouge.add(instruction)
        self.stats.tasks += 1
        task = {"id": task_id, "instruction": instruction, "input": inp}
        self.tasks.append(task)
        return task

    def admit(self, record: dict, origin: dict | None = None, *, instruction_deduped: bool = False) -> dict | None:
        """Keep or drop one candidate; kept records carry their nearest earlier instruction and score."""
        origin = origin or {}
        if not instruction_deduped:
            self.stats.candidates += 1
        if reason := first_reason(record, self.checks):
            return self._drop(record, reason, origin)
        if not instruction_deduped and (verdict := self.rouge.check(record["instruction"])).duplicate:
            return self._drop(record, "rouge_duplicate", origin, verdict.nearest_text, verdict.score)
        if self.minhash is not None:
            key = str(len(self.kept))
            twin = self.minhash.check_and_add(key, record_text(record))
            if twin is not None:
                return self._drop(record, "minhash_duplicate", origin, self.kept[int(twin)]["instruction"], None)
        if not instruction_deduped:
            self.rouge.add(record["instruction"])
        kept = {**record, **origin}
        self.kept.append(kept)
        return kept

    def _drop(self, record, reason, origin, nearest=None, score=None) -> None:
        self.stats.drops[reason] += 1
        self.dropped.append({**record, "drop_reason": reason, "collided_with": nearest,
                             "rouge_l": None if score is None else round(score, 4), **origin})
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
