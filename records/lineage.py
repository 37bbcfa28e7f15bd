"""The lineage a registry version carries: how its rows were made, as typed fields.

Written by the generator (`selfinstruct/generate.py:build_lineage`), the registry's own operations
(import, sample, merge), `registry filter|dedup` and evaluation-set imports; read by datasheets,
licences, the web app. The stored form is the manifest's `lineage` object, unchanged from the
dicts written before this type existed: `Lineage.from_dict` reads any of them and `to_dict` writes
the same keys back (see records/contract.py), so sealed manifests keep their seal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from records.contract import ABSENT, Contract


@dataclass
class Generator(Contract):
    """The model that wrote the rows."""

    model: str | None = ABSENT
    provider: str | None = ABSENT
    """`openai`, `transformers`, `replay`...: whose terms the rows inherit."""
    endpoint_host: str | None = ABSENT
    """host[:port] only, never a URL with credentials."""
    api: str | None = ABSENT
    decoding: dict | None = ABSENT
    """{"temperature", "top_p", "max_tokens"}."""
    response: dict | None = ABSENT
    """{"model"} of a second model that answered the instructions, when one did."""


@dataclass
class Prompt(Contract):
    """The prompt template a generation used (and the staged method's per-stage templates)."""

    sha256: str | None = ABSENT
    path: str | None = ABSENT
    stages: dict | None = ABSENT
    """stage name -> {"sha256", "path"}."""


@dataclass
class Seeds(Contract):
    """The seed file a generation (or an import) started from."""

    name: str | None = ABSENT
    sha256: str | None = ABSENT
    count: int | None = ABSENT
    path: str | None = ABSENT
    licence: str | None = ABSENT

    def declared_licence(self) -> str | None:
        return _licence(self)


@dataclass
class Lineage(Contract):
    """A version's provenance. Field order is the stored key order of a generated or imported version."""

    NESTED: ClassVar[dict[str, type]] = {"generator": Generator, "prompt": Prompt, "seeds": Seeds}

    operation: str | None = ABSENT
    """generate, import, sample, merge, filter or dedup."""
    method: str | None = ABSENT
    """The generation method (`alpaca` or `self-instruct`)."""
    parameters: dict | None = ABSENT
    """The operation's settings (a generation's resolved config, less pricing)."""
    source: dict | str | None = ABSENT
    """An imported file: {"path", "sha256", "bytes"}."""
    counts: dict | None = ABSENT
    """Rows (or requests, candidates...) at each stage: stage -> count."""
    drops: dict | None = ABSENT
    """Rows dropped per reason."""
    licence: str | None = ABSENT
    """The licence declared at import (older manifests may spell the key `license`)."""
    generator: Generator | None = ABSENT
    prompt: Prompt | None = ABSENT
    in_context: dict | None = ABSENT
    """{"seed_examples", "machine_examples"} per prompt."""
    seeds: Seeds | None = ABSENT
    random_seed: int | None = ABSENT
    usage: dict | None = ABSENT
    """Tokens and dollars the generation spent."""
    time_window: dict | None = ABSENT
    """{"started", "finished"} in ISO UTC."""
    run_dir: str | None = ABSENT
    """The generation's run folder (kept.jsonl, dropped.jsonl...), if it still exists."""
    filters: dict | None = ABSENT
    """Filter and dedup settings: setting -> value (None = off)."""
    replayed_from: str | None = ABSENT
    """The run folder whose journal a replay re-sieved."""
    language: str | None = ABSENT

    def declared_licence(self) -> str | None:
        return _licence(self)

    def data_language(self) -> str | None:
        """The language the lineage records, at the top or among the operation's parameters."""
        return self.language or (self.parameters or {}).get("language")


def _licence(record: Seeds | Lineage) -> str | None:
    """The licence a record declares; some older writers spelled the key `license`."""
    return record.licence or record.extra.get("license")
