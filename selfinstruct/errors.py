"""Errors of the generation engine a user can act on (a malformed input file is records.errors.InputError)."""

from __future__ import annotations


class SelfInstructError(Exception):
    """Base class for errors shown to users without a stack trace."""


class BackendError(SelfInstructError):
    """The model endpoint refused in a way retrying cannot fix (bad key, unknown model...)."""


class ConfigError(BackendError):
    """The endpoint cannot be reached at all (a refused first connection): fix --base-url; exit 2."""


class BudgetExceeded(SelfInstructError):
    """The next request would take the run past --max-cost."""
