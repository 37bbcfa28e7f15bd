"""The fields of an instruction record (Alpaca's names, which torchtune and litgpt expect too)."""

from __future__ import annotations

RECORD_FIELDS = ("instruction", "input", "output")
"""Every record has these three text fields, in this order; `input` may be empty."""
