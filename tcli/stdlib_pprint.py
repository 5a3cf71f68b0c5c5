"""The `pprint` facade: pprint, pp and pformat, written by Python's PrettyPrinter to a stream of tcli's that
counts the text against the string limit as it is written (and checks the time limit), after a first estimate
of the value's repr (Prelude.check_repr) refuses what could not fit. The script's own __repr__ runs as tsr code,
charged as for print. Ids Python writes for a recursive value are the ones id() gives a script.
"""

from __future__ import annotations

import pprint
import re
from typing import Any

_RECURSION_ID = re.compile(r"(<Recursion on \w+ with id=)(\d+)>")


class _Counted:
    __slots__ = ("parts", "total", "limit", "prelude")

    def __init__(self, prelude: Any) -> None:
        self.parts: list[str] = []
        self.total = 0
        self.limit = prelude.limits.max_str_len
        self.prelude = prelude

    def write(self, text: str) -> None:
        self.total += len(text)
        if self.total > self.limit:
            raise MemoryError(f"printing this value would take over {self.limit:,} characters (tsr limit)")
        self.parts.append(text)
        if len(self.parts) & 0xFFF == 0:
            self.prelude._tick_deadline()


def make(p: Any) -> dict[str, Any]:
    def format_(obj: Any, indent: int, width: int, depth: Any, compact: bool, sort_dicts: bool,
                underscore_numbers: bool) -> str:  # fmt: skip
        if isinstance(indent, int) and indent > p.limits.max_format_width:
            # (PrettyPrinter writes ' ' * indent in C before the stream counts it: indent=10**9 took a gigabyte)
            raise ValueError(f"pprint indent {indent} is over the tsr limit of {p.limits.max_format_width}")
        p.check_repr(obj)
        stream = _Counted(p)
        printer = pprint.PrettyPrinter(
            indent=indent, width=width, depth=depth, stream=stream, compact=compact, sort_dicts=sort_dicts,
            underscore_numbers=underscore_numbers,
        )  # fmt: skip
        p.converting(printer.pprint, obj)
        text = "".join(stream.parts)
        if "<Recursion on " in text:
            text = _RECURSION_ID.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + p._id_key}>", text)
        return p.mask_addresses(text)

    def pformat(object: Any, indent: int = 1, width: int = 80, depth: Any = None, *, compact: bool = False,  # noqa: A002
                sort_dicts: bool = True, underscore_numbers: bool = False) -> str:  # fmt: skip
        return format_(object, indent, width, depth, compact, sort_dicts, underscore_numbers)[:-1]

    def pprint_(object: Any, stream: Any = None, indent: int = 1, width: int = 80, depth: Any = None, *,  # noqa: A002
                compact: bool = False, sort_dicts: bool = True, underscore_numbers: bool = False) -> None:  # fmt: skip
        if stream is not None:
            raise TypeError("pprint in tsr writes to the script's output only (no stream=)")
        text = format_(object, indent, width, depth, compact, sort_dicts, underscore_numbers)
        p._print(text, end="")

    def pp(object: Any, *args: Any, sort_dicts: bool = False, **kwargs: Any) -> None:  # noqa: A002
        pprint_(object, *args, sort_dicts=sort_dicts, **kwargs)

    pprint_.__name__ = pprint_.__qualname__ = "pprint"
    return {"pprint": pprint_, "pformat": pformat, "pp": pp}
