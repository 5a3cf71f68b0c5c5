"""The Session API the REPL builds on: cells, echo, completeness, completion."""

from __future__ import annotations

import io

import pytest

from tcli import policy
from tcli.session import Session


@pytest.fixture
def session() -> Session:
    return Session(stdout=io.StringIO(), stderr=io.StringIO(), color=False)


def test_cells_share_globals_and_only_a_trailing_expression_is_echoed(session: Session) -> None:
    assert session.run_cell("x = 2") is None
    assert session.run_cell("x * 21") == 42
    assert session.run_cell("y = x + 1\ny") == 3
    assert session.run_cell("x + 1\nz = 0") is None
    assert session.run_cell("print('hi')") is None
    assert session.run_cell("None") is None
    assert session.globals["_"] == 3
    assert session.stdout.getvalue() == "hi\n"  # type: ignore[attr-defined]


def test_functions_survive_between_cells(session: Session) -> None:
    session.run_cell("def sq(v):\n    return v * v\n")
    assert session.run_cell("sq(7)") == 49


def test_display_uses_repr(session: Session) -> None:
    session.display("a")
    session.display(None)
    session.display([1, 2])
    assert session.stdout.getvalue() == "'a'\n[1, 2]\n"  # type: ignore[attr-defined]


def test_timeout_applies_per_cell() -> None:
    s = Session(stdout=io.StringIO(), stderr=io.StringIO(), limits=policy.Limits(timeout=0.3))
    with pytest.raises(Exception) as info:
        s.run_cell("while True:\n    pass")
    assert info.value.type_name == "TimeoutError"  # type: ignore[attr-defined]
    assert s.run_cell("1 + 1") == 2


@pytest.mark.parametrize(
    "text,complete",
    [
        ("x = 1", True),
        ("x = (1,", False),
        ("x = [\n1,\n", False),
        ("def f():", False),
        ("def f():\n    return 1", False),
        ("def f():\n    return 1\n\n", True),
        ("for i in range(3):\n    print(i)\n", False),
        ("if x:\n    pass\nelse:", False),
        ("s = '''abc", False),
        ("x = 1 \\", False),
        ("x = )", True),
        ("", True),
        ("@torch.no_grad()", True),
        # an indented line inside an open bracket continues a simple statement, not a block
        ("x = [1,\n    2", False),
        ("x = [1,\n    2]", True),
        ("x = f(1,\n      2)\n", True),
        ("x = '''a\n    b'''", True),
        ("for i in range(3):\n    x = [i,\n         2]", False),
        ("for i in range(3):\n    x = [i,\n         2]\n\n", True),
        ("if x:\n    pass\nelif y:\n    z = (1,\n  2)", False),
        ("while x:\n    pass\nv = [1,\n  2]", True),
    ],
)
def test_is_complete(session: Session, text: str, complete: bool) -> None:
    assert session.is_complete(text) is complete


def test_complete_names_and_attributes(session: Session) -> None:
    session.run_cell("import torch\nvalue = 3\nvalues = [1]")
    assert session.complete("val") == ["value", "values"]
    assert "print" in session.complete("pri")
    assert set(session.complete("torch.zeros")) == {"zeros", "zeros_like"}
    assert "append" in session.complete("values.ap")
    assert session.complete("value.__cl") == []
    assert all(not n.startswith("_") for n in session.complete("torch."))
    assert "backend" not in session.complete("torch.")
    session.run_cell("t = torch.ones(1)")
    assert {"requires_grad", "requires_grad_"} <= set(session.complete("x = t.req"))
    assert session.complete("torch.ones(1).req") == []  # completion evaluates no calls


def test_names_lists_globals_and_builtins(session: Session) -> None:
    session.run_cell("alpha = 1")
    names = session.names()
    assert "alpha" in names and "print" in names and "graph" in names and "open" not in names
