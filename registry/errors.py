"""Errors a registry user can act on; the CLI prints them without a stack trace."""

from __future__ import annotations

from records.errors import BAD_INPUT, SelfInstructError


class RegistryError(SelfInstructError):
    """Base class for registry errors shown to users as a one-line message (exit status 2)."""

    exit_status = BAD_INPUT


class UnsafeNameError(RegistryError):
    """A dataset or alias name that could escape the registry root or is reserved."""


class NotFoundError(RegistryError):
    """An unknown dataset, version or alias; the message lists the closest existing names."""


class CommitConflictError(RegistryError):
    """Concurrent committers kept taking the version number this commit tried to claim."""


class CorruptError(RegistryError):
    """A registry file that is unreadable, unsafe or does not match its recorded hash; names the file."""


class StoreUnsupportedError(RegistryError):
    """The storage behind the root lacks a primitive commits rely on (e.g. conditional writes)."""

