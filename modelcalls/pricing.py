"""Dollar prices per token, from the shipped table or a user's file; unknown models cost 0 (local).

Each entry has synchronous prices (`input`, `output`) and may have the Batch API's (`batch_input`,
`batch_output`; half at OpenAI). A price without batch figures charges batch requests the
synchronous rate, so a budget never assumes a discount nobody promised.
"""

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
    batch_input_per_m: float | None = None  # the Batch API's prices; None: the synchronous ones
    batch_output_per_m: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6

    @property
    def batch(self) -> Price:
        """The price of the same tokens sent through the Batch API."""
        return Price(self.input_per_m if self.batch_input_per_m is None else self.batch_input_per_m,
                     self.output_per_m if self.batch_output_per_m is None else self.batch_output_per_m, self.known)


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
        for key in ("batch_input", "batch_output"):
            if key in entry and not isinstance(entry[key], (int, float)):
                raise InputError(path or "pricing.json", f"{key} of {model!r} must be a number", field=f"{model}.{key}")
        batch = [float(entry[k]) if k in entry else None for k in ("batch_input", "batch_output")]
        prices[model] = Price(float(entry["input"]), float(entry["output"]), True, *batch)
    return prices


def price_for(model: str, prices: dict[str, Price]) -> Price:
    """Exact name first, then the longest table key that prefixes it (dated snapshots like gpt-4o-2024-08-06)."""
    if model in prices:
        return prices[model]
    matches = [k for k in prices if model.startswith(k)]
    return prices[max(matches, key=len)] if matches else FREE
