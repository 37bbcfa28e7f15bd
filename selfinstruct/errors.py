"""Errors of the generation engine a user can act on. The base class and the request layer's errors
live below this package (records/errors.py, modelcalls/errors.py); they are named here too, since
the engine raises them."""

from __future__ import annotations

from modelcalls.errors import BackendError, BudgetExceeded, ConfigError, RunDirError, RunLocked
from records.errors import SelfInstructError

__all__ = ["BackendError", "BudgetExceeded", "ConfigError", "RunDirError", "RunLocked", "SelfInstructError"]
