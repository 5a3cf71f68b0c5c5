"""tcli bench: every workload computes the same numbers in all its variants, the check catches a wrong one,
the JSON has the documented schema, and the command's options and exit statuses behave. No assertion here is
about speed: this machine is shared and noisy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tcli import bench as B
from tcli.bench_workloads import WORKLOADS, to_numpy
from tcli.cmd_bench import bench

ROOT = Path(__file__).resolve().parents[1]
torch = pytest.importorskip("torch")


def _engine():
    """The engine, or a skip while it has not landed yet."""
    try:
        import engine
    except ImportError:
        pytest.skip("engine is not importable")
    if not hasattr(engine, "tensor"):
        pytest.skip("engine has no public API yet")
    return engine


@pytest.fixture
def ctx_torch() -> B.Context:
    """torch standing in for the engine: tests of the machinery that must not depend on the engine's state."""
    return B.make_context("cpu", "torch", engine=torch)


def _results(step) -> list[np.ndarray]:
    return [to_numpy(r) for r in step()]


# --- every workload computes the same numbers three ways --------------------------------------------------

TENSOR_WORKLOADS = [n for n in WORKLOADS if n != "tsr_loop"]


@pytest.mark.parametrize("name", TENSOR_WORKLOADS)
@pytest.mark.parametrize("size", ["small", "medium"])
def test_torch_matches_floor(name: str, size: str) -> None:
    w = WORKLOADS[name]
    p = w.params(size)
    inputs = w.inputs(p, np.random.default_rng(1))
    got = {
        "torch": _results(w.tensor(torch, "cpu", inputs, p)),
        "floor": _results(w.floor(np, {k: v.copy() for k, v in inputs.items()}, p)),
    }
    assert B.check_results(w, got, inputs) is None


@pytest.mark.parametrize("name", TENSOR_WORKLOADS)
def test_engine_matches_floor_and_torch(name: str) -> None:
    engine = _engine()
    w = WORKLOADS[name]
    p = w.params("small")
    inputs = w.inputs(p, np.random.default_rng(2))
    got = {
        "engine": _results(w.tensor(engine, "cpu", inputs, p)),
        "floor": _results(w.floor(np, {k: v.copy() for k, v in inputs.items()}, p)),
        "torch": _results(w.tensor(torch, "cpu", inputs, p)),
    }
    assert B.check_results(w, got, inputs) is None


@pytest.mark.parametrize("size", ["small", "large"])
def test_tsr_loop_interpreted_matches_python_and_torch(size: str) -> None:
    engine = _engine()
    w = WORKLOADS["tsr_loop"]
    ctx = B.make_context("cpu", "torch", engine=engine)
    inputs, steps, errors = B.build_steps(w, ctx, size)
    assert not errors and list(steps) == ["engine", "floor", "torch"]
    got = {v: _results(s) for v, s in steps.items()}
    assert B.check_results(w, got, inputs) is None
    # The interpreter and Python run the same engine ops in the same order: the numbers are identical.
    for a, b in zip(got["engine"], got["floor"]):
        np.testing.assert_array_equal(a, b)
    # And a second run starts again from the initial parameters.
    for a, b in zip(_results(steps["engine"]), got["engine"]):
        np.testing.assert_array_equal(a, b)


def test_tsr_script_error_is_reported() -> None:
    engine = _engine()
    w = WORKLOADS["tsr_loop"]
    p = w.params("small")
    inputs = w.inputs(p, np.random.default_rng(0))
    inputs["y"] = inputs["y"][:3]  # a shape mismatch inside the script
    with pytest.raises(RuntimeError, match="the tsr script failed: .*<tsr_loop>:"):
        w.interpreted(engine, "cpu", inputs, p)()


