"""The errors a user can act on, and how each reaches the exit status (records/exits.py reads it).

`SelfInstructError` is the toolkit's base: every package's own errors derive from it, and each
class says in `exit_status` which kind it is: 1 failed (an endpoint refused, a run broke), 2 bad
input or configuration (nothing was sent or changed).
"""

from __future__ import annotations

FAILED = 1
BAD_INPUT = 2


class SelfInstructError(Exception):
    """Base class for errors shown to users as one line, without a stack trace."""

    exit_status = FAILED


class InputError(SelfInstructError):
    """A malformed input file, shown to users as one line without a stack trace (exit status 2).
    It names the file, the 1-based line and the field."""

    exit_status = BAD_INPUT

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.message = str(path), line, field, message
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}' " if field else ""
        super().__init__(f"{where}: {what}{message}")
