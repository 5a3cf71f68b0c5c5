"""Errors: FILE:LINE:COL: Type: message, the source line with a caret under the failing span, the autograd
hints, and never a Python traceback."""

from __future__ import annotations

import io
import textwrap

import pytest

from tcli import policy
from tcli.errors import ScriptError
from tcli.session import Session


def run(src: str, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False, **options)  # type: ignore[arg-type]
    status = session.run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


def test_name_error_points_at_the_name() -> None:
    status, _, err = run("x = 1\ny = x + undefined_thing * 2\n")
    assert status == 1
    assert err == (
        "prog.tsr:2:9: NameError: name 'undefined_thing' is not defined\n"
        "    2 | y = x + undefined_thing * 2\n"
        "      |         ^^^^^^^^^^^^^^^\n"
    )


def test_caret_spans_the_failing_call_and_columns_count_characters() -> None:
    status, _, err = run("s = 'héllo wörld'; n = int(s)\n")
    assert status == 1
    lines = err.splitlines()
    assert lines[0] == "prog.tsr:1:24: ValueError: invalid literal for int() with base 10: 'héllo wörld'"
    assert lines[2] == "      | " + " " * 23 + "^" * 6


def test_error_inside_a_function_names_the_call_sites() -> None:
    status, _, err = run(
        """
        def inner(v):
            return v[5]
        def outer():
            return inner([1, 2])
        outer()
        """
    )
    assert status == 1
    lines = err.splitlines()
    assert lines[0] == "prog.tsr:3:12: IndexError: list index out of range"
    assert "  called from prog.tsr:5:12" in lines and "  called from prog.tsr:6:1" in lines


def test_syntax_errors_are_positioned() -> None:
    status, _, err = run("x = (1,\ny = 2\n")
    assert status == 1 and err.startswith("prog.tsr:1:5: SyntaxError: '(' was never closed\n")
    status, _, err = run("if True:\nprint(1)\n")
    assert status == 1 and err.startswith("prog.tsr:2:1: IndentationError: expected an indented block")


@pytest.mark.parametrize(
    "src,message",
    [
        ("class A:\n    def __del__(self):\n        pass\n", "prog.tsr:2:5: SyntaxError: method '__del__'"),
        ("class A(object, int):\n    pass\n", "prog.tsr:1:1: SyntaxError: a tsr class has exactly one base class"),
        ("yield 1\n", "prog.tsr:1:1: SyntaxError: 'yield' outside function"),
        ("def f():\n    print((yield 1))\n", "prog.tsr:2:12: SyntaxError: tsr runs yield as a statement (`yield x`"),
        ("f = lambda: (yield)\n", "prog.tsr:1:5: SyntaxError: a lambda cannot yield in tsr (write a def)"),
        ("return 1\n", "prog.tsr:1:1: SyntaxError: 'return' outside function"),
        ("break\n", "prog.tsr:1:1: SyntaxError: 'break' outside loop"),
        ("nonlocal x\n", "prog.tsr:1:1: SyntaxError: nonlocal declaration not allowed at module level"),
        ("from torch import *\n", "prog.tsr:1:1: SyntaxError: 'from ... import *' is not supported in tsr"),
        ("from . import x\n", "prog.tsr:1:1: SyntaxError: relative imports are not supported in tsr"),
    ],
)
def test_unsupported_constructs_are_refused_before_anything_runs(src: str, message: str) -> None:
    status, out, err = run("print('ran')\n" + src)
    assert status == 1 and out == ""
    line, col_and_rest = message.split(":", 1)[1].split(":", 1)
    assert err.startswith(f"prog.tsr:{int(line) + 1}:{col_and_rest}")


def test_engine_errors_keep_torch_type_and_message() -> None:
    status, out, err = run(
        """
        import torch
        x = torch.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.backward()
        """
    )
    assert status == 1
    assert err.splitlines()[0] == "prog.tsr:5:1: RuntimeError: grad can be implicitly created only for scalar outputs"


