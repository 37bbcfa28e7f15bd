"""GenerateConfig: every knob of a generation run, documented where it is declared.

The resolved config is written to the run directory and into the registry lineage; the API key is
not a field, so it cannot end up in either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from modelcalls.backends.base import check_decoding
from modelcalls.endpoint import BACKENDS, Endpoint

from selfinstruct.sieve_options import SieveOptions


METHODS = ("alpaca", "self-instruct")
STAGED_NEW_TASKS = 8  # Self-Instruct asked for at most 8 new instructions after 8 examples


@dataclass
class GenerateConfig:
    num_instructions: int = 100
    """Records wanted in the output (exactly this many unless --max-cost stops the run first)."""
    model: str = "gpt-4o-mini"
    """Model name as the endpoint knows it."""
    seeds: str | None = None
    """Seed file (Self-Instruct seed format or Alpaca records); None = the shipped seeds/default.jsonl."""
    seeds_licence: str | None = None
    """Licence of the seed file (SPDX id, e.g. Apache-2.0), recorded in lineage; the shipped seeds are Apache-2.0."""
    prompt_file: str | None = None
    """Replacement for the shipped prompt text (templates/prompt.txt); `{num_tasks}` is filled in."""
    method: str = "alpaca"
    """alpaca (one batched prompt writes whole tasks) or self-instruct (staged requests: new
    instructions, is it classification, then one instance; for small models)."""
    response_model: str | None = None
    """A second model that answers the instructions (self-instruct: the instance stage; alpaca: each
    accepted task's output is rewritten by it); None = model."""
    response_base_url: str | None = None
    """Endpoint of --response-model; default the main endpoint."""
    instance_temperature: float = 0.0
    """Temperature of self-instruct's instances (and --response-model answers). Self-Instruct decoded
    them greedily (classification always is); a small model loops under greedy decoding, so the
    built-in model samples them at 0.7."""
    backend: str = "openai"
    """openai (any OpenAI-compatible endpoint), transformers (local checkpoint) or replay (a run's journal)."""
    api: str = "chat"
    """chat (Chat Completions) or completions (legacy API, several prompts per request, as Alpaca did)."""
    base_url: str | None = None
    """Endpoint root, e.g. http://localhost:8000/v1 for vLLM; default OPENAI_BASE_URL or OpenAI."""
    num_prompt_instructions: int = 3
    """Seed examples shown in each prompt (Alpaca: 3; Self-Instruct: 6)."""
    machine_examples: int = 0
    """Examples drawn from this run's kept records, mixed into each prompt (Self-Instruct: 2)."""
    num_tasks_per_prompt: int = 20
    """New tasks asked for in each prompt (Alpaca asked for 20)."""
    request_batch_size: int = 5
    """Prompts per request with the legacy Completions API (Alpaca: 5); chat sends one per request."""
    concurrency: int = 8
    """Requests in flight at once."""
    rpm: float | None = None
    """Client-side limit on requests per minute."""
    tpm: float | None = None
    """Client-side limit on tokens per minute (prompt tokens + max_tokens, as providers count them)."""
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 3072
    """Completion tokens per prompt (Alpaca: 3072)."""
    timeout_s: float = 120.0
    """Per-attempt HTTP timeout."""
    filters: str = "strict"
    """Quality profile: alpaca (exactly Alpaca's heuristics) or strict (adds output checks)."""
    language: str = "en"
    """Language of the data; the strict profile's non-ASCII first-character check applies to English only."""
    rouge_threshold: float = 0.7
    """Drop a candidate whose ROUGE-L F against any seed or kept instruction is above this (Alpaca: 0.7)."""
    rouge_tokenizer: str = "rouge"
    """rouge (rouge-score's a-z0-9 tokens, as Alpaca) or unicode (words of any script)."""
    minhash_threshold: float | None = None
    """Also drop records whose whole text has MinHash Jaccard >= this with a kept record (off by default)."""
    seed: int = 42
    """Random seed for in-context example sampling (and sent to endpoints that accept one)."""
    max_cost: float | None = None
    """Stop issuing requests before the run's spend (all its sessions) could pass this many dollars."""
    pricing: str | None = None
    """JSON file of {model: {input, output}} dollars per 1M tokens, merged over the shipped table."""
    stall_responses: int = 100
    """Stop once this many responses in a row keep nothing new (a model repeating itself); 0 = never."""
    expected_yield: float = 8.0
    """Kept records per prompt assumed by --dry-run before the run has measured its own."""

    def __post_init__(self) -> None:
        checks = [
            ("num_instructions", self.num_instructions >= 1, "must be at least 1"),
            ("num_prompt_instructions", self.num_prompt_instructions >= 0, "must be >= 0"),
            ("machine_examples", self.machine_examples >= 0, "must be >= 0"),
            ("num_tasks_per_prompt", self.num_tasks_per_prompt >= 1, "must be at least 1"),
            ("request_batch_size", self.request_batch_size >= 1, "must be at least 1"),
            ("instance_temperature", 0 <= self.instance_temperature <= 2, "must be in [0, 2]"),
            ("backend", self.backend in (*BACKENDS, "replay"), "must be " + ", ".join((*BACKENDS, "replay"))),
            ("filters", self.filters is not None, "must be alpaca or strict (the parser follows the profile)"),
            ("method", self.method in METHODS, "must be " + " or ".join(METHODS)),
            ("max_cost", self.max_cost is None or self.max_cost > 0, "must be positive"),
            ("stall_responses", self.stall_responses >= 0, "must be >= 0"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ValueError(f"{name} {message} (got {getattr(self, name)!r})")
        check_decoding(self.temperature, self.top_p, self.max_tokens)
        self.endpoint()  # the endpoint's own checks (timeout, base_url, rates, concurrency)
        self.sieve_options()  # the keep/drop options, validated where every command validates them

    def sieve_options(self) -> SieveOptions:
        """The run's keep/drop rules (a ValueError names a bad field)."""
        return SieveOptions(filters=self.filters, language=self.language, rouge_threshold=self.rouge_threshold,
                            rouge_tokenizer=self.rouge_tokenizer, minhash_threshold=self.minhash_threshold)

    def endpoint(self) -> Endpoint:
        """Where the run's requests go (the request layer's view of this config)."""
        batched = self.api == "completions" or self.backend == "transformers"
        return Endpoint(model=self.model, backend="openai" if self.backend == "replay" else self.backend,
                        api=self.api, base_url=self.base_url, timeout_s=self.timeout_s, rpm=self.rpm, tpm=self.tpm,
                        concurrency=self.concurrency, prompts_per_request=self.request_batch_size if batched else 1)

    def response_endpoint(self) -> Endpoint | None:
        """The endpoint of --response-model / --response-base-url, or None when the main model answers too."""
        if not (self.response_model or self.response_base_url):
            return None
        return replace(self.endpoint(), model=self.response_model or self.model,
                       base_url=self.response_base_url or self.base_url)

    @property
    def prompts_per_request(self) -> int:
        return self.request_batch_size if self.api == "completions" else 1

    def to_dict(self) -> dict:
        """The config as journaled and recorded in lineage: base_url without credentials."""
        from records.redact import redact_url

        return {**asdict(self), "base_url": redact_url(self.base_url)}


def given_fields(cfg: GenerateConfig) -> set[str]:
    """The fields of `cfg` that differ from their defaults: what a Python caller chose. (The command
    line knows exactly which options were typed and passes that set instead.)"""
    defaults = GenerateConfig()
    return {f for f in asdict(cfg) if getattr(cfg, f) != getattr(defaults, f)}


def apply_method_defaults(cfg: GenerateConfig, given: set[str] | None = None) -> GenerateConfig:
    """The method's own defaults for fields the caller left alone: Self-Instruct's staged method asks
    for 8 new instructions per prompt, not Alpaca's 20."""
    given = given_fields(cfg) if given is None else given
    if cfg.method == "self-instruct" and "num_tasks_per_prompt" not in given:
        cfg.num_tasks_per_prompt = STAGED_NEW_TASKS
    return cfg
