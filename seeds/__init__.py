"""Default seed tasks shipped with selfinstruct (package data: default.jsonl)."""