def test_hint_for_a_second_backward_names_the_line_that_freed_the_graph() -> None:
    status, out, err = run(
        """
        import torch
        x = torch.tensor([2., 3.], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        print(x.grad)
        y.backward()
        """
    )
    assert status == 1 and out == "tensor([4., 6.])\n"
    lines = err.splitlines()
    assert lines[0].startswith("prog.tsr:7:1: RuntimeError: Trying to backward through the graph a second time")
    assert lines[3] == (
        "hint: the graph was freed by the backward at prog.tsr:5:1; "
        "pass retain_graph=True to that call to backward through it again"
    )
    assert lines[4] == "    5 | y.backward()"


def test_hint_for_in_place_on_a_leaf() -> None:
    status, _, err = run("import torch\nw = torch.ones(1, requires_grad=True)\nw += 1\n")
    assert status == 1
    assert "RuntimeError: a leaf Variable that requires grad is being used in an in-place operation." in err
    assert "hint: update the leaf inside `with torch.no_grad():` (`with torch.no_grad(): w += 1`)" in err


def test_hint_for_backward_of_a_non_scalar_names_the_tensor() -> None:
    status, _, err = run("import torch\nw = torch.ones(3, requires_grad=True)\nloss = w * 2\nloss.backward()\n")
    assert status == 1
    assert "RuntimeError: grad can be implicitly created only for scalar outputs" in err
    assert "hint: backward starts from one number: reduce `loss` to one first (`loss.sum().backward()`)" in err
    status, _, err = run("import torch\nw = torch.ones(3, requires_grad=True)\ntorch.autograd.backward(w * 2)\n")
    assert "hint: backward starts from one number: reduce the output to one first" in err


def test_hint_for_backward_of_a_result_without_a_graph() -> None:
    status, _, err = run("import torch\nw = torch.ones(3)\n(w * 2).sum().backward()\n")
    assert status == 1
    assert "element 0 of tensors does not require grad and does not have a grad_fn" in err
    assert "hint: nothing this result was computed from requires grad: make the leaf with requires_grad=True" in err


def test_hint_for_a_version_mismatch_names_the_modifying_line() -> None:
    status, _, err = run(
        """
        import torch
        a = torch.tensor([1., 2.], requires_grad=True)
        b = a * 2
        c = b ** 2
        b.mul_(3)
        c.sum().backward()
        """
    )
    assert status == 1
    lines = err.splitlines()
    assert "modified by an inplace operation" in lines[0] and lines[0].startswith("prog.tsr:7:1: RuntimeError:")
    assert lines[3].startswith("hint: a tensor saved for backward was modified in place at prog.tsr:6:1;")
    assert lines[4] == "    6 | b.mul_(3)"


def test_hints_work_inside_functions() -> None:
    status, _, err = run(
        """
        import torch
        def step(loss):
            loss.backward()
        x = torch.ones(2, requires_grad=True)
        loss = (x * x).sum()
        step(loss)
        step(loss)
        """
    )
    assert status == 1
    assert "hint: the graph was freed by the backward at prog.tsr:4:5;" in err


def test_uncaught_raise_in_a_script() -> None:
    status, _, err = run("raise ValueError('bad value')\n")
    assert (status, err.splitlines()[0]) == (1, "prog.tsr:1:1: ValueError: bad value")
    status, _, err = run("assert 1 + 1 == 3, 'arithmetic'\n")
    assert err.splitlines()[0] == "prog.tsr:1:1: AssertionError: arithmetic"
    status, _, err = run("d = {}\nd['missing']\n")
    assert err.splitlines()[0] == "prog.tsr:2:1: KeyError: 'missing'"


def test_timeout_message() -> None:
    status, _, err = run("while True:\n    pass\n", limits=policy.Limits(timeout=0.3))
    assert status == 1
    first = err.splitlines()[0]
    assert first.startswith(("prog.tsr:1:", "prog.tsr:2:"))  # the loop test or its body, wherever time ran out
    assert first.endswith("TimeoutError: the script ran longer than the time limit of 0.3s (--timeout)")


