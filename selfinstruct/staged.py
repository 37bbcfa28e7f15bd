"""Self-Instruct's staged method: each request asks the model for one small thing.

Three stages, each a prompt of our own in selfinstruct/templates/:

1. `instructions`: a numbered list of 8 tasks (6 human seeds, and 2 of this run's accepted
   instructions once it has them) that the model continues with new instructions only. Candidates
   meet the instruction checks and the ROUGE-L dedup here, as in the paper.
2. `classify`: few-shot, is the accepted instruction a classification task (Yes/No)?
3. `instances`: one example for the task. Ordinary tasks are input-first (input, then output);
   classification tasks are output-first (class label, then an input that earns it), which the
   paper found avoids inputs skewed towards one label. The record then meets the full checks.

Requests carry their stage and, for stages 2 and 3, the task; responses are journaled like any
other, so resume, replay and cost accounting are the engine's. `StagedDriver` decides which
request goes out next from what the journal and the sieve hold.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass

from selfinstruct.config import GenerateConfig
from selfinstruct.prompts import NOINPUT, PromptTemplate, load_shipped
from selfinstruct.seeds import SeedTask

STAGES = ("instructions", "classify", "instances")
TEMPLATES = {"instructions": "self_instruct_instructions.txt", "classify": "self_instruct_classify.txt",
             "input_first": "self_instruct_input_first.txt", "output_first": "self_instruct_output_first.txt"}
ANSWER_TEMPLATE = "answer.txt"  # --response-model under --method alpaca: the task as a plain request
SEED_EXAMPLES, MACHINE_EXAMPLES = 6, 2
CLASSIFY_MAX_TOKENS, INSTANCE_MAX_TOKENS, LIST_MAX_TOKENS = 4, 300, 600


def load_stage_templates() -> dict[str, PromptTemplate]:
    return {name: load_shipped(file) for name, file in TEMPLATES.items()}


@dataclass(frozen=True)
class StagePrompts:
    """The method's prompts as one: a hash over every stage's prompt identifies the run."""

    templates: dict[str, PromptTemplate]
    path: str = "selfinstruct/templates/self_instruct_*.txt"

    @property
    def sha256(self) -> str:
        return hashlib.sha256("".join(self.templates[k].sha256 for k in sorted(self.templates)).encode()).hexdigest()


# --- stage 1: instructions -----------------------------------------------------------------------

def instructions_request(request_id: int, cfg: GenerateConfig, seeds: list[SeedTask], template: PromptTemplate,
                         pool: list[str]) -> dict:
    """8 in-context instructions (6 seeds + 2 from `pool` when it has them), shuffled, numbered."""
    rng = random.Random(f"{cfg.seed}:{request_id}")
    shown = [t.instruction for t in rng.sample(seeds, min(SEED_EXAMPLES, len(seeds)))]
    shown += rng.sample(pool, min(MACHINE_EXAMPLES, len(pool)))
    rng.shuffle(shown)
    num_new = cfg.num_tasks_per_prompt
    header = template.text.replace("{num_tasks}", str(num_new)).rstrip()
    body = "".join(f"{i}. {_one_line(text)}\n" for i, text in enumerate(shown, start=1))
    prompt = f"{header}\n\n{body}{len(shown) + 1}."
    return {"id": request_id, "stage": "instructions", "prompts": [prompt], "num_examples": [len(shown)]}


def _one_line(text: str) -> str:
    return " ".join(text.split())


_ITEM = re.compile(r"^[ \t]*[*_#]*[ \t]*(\d+)[ \t]*[.)][ \t]*", re.MULTILINE)


def parse_instruction_list(text: str, finish_reason: str | None = "stop") -> tuple[list[str], list[tuple[str, str]]]:
    """New instructions from a reply continuing a numbered list, and the rejected ones as (text,
    reason); the first item has no number.

    Items end at the next number or a blank line; Markdown bold and a leading bullet are cleaned.
    A reply cut by the token limit loses its last item (`truncated`); a reply with no item at all
    is one `parse_incomplete` (its text, one line).
    """
    rejected: list[tuple[str, str]] = []
    starts = [0] + [m.end() for m in _ITEM.finditer(text)]
    ends = [m.start() for m in _ITEM.finditer(text)] + [len(text)]
    items = []
    for start, end in zip(starts, ends):
        item = re.split(r"\n[ \t]*\n", text[start:end].strip(), maxsplit=1)[0]
        item = re.sub(r"^(?:[*\-•][ \t]+)+", "", _one_line(item)).replace("**", "").strip()
        items.append(item)
    if finish_reason == "length" and items:
        rejected.append((items.pop(), "truncated"))
    kept = [item for item in items if item and not item.endswith(":")]  # a preamble ("Here are more tasks:")
    if not kept and not rejected:
        rejected.append((_one_line(text), "parse_incomplete"))
    return kept, rejected


# --- stage 2: classify ---------------------------------------------------------------------------

def classify_request(request_id: int, task: dict, template: PromptTemplate) -> dict:
    prompt = template.text.replace("{instruction}", _one_line(task["instruction"])).rstrip()
    return {"id": request_id, "stage": "classify", "task": task, "prompts": [prompt], "num_examples": [0]}


def parse_yes_no(text: str) -> bool | None:
    """True for a Yes, False for a No, None when the reply says neither first."""
    m = re.search(r"\b(yes|no)\b", text, re.IGNORECASE)
    return None if m is None else m.group(1).lower() == "yes"


# --- stage 3: instances --------------------------------------------------------------------------

def instance_request(request_id: int, task: dict, classification: bool, templates: dict[str, PromptTemplate]) -> dict:
    template = templates["output_first" if classification else "input_first"]
    prompt = template.text.replace("{instruction}", _one_line(task["instruction"])).rstrip()
    return {"id": request_id, "stage": "instances", "task": {**task, "classification": classification},
            "prompts": [prompt], "num_examples": [0]}


_FIELD = re.compile(r"^[ \t]*[*_]*[ \t]*(input|output|class label|label)[ \t]*[*_]*[ \t]*:[ \t]*[*_]*",
                    re.IGNORECASE | re.MULTILINE)
_NEXT_TASK = re.compile(r"^[ \t]*[*_#]*[ \t]*task[ \t]*[*_]*[ \t]*:", re.IGNORECASE | re.MULTILINE)
_PLACEHOLDERS = {NOINPUT, "none", "n/a", "no input", "(none)", "-"}


def parse_instance(text: str, classification: bool, finish_reason: str | None = "stop") -> tuple[dict | None, str | None]:
    """({input, output}, None) from an instance reply, or (None, failure reason).

    Input-first replies continue "Input:"; output-first ones continue "Class label:". A repeated
    opening label (chat models) is accepted; whatever follows a new "Task:" line is ignored.
    """
    first = "class label" if classification else "input"
    text = _NEXT_TASK.split(text)[0]
    if not _FIELD.match(text.lstrip("\n")):
        text = f"{first.title()}: {text.lstrip()}"
    fields: dict[str, str] = {}
    labels = list(_FIELD.finditer(text))
    for i, m in enumerate(labels):
        name = "class label" if m.group(1).lower() in ("label", "class label") else m.group(1).lower()
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        fields.setdefault(name, text[m.end():end].strip())
    if classification:
        label, inp = fields.get("class label", ""), fields.get("input")
        record = None if not label or inp is None else {"input": inp, "output": _one_line(label)}
    else:
        inp, out = fields.get("input"), fields.get("output", "")
        record = None if inp is None or not out else {"input": inp, "output": out}
    if record is None:
        return None, ("truncated" if finish_reason == "length" else "parse_incomplete")
    if finish_reason == "length" and not classification:
        return None, "truncated"  # the output may stop mid-sentence
    if record["input"].strip().lower() in _PLACEHOLDERS:
        record["input"] = ""
    # Self-Instruct's instance filters: an output that copies the input, a field left open with ":".
    if record["input"].strip() == record["output"].strip():
        return None, "output_copies_input"
    if record["input"].rstrip().endswith(":") or record["output"].rstrip().endswith(":"):
        return None, "field_ends_with_colon"
    return record, None


# --- answers (a response model under --method alpaca) --------------------------------------------

def answer_request(request_id: int, task: dict, template: PromptTemplate) -> dict:
    prompt = template.text.replace("{instruction}", task["instruction"].strip()).replace("{input}", task["input"].strip())
    return {"id": request_id, "stage": "answers", "task": task, "prompts": [prompt.strip()], "num_examples": [0]}


def parse_answer(text: str, inp: str, finish_reason: str | None = "stop") -> tuple[dict | None, str | None]:
    if finish_reason == "length":
        return None, "truncated"
    if not text.strip():
        return None, "parse_incomplete"
    return {"input": inp, "output": text.strip()}, None


# --- the driver ----------------------------------------------------------------------------------

class StagedDriver:
    """Chooses the next request: finish started tasks first, then start accepted ones, then ask for
    more instructions, issuing only what the records still wanted should need."""

    def __init__(self, cfg: GenerateConfig, seeds: list[SeedTask], templates: dict[str, PromptTemplate], state):
        self.cfg, self.seeds, self.templates = cfg, seeds, templates
        self.started: set[str] = set()  # tasks with a classify request
        self.instanced: set[str] = set()  # tasks with an instance request
        self.labels: dict[str, bool] = {}  # tasks whose classification arrived
        self.list_requests = 0  # instruction requests issued
        for request in state.requests.values():
            self.issued(request)
        for response in state.responses:
            self.answered(state.requests[response["id"]], response)

    def issued(self, request: dict) -> None:
        stage = request.get("stage")
        if stage == "classify":
            self.started.add(request["task"]["id"])
        elif stage == "instances":
            self.instanced.add(request["task"]["id"])
        elif stage == "instructions":
            self.list_requests += 1

    def answered(self, request: dict, response: dict) -> None:
        if request.get("stage") == "classify":
            self.labels[request["task"]["id"]] = bool(parse_yes_no(response["completions"][0]["text"]))

    def next(self, request_id: int, sieve, in_flight=None, unsieved=0, pending=()) -> dict | None:
        """The request to send now, or None to wait. Unanswered journaled requests go first."""
        need = self.cfg.num_instructions - len(sieve.kept)
        if need <= 0:
            return None
        if pending:
            return pending[0]
        for task in sieve.tasks:  # a classified task goes on to its instance first
            if task["id"] in self.labels and task["id"] not in self.instanced:
                return instance_request(request_id, task, self.labels[task["id"]], self.templates)
        decided = sieve.stats.instances
        rate = len(sieve.kept) / decided if decided >= 3 else 1.0  # records kept per finished task
        outstanding = len(self.started) - decided
        if outstanding * rate < need:
            for task in sieve.tasks:
                if task["id"] not in self.started:
                    return classify_request(request_id, task, self.templates["classify"])
        waiting = sum(1 for t in sieve.tasks if t["id"] not in self.started)
        lists_open = self.list_requests - sieve.stats.lists
        per_list = len(sieve.tasks) / sieve.stats.lists if sieve.stats.lists else self.cfg.num_tasks_per_prompt / 2
        if (outstanding + waiting + lists_open * per_list) * rate >= need:
            return None
        pool = [t["instruction"] for t in sieve.tasks]
        return instructions_request(request_id, self.cfg, self.seeds, self.templates["instructions"], pool)


def stage_max_tokens(stage: str, cfg_max_tokens: int) -> int:
    cap = {"instructions": LIST_MAX_TOKENS, "classify": CLASSIFY_MAX_TOKENS, "instances": INSTANCE_MAX_TOKENS,
           "answers": cfg_max_tokens}
    return min(cfg_max_tokens, cap[stage])


def stage_stops(request: dict, num_tasks: int, raw: bool = False) -> tuple[str, ...]:
    """Stop sequences; `raw` (a model continuing the prompt as text) also ends a list at a blank
    line, as Self-Instruct did (a chat model may open with a line and a blank one)."""
    if request["stage"] == "instructions":
        return (f"\n{request['num_examples'][0] + num_tasks + 1}.", *(("\n\n",) if raw else ()))
    if request["stage"] == "instances":
        return ("\nTask:",)
    if request["stage"] == "answers":
        return ()
    return ("\n",)


def expected_requests_per_record(kept_per_list: float) -> float:
    """For --dry-run: a list request per `kept_per_list` records, then a classify and an instance request."""
    return 2 + 1 / max(kept_per_list, 1e-9) if kept_per_list > 0 else math.inf
