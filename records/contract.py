"""Typed records stored as JSON objects: one reader (`from_dict`) and one writer (`to_dict`) for all.

A contract is a dataclass whose fields are the stored keys. What it keeps so a stored object
round-trips to the same JSON, key order included:

- a key is written when it was given, even as None (written as null, as the old dict writers did),
  or when its field was set to a value later; a field never given and still None is left out;
- keys this reader does not know (an older or newer writer's) are kept in `extra` and written back;
- nested contracts are named in the class's `NESTED` ({"generator": Generator}); a stored value of
  the wrong type there is kept as read (in `extra`) rather than guessed at.

    Seeds(name="s", licence=None).to_dict() == {"name": "s", "licence": None}
    Seeds.from_dict(d).to_dict() == d   # for any stored dict d
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""The default of every contract field: "not given". `__post_init__` turns it into None."""


@dataclass
class Contract:
    """Base of the stored records; subclasses declare their keys as fields defaulting to ABSENT."""

    NESTED: ClassVar[dict[str, type]] = {}

    extra: dict = field(default_factory=dict, kw_only=True)
    """Stored keys this reader does not know, written back unchanged."""
    _keys: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = []
        for name in self._field_names():
            if getattr(self, name) is ABSENT:
                setattr(self, name, None)
            else:
                given.append(name)
        self._keys = tuple(given)

    def __bool__(self) -> bool:
        """False for an empty stored object, as its dict would be."""
        return bool(self.to_dict())

    @classmethod
    def _field_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.init and f.name != "extra"]

    @classmethod
    def from_dict(cls, data: dict | None):
        """The contract of a stored object (None or {} for an empty one); never raises on odd values."""
        data = data if isinstance(data, dict) else {}
        known, values, extra = set(cls._field_names()), {}, {}
        for key, value in data.items():
            nested = cls.NESTED.get(key)
            if key not in known or (nested and value is not None and not isinstance(value, dict)):
                extra[key] = value
            else:
                values[key] = nested.from_dict(value) if nested and value is not None else value
        obj = cls(**values, extra=extra)
        obj._keys = tuple(data)
        return obj

    def updated(self, **changes):
        """A copy with `changes` set: keys it had keep their place, new ones follow in field order."""
        unknown = set(changes) - set(self._field_names())
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}")
        copy = type(self).from_dict(self.to_dict())
        for name, value in changes.items():
            setattr(copy, name, value)
        return copy

    def to_dict(self) -> dict:
        """The stored form: given keys in their order, then fields set since, then new extra keys."""
        names = self._field_names()
        order = [*self._keys, *(n for n in names if n not in self._keys and getattr(self, n) is not None),
                 *(k for k in self.extra if k not in self._keys)]
        out = {}
        for key in order:
            value = self.extra[key] if key in self.extra else getattr(self, key)
            out[key] = value.to_dict() if isinstance(value, Contract) else value
        return out
