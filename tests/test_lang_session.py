"""The Session API the REPL builds on: cells, echo, completeness, completion."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator

import pytest

from tcli import policy
from tcli.errors import ScriptError
from tcli.session import EngineState, Session


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
        ("@torch.no_grad()", False),  # a decorator waits for its def
        ("@torch.no_grad()\n\n", True),
        ("try:\n    1/0", False),  # a try block waits for its handlers
        ("try:\n    1/0\nexcept ZeroDivisionError:\n    print(1)", False),
        ("try:\n    1/0\n\n", True),
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


# ---------------------------------------------------------------------------------------------------------
# the public API the REPL's screen and meta-commands use (instead of reaching into the interpreter)
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def engine_defaults() -> Iterator[None]:
    """The engine's defaults are process-wide: leave them as found."""
    import engine

    yield
    engine.set_default_dtype(engine.float32)
    engine.set_default_device("cpu")
    engine.set_grad_enabled(True)


def test_prepare_parses_once_and_evaluates_many_times(session: Session) -> None:
    session.run_cell("import torch\nn = 0\ndef bump():\n    global n\n    n += 1\n    return n")
    evaluate = session.prepare("bump() * 10")
    with session.running():
        assert [evaluate() for _ in range(3)] == [10, 20, 30]
    assert session.evaluate("n") == 3
    with pytest.raises(ValueError, match="expected one expression"):
        session.prepare("x = 1")
    with pytest.raises(ScriptError) as info:
        session.prepare("1 +")
    assert info.value.type_name == "SyntaxError"


def test_prepare_errors_are_positioned_and_leave_module_level(session: Session) -> None:
    session.run_cell("def f(v):\n    return v / 0")
    evaluate = session.prepare("f(1)", "<:time>")
    with pytest.raises(ScriptError) as info:
        evaluate()
    assert info.value.type_name == "ZeroDivisionError"
    assert session.interp.frame is session.interp.module_frame and session.interp.depth == 0
    assert session.run_cell("f") is not None  # the session goes on


def test_running_applies_the_timeout_to_prepared_expressions() -> None:
    s = Session(stdout=io.StringIO(), stderr=io.StringIO(), limits=policy.Limits(timeout=0.3))
    s.run_cell("def spin():\n    while True:\n        pass")
    evaluate = s.prepare("spin()")
    with pytest.raises(ScriptError) as info, s.running():
        evaluate()
    assert info.value.type_name == "TimeoutError"


def test_reset_forgets_variables_and_restores_startup_defaults(engine_defaults: None) -> None:
    s = Session(stdout=io.StringIO(), stderr=io.StringIO(), dtype="float64", seed=0)
    s.run_cell("import torch\nx = torch.ones(2)")
    first = s.run_cell("torch.rand(2)").tolist()
    s.set_dtype("float32")
    s.set_seed(5)
    s.run_cell("torch.set_grad_enabled(False)")
    assert s.state() == EngineState("cpu", "float32", False)
    s.reset()
    assert "x" not in s.globals and "torch" not in s.globals
    assert s.state() == EngineState("cpu", "float64", True)  # grad mode too, without a new import
    assert (s.dtype, s.seed) == ("float64", 0)
    assert s.run_cell("import torch\ntorch.rand(2)").tolist() == first


def test_set_device_dtype_seed(session: Session, engine_defaults: None) -> None:
    session.set_dtype("float64")
    assert str(session.run_cell("import torch\ntorch.ones(1).dtype")) == "torch.float64"
    with pytest.raises(ValueError):
        session.set_dtype("int8")
    with pytest.raises(ValueError):
        session.set_device("tpu")
    if not session.engine.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            session.set_device("cuda")
        assert session.device == "cpu"
    session.set_seed(0)
    a = session.run_cell("torch.randn(3)").tolist()
    session.set_seed(0)
    assert session.run_cell("torch.randn(3)").tolist() == a


def test_state_does_not_load_the_engine(session: Session) -> None:
    assert session.state() == EngineState("cpu", "float32", True)
    assert session.prelude.engine is None


