"""Records as chat conversations and back: the `messages` shape and ShareGPT's `conversations`.

A record is one exchange. The user turn is the instruction, then, when there is an input,
INPUT_SEPARATOR and the input; the assistant turn is the output; a `system` field, when a record
has one, is the system turn. Reading splits the user turn at the first INPUT_SEPARATOR, so
records -> messages -> records gives the same rows (and hashes):

    {"instruction": "Sort.", "input": "b a", "output": "a b"}
    <-> {"messages": [{"role": "user", "content": "Sort.\\n\\nInput:\\nb a"},
                      {"role": "assistant", "content": "a b"}]}

A conversation with more than one user or assistant turn is refused (file, line and reason): a
record holds one exchange, and cutting a conversation into exchanges would train replies without
the turns they answer.
"""

from __future__ import annotations

import json
from pathlib import Path

from records.errors import InputError

CHAT_FORMATS = ("messages", "sharegpt")
INPUT_SEPARATOR = "\n\nInput:\n"
"""Between instruction and input in a user turn: a blank line, then a labelled input, so a model
reads it as Alpaca's "### Input:" and a reader can split it back."""
SYSTEM_FIELD = "system"
"""The record field that keeps a conversation's system turn."""

_KEYS = {"messages": ("messages", "role", "content"), "sharegpt": ("conversations", "from", "value")}
_ROLES = {"system": "system", "user": "user", "assistant": "assistant",
          "human": "user", "gpt": "assistant"}  # ShareGPT's speaker names, and the plain ones some files use
_SHAREGPT_NAMES = {"system": "system", "user": "human", "assistant": "gpt"}


def user_turn(instruction: str, input: str = "") -> str:
    """The user message of a record: the instruction, then the input after INPUT_SEPARATOR."""
    return f"{instruction}{INPUT_SEPARATOR}{input}" if input else instruction


def split_user_turn(text: str) -> tuple[str, str]:
    """(instruction, input) from a user message: split at the first INPUT_SEPARATOR, if any."""
    instruction, _, input = text.partition(INPUT_SEPARATOR)
    return instruction, input


def record_messages(record: dict, system: str | None = None) -> list[dict]:
    """The record as [system?, user, assistant] messages; the record's own `system` field wins
    over `system`, and an empty one means no system turn."""
    system = record.get(SYSTEM_FIELD) or system
    turns = [{"role": "system", "content": system}] if system else []
    return turns + [{"role": "user", "content": user_turn(record["instruction"], record.get("input") or "")},
                    {"role": "assistant", "content": record["output"]}]


def to_chat_line(record: dict, fmt: str, system: str | None = None) -> dict:
    """One line of a chat file: {"messages": [...]} or ShareGPT's {"conversations": [...]}."""
    messages = record_messages(record, system)
    if fmt == "messages":
        return {"messages": messages}
    return {"conversations": [{"from": _SHAREGPT_NAMES[m["role"]], "value": m["content"]} for m in messages]}


def chat_shape(obj: dict) -> str | None:
    """`messages` or `sharegpt` when a JSON object is a conversation rather than a record."""
    if "instruction" in obj:
        return None
    return next((fmt for fmt, (key, _, _) in _KEYS.items() if key in obj), None)


def sniff_chat_format(path: str | Path) -> str | None:
    """`messages` or `sharegpt` when the first line of a JSON Lines file is a conversation (only
    that line is read); None otherwise, for JSON lists and for anything unreadable."""
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                try:
                    first = json.loads(raw.decode("utf-8-sig"))
                except (ValueError, RecursionError):
                    return None
                return chat_shape(first) if isinstance(first, dict) else None
    return None


def chat_record(obj: dict, source, line: int, fmt: str = "auto") -> dict:
    """The record a conversation line holds (other keys kept as extra fields); any other object is
    returned as it is, for the record validator. `fmt` messages or sharegpt requires that shape."""
    shape = fmt if fmt in CHAT_FORMATS else chat_shape(obj)
    if shape is None:
        return obj
    key, role_key, text_key = _KEYS[shape]
    if not isinstance(obj.get(key), list) or not obj[key]:
        raise InputError(source, f"must be a non-empty list of turns ({shape} format)", line=line, field=key)
    turns = [_turn(t, source, line, key, i, role_key, text_key) for i, t in enumerate(obj[key])]
    system = turns.pop(0)[1] if turns[0][0] == "system" else None
    roles = [role for role, _ in turns]
    if "system" in roles:
        raise InputError(source, "has a system turn after the first turn; it must come first", line=line, field=key)
    if roles.count("user") > 1 or roles.count("assistant") > 1:
        raise InputError(source, f"is a multi-turn conversation ({' > '.join(roles)}); only a single exchange "
                         "(an optional system turn, one user turn, one assistant turn) becomes a record",
                         line=line, field=key)
    if roles != ["user", "assistant"]:
        raise InputError(source, f"needs one user turn followed by one assistant turn, got {' > '.join(roles) or 'none'}",
                         line=line, field=key)
    instruction, input = split_user_turn(turns[0][1])
    record = {"instruction": instruction, "input": input, "output": turns[1][1]}
    if system is not None:
        record[SYSTEM_FIELD] = system
    return {**record, **{k: v for k, v in obj.items() if k != key and k not in record}}


def _turn(turn, source, line: int, key: str, i: int, role_key: str, text_key: str) -> tuple[str, str]:
    field = f"{key}[{i}]"
    if not isinstance(turn, dict):
        raise InputError(source, f"must be an object with {role_key!r} and {text_key!r}", line=line, field=field)
    role = _ROLES.get(turn.get(role_key)) if isinstance(turn.get(role_key), str) else None
    if role is None:
        raise InputError(source, f"{role_key} {turn.get(role_key)!r} is not one of system, user, assistant "
                         "(human, gpt)", line=line, field=field)
    if not isinstance(turn.get(text_key), str):
        got = type(turn.get(text_key)).__name__ if text_key in turn else "nothing"
        raise InputError(source, f"{text_key} must be text, got {got}", line=line, field=field)
    return role, turn[text_key]
