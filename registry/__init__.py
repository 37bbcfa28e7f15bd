"""registry: immutable, content-addressed dataset versions with lineage and datasheets.

    import registry
    v = registry.commit(frame, name="alpaca", lineage={"operation": "import"})
    df = registry.open("alpaca@1")            # also alpaca@latest, alpaca@stable, alpaca@3f2a9c
"""

from registry.aliases import set_alias
from registry.commit import check_committable, commit
from registry.importing import import_hash
from registry.errors import (
    CommitConflictError,
    NotFoundError,
    RegistryError,
    UnsafeNameError,
)
from registry.fs import default_root
from registry.manifest import Version
from registry.uses import Use, list_uses, read_uses, record_use
from registry.versions import current_aliases, list_datasets, list_versions, open, resolve

__all__ = [
    "check_committable",
    "CommitConflictError", "NotFoundError", "RegistryError", "UnsafeNameError",
    "Version", "commit", "current_aliases", "default_root", "list_datasets", "list_uses",
    "import_hash", "list_versions", "open", "read_uses", "record_use", "resolve", "set_alias", "Use",
]