def test_workloads_leave_their_inputs_alone() -> None:
    # The variants share one set of inputs; a step that updated them in place would feed the next variant
    # different numbers.
    for name in TENSOR_WORKLOADS:
        w = WORKLOADS[name]
        p = w.params("small")
        inputs = w.inputs(p, np.random.default_rng(3))
        before = {k: v.copy() for k, v in inputs.items()}
        w.floor(np, inputs, p)()
        w.tensor(torch, "cpu", inputs, p)()
        for k in inputs:
            np.testing.assert_array_equal(inputs[k], before[k], err_msg=f"{name}: input {k} changed")


def test_each_step_is_repeatable() -> None:
    # Timing calls a step thousands of times: it must not fail on the second call (stale grads, in-place
    # updates of a leaf outside no_grad, ...).
    for name in TENSOR_WORKLOADS:
        w = WORKLOADS[name]
        p = w.params("small")
        inputs = w.inputs(p, np.random.default_rng(4))
        for step in (w.tensor(torch, "cpu", inputs, p), w.floor(np, dict(inputs), p)):
            for _ in range(3):
                step()


def test_grad_tracked_workloads_really_track() -> None:
    w = WORKLOADS["tiny_add_grad"]
    p = w.params("small")
    (c,) = w.tensor(torch, "cpu", w.inputs(p, np.random.default_rng(0)), p)()
    assert c.requires_grad
    (c,) = WORKLOADS["tiny_add"].tensor(torch, "cpu", w.inputs(p, np.random.default_rng(0)), p)()
    assert not c.requires_grad


# --- the check catches wrong computations -----------------------------------------------------------------


