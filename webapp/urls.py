"""The one integer type of URL parameters: `{sid:num}` for study ids, item and row numbers.

Starlette's `int` accepts any run of digits, and SQLite cannot bind an integer over 64 bits
(OverflowError, a 500). `num` matches at most 18 digits, so a longer one matches no route: 404.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class BoundedInt(Convertor):
    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("num", BoundedInt())
