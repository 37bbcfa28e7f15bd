"""Dataset, alias and reference names: validation, parsing, closest-name suggestions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from records.refs import is_name, is_selector
from registry.errors import NotFoundError, UnsafeNameError
RESERVED_ALIASES = frozenset({"latest"})


@dataclass(frozen=True)
class Ref:
    """A parsed reference: `name`, `name@3`, `name@latest`, `name@stable`, `name@<hash prefix>`."""

    name: str
    selector: str = "latest"  # "latest", a number as text, an alias, or a hash prefix

    @property
    def number(self) -> int | None:
        return int(self.selector) if self.selector.isdigit() else None


def check_name(name: str, *, kind: str = "dataset name") -> str:
    """Return `name` if it is one safe path segment, else raise UnsafeNameError."""
    if not is_name(name):
        raise UnsafeNameError(
            f"invalid {kind} {name!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, with no '..' or '/'"
        )
    return name


def check_alias(alias: str) -> str:
    """Return `alias` if it can be stored as an alias (not a number, not reserved, safe)."""
    check_name(alias, kind="alias")
    if alias.isdigit() or alias in RESERVED_ALIASES:
        raise UnsafeNameError(f"invalid alias {alias!r}: numbers and {sorted(RESERVED_ALIASES)} are reserved")
    return alias


def parse_ref(ref: str) -> Ref:
    """Split `name@selector` and validate the name; the selector defaults to `latest`."""
    if not isinstance(ref, str) or not ref:
        raise UnsafeNameError(f"invalid reference {ref!r}: expected NAME or NAME@VERSION")
    name, at, selector = ref.partition("@")
    check_name(name)
    if at and not selector:
        raise UnsafeNameError(f"invalid reference {ref!r}: nothing after '@'; use {name}, {name}@latest, "
                              f"{name}@NUMBER or {name}@ALIAS")
    selector = selector or "latest"
    if not is_selector(selector):
        check_name(selector, kind="version selector")
    return Ref(name, selector)


def raise_not_found(what: str, wanted: str, existing: list[str]) -> None:
    """Raise NotFoundError naming the closest existing names (or all of them when few)."""
    close = difflib.get_close_matches(wanted, existing, n=3, cutoff=0.5)
    if close:
        hint = "; closest: " + ", ".join(close)
    elif existing:
        hint = "; existing: " + ", ".join(sorted(existing)[:10])
    else:
        hint = "; the registry has none"
    raise NotFoundError(f"unknown {what} {wanted!r}{hint}")
