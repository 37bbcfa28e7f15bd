"""Dollar prices per token, from the shipped table or a user's file; unknown models cost 0 (local)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from records.errors import InputError
from records.files import read_text_utf8


@dataclass(frozen=True)
class Price:
    input_per_m: float  # dollars per million prompt tokens
    output_per_m: float  # dollars per million completion tokens
    known: bool = True

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


FREE = Price(0.0, 0.0, known=False)


def load_pricing(path: str | Path | None = None) -> dict[str, Price]:
    """The shipped table, updated with the entries of a user's JSON file of the same shape."""
    table = json.loads(resources.files("modelcalls").joinpath("pricing.json").read_text())
    if path is not None:
        try:
            user = json.loads(read_text_utf8(path, what="pricing file"))
        except json.JSONDecodeError as e:
            raise InputError(path, f"invalid JSON: {e.msg}", line=e.lineno) from None
        table.update(user)
    prices = {}
    for model, entry in table.items():
        if model.startswith("_"):
            continue
        for key in ("input", "output"):
            if not isinstance(entry, dict) or not isinstance(entry.get(key), (int, float)):
                raise InputError(path or "pricing.json", f"needs numbers 'input' and 'output' for {model!r}", field=f"{model}.{key}")
        prices[model] = Price(float(entry["input"]), float(entry["output"]))
    return prices


def price_for(model: str, prices: dict[str, Price]) -> Price:
    """Exact name first, then the longest table key that prefixes it (dated snapshots like gpt-4o-2024-08-06)."""
    if model in prices:
        return prices[model]
    matches = [k for k in prices if model.startswith(k)]
    return prices[max(matches, key=len)] if matches else FREE
