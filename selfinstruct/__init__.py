"""selfinstruct: grow instruction-following datasets from seed tasks."""

__version__ = "0.1.0"
