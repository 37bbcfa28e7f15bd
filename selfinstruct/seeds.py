"""A run's seed set (tasks read by `records.seeds`, with the file's hash and licence) and in-context sampling."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from records.files import read_text_utf8
from records.seeds import SeedTask, read_seed_tasks


@dataclass(frozen=True)
class SeedSet:
    """The tasks plus what lineage needs: where they came from and a hash of the file."""

    tasks: list[SeedTask]
    path: str
    sha256: str
    name: str = field(default="")
    licence: str | None = None
    """Known for the shipped seeds (Apache-2.0); None for a user's file, whose terms we cannot know."""


def default_seeds_path() -> Path:
    """seeds/default.jsonl, shipped with the package."""
    return Path(str(resources.files("seeds").joinpath("default.jsonl")))


def load_seeds(path: str | Path | None = None) -> SeedSet:
    """Read a run's seed tasks with `records.seeds.read_seed_tasks` (a malformed file is refused naming
    file, line and field, before anything is generated), with the file's hash and licence."""
    path = Path(path) if path is not None else default_seeds_path()
    tasks = read_seed_tasks(path)
    digest = hashlib.sha256(read_text_utf8(path).encode()).hexdigest()
    shipped = path == default_seeds_path()
    return SeedSet(tasks=tasks, path=str(path), sha256=digest, name="default" if shipped else path.stem,
                   licence="Apache-2.0" if shipped else None)


def sample_examples(rng: random.Random, seeds: list[SeedTask], k: int, machine: list[dict] = (), k_machine: int = 0) -> list[dict]:
    """`k` seed examples plus up to `k_machine` machine-generated ones (Self-Instruct mixed 6 + 2)."""
    picked = [s.example for s in rng.sample(seeds, min(k, len(seeds)))]
    if k_machine and machine:
        picked += rng.sample(list(machine), min(k_machine, len(machine)))
        rng.shuffle(picked)  # so the model cannot tell machine examples by their position
    return picked
