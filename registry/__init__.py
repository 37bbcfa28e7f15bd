"""registry: immutable, content-addressed dataset versions with lineage and datasheets."""
