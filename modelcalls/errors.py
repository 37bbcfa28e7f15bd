"""Errors of the request layer a user can act on (exit statuses as records/errors.py says)."""

from __future__ import annotations

from records.errors import BAD_INPUT, SelfInstructError


class BackendError(SelfInstructError):
    """The model endpoint refused in a way retrying cannot fix (bad key, unknown model...): exit 1."""


class ConfigError(BackendError):
    """The endpoint or checkpoint cannot be used at all (nothing listens at --base-url, not a
    checkpoint folder, nothing configured): fix the setting; exit 2."""

    exit_status = BAD_INPUT


class RunDirError(SelfInstructError):
    """A run directory that cannot be used for this run (another run's journal, in use by another
    process, no journal to replay): nothing was sent; exit 2."""

    exit_status = BAD_INPUT


class RunLocked(RunDirError):
    """Another process holds the run directory."""


class JournalWriteFailed(SelfInstructError):
    """The journal could not be appended to (a full disk): the run stops, every line before stays."""


class BudgetExceeded(SelfInstructError):
    """The next request would take the run past --max-cost."""