def test_tensor_names_plain_and_nested(session: Session) -> None:
    session.run_cell(
        "import torch\nw = torch.ones(2)\nb = torch.zeros(1)\nparams = [w, b, torch.ones(3)]\n"
        "state = {'m': torch.ones(1)}\n_hidden = torch.ones(1)"
    )
    g = session.globals
    names = session.tensor_names()
    assert names[id(g["w"])] == "w" and names[id(g["b"])] == "b"  # a plain name wins over params[0]
    assert names[id(g["params"][2])] == "params[2]"
    assert names[id(g["state"]["m"])] == "state['m']"
    assert id(g["_hidden"]) not in names
    assert id(g["params"][2]) not in session.tensor_names(nested=False)
    assert session.name_of(g["params"][2]) == "params[2]"
    assert session.name_of(g["_hidden"]) is None


def test_grad_stamps_tell_which_leaves_a_backward_reached(session: Session) -> None:
    session.run_cell(
        "import torch\na = torch.ones(2, requires_grad=True)\nb = torch.ones(3, requires_grad=True)\nc = torch.ones(1)"
    )
    before = session.grad_stamps()
    session.run_cell("(a * 2).sum().backward()")
    assert session.received_grads(before) == [("a", (2,))]
    before = session.grad_stamps()
    session.run_cell("(a * b.sum()).sum().backward()")  # a's grad accumulates in place: still reported
    assert session.received_grads(before) == [("a", (2,)), ("b", (3,))]
    assert session.received_grads(session.grad_stamps()) == []


def test_tensor_memory_counts_each_tensor_and_leaf_grad_once(session: Session) -> None:
    assert session.tensor_memory() == 0
    session.run_cell("import torch\nx = torch.ones(4, requires_grad=True)\nalias = x\npair = (x, x * 1)")
    assert session.tensor_memory() == 32
    session.run_cell("x.sum().backward()")
    assert session.tensor_memory() == 48


def test_attribute_names_walk_lookups_only(session: Session) -> None:
    session.run_cell("import torch\nt = torch.ones(2, requires_grad=True)")
    assert "zeros" in session.attribute_names(["torch"])
    assert "requires_grad_" in session.attribute_names(["t"])
    assert session.attribute_names(["t", "sum"]) == []  # a method: completing after it would call it
    assert session.attribute_names(["t", "_version"]) == []
    assert session.attribute_names(["nope"]) == []
    assert session.attribute_names([]) == []


def test_run_cell_display_shows_expressions_of_a_trailing_block(session: Session) -> None:
    shown: list = []
    assert session.run_cell("for i in range(3):\n    i * 2\n    None", display=shown.append) is None
    assert shown == [0, 2, 4] and session.globals["_"] == 4
    assert "_tcli echo" not in session.globals
    shown.clear()
    session.run_cell("1\nfor i in range(2):\n    pass\n", display=shown.append)  # only the last statement
    assert shown == []
    assert session.run_cell("for i in range(2):\n    i") is None  # without display nothing is wrapped
    with pytest.raises(ScriptError) as info:
        session.run_cell("for i in range(2):\n    1 / i", display=shown.append)
    assert (info.value.site.line, info.value.site.col) == (2, 5)  # type: ignore[union-attr]


def test_warnings_module_filters_and_warns() -> None:
    src = """
        import warnings
        import torch
        x = torch.ones(3, 1); y = torch.ones(3)
        torch.nn.functional.l1_loss(x, y); torch.nn.functional.l1_loss(x, y)
        warnings.filterwarnings("ignore")
        torch.nn.functional.mse_loss(x, y)
        warnings.simplefilter("default")
        warnings.warn("mine")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.warn("hidden")
        warnings.warn("old", DeprecationWarning)
        warnings.simplefilter("error", UserWarning)
        try:
            torch.nn.functional.l1_loss(x, y)
        except UserWarning as e:
            print("caught:", str(e)[:20])
    """
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "w.tsr")
    assert (status, out.getvalue()) == (0, "caught: Using a target size \n")
    heads = [line for line in err.getvalue().splitlines() if line.startswith("w.tsr")]
    assert heads == [
        "w.tsr:5:1: UserWarning: Using a target size (torch.Size([3])) that is different to the input size "
        "(torch.Size([3, 1])). This will likely lead to incorrect results due to broadcasting. Please ensure they "
        "have the same size.",  # once for the line, as Python's registry counts lines
        "w.tsr:9:1: UserWarning: mine",
        "w.tsr:13:1: DeprecationWarning: old",
    ]
    for bad in ("warnings.catch_warnings(record=True)", "warnings.simplefilter('loud')", "warnings.showwarning"):
        status = Session(stdout=io.StringIO(), stderr=io.StringIO(), color=False).run_source(
            f"import warnings\n{bad}\n", "w.tsr"
        )
        assert status == 1
