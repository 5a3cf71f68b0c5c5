"""The tutorial in scripts/tutorial/: every NN_*.tsr runs under `tcli run` and prints exactly NN_*.out.

Where a script is plain PyTorch (it calls none of tcli's own builtins such as graph() or show()), the same
file is also run by Python with real torch and must print the same bytes: the .out files are PyTorch's
answers, not a snapshot of whatever tcli happened to print. Scripts that use tcli's builtins were checked
by reading and their output frozen.

To rewrite the expected outputs after changing a script: TCLI_TUTORIAL_WRITE=1 python -m pytest
tests/test_tutorial.py (pure scripts are written from torch, the others from tcli), then read the diff.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "scripts" / "tutorial"
SCRIPTS = sorted(TUTORIAL.glob("[0-9][0-9]_*.tsr"))
# The names tcli adds to a script's globals; kept here rather than imported so that this file states the
# rule on its own (and test_builtins_known checks it still matches tcli.policy).
TCLI_ONLY_NAMES = {"graph", "show", "argv", "help"}
WRITE = os.environ.get("TCLI_TUTORIAL_WRITE") == "1"


def _env() -> dict[str, str]:
    # The fixed terminal the .out files were made in: no colour, 80 columns, a dumb terminal, and a fixed
    # hash seed so that nothing printed can depend on set ordering.
    return dict(os.environ, NO_COLOR="1", COLUMNS="80", TERM="dumb", PYTHONHASHSEED="0")


def tcli_command() -> list[str]:
    """`tcli` from the environment running the tests (the venv's console script, so an installed tcli is
    what gets tested), or `python -m tcli` when there is no console script beside the interpreter."""
    exe = Path(sys.executable).parent / ("tcli.exe" if os.name == "nt" else "tcli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tcli"]


def uses_tcli_builtins(script: Path) -> bool:
    """True when the script reads a tcli-only name it never assigns itself: it cannot run under torch."""
    tree = ast.parse(script.read_text(encoding="utf-8"))
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bool((loaded - bound) & TCLI_ONLY_NAMES)


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, capture_output=True, env=_env(), cwd=cwd, stdin=subprocess.DEVNULL, timeout=300)


def first_difference(got: bytes, want: bytes) -> str:
    g, w = got.decode(errors="replace").splitlines(), want.decode(errors="replace").splitlines()
    for i in range(max(len(g), len(w))):
        gl = g[i] if i < len(g) else "<missing>"
        wl = w[i] if i < len(w) else "<missing>"
        if gl != wl:
            return f"first difference at line {i + 1}:\n  want: {wl!r}\n  got:  {gl!r}"
    return "outputs differ only in line endings or a final newline"


def test_tutorial_is_complete() -> None:
    """Numbered 01..N with no gaps, each with its .out, and the seed's whole path is there."""
    assert len(SCRIPTS) >= 18, [s.name for s in SCRIPTS]
    numbers = [int(s.name[:2]) for s in SCRIPTS]
    assert numbers == list(range(1, len(SCRIPTS) + 1)), "scripts must be numbered 01, 02, ... without gaps"
    for s in SCRIPTS:
        assert s.with_suffix(".out").exists(), f"{s.name} has no expected output {s.with_suffix('.out').name}"
    orphans = {o.stem for o in TUTORIAL.glob("*.out")} - {s.stem for s in SCRIPTS}
    assert not orphans, f".out files without a script: {sorted(orphans)}"
    text = "\n".join(s.read_text(encoding="utf-8") for s in SCRIPTS)
    # The topics of the learning note this project grew from; each must be taught somewhere.
    for needle in (
        "torch.from_numpy", "torch.normal(mean, std)", "torch.normal(0.0, 1.0, size=", "torch.normal(mean, 1.0)",
        "torch.normal(0.0, std)", "torch.cat", "torch.stack", "torch.chunk", "torch.split", "torch.index_select",
        "torch.masked_select", "torch.reshape", "torch.transpose", "torch.squeeze", "torch.unsqueeze",
        "torch.addcmul", "is_leaf", "grad_fn", "graph(", "retain_graph=True", "create_graph=True",
        "gradient=grad_tensors", ".zero_()", "requires_grad", "except RuntimeError", "torch.no_grad()",
        "torch.sigmoid",
    ):  # fmt: skip
        assert needle in text, f"no tutorial script shows {needle}"


def test_scripts_teach() -> None:
    """Every script opens with a comment block saying what it teaches, and has comments throughout."""
    for s in SCRIPTS:
        lines = s.read_text(encoding="utf-8").splitlines()
        assert re.match(rf"# {s.name[:2]} - \S", lines[0]), f"{s.name} should start with '# {s.name[:2]} - <title>'"
        comments = sum(1 for line in lines if line.lstrip().startswith("#"))
        assert comments >= 5, f"{s.name} has only {comments} comment lines"


def test_builtins_known() -> None:
    """The names this file treats as tcli-only are still the names tcli defines."""
    from tcli import policy

    assert set(policy.TCLI_BUILTINS) == TCLI_ONLY_NAMES


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_tcli_run_matches(script: Path, tmp_path: Path) -> None:
    """`tcli run NN_x.tsr` exits 0 and prints NN_x.out byte for byte."""
    p = run([*tcli_command(), "run", str(script)], tmp_path)
    assert p.returncode == 0, f"tcli run {script.name} exited {p.returncode}:\n{p.stderr.decode()[-2000:]}"
    expected = script.with_suffix(".out")
    if WRITE and uses_tcli_builtins(script):
        expected.write_bytes(p.stdout)
    want = expected.read_bytes()
    assert p.stdout == want, f"{script.name}: {first_difference(p.stdout, want)}"


# Known divergences on stderr, each with the reason; remove an entry when it is fixed (the test then XPASSes).
QUIET_XFAIL: dict[str, str] = {}


@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=pytest.mark.xfail(reason=QUIET_XFAIL[s.stem])) if s.stem in QUIET_XFAIL else s
     for s in SCRIPTS],
    ids=[s.stem for s in SCRIPTS],
)  # fmt: skip
def test_tcli_run_is_quiet(script: Path, tmp_path: Path) -> None:
    """PyTorch prints no warning for any tutorial script (test_torch_agrees checks that), so neither may tcli."""
    p = run([*tcli_command(), "run", str(script)], tmp_path)
    assert p.stderr == b"", f"tcli run {script.name} wrote to stderr:\n{p.stderr.decode()[-2000:]}"


PURE = [s for s in SCRIPTS if not uses_tcli_builtins(s)]


@pytest.mark.parametrize("script", PURE, ids=[s.stem for s in PURE])
def test_torch_agrees(script: Path, tmp_path: Path) -> None:
    """The same script run by real PyTorch prints the same bytes: the .out is torch's truth."""
    pytest.importorskip("torch")
    p = run([sys.executable, str(script)], tmp_path)
    assert p.returncode == 0, f"python {script.name} (torch) exited {p.returncode}:\n{p.stderr.decode()[-2000:]}"
    expected = script.with_suffix(".out")
    if WRITE:
        expected.write_bytes(p.stdout)
    want = expected.read_bytes()
    assert p.stdout == want, f"{script.name} under torch: {first_difference(p.stdout, want)}"
    assert p.stderr == b"", f"{script.name} under torch wrote to stderr:\n{p.stderr.decode()[-2000:]}"


def test_most_scripts_are_pure_pytorch() -> None:
    """Only the scripts that teach tcli's own tools (graph, show) may depend on them."""
    impure = [s.name for s in SCRIPTS if uses_tcli_builtins(s)]
    assert impure == ["10_graph_leaves.tsr"], impure
