"""Meta-commands, run through a Shell on StringIO streams (plain text, width 80)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tcli import meta
from tcli.repl import ReplOptions, Shell


@pytest.fixture(autouse=True)
def engine_defaults_restored() -> Iterator[None]:
    """The engine's default dtype/device and grad mode are process-wide: leave them as found for the
    test files that run after this one."""
    import engine

    yield
    engine.set_default_dtype(engine.float32)
    engine.set_default_device("cpu")
    engine.set_grad_enabled(True)


class Repl:
    """A Shell with captured output; `do` runs one input and returns what it printed."""

    def __init__(self, **options: object) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.shell = Shell(ReplOptions(color=False, **options), stdout=self.out, stderr=self.err, width=80)  # type: ignore[arg-type]

    def do(self, text: str) -> str:
        start = self.out.tell()
        assert self.shell.handle(text)
        return self.out.getvalue()[start:]

    def errors(self) -> str:
        return self.err.getvalue()

    @property
    def globals(self) -> dict:
        return self.shell.session.globals


@pytest.fixture
def repl() -> Repl:
    r = Repl()
    r.do("x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)")
    r.do("w = torch.ones(3, requires_grad=True)")
    r.do("y = (x * w).sum()")
    return r


def test_every_command_is_documented_in_help_and_the_man_page() -> None:
    r = Repl()
    text = r.do(":help")
    man = (Path(__file__).parents[1] / "man" / "tcli-repl.1").read_text()
    for cmd in meta.COMMANDS.values():
        assert cmd.usage in text
        assert "\\fB:" + cmd.name in man or ":" + cmd.name in man
    assert r.do(":help graph").startswith(":graph EXPR  the autograd graph")


def test_vars_table(repl: Repl) -> None:
    repl.do("y.backward()")
    repl.do("lr = 0.1")
    repl.do("names = ['a', 'b']")
    repl.do("def f(a):\n    return a\n")
    repl.do("class Id(torch.nn.Module):\n    def forward(self, x):\n        return x\n")
    repl.do("model = torch.nn.Sequential(Id())")
    assert repl.do(":vars").splitlines() == [
        "name   kind        shape  dtype          device  requires_grad  grad",
        "Id     class                                                        ",
        "f      function                                                     ",
        "lr     float 0.1                                                    ",
        "model  Sequential                                                   ",
        "names  list[2]                                                      ",
        "w      tensor      (3,)   torch.float32  cpu     True           (3,)",
        "x      tensor      (3,)   torch.float32  cpu     True           (3,)",
        "y      tensor      ()     torch.float32  cpu     True           -   ",
    ]


def test_graph_names_leaves_and_marks_freed_buffers(repl: Repl) -> None:
    assert repl.do(":graph y").splitlines() == [
        "y = SumBackward0  shape=()",
        "│ MulBackward0  shape=(3,)  saved=2",
        "  ├── x  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad",
        "  └── w  torch::autograd::AccumulateGrad  shape=(3,)  requires_grad",
    ]
    repl.do("y.backward()")
    text = repl.do(":graph y")
    assert "(freed by backward)" in text
    assert "x  torch::autograd::AccumulateGrad" in text and "grad=tensor([1., 1., 1.])" in text
    assert "w  torch::autograd::AccumulateGrad" in text and "grad=tensor([1., 2., 3.])" in text


def test_graph_of_an_expression_titles_the_tree(repl: Repl) -> None:
    lines = repl.do(":graph (x ** 2).mean()").splitlines()
    assert lines[0] == "(x ** 2).mean()"
    assert lines[1].startswith("MeanBackward0")
    assert "PowBackward0" in lines[2]
    assert repl.do(":graph torch.ones(2)").startswith("no autograd graph (requires_grad=False)")


def test_graph_errors(repl: Repl) -> None:
    repl.do(":graph nope")
    assert repl.errors().splitlines() == [
        "<:graph>:1:1: NameError: name 'nope' is not defined",
        "    1 | nope",
        "      | ^^^^",
    ]
    repl.do(":graph 3")
    assert "error: :graph: 3 is int, not a tensor" in repl.errors()
    repl.do(":graph")
    assert "error: :graph: usage: :graph EXPR" in repl.errors()
    assert repl.do("x.sum()").endswith("tensor(6., grad_fn=<SumBackward0>)\n")  # the session goes on


def test_grad_shows_tensor_next_to_grad(repl: Repl) -> None:
    repl.do("y.backward()")
    lines = repl.do(":grad x").splitlines()
    assert lines[0].split() == ["x", "x.grad"]
    assert lines[1].split("    ")[0] == "tensor([1., 2., 3.], requires_grad=True)"
    assert lines[1].endswith("tensor([1., 1., 1.])")
    assert repl.do(":grad x * 2").splitlines()[-1].startswith("(x * 2).grad: None — a non-leaf tensor")
    assert "no backward has reached it yet" in repl.do(":grad torch.ones(1, requires_grad=True)")


def test_time_reports_median(repl: Repl, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meta, "TIME_BUDGET", 0.02)
    lines = repl.do(":time x * w + 1").splitlines()
    assert lines[0].split() == ["expression", "median", "min", "max", "runs", "device"]
    assert lines[1].startswith("x * w + 1") and lines[1].rstrip().endswith("cpu")
    repl.do(":time y = 1")
    assert "error: :time: expected one expression" in repl.errors()


def test_gradcheck_passes_and_restores_the_variable(repl: Repl) -> None:
    text = repl.do(":gradcheck (x ** 3).sum() wrt x")
    rows = text.splitlines()
    assert rows[0].split() == ["input", "analytical", "numerical", "abs", "error"]
    assert rows[1].split()[:3] == ["x[0]", "3", "3"]
    # (the central difference of x**3, which torch computes as x*x*x, lands within 1e-8 of 27)
    assert rows[3].split()[:2] == ["x[2]", "27"] and abs(float(rows[3].split()[2]) - 27) < 1e-6
    assert "gradcheck passed: 3 elements agree" in text
    assert str(repl.globals["x"].dtype) == "torch.float32"  # the float64 copy is gone
    assert repl.globals["x"].grad is None  # and nothing was accumulated into the user's tensor


def test_gradcheck_catches_a_wrong_gradient(repl: Repl) -> None:
    # autograd treats the detached factor as a constant (d/dx = x); the function really is x**2 (2x)
    text = repl.do(":gradcheck (x.detach() * x).sum() wrt x")
    assert "gradcheck failed: 3 of 3 elements differ" in text
    assert text.splitlines()[1].split() == ["x[0]", "1", "2", "1.00e+00", "FAIL"]


def test_gradcheck_jacobian_of_a_vector_output(repl: Repl) -> None:
    text = repl.do(":gradcheck torch.tanh(x) wrt x")
    assert text.splitlines()[0].split()[:2] == ["output", "input"]
    assert "out[1]" in text and "6 more Jacobian elements are zero in both" in text


def test_gradcheck_usage_errors(repl: Repl) -> None:
    repl.do(":gradcheck x.sum()")
    repl.do(":gradcheck x.sum() wrt nope")
    repl.do(":gradcheck torch.ones(2).sum() wrt x")
    errors = repl.errors()
    assert "usage: :gradcheck EXPR wrt NAME" in errors
    assert "no variable 'nope' in scope" in errors
    assert "does not depend on x through autograd" in errors


def test_save_and_restore_round_trip(repl: Repl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # (meta-commands use files where torch.save may: the working directory)
    repl.do("file = torch.arange(4).reshape(2, 2)")  # np.savez's own parameter name
    path = tmp_path / "state.npz"
    text = repl.do(f":save {path}")
    assert text.startswith("saved 4 tensors (file, w, x, y) to ")
    arrays = np.load(path)
    assert arrays["x"].tolist() == [1.0, 2.0, 3.0] and arrays["file"].dtype == np.int64
    repl.do(":reset")
    assert "x" not in repl.globals
    text = repl.do(f":restore {path}")
    assert text.startswith("restored 4 tensors: file (2, 2), w (3,), x (3,), y ()")
    assert repl.do("x").splitlines() == [
        "shape (3,) · torch.float32 · cpu · requires_grad · leaf · grad None",
        "tensor([1., 2., 3.], requires_grad=True)",
    ]
    assert repl.do("file.dtype") == "torch.int64\n"


def test_restore_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = Repl()
    r.do(f":restore {tmp_path / 'missing.npz'}")
    assert "error: :restore: cannot read" in r.errors()
    np.savez(tmp_path / "odd.npz", **{"ok": np.ones(2), "_private": np.ones(1), "class": np.ones(1)})
    assert r.do(f":restore {tmp_path / 'odd.npz'}").startswith("restored 1 tensor: ok (2,)")
    assert "skipped _private, class" in r.errors()


def test_load_runs_a_script_into_the_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = Repl()
    script = tmp_path / "setup.tsr"
    script.write_text("import torch\nw = torch.zeros(2)\nprint('loaded')\n")
    assert r.do(f":load {script}") == "loaded\n"
    assert r.do("w").endswith("tensor([0., 0.])\n")
    script.write_text("a = 1\nb = a + nope\n")
    r.do(f":load {script}")
    assert f"{script}:2:9: NameError: name 'nope' is not defined" in r.errors()
    assert r.globals["a"] == 1


def test_device_dtype_seed_and_reset() -> None:
    r = Repl()
    r.do(":dtype float64")
    assert r.do("torch.ones(1).dtype") == "torch.float64\n"
    r.do(":seed 0")
    assert r.do("torch.rand(2)").splitlines()[1] == "tensor([0.9701, 0.7078])"  # torch's float64 draw
    r.do(":dtype float16")  # (torch.set_default_dtype takes half precisions too)
    assert r.do("torch.ones(1).dtype") == "torch.float16\n"
    r.do(":dtype int32")
    assert "int32 is not a floating dtype torch.set_default_dtype takes: float32, float64, float16 or bfloat16" in (
        r.errors()
    )
    r.do(":dtype float64")
    r.do("keep = 1")
    r.do("torch.set_grad_enabled(False)")
    r.do(":reset")
    assert "keep" not in r.globals
    assert r.do("torch.is_grad_enabled()") == "True\n"
    assert r.do("torch.ones(1).dtype") == "torch.float32\n"
    r.do(":device gpu")
    assert "usage: :device cpu|cuda" in r.errors()
    r.do(":device cpu")
    assert r.shell.session.device == "cpu"


def test_device_cuda_without_a_gpu_is_refused() -> None:
    r = Repl()
    if r.shell.engine.cuda.is_available():
        pytest.skip("a GPU is present")
    r.do(":device cuda")
    assert "CUDA is not available here" in r.errors()
    assert r.do("torch.ones(1).device") == "device(type='cpu')\n"


def test_a_failing_meta_command_or_repl_bug_does_not_end_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    r = Repl()

    def broken(shell: Shell, arg: str) -> None:
        raise RuntimeError("engine says no")

    monkeypatch.setitem(meta.COMMANDS, "vars", meta.MetaCommand("vars", ":vars", "", broken))
    r.do(":vars")
    assert r.errors() == "RuntimeError: engine says no\n"
    monkeypatch.setattr(r.shell, "run_code", lambda text, line=None: 1 / 0)
    assert r.shell.handle("1") is True
    assert "internal error in tcli's REPL: ZeroDivisionError" in r.errors()


def test_unknown_command_and_quit() -> None:
    r = Repl()
    r.do(":grap x")
    assert "unknown meta-command ':grap'; did you mean :graph?" in r.errors()
    assert r.shell.handle(":quit") is False
    assert r.shell.handle(":q") is False
