"""Errors a user can act on: each names the file, line and field at fault."""

from __future__ import annotations


class SelfInstructError(Exception):
    """Base class for errors shown to users without a stack trace."""


class InputError(SelfInstructError):
    """A malformed input file: names the file, the 1-based line and the field."""

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.message = str(path), line, field, message
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}' " if field else ""
        super().__init__(f"{where}: {what}{message}")


class BackendError(SelfInstructError):
    """The model endpoint refused in a way retrying cannot fix (bad key, unknown model...)."""


class ConfigError(BackendError):
    """The endpoint cannot be reached at all (a refused first connection): fix --base-url; exit 2."""


class BudgetExceeded(SelfInstructError):
    """The next request would take the run past --max-cost."""