def test_debug_adds_the_interpreter_traceback() -> None:
    status, _, err = run("1 / 0\n", debug=True)
    assert status == 1
    assert err.startswith("prog.tsr:1:1: ZeroDivisionError: division by zero\n")
    assert "--debug: Python traceback of the interpreter" in err and "Traceback (most recent call last)" in err


def test_colour_on_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert Session(stdout=out, stderr=err, color=True).run_source("nope\n", "p.tsr") == 1
    text = err.getvalue()
    assert "\x1b[" in text and "NameError" in text and "p.tsr:1:1" in text


def test_keyboard_interrupt_is_one_line_and_status_130() -> None:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False)

    def interrupt() -> None:
        raise KeyboardInterrupt

    session.globals["interrupt"] = interrupt
    assert session.run_source("x = 1\ninterrupt()\n", "p.tsr") == 130
    assert err.getvalue() == "p.tsr:2:1: KeyboardInterrupt\n"


def test_script_error_object_for_the_repl() -> None:
    session = Session(stdout=io.StringIO(), stderr=io.StringIO(), color=False)
    with pytest.raises(ScriptError) as info:
        session.run_cell("[1][3]")
    e = info.value
    assert (e.type_name, e.message, e.site.line, e.site.col) == ("IndexError", "list index out of range", 1, 1)
    assert isinstance(e.exc, IndexError)


def test_caret_lines_up_under_wide_characters() -> None:
    """The column counts characters, the caret counts terminal cells: a CJK character takes two."""
    status, _, err = run("s = '中文'; n = int(s)\n")
    assert status == 1
    lines = err.splitlines()
    assert lines[0] == "prog.tsr:1:15: ValueError: invalid literal for int() with base 10: '中文'"
    assert lines[2] == "      | " + " " * 16 + "^" * 6


def test_recursion_through_several_functions_is_counted_not_listed() -> None:
    status, _, err = run(
        """
        def a(n):
            return b(n)
        def b(n):
            return c(n)
        def c(n):
            return a(n)
        a(0)
        """
    )
    assert status == 1
    lines = err.splitlines()
    assert "  [the 3 calls above repeated 331 more times]" in lines
    assert lines[-2:] == ["  called from prog.tsr:8:1", "      8 | a(0)"]
    assert len(lines) < 25


@pytest.mark.parametrize(
    "src,message",
    [
        ("graph()", "TypeError: graph() takes exactly one argument (0 given)"),
        ("graph(3)", "TypeError: graph() takes a tensor, not int"),
        ("show(1, 2)", "TypeError: show() takes exactly one argument (2 given)"),
        ("show(t=1)", "TypeError: show() takes no keyword arguments"),
        ("show([0] * 10 ** 7)", "MemoryError: printing this value would take over 10,000,000 characters"),
    ],
)
def test_graph_and_show_misuse_is_a_clean_error(src: str, message: str) -> None:
    """Their errors speak of graph() and show(), never of the interpreter's own functions."""
    status, out, err = run(src + "\n")
    assert (status, out) == (1, "")
    assert err.splitlines()[0].startswith(f"prog.tsr:1:1: {message}"), err
    assert "Prelude" not in err


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("*a, *b = [1, 2, 3]\n", "1:1: SyntaxError: multiple starred expressions in assignment"),
        ("*a = [1]\n", "1:1: SyntaxError: starred assignment target must be in a list or tuple"),
        ("for *a, *b in [[1, 2]]:\n    pass\n", "1:5: SyntaxError: multiple starred expressions in assignment"),
        ("def f(a, a):\n    return a\n", "1:10: SyntaxError: duplicate argument 'a' in function definition"),
        ("def f():\n    x = 1\n    global x\n", "3:5: SyntaxError: name 'x' is assigned to before global declaration"),
        ("def f():\n    nonlocal zz\n    zz = 1\n", "2:5: SyntaxError: no binding for nonlocal 'zz' found"),
        ("print('a')\nf(a=1, a=2)\n", "2:8: SyntaxError: keyword argument repeated: a"),
    ],
)
def test_pythons_compile_time_errors_come_before_anything_runs(src: str, message: str) -> None:
    status, out, err = run(src)
    assert (status, out) == (1, "")
    assert err.splitlines()[0] == "prog.tsr:" + message