def test_wrong_output_is_a_mismatch(ctx_torch: B.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    w = WORKLOADS["elementwise"]
    real = type(w).floor

    def off_by_a_bit(self, xp, inputs, p):  # noqa: ANN001, ANN202
        step = real(self, xp, inputs, p)
        return lambda: tuple(r * 1.001 for r in step())

    monkeypatch.setattr(type(w), "floor", off_by_a_bit)
    row = B.run_workload(w, ctx_torch, "small", repeat=1)
    assert row.check == "MISMATCH"
    assert "engine" in row.detail and "floor" in row.detail


def test_a_slightly_wrong_gradient_is_caught() -> None:
    # An SGD step moves weights by lr*grad only; the check compares the applied gradients, so a gradient 1%
    # off must not hide inside the tolerance on the weights.
    w = WORKLOADS["mlp_small"]
    p = w.params("small")
    inputs = w.inputs(p, np.random.default_rng(5))
    good = _results(w.floor(np, {k: v.copy() for k, v in inputs.items()}, p))
    bad = [r.copy() for r in good]
    bad[1] = inputs["w1"] + (good[1] - inputs["w1"]) * 1.01
    assert B.check_results(w, {"floor": good, "torch": bad}, inputs) is not None
    assert B.check_results(w, {"floor": good, "torch": good}, inputs) is None


def test_wrong_shape_is_a_mismatch() -> None:
    w = WORKLOADS["reduction"]
    a = [np.zeros(3, np.float32)]
    assert "shape" in B.check_results(w, {"floor": a, "engine": [np.zeros((3, 1), np.float32)]}, {})


def test_wrong_dtype_is_a_mismatch() -> None:
    w = WORKLOADS["tiny_add"]
    a = [np.ones(4, np.float32)]
    assert "dtype float64" in B.check_results(w, {"floor": a, "engine": [np.ones(4)]}, {})


def test_a_failing_variant_is_an_error_row_not_a_crash() -> None:
    def tensor(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        raise NotImplementedError("tensor is not written yet")

    unfinished = types.ModuleType("unfinished_engine")
    unfinished.tensor = tensor
    ctx = B.make_context("cpu", "torch", engine=unfinished)
    row = B.run_workload(WORKLOADS["tiny_add"], ctx, "small", repeat=1)
    assert row.check == "error"
    assert row.detail.startswith("engine: NotImplementedError: tensor is not written yet at test_bench.py:")
    assert row.stats.get("engine") is None and row.stats["floor"].count == row.stats["torch"].count == 1


# --- timing -----------------------------------------------------------------------------------------------


class FakeTimer:
    def __init__(self, per_call: float) -> None:
        self.per_call = per_call
        self.calls = 0

    def time(self, step, loops: int) -> float:  # noqa: ANN001
        for _ in range(loops):
            step()
        self.calls += loops
        return self.per_call * loops


def test_measure_counts_rounds_and_reports_per_call() -> None:
    counts = {"a": 0, "b": 0}

    def step_for(n: str):  # noqa: ANN202
        def step() -> tuple:
            counts[n] += 1
            return ()

        return step

    stats = B.measure(
        {"a": step_for("a"), "b": step_for("b")},
        {"a": FakeTimer(1e-3), "b": FakeTimer(2e-6)},
        budget_s=1,
        repeat=7,
    )
    assert stats["a"].count == stats["b"].count == 7
    assert stats["a"].median_s == pytest.approx(1e-3) and stats["a"].iqr_s == pytest.approx(0)
    assert stats["b"].min_s == pytest.approx(2e-6)
    # A 2 us call is batched so that one sample lasts about SAMPLE_S.
    assert stats["b"].loops == pytest.approx(B.SAMPLE_S / 2e-6, rel=0.01)
    assert stats["a"].loops == 2


def test_measure_interleaves_variants() -> None:
    order: list[str] = []

    class Recorder(FakeTimer):
        def __init__(self, name: str) -> None:
            super().__init__(1e-3)
            self.name = name

        def time(self, step, loops: int) -> float:  # noqa: ANN001
            order.append(self.name)
            return super().time(step, loops)

    B.measure({n: lambda: () for n in "xyz"}, {n: Recorder(n) for n in "xyz"}, budget_s=1, repeat=3, warmup=1)
    # Interleaved, and each round starts one variant later so none always follows the same neighbour.
    assert order[-9:] == list("xyzyzxzxy")


def test_cuda_event_timer_brackets_the_calls_with_events() -> None:
    log: list[str] = []

    class Event:
        def __init__(self) -> None:
            self.t = None

        def record(self) -> None:
            log.append("record")
            self.t = len(log)

        def synchronize(self) -> None:
            log.append("wait end")

    timer = B.CudaEventTimer(Event, lambda: log.append("sync device"), lambda a, b: 1.5 * (b.t - a.t))
    seconds = timer.time(lambda: log.append("call"), 3)
    # Drained before the start event, so earlier work is not counted; waited on the end event, so
    # asynchronous launches are.
    assert log == ["sync device", "record", "call", "call", "call", "record", "wait end"]
    assert seconds == pytest.approx(1.5 * 4 * 1e-3)


def test_to_numpy_handles_every_variant_s_results() -> None:
    class CupyLike:
        def get(self) -> np.ndarray:
            return np.arange(3.0)

    np.testing.assert_array_equal(to_numpy(CupyLike()), np.arange(3.0))
    np.testing.assert_array_equal(to_numpy(torch.ones(2, requires_grad=True) * 2), [2.0, 2.0])
    assert to_numpy(np.float32(1.5)) == 1.5


def test_ratios_are_paired_by_round() -> None:
    # Round 2 ran while the machine was busy: both variants slowed down threefold, their ratio did not.
    engine = B.Stats.of([1, 1, 3, 3, 1, 1], 1, [[1, 1], [3, 3], [1, 1]])
    floor = B.Stats.of([2, 2, 6, 6, 2, 2, 2], 1, [[2, 2], [6, 6], [2, 2, 2]])
    assert engine.round_medians == (1, 3, 1)
    assert B.paired_ratio(engine, floor) == 0.5
    # Without rounds to pair (stats from elsewhere), the ratio of the medians.
    assert B.paired_ratio(B.Stats(1.0, 0, 1, 3, 1), B.Stats(4.0, 0, 1, 3, 1)) == 0.25


def test_stats_of() -> None:
    s = B.Stats.of([4.0, 1.0, 3.0, 2.0, 5.0], loops=10)
    assert (s.median_s, s.iqr_s, s.min_s, s.count, s.loops) == (3.0, 2.0, 1.0, 5, 10)
    assert set(s.to_json()) == STATS_KEYS


def test_targets_and_ratios() -> None:
    w = WORKLOADS["tiny_add_grad"]
    row = B.Row(w, "small", "cpu", w.params("small"))
    row.stats = {
        "engine": B.Stats(1.0, 0, 1, 3, 1),
        "floor": B.Stats(0.5, 0, 1, 3, 1),
        "torch": B.Stats(2.0, 0, 1, 3, 1),
    }
    assert row.ratio("floor") == 2.0 and row.ratio("torch") == 0.5
    assert row.target().against == "torch" and row.target_met() is True
    row.stats["torch"] = B.Stats(1.0, 0, 1, 3, 1)
    assert row.target_met() is False
    row.stats["torch"] = None
    assert row.ratio("torch") is None and row.target_met() is None
    # Floor targets hold for the large sizes only: small arrays measure dispatch, not arithmetic.
    ew = WORKLOADS["elementwise"]
    assert B.Row(ew, "small", "cpu", {}).target() is None
    assert B.Row(ew, "medium", "cpu", {}).target().max_ratio == 1.15


# --- selection and listing --------------------------------------------------------------------------------


def test_select() -> None:
    assert [w.name for w in B.select(None)] == list(WORKLOADS)
    assert [w.name for w in B.select(["matmul,tiny_add", "deep_graph", "matmul"])] == [
        "matmul",
        "tiny_add",
        "deep_graph",
    ]
    with pytest.raises(B.BenchError, match="unknown workload nope"):
        B.select(["nope"])


def test_list_option() -> None:
    result = CliRunner().invoke(bench, ["--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(WORKLOADS)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_unknown_only_is_a_one_line_error() -> None:
    _engine()
    result = CliRunner().invoke(bench, ["--only", "nope"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "unknown workload nope" in result.output


def test_cuda_without_cupy_is_a_one_line_error_worded_as_run_s(monkeypatch: pytest.MonkeyPatch) -> None:
    _engine()
    from tcli.cmd_run import run

    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy now raises ImportError
    result = CliRunner().invoke(bench, ["--device", "cuda", "--size", "small", "--repeat", "1"])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: --device cuda: CUDA is not available: cupy is not installed; ")
    assert "pip install 'tcli[cuda13]'" in result.output
    # `tcli run --device cuda` says exactly the same
    ran = CliRunner().invoke(run, ["--device", "cuda", "-c", "print(1)"])
    assert ran.exit_code == 2 and ran.output == result.output


def test_bench_errors_use_the_other_commands_prefix() -> None:
    result = CliRunner().invoke(bench, ["--only", " , "])
    assert result.exit_code == 2 and result.output == "Error: --only names no workload (see tcli bench --list)\n"


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_torch_threads_option_rejects_what_is_not_a_count(value: str) -> None:
    result = CliRunner().invoke(bench, ["--torch-threads", value, "--list"])
    assert result.exit_code == 2
    assert f"Invalid value for '--torch-threads': '{value}' is neither a positive number of threads nor auto" in (
        result.output
    )


def test_help_has_examples_as_run_s_does() -> None:
    result = CliRunner().invoke(bench, ["--help"])
    assert result.exit_code == 0
    text = result.output
    assert "  Examples:\n    tcli bench --size small " in text
    assert "--torch-threads N|auto" in text and "tcli bench --torch-threads 1 " in text
    assert text.index("Options:") < text.index("Examples:") < text.index("Exit status: 0")


# --- reports and JSON ---------------------------------------------------------------------------------------

STATS_KEYS = {"median_s", "iqr_s", "min_s", "count", "loops"}
ROW_KEYS = {
    "noisy",
    "name",
    "size",
    "device",
    "shape",
    "params",
    "engine",
    "floor",
    "torch",
    "ratio_floor",
    "ratio_torch",
    "throughput",
    "target",
    "check",
    "detail",
}
MACHINE_KEYS = {
    "cpu",
    "cores",
    "platform",
    "python",
    "numpy",
    "blas",
    "torch",
    "torch_threads",
    "torch_threads_default",
    "torch_threads_why",
    "cupy",
    "gpu",
    "loadavg",
    "device",
    "size",
    "time",
}


def assert_schema(doc: dict, *, torch_compared: bool = True) -> None:
    assert set(doc) == {"machine", "workloads"}
    assert MACHINE_KEYS <= set(doc["machine"]) <= MACHINE_KEYS | {"blas_threads", "mkl"}
    assert isinstance(doc["machine"]["cores"], int)
    for row in doc["workloads"]:
        assert set(row) == ROW_KEYS
        assert row["name"] in WORKLOADS and row["size"] in ("small", "medium", "large")
        assert row["device"] in ("cpu", "cuda")
        assert row["check"] in ("ok", "MISMATCH", "error")
        assert (row["detail"] is None) == (row["check"] == "ok")
        for v in ("engine", "floor", "torch"):
            s = row[v]
            if s is None:
                continue
            assert set(s) == STATS_KEYS
            assert all(isinstance(s[k], float) for k in ("median_s", "iqr_s", "min_s"))
            assert isinstance(s["count"], int) and s["count"] >= 1 and isinstance(s["loops"], int)
            assert 0 < s["min_s"] <= s["median_s"]
        assert (row["torch"] is not None) == torch_compared or row["check"] == "error"
        for k, v in (("ratio_floor", "floor"), ("ratio_torch", "torch")):
            assert (row[k] is None) == (row["engine"] is None or row[v] is None)
            if row[k] is not None:
                assert row[k] > 0
        tp = row["throughput"]
        if tp is not None:
            assert set(tp) == {"unit", "engine", "floor", "torch"} and tp["unit"] in ("GB/s", "GFLOP/s")
        t = row["target"]
        if t is not None:
            assert set(t) == {"against", "max_ratio", "met", "noisy"} and t["against"] in ("floor", "torch")
            assert isinstance(t["noisy"], bool)
        assert isinstance(row["noisy"], list) and set(row["noisy"]) <= {"engine", "floor", "torch"}


def test_json_schema_and_plain_report(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    buf = StringIO()
    out = tmp_path / "b.json"
    status = B.run_bench(
        size="small",
        only=["tiny_add_grad,elementwise", "matmul"],
        repeat=2,
        json_path=str(out),
        engine=torch,
        out=Console(file=buf, width=200),
    )
    assert status == 0
    doc = json.loads(out.read_text())
    assert_schema(doc)
    assert [r["name"] for r in doc["workloads"]] == ["tiny_add_grad", "elementwise", "matmul"]
    assert doc["workloads"][2]["throughput"]["unit"] == "GFLOP/s"
    text = buf.getvalue()
    assert "\x1b[" not in text  # plain when not a terminal
    header = next(line for line in text.splitlines() if line.startswith("workload"))
    assert header.split() == list(B.COLUMNS)
    assert "tiny_add_grad" in text and "<=0.8x torch" in text


def test_rich_report_on_a_terminal() -> None:
    from io import StringIO

    from rich.console import Console

    buf = StringIO()
    console = Console(file=buf, force_terminal=True, width=200, color_system=None)
    assert B.run_bench(size="small", only=["tiny_add", "matmul"], repeat=1, engine=torch, out=console) == 0
    text = buf.getvalue()
    assert "tiny_add" in text and "┃" in text
    # the header (title, then the machine: CPU, library versions, threads) comes before the progress and table
    title = text.index("tcli bench: device cpu, size small")
    machine = text.index(" cores; numpy ")
    assert title < machine < text.index("━") < text.index("┃ workload")
    assert "torch " in text[machine : text.index("━")] and "thread" in text[machine : text.index("━")]
    assert "\x1b[2K" in text  # the progress bar redraws its line (and is gone once the table is drawn)


def test_compare_none_never_imports_torch() -> None:
    _engine()
    code = (
        "import sys; from io import StringIO; from rich.console import Console\n"
        "from tcli.bench import run_bench\n"
        "out = Console(file=StringIO())\n"
        "s = run_bench(size='small', compare='none', only=['tiny_add'], repeat=1, out=out)\n"
        "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(s)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_command_size_small_end_to_end(tmp_path: Path) -> None:
    """The real command in a fresh process against the real engine: finishes, agrees, writes the schema."""
    _engine()
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    try:
        import tcli.cli  # noqa: F401
    except ImportError:  # another subcommand's module has not landed: run the bench command alone
        entry = ["-c", "import sys; from tcli.cmd_bench import bench; sys.argv[0] = 'tcli bench'; bench()"]
    else:
        entry = ["-m", "tcli", "bench"]
    proc = subprocess.run(
        [sys.executable, *entry, "--size", "small", "--repeat", "3", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert_schema(doc)
    assert [r["name"] for r in doc["workloads"]] == list(WORKLOADS)
    assert all(r["check"] == "ok" and r["engine"]["count"] == 3 for r in doc["workloads"])
    assert "\x1b[" not in proc.stdout


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_man_page_is_clean_roff() -> None:
    page = ROOT / "man" / "tcli-bench.1"
    proc = subprocess.run(["groff", "-man", "-ww", "-z", str(page)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""
    text = page.read_text()
    for name in WORKLOADS:
        assert name.replace("_", "\\_") in text or name in text, name
    for option in ("--device", "--size", "--repeat", "--budget", "--json", "--compare", "--only", "--list"):
        assert option.replace("-", "\\-") in text, option


def test_unwritable_json_and_empty_only_are_usage_errors_before_any_timing() -> None:
    result = CliRunner().invoke(bench, ["--size", "small", "--only", "tiny_add", "--json", "/nonexistent/x.json"])
    assert result.exit_code == 2 and "is not a writable directory" in result.output
    result = CliRunner().invoke(bench, ["--only", ""])
    assert result.exit_code == 2 and "names no workload" in result.output


# --- ratios, noise and torch's threads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "r,text",
    [(None, "-"), (2.5, "2.50x"), (0.65, "0.65x"), (0.1, "0.10x"), (0.048, "0.048x"), (0.0123, "0.012x"),
     (0.0099, "<0.01x"), (0.0, "<0.01x")],
)  # fmt: skip
def test_fmt_ratio_never_prints_zero(r: float | None, text: str) -> None:
    assert B.fmt_ratio(r) == text


def _tiny_add_grad_row(torch_iqr: float, engine_iqr: float = 0.0, floor_iqr: float = 0.0) -> B.Row:
    w = WORKLOADS["tiny_add_grad"]  # its target compares the engine with torch
    row = B.Row(w, "small", "cpu", w.params("small"))
    row.stats = {
        "engine": B.Stats(1e-6, engine_iqr * 1e-6, 1e-6, 10, 1),
        "floor": B.Stats(1e-6, floor_iqr * 1e-6, 1e-6, 10, 1),
        "torch": B.Stats(2e-6, torch_iqr * 2e-6, 1e-6, 10, 1),
    }
    return row


def test_a_quiet_row_gets_a_verdict() -> None:
    row = _tiny_add_grad_row(torch_iqr=B.NOISY_SPREAD)  # at the limit: still trusted
    cells = B.row_cells(row)
    assert row.noisy() == [] and not row.target_noisy()
    assert cells[8] == "<=0.8x torch PASS" and cells[10] == "ok"


def test_a_noisy_variant_withholds_the_verdict_and_says_so() -> None:
    row = _tiny_add_grad_row(torch_iqr=0.9)
    cells = B.row_cells(row)
    assert row.noisy() == ["torch"] and row.target_noisy()
    assert cells[8] == "<=0.8x torch noisy" and cells[10] == "ok, noisy"
    doc = row.to_json()
    assert doc["noisy"] == ["torch"] and doc["check"] == "ok"  # check stays about correctness
    assert doc["target"] == {"against": "torch", "max_ratio": 0.8, "met": True, "noisy": True}
    text = B.plain_report({"device": "cpu", "size": "small", **_MACHINE}, [row])
    assert "tiny_add_grad: noisy: interquartile range over median torch 90% (limit 25%)" in text
    assert "noisy: those times, their ratios and targets are unreliable" in text


def test_a_noisy_floor_does_not_touch_a_torch_target() -> None:
    row = _tiny_add_grad_row(torch_iqr=0.0, floor_iqr=2.0)
    cells = B.row_cells(row)
    assert row.noisy() == ["floor"] and not row.target_noisy()
    assert cells[8] == "<=0.8x torch PASS" and cells[10] == "ok, noisy"


def test_a_mismatch_stays_a_mismatch_when_noisy() -> None:
    row = _tiny_add_grad_row(torch_iqr=0.0, engine_iqr=1.0)
    row.check, row.detail = "MISMATCH", "engine: result 0 differs"
    assert B.row_cells(row)[10] == "MISMATCH"


_MACHINE = {
    "cpu": "CPU",
    "cores": 2,
    "numpy": "2",
    "blas": None,
    "torch": "2.13",
    "torch_threads": 1,
    "torch_threads_default": 2,
    "torch_threads_why": "load 1.26 on 2 cores",
    "cupy": None,
    "gpu": None,
    "loadavg": [1.26, 1.0, 1.0],
}


def test_machine_line_says_which_torch_threads_and_why() -> None:
    assert "torch 2.13 (1 thread of its 2: load 1.26 on 2 cores)" in B.machine_line(_MACHINE)
    quiet = dict(_MACHINE, torch_threads=2, torch_threads_why=None)
    assert "torch 2.13 (2 threads); load 1.26" in B.machine_line(quiet)


def test_torch_threads_are_set_for_the_run_recorded_and_restored(ctx_torch: B.Context) -> None:
    before = torch.get_num_threads()
    with B.torch_threads_for_run(ctx_torch, load=2.0 * (os.cpu_count() or 1)):  # every core busy
        assert torch.get_num_threads() == 1
        m = B.machine_info(ctx_torch, "small")
        assert (m["torch_threads"], m["torch_threads_default"]) == (1, before)
        assert (m["torch_threads_why"] is None) == (before == 1)
    assert torch.get_num_threads() == before
    with B.torch_threads_for_run(ctx_torch, requested=3, load=0.0):
        assert torch.get_num_threads() == 3
        assert B.machine_info(ctx_torch, "small")["torch_threads"] == 3
    assert torch.get_num_threads() == before


def test_no_torch_no_thread_choice() -> None:
    ctx = B.make_context("cpu", "none", engine=torch)
    with B.torch_threads_for_run(ctx, requested=3):
        m = B.machine_info(ctx, "small")
    assert ctx.torch_threads is None and m["torch_threads"] is None and m["torch_threads_why"] is None


def test_cuda_context_when_the_engine_makes_cuda_tensors(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check asks the engine for a CUDA tensor, as `tcli run --device cuda` does; when it gets one, the floor
    # is cupy (a stand-in here: this machine may have no GPU).
    made = []
    fake_engine = types.ModuleType("fake_engine")
    fake_engine.zeros = lambda *shape, device=None: made.append(device)
    fake_cupy = types.ModuleType("cupy")
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    ctx = B.make_context("cuda", "none", engine=fake_engine)
    assert made == ["cuda"] and ctx.xp is fake_cupy and ctx.device == "cuda"
