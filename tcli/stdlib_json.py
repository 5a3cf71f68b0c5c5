"""The `json` facade: dumps and loads, bounded before they build.

dumps measures the text it will write first (a walk of the value, shared containers measured once and counted
at every occurrence, as the text repeats them), refusing past the string limit before writing anything (a
[[0] * 1000] * 10000 list of 10M zeros would take seconds to write just to be refused), refusing a circular
value as Python's json does and a value nested deeper than Python's encoder goes. It then writes through
Python's own pure-Python encoder (json.encoder._make_iterencode), counting every piece against the limit (what a
default= function returns is only known then) and checking the time limit as it goes. loads reads text within
the string limit with Python's scanner, after a check of the nesting depth, with its result counted against
--max-memory. No dump/load: tsr touches files only through torch.save and torch.load.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tcli import policy

# (a string always matches, to its closing quote or the text's end: with a closing quote required, every escaped
# quote of '"' + '\\"' * 2_000_000 began a new match that ran to the end, hours of C time)
_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.S)
_SIMPLE = {True: 4, False: 5, None: 4}
_NAN = "Out of range float values are not JSON compliant"


class _Budget:
    """A lower bound of the length of the JSON text of a value (see the module's docstring)."""

    __slots__ = ("budget", "memo", "active", "item_sep", "key_sep", "ascii")

    def __init__(self, budget: int, item_sep: str, key_sep: str, ensure_ascii: bool) -> None:
        self.budget = budget
        self.memo: dict[int, int] = {}
        self.active: set[int] = set()
        self.item_sep, self.key_sep, self.ascii = len(item_sep), len(key_sep), ensure_ascii

    def text(self, s: str) -> int:
        if s.isascii() and s.isprintable():
            return len(s) + 2 + s.count('"') + s.count("\\")
        return len(s) + 2 if not self.ascii and s.isprintable() else 6 * len(s) + 2

    def measure(self, value: Any, depth: int) -> int:
        tp = type(value)
        if value is None or tp is bool:
            return _SIMPLE[value]
        if isinstance(value, str):
            n = self.text(value)
        elif isinstance(value, int):
            n = value.bit_length() // 4 + 1
        elif isinstance(value, float):
            n = 3
        elif isinstance(value, (list, tuple, dict)):
            key = id(value)
            n = self.memo.get(key, -1)
            if n >= 0:
                return n
            if key in self.active:
                raise ValueError("Circular reference detected")
            if depth >= policy.JSON_MAX_DEPTH:
                raise RecursionError("maximum recursion depth exceeded while encoding a JSON object")
            self.active.add(key)
            n = 2
            if isinstance(value, dict):
                for k, v in value.items():
                    n += (self.text(k) if type(k) is str else 3) + self.key_sep + self.measure(v, depth + 1)
                    n += self.item_sep
                    if n > self.budget:
                        break
            else:
                for v in value:
                    n += self.measure(v, depth + 1) + self.item_sep
                    if n > self.budget:
                        break
            self.active.discard(key)
            self.memo[key] = n
        else:
            n = 2  # (a value default= converts: counted as it is written)
        if n > self.budget:
            raise MemoryError(f"the JSON text of this value would take over {self.budget:,} characters (tsr limit)")
        return n


def make(p: Any) -> dict[str, Any]:
    def dumps(
        obj: Any, *, skipkeys: bool = False, ensure_ascii: bool = True, check_circular: bool = True,
        allow_nan: bool = True, cls: Any = None, indent: Any = None, separators: Any = None, default: Any = None,
        sort_keys: bool = False,
    ) -> str:  # fmt: skip
        if cls is not None:
            raise TypeError("json.dumps(cls=...) is not available in tsr")
        if default is not None:
            default = p.as_called(default)
        if indent is not None:
            # (Python's encoder builds ' ' * indent first, and '\n' + indent * level for every level: indent=10**9
            # took a gigabyte before one piece was counted; bounded, no piece is longer than the text limit)
            width = indent if isinstance(indent, int) else len(indent) if isinstance(indent, str) else 0
            if width > p.limits.max_format_width:
                raise ValueError(f"json.dumps indent {width} is over the tsr limit of {p.limits.max_format_width}")
            if isinstance(indent, int):
                indent = " " * int(indent)
        encoder = json.JSONEncoder(
            skipkeys=skipkeys, ensure_ascii=ensure_ascii, check_circular=check_circular, allow_nan=allow_nan,
            indent=indent, separators=separators, default=default, sort_keys=sort_keys,
        )  # fmt: skip
        limit = p.limits.max_str_len
        _Budget(limit, encoder.item_separator, encoder.key_separator, ensure_ascii).measure(obj, 0)
        total, pieces = 0, []
        try:
            for piece in encoder.iterencode(obj):  # (_one_shot is False: the pure-Python encoder, piece by piece)
                total += len(piece)
                if total > limit:
                    raise MemoryError(f"the JSON text of this value would take over {limit:,} characters (tsr limit)")
                pieces.append(piece)
                if len(pieces) & 0xFFF == 0:
                    p._tick_deadline()
        except ValueError as e:
            # (without indent Python's C encoder writes it, whose message does not name the value)
            if indent is None and str(e).startswith(_NAN):
                raise ValueError(_NAN) from None
            raise
        text = "".join(pieces)
        p.made_value(text)
        return text

    def loads(s: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"json.loads in tsr takes the text only, not {', '.join(kwargs)}=")
        if isinstance(s, (bytes, bytearray)):  # (what torch.load may hand out: read as Python's loads reads it)
            s = s.decode(json.detect_encoding(s), "surrogatepass")
        if isinstance(s, str):
            if s.count("[") + s.count("{") >= policy.JSON_MAX_DEPTH:
                _check_depth(s)
            if len(s) > 1 << 16:
                p.check_alloc(24 * len(s))  # (the objects the text becomes: a list per 3 characters of "[],")
        return json.loads(s)

    p._handed_classes.add(json.JSONDecodeError)
    return {"dumps": dumps, "loads": loads, "JSONDecodeError": json.JSONDecodeError}


def _check_depth(s: str) -> None:
    depth = 0
    for m in _BRACKETS.finditer(s):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth >= policy.JSON_MAX_DEPTH:
                what = "array" if c == "[" else "object"
                raise RecursionError(
                    f"maximum recursion depth exceeded while decoding a JSON {what} from a unicode string"
                )
        elif c in "]}":
            depth -= 1
