"""SieveOptions: the rules of the keep/drop stage, validated in one place for every command.

`generate`, `selfinstruct dedup`, `registry filter` and `registry dedup` all build one of these, so
the same value is refused (or accepted) everywhere; a ValueError names the field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from records.rouge import TOKENIZERS
from selfinstruct.filters import PROFILES


@dataclass(frozen=True)
class SieveOptions:
    filters: str | None = "strict"
    """Quality profile: alpaca (exactly Alpaca's heuristics), strict (adds output checks), or None
    for no checks (`selfinstruct dedup`, `registry dedup`)."""
    language: str = "en"
    """Language of the data; the strict profile's non-ASCII first-character check applies to English only."""
    rouge_threshold: float | None = 0.7
    """Drop a record whose instruction scores ROUGE-L F above this against a seed or an earlier kept
    instruction (Alpaca: 0.7); None for no ROUGE-L rule (`registry filter`)."""
    rouge_tokenizer: str = "rouge"
    """rouge (rouge-score's a-z0-9 tokens, as Alpaca) or unicode (words of any script)."""
    minhash_threshold: float | None = None
    """Also drop a record whose whole text has estimated MinHash Jaccard >= this with an earlier kept
    record; None (the default) for no MinHash rule."""

    def __post_init__(self) -> None:
        checks = [
            ("filters", self.filters is None or self.filters in PROFILES, "must be " + " or ".join(PROFILES)),
            ("rouge_threshold", self.rouge_threshold is None or 0 < self.rouge_threshold <= 1, "must be in (0, 1]"),
            ("rouge_tokenizer", self.rouge_tokenizer in TOKENIZERS, "must be " + " or ".join(TOKENIZERS)),
            ("minhash_threshold", self.minhash_threshold is None or 0 < self.minhash_threshold <= 1,
             "must be in (0, 1]"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ValueError(f"{name} {message} (got {getattr(self, name)!r})")

    def to_dict(self) -> dict:
        return asdict(self)