def test_repeated_keywords_through_double_star_are_pythons_type_errors() -> None:
    src = "def f(**k):\n    return k\ntry:\n    f(**{'a': 1}, a=2)\nexcept TypeError as e:\n    print(e)\n"
    src += "try:\n    dict(**{'a': 1}, **{'a': 2})\nexcept TypeError as e:\n    print(e)\n"
    src += "try:\n    f(**{1: 2})\nexcept TypeError as e:\n    print(e)\n"
    assert run(src)[1] == (
        "__main__.f() got multiple values for keyword argument 'a'\n"
        "dict() got multiple values for keyword argument 'a'\nkeywords must be strings\n"
    )


def test_builtins_written_by_tsr_look_like_pythons() -> None:
    status, out, err = run("print(repr(max), type(print).__name__, sorted.__name__)\nsorted()\n")
    assert out == "<built-in function max> builtin_function_or_method sorted\n"
    assert "sorted() missing 1 required positional argument" in err and "Prelude" not in err
    assert "Prelude" not in run("'a'.replace('a')\n")[2]


def test_warnings_show_once_per_script_line_as_pythons_do() -> None:
    src = (
        "import torch\nx = torch.tensor(3., requires_grad=True)\ny = x * 2\nprint(y.grad)\nprint(y.grad)\n"
        "for i in range(3):\n    print(y.grad)\nz = torch.tensor([1.0]).var()\nz = torch.tensor([1.0]).var()\n"
    )
    status, _, err = run(src)
    lines = [line.split(": UserWarning")[0] for line in err.splitlines() if "UserWarning" in line]
    # (each points at the expression that warned, with a caret under it, as an error does)
    assert (status, lines) == (0, ["prog.tsr:4:7", "prog.tsr:5:7", "prog.tsr:7:11", "prog.tsr:8:5", "prog.tsr:9:5"])


def test_a_warning_inside_a_lambda_points_at_the_lambda() -> None:
    src = (
        "import torch\nimport torch.nn.functional as F\nf = lambda: F.mse_loss(torch.ones(3), torch.ones(3, 1))\n"
        "def helper(g):\n    return g()\nprint(helper(f))\n"
    )
    status, _, err = run(src)
    assert status == 0 and err.startswith("prog.tsr:3:13: UserWarning: Using a target size")


def test_argument_errors_point_at_the_call_and_isinstance_knows_type() -> None:
    status, _, err = run("def f(a, b):\n    return a\nx = [f(1)]\n")
    assert err.splitlines()[0] == "prog.tsr:3:6: TypeError: f() missing 1 required positional argument: 'b'"
    assert err.splitlines()[2] == "      |      ^^^^"
    assert run("print(isinstance(int, type), isinstance(3, (str, type)))\n")[1] == "True False\n"


def test_small_allocations_count_toward_the_memory_limit() -> None:
    src = "import torch\nl = []\nfor i in range(40):\n    l.append(torch.ones(4000, 1000))\nprint(len(l))\n"
    status, out, err = run(src, limits=policy.Limits(max_memory=100 << 20))
    assert (status, out) == (1, "")
    assert err.startswith("prog.tsr:4:14: MemoryError: allocating 15.3 MiB would bring the script's memory to")


def test_exit_and_quit_end_the_run_as_python_s() -> None:
    assert run("print(1)\nexit()\nprint(2)\n")[:2] == (0, "1\n")
    assert run("print(1)\nquit(3)\n")[:2] == (3, "1\n")
    assert run("print(exit, type(quit).__name__)\n")[1] == "Use exit() or Ctrl-D (i.e. EOF) to exit Quitter\n"


