"""The instruction record, below every other package: its fields, the one reader, writer and
validator, its hashes, the NAME@VERSION reference grammar, the input error, credential redaction,
and the text measures and clock both sides share (ROUGE-L, MinHash, ISO time).

It imports nothing from the project, so selfinstruct, registry, finetune, evaluation and webapp can
all build on it.
"""

__version__ = "0.1.0"  # of the whole distribution (published as `selfinstruct`), kept with pyproject.toml
