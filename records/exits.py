"""How an error reaches a user of any command: one line on stderr, no stack trace, one exit status.

One table (`exit_status`) decides the status of every error, applied once by `CommandGroup`, the
click group class of the top-level command and of every package's group; one handler there turns
Ctrl-C and SIGTERM into 130 and 143. The statuses mean the same everywhere:
0 done, 1 failed, 2 bad input or configuration, 3 stopped short, 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import contextlib
import signal
import threading

import click

from records.errors import BAD_INPUT, FAILED, SelfInstructError
from records.redact import redact_text

STOPPED_SHORT = 3
INTERRUPTED = 130
TERMINATED = 143

__all__ = ["BAD_INPUT", "FAILED", "INTERRUPTED", "STOPPED_SHORT", "TERMINATED", "CommandGroup", "Interrupted",
           "UserError", "bad_input", "exit_status", "fail", "stopped_short"]


class UserError(click.ClickException):
    """A one-line error the user can act on; click prints "Error: ..." and exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a run; its message says what was kept and how to go on."""


def exit_status(error: BaseException) -> int | None:
    """The table: the exit status of an error a user can act on, or None for a bug (which keeps its
    traceback). The toolkit's errors carry their status; a refused value (ValueError) and a path
    that cannot be used (OSError) are bad input."""
    if isinstance(error, SelfInstructError):
        return error.exit_status
    if isinstance(error, (ValueError, OSError)):
        return BAD_INPUT
    return None


def describe(error: BaseException) -> str:
    """The error as one line; a URL in it loses its credentials."""
    if isinstance(error, OSError) and not isinstance(error, SelfInstructError):
        return redact_text(describe_os_error(error))
    return redact_text(str(error))


def fail(error: Exception | str, code: int = FAILED) -> UserError:
    """The error as one line; a URL in it loses its credentials."""
    return UserError(redact_text(str(error)), code)


def bad_input(error: Exception | str) -> UserError:
    """Bad input or configuration: exit status 2."""
    return fail(error, BAD_INPUT)


def stopped_short(message: str) -> click.exceptions.Exit:
    """A run that kept what it made but stopped before the end (--max-cost, a stalled model): the
    message on stderr, exit status 3."""
    click.echo(message, err=True)
    return click.exceptions.Exit(STOPPED_SHORT)


def describe_os_error(error: OSError) -> str:
    """"PATH: reason" for a file that could not be read or written, found only while working."""
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if getattr(error, "filename", None) else reason


class CommandGroup(click.Group):
    """A click group that ends every command of its tree the same way: an error a user can act on is
    one line with the table's status, Ctrl-C is 130 and SIGTERM 143 (both first let a paid run
    journal what is in flight, as an interrupt does). Nested groups leave it to the outermost."""

    def invoke(self, ctx: click.Context):
        if ctx.parent is not None and isinstance(ctx.parent.command, CommandGroup):
            return super().invoke(ctx)
        with _sigterm_as_interrupt() as terminated:
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt as e:
                word = "terminated" if terminated else "interrupted"
                click.echo(f"{word}: {e}" if str(e) else word, err=True)
                ctx.exit(TERMINATED if terminated else INTERRUPTED)
            except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
                raise
            except Exception as e:
                status = exit_status(e)
                if status is None:
                    raise
                raise UserError(describe(e), status) from None


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While a command runs, SIGTERM acts as Ctrl-C (so a run drains and journals what is in flight);
    yields a list that holds the signal once one came."""
    terminated: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield terminated
        return

    def on_sigterm(signum, frame):
        terminated.append(signum)
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)