def test_deep_graphs_are_summarised() -> None:
    src = "import torch\nx = torch.ones(2, requires_grad=True)\ny = x\nfor i in range(500):\n    y = y * 2\ngraph(y)\n"
    status, out, _ = run(src)
    lines = out.splitlines()
    # one linear run: drawn at one column, its middle elided, the leaf kept
    assert status == 0 and lines == [
        "y = MulBackward0  shape=(2,)  saved=1",
        *["│ MulBackward0  shape=(2,)  saved=1"] * 4,
        "│ … 492 more nodes (MulBackward0, 492 times) …",
        *["│ MulBackward0  shape=(2,)  saved=1"] * 3,
        "│ x  torch::autograd::AccumulateGrad  shape=(2,)  requires_grad",
    ]


def test_saved_counts_do_not_change_with_backward() -> None:
    src = (
        "import torch\na = torch.ones(2, requires_grad=True)\nc = torch.ones(2)\ny = (a * c).sum()\n"
        "graph(y)\ny.backward()\ngraph(y)\n"
    )
    status, out, _ = run(src)
    muls = [line.strip() for line in out.splitlines() if "MulBackward0" in line]
    assert status == 0
    assert muls == [
        "│ MulBackward0  shape=(2,)  saved=1",
        "│ MulBackward0  shape=(2,)  saved=1  (freed by backward)",
    ]


def test_tabs_expand_in_the_excerpt_with_the_caret_kept_under_the_span() -> None:
    status, _, err = run("x = 1\nif x:\n\ty = 1 / 0\n")
    assert err.splitlines()[1:3] == ["    3 |     y = 1 / 0", "      |         ^^^^^"]


def test_error_in_code_the_engine_calls_names_the_scripts_call_site() -> None:
    # forward (through Module.__call__), a dataset's __getitem__ (through DataLoader's iterator), a tensor hook
    # and a Function's backward (through backward()): the line that called into the engine is named
    status, _, err = run(
        """
        import torch
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.l = torch.nn.Linear(2, 2)
            def forward(self, x):
                return self.l(x)
        def helper(m):
            return m(torch.ones(3))
        m = M()
        a = m(torch.ones(2))
        b = helper(m)
        """
    )
    lines = err.splitlines()
    assert status == 1 and lines[0].startswith("prog.tsr:8:16: RuntimeError: mat1 and mat2 shapes")
    assert [x for x in lines if x.startswith("  called")] == [
        "  called from prog.tsr:10:12",
        "  called from prog.tsr:13:5",
    ]
    status, _, err = run(
        """
        import torch
        from torch.utils.data import Dataset, DataLoader
        class D(Dataset):
            def __len__(self):
                return 3
            def __getitem__(self, i):
                return torch.ones(2)[i]
        for b in DataLoader(D(), batch_size=2):
            pass
        """
    )
    lines = err.splitlines()
    assert status == 1 and lines[0].startswith("prog.tsr:8:16: IndexError: index 2 is out of bounds")
    assert lines[3:5] == ["  called from prog.tsr:9:10", "      9 | for b in DataLoader(D(), batch_size=2):"]
    status, _, err = run(
        """
        import torch
        x = torch.randn(3, requires_grad=True)
        def hook(g):
            return g @ torch.ones(5)
        x.register_hook(hook)
        (x * 2).sum().backward()
        """
    )
    lines = err.splitlines()
    assert status == 1 and lines[0].startswith("prog.tsr:5:12: RuntimeError: inconsistent tensor size")
    assert lines[3] == "  called from prog.tsr:7:1"


def test_the_int_digit_limit_gives_advice_a_script_can_follow() -> None:
    # Python's advice (sys.set_int_max_str_digits) names a module tsr has not; print(e) keeps Python's text
    status, _, err = run("x = 10**5000\nprint(x)\n")
    assert status == 1
    assert err.splitlines()[0] == (
        "prog.tsr:2:1: ValueError: Exceeds the limit (4300 digits) for integer string conversion; tsr cannot raise "
        "this limit, which is for decimal only: hex(x), f'{x:x}' and int(text, 16) have none"
    )
    status, out, _ = run("try:\n    str(10**5000)\nexcept ValueError as e:\n    print(e)\n")
    assert status == 0 and out.endswith("use sys.set_int_max_str_digits() to increase the limit\n")
