"""Python 3.11's "Did you mean: 'sum'?" for a NameError or an AttributeError, over the names a script may use.

The distance and the choice are CPython 3.11's (Python/suggestions.c): a Levenshtein distance over UTF-8 bytes
where a case flip costs 1 and any other edit 2, a candidate kept only if at most about a third of the
characters change, and the first of the closest names winning. Python lists its candidates with dir() and
the frame's namespaces; a script's objects could compute their dir(), and engine objects have names tsr
hides, so the candidates here are the names the policy lets a script read, found without running any of the
script's code. Two departures: no cap on the number of candidates (CPython gives up past 750, which leaves
`torch.tensr` without its `tensor`), and names starting with '_' are offered only for a wrong name that does.

Everything here runs only when an error is reported (ScriptError.from_exception); the interpreter's success
path never reaches it, and its error path only records what was looked up (errors.note_lookup).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

_MAX_STRING_SIZE = 40
_MOVE_COST = 2
_CASE_COST = 1


def _substitution_cost(a: int, b: int) -> int:
    if (a & 31) != (b & 31):  # not the same letter, nor a case flip
        return _MOVE_COST
    if a == b:
        return 0
    if 65 <= a <= 90:
        a += 32
    if 65 <= b <= 90:
        b += 32
    return _CASE_COST if a == b else _MOVE_COST


def levenshtein_distance(a: bytes, b: bytes, max_cost: int) -> int:
    """CPython 3.11's levenshtein_distance: the edit distance, or max_cost + 1 once it must exceed max_cost."""
    if a == b:
        return 0
    # trim the common prefix and suffix
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    a, b = a[i:], b[i:]
    j = 0
    while j < len(a) and j < len(b) and a[-1 - j] == b[-1 - j]:
        j += 1
    if j:
        a, b = a[:-j], b[:-j]
    if not a or not b:
        return (len(a) + len(b)) * _MOVE_COST
    if len(a) > _MAX_STRING_SIZE or len(b) > _MAX_STRING_SIZE:
        return max_cost + 1
    if len(b) < len(a):  # the shorter string indexes the row
        a, b = b, a
    if (len(b) - len(a)) * _MOVE_COST > max_cost:
        return max_cost + 1
    row = [(i + 1) * _MOVE_COST for i in range(len(a))]
    result = 0
    for b_index, code in enumerate(b):
        distance = result = b_index * _MOVE_COST
        minimum = sys.maxsize
        for index, char in enumerate(a):
            substitute = distance + _substitution_cost(code, char)
            distance = row[index]
            result = min(min(result, distance) + _MOVE_COST, substitute)
            row[index] = result
            if result < minimum:
                minimum = result
        if minimum > max_cost:  # everything in this row is already too expensive
            return max_cost + 1
    return result


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """CPython 3.11's calculate_suggestions without its cap: the first of the closest candidates, if close."""
    wrong = name.encode("utf-8", "replace")
    best: str | None = None
    best_distance = sys.maxsize
    private = name.startswith("_")
    for item in candidates:
        if type(item) is not str or item == name or (item.startswith("_") and not private):
            continue
        raw = item.encode("utf-8", "replace")
        # no more than 1/3 of the involved characters should need changing, and only a better match counts
        max_distance = min((len(wrong) + len(raw) + 3) * _MOVE_COST // 6, best_distance - 1)
        distance = levenshtein_distance(wrong, raw, max_distance)
        if distance > max_distance:
            continue
        if best is None or distance < best_distance:
            best, best_distance = item, distance
    return best


# ---------------------------------------------------------------------------------------------------------
# the candidates: names a script may use, found without running its code
# ---------------------------------------------------------------------------------------------------------


def name_suggestion(name: str, frame: Any, globals_: dict, builtins: dict) -> str | None:
    """For `name` undefined in `frame`: as Python, the function's locals first (here with the enclosing
    functions' variables, which a script reads the same way), then the globals, then the builtins tsr has."""
    local: list[str] = []
    f = frame
    while f is not None and f.scope is not None:  # function and comprehension frames, innermost first
        local += [n for n in f.vars if n not in local]
        local += sorted(n for n in getattr(f.scope, "local_names", ()) if n not in local)
        f = f.parent
    for pool in (local, list(globals_), list(builtins)):
        found = closest(name, (n for n in pool if type(n) is str and n.isidentifier()))
        if found is not None:
            return found
    return None


def attribute_suggestion(obj: Any, name: str) -> str | None:
    """For `obj.name` missing: the closest attribute a script may read on obj (Python orders dir() by name)."""
    from tcli.prelude import ModuleFacade

    if type(obj) is ModuleFacade:
        # the facade lists the names before checking them (checking imports submodules): the closest one
        # that resolves, so that no refused name is ever offered
        pool = sorted(n for n in obj.names() if type(n) is str and not n.startswith("_"))
        for _ in range(8):
            found = closest(name, pool)
            if found is None:
                return None
            try:
                obj.get(found)
                return found
            except Exception:
                pool.remove(found)
        return None
    return closest(name, sorted(readable_attributes(obj)))


def readable_attributes(obj: Any) -> set[str]:
    """The public attribute names the policy lets a script read on obj ({} where it allows none, or for what
    cannot be listed without running the script's code)."""
    from tcli import policy
    from tcli.prelude import _PLAIN_TYPES, _is_engine_type, _is_node_type, _is_script_class

    tp = type(obj)
    plain = _PLAIN_TYPES.get(tp)
    if plain is not None:
        return set(policy.PLAIN_ATTRIBUTES[plain])
    if isinstance(obj, type):
        return set()  # (class attributes have rules of their own; a class's typo is rare)
    if isinstance(obj, BaseException):
        return set(policy.EXCEPTION_ATTRIBUTES)
    if _is_script_class(tp) or _is_engine_type(tp):
        names: set[str] = set()
        for klass in tp.__mro__:
            if klass is not object:
                names.update(_keys(klass.__dict__))
        d = _instance_dict(obj)
        names.update(_keys(d))
        for registry in ("_parameters", "_buffers", "_modules"):  # an nn.Module's parameters and submodules
            reg = d.get(registry)
            if type(reg) is dict:
                names.update(_keys(reg))
        hidden = policy.HIDDEN_ENGINE_ATTRIBUTES.get((tp.__module__, tp.__qualname__), frozenset())
        if _is_node_type(tp):
            hidden = policy.HIDDEN_NODE_ATTRIBUTES
        return {n for n in names if not n.startswith("_") and n not in hidden}
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, np.ndarray):
            return set(policy.NDARRAY_ATTRIBUTES)
        if isinstance(obj, np.generic):
            return set(policy.NUMPY_SCALAR_ATTRIBUTES)
        if isinstance(obj, np.dtype):
            return set(policy.NUMPY_DTYPE_ATTRIBUTES)
        if isinstance(obj, np.random.Generator):
            return set(policy.NUMPY_GENERATOR_ATTRIBUTES)
    return set()


def _instance_dict(obj: Any) -> dict:
    # (read through object's own descriptor: no __getattr__ or property of the script's class runs)
    try:
        d = object.__getattribute__(obj, "__dict__")
    except (AttributeError, TypeError):
        return {}
    return d if type(d) is dict else {}


def _keys(mapping: Any) -> list[str]:
    return [k for k in mapping if type(k) is str and k.isidentifier()]
