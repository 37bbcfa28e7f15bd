"""The one error for a malformed input file: it names the file, the 1-based line and the field."""

from __future__ import annotations


class InputError(Exception):
    """A malformed input file, shown to users as one line without a stack trace (exit status 2)."""

    def __init__(self, path: str, message: str, *, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.message = str(path), line, field, message
        where = self.path + (f":{line}" if line is not None else "")
        what = f"field '{field}' " if field else ""
        super().__init__(f"{where}: {what}{message}")
