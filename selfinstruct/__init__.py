"""selfinstruct: grow instruction-following datasets from seed tasks."""


def __getattr__(name: str):
    # Imported on use, not with the package: `python -m selfinstruct` imports this file before
    # __main__.py can take the current folder off sys.path (see there).
    if name == "__version__":
        from records import __version__  # one version for the whole distribution

        return __version__
    raise AttributeError(f"module 'selfinstruct' has no attribute {name!r}")
