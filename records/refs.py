"""The reference grammar: `NAME` or `NAME@VERSION` (a number, `latest`, an alias or a hash prefix).

The registry validates and resolves references with it; finetune uses it to tell a reference from a
file path.
"""

from __future__ import annotations

import re

# One path segment of safe characters: no separators, no leading dot (so no "..", no hidden files).
# Always used with fullmatch: a `$` anchor would let a trailing newline through.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
HEX = re.compile(r"[0-9a-f]{4,64}")


def is_name(text: str) -> bool:
    """True when `text` is one safe name (dataset, alias or selector)."""
    return isinstance(text, str) and bool(NAME.fullmatch(text)) and ".." not in text


def is_selector(text: str) -> bool:
    """True when `text` can follow the '@': a number, a hash prefix or a name."""
    return text.isdigit() or bool(HEX.fullmatch(text)) or is_name(text)


def is_versioned_ref(text: str) -> bool:
    """True for `NAME@VERSION` written out in full (`notes@3`, `notes@latest`, `notes@stable`)."""
    if not isinstance(text, str):
        return False
    name, at, selector = text.partition("@")
    return bool(at) and is_name(name) and bool(selector) and is_selector(selector)


def is_hash_prefix(selector: str) -> bool:
    """True when a selector can be a content-hash prefix (hex, at least 4 characters, not all digits)."""
    return bool(HEX.fullmatch(selector)) and not selector.isdigit()
