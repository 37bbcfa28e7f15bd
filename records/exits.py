"""How an error reaches a user of any command: one line on stderr, no stack trace, one exit status.

Every command of every package uses these, so the statuses mean the same everywhere:
0 done, 1 failed, 2 bad input or configuration, 3 stopped short, 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import functools

import click

from records.errors import InputError
from records.redact import redact_text

FAILED = 1
BAD_INPUT = 2
STOPPED_SHORT = 3
INTERRUPTED = 130
TERMINATED = 143


class UserError(click.ClickException):
    """A one-line error the user can act on; click prints "Error: ..." and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code


def fail(error: Exception | str, code: int = FAILED) -> UserError:
    """The error as one line; a URL in it loses its credentials."""
    return UserError(redact_text(str(error)), code)


def bad_input(error: Exception | str) -> UserError:
    """Bad input or configuration: exit status 2."""
    return fail(error, BAD_INPUT)


def describe_os_error(error: OSError) -> str:
    """"PATH: reason" for a file that could not be read or written, found only while working."""
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if getattr(error, "filename", None) else reason


def bad_input_on(*errors: type[Exception]):
    """A decorator for a command: a malformed file (InputError), a path that cannot be used
    (OSError) or any of `errors` ends it with one line and exit status 2."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except (InputError, *errors) as e:
                raise bad_input(e) from None
            except OSError as e:
                raise bad_input(describe_os_error(e)) from None

        return wrapper

    return decorate
