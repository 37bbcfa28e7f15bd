"""selfinstruct: grow instruction-following datasets from seed tasks."""

from records import __version__  # one version for the whole distribution
