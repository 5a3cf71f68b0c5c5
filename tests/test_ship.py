"""What a new user meets first: --version, --help, `python -m tcli`, the messages for a bad script path, shell
completion, the README (its quick start and the output its tour shows), and a fresh, non-editable install in
which every tutorial script runs and the man pages are in place.

The fresh-install check takes tens of seconds; TCLI_SKIP_SLOW=1 skips it (or -k 'not fresh_install').
.ci/run always runs it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tcli import __version__

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TUTORIAL = ROOT / "scripts" / "tutorial"


def tcli_command() -> list[str]:
    """The console script of the environment running the tests, so an installed tcli is what gets tested."""
    exe = Path(sys.executable).parent / "tcli"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tcli"]


def env(**extra: str) -> dict[str, str]:
    # The terminal the README's outputs were captured in.
    base = {k: v for k, v in os.environ.items() if not k.startswith("_TCLI_COMPLETE")}
    return {**base, "NO_COLOR": "1", "COLUMNS": "80", "TERM": "dumb", "PYTHONHASHSEED": "0", **extra}


def tcli(*args: str, cwd: Path | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tcli_command(), *args], capture_output=True, text=True, env=env(**extra), cwd=cwd or ROOT,
        stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------------------


def test_version() -> None:
    p = tcli("--version")
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"tcli, version {__version__}\n"


def test_help_shows_examples() -> None:
    p = tcli("--help")
    assert p.returncode == 0, p.stderr
    assert "Examples:" in p.stdout
    for command in ("run", "repl", "bench"):
        assert re.search(rf"^\s+{command}\s", p.stdout, re.M), f"--help does not list {command}"
    assert "tcli run " in p.stdout


@pytest.mark.parametrize("command", ["run", "repl", "bench"])
def test_every_command_has_help(command: str) -> None:
    p = tcli(command, "--help")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"Usage: tcli {command}")


def test_python_dash_m() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "--help"], capture_output=True, text=True, env=env(), cwd=ROOT, timeout=60
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "Usage:" in p.stdout and "Examples:" in p.stdout
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", "-c", "import torch; print(torch.ones(2))"],
        capture_output=True, text=True, env=env(), cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert (p.returncode, p.stdout) == (0, "tensor([1., 1.])\n"), p.stderr


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """Exit status 2 (usage), and the message names the file and says what is wrong with it."""
    p = tcli("run", "missing.tsr", cwd=tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stdout == ""
    assert "missing.tsr" in p.stderr and "No such file" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_missing_file_message_is_one_line(tmp_path: Path) -> None:
    p = tcli("run", "missing.tsr", cwd=tmp_path)
    assert p.stderr == "Error: cannot read missing.tsr: No such file or directory\n", p.stderr


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    p = tcli("run", str(tmp_path), cwd=tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr


def test_other_extension_still_runs(tmp_path: Path) -> None:
    """tsr is the language, not the file name: a PyTorch snippet saved as .py (or anything) runs as it is."""
    (tmp_path / "snippet.py").write_text("import torch\nprint(torch.zeros(1))\n")
    p = tcli("run", "snippet.py", cwd=tmp_path)
    assert (p.returncode, p.stdout) == (0, "tensor([0.])\n"), p.stderr


def test_unusual_extension_warns(tmp_path: Path) -> None:
    """notes.txt is probably not a script: it runs (a warning is not a refusal), but one line on stderr says so.
    .tsr, .py and no extension at all (an executable script with a #! line) run without a word."""
    (tmp_path / "notes.txt").write_text("print(1)\n")
    p = tcli("run", "notes.txt", cwd=tmp_path)
    assert (p.returncode, p.stdout) == (0, "1\n"), p.stderr
    assert p.stderr == "tcli run: warning: notes.txt is not a .tsr script; running it as tsr anyway\n", p.stderr
    for quiet in ("script.tsr", "snippet.py", "script"):
        (tmp_path / quiet).write_text("print(2)\n")
        p = tcli("run", quiet, cwd=tmp_path)
        assert (p.returncode, p.stdout, p.stderr) == (0, "2\n", ""), (quiet, p.stderr)


# ---------------------------------------------------------------------------------------------------------
# shell completion
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shell,marker",
    [("bash", "complete -o nosort -F _tcli_completion tcli"), ("zsh", "#compdef tcli"), ("fish", "--command tcli")],
)
def test_completion_script(shell: str, marker: str) -> None:
    """`_TCLI_COMPLETE=<shell>_source tcli` prints the script the README and tcli(1) tell users to source."""
    p = tcli(_TCLI_COMPLETE=f"{shell}_source")
    assert p.returncode == 0, p.stderr
    assert marker in p.stdout, p.stdout


@pytest.mark.parametrize(
    "words,cword,expected",
    [
        ("tcli ru", 1, {"run"}),
        ("tcli run --dev", 2, {"--device"}),
        ("tcli run --device c", 3, {"cpu", "cuda"}),
        ("tcli bench --size m", 3, {"medium"}),
    ],
)
def test_completion_answers(words: str, cword: int, expected: set[str]) -> None:
    """What bash gets back when the user presses Tab: commands, options and choice values."""
    p = tcli(_TCLI_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    assert p.returncode == 0, p.stderr
    got = {line.split(",", 1)[1] for line in p.stdout.splitlines() if "," in line}
    assert got == expected, p.stdout


@pytest.mark.parametrize("words,cword", [("tcli run ", 2), ("tcli run --seed 0 tr", 4)])
def test_completion_offers_files_for_the_script(words: str, cword: int) -> None:
    """After `tcli run`, Tab completes file names (click answers with type "file" and bash lists them)."""
    p = tcli(_TCLI_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    assert p.returncode == 0, p.stderr
    assert [line.split(",", 1)[0] for line in p.stdout.splitlines()] == ["file"], p.stdout


def test_completion_offers_directories_for_allow_path() -> None:
    p = tcli(_TCLI_COMPLETE="bash_complete", COMP_WORDS="tcli run --allow-path ", COMP_CWORD="3")
    assert [line.split(",", 1)[0] for line in p.stdout.splitlines()] == ["dir"], p.stdout


def test_help_points_to_the_manual() -> None:
    p = tcli("--help")
    assert "man tcli" in p.stdout and "man tsr" in p.stdout and "SHELL COMPLETION" in p.stdout


# ---------------------------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------------------------


def readme_blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", README.read_text(encoding="utf-8"), re.M | re.S)


def quick_start() -> list[str]:
    """The commands of the README's quick start: the first ```sh block after '## Quick start'."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```sh\n(.*?)^```$", section, re.M | re.S)
    assert block, "the Quick start section has no ```sh block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_quick_start_is_two_commands() -> None:
    """One installs and runs a bundled example, one installs the test extra and runs the tests."""
    first, second = quick_start()  # exactly two
    assert "pip install ." in first and "tcli run " in first, first
    example = re.search(r"tcli run (\S+)", first).group(1)
    assert (ROOT / example).is_file(), f"the quick start runs {example}, which does not exist"
    assert example.startswith("tcli/examples/"), "the quick start's example must be one bundled in the package"
    assert "pip install '.[test]'" in second and "-m pytest" in second, second
    for command in (first, second):
        assert command.startswith("python3 -m venv .venv && "), "each command must work on its own, in a new venv"
        assert " -e " not in command, "the quick start is a regular install, not an editable one"


def test_ci_runs_the_readme_commands() -> None:
    """.ci/run executes the README's quick-start commands (in its own venv), so they cannot rot unnoticed."""
    p = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run"), "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "TCLI_CI_VENV": "/tmp/ci-venv-for-dry-run"},
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    for command in quick_start():
        assert command.replace(".venv", "/tmp/ci-venv-for-dry-run") in p.stdout, (command, p.stdout)
    assert "conformance/run.py --mode engine" in p.stdout and "conformance/run.py --mode tsr" in p.stdout


def test_readme_links_exist() -> None:
    for target in re.findall(r"\]\(([^)#]+)\)", README.read_text(encoding="utf-8")):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


def console_examples() -> list[tuple[str, str]]:
    """(command, output) pairs from the README's ```console blocks: a `$ ` line, then what it printed."""
    pairs = []
    for block in readme_blocks("console"):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            pairs.append((command, output))
    return pairs


def test_readme_has_a_tour() -> None:
    text = " ".join(c for c, _ in console_examples()) + " ".join(o for _, o in console_examples())
    for shown in ("tensor(", "backward", "AccumulateGrad", "hint:"):
        assert shown in text, f"the README's tour shows no {shown}"


@pytest.mark.parametrize("command,output", console_examples(), ids=[c[:40] for c, _ in console_examples()])
def test_readme_output_is_real(command: str, output: str) -> None:
    """Each command in the tour prints exactly what the README shows (stdout and stderr, as a terminal would).
    A command may read a pipe (`printf ... | tcli repl`): the part before the pipe is run by the shell."""
    feed, _, command_part = command.rpartition(" | ")
    stdin = subprocess.run(["bash", "-c", feed], capture_output=True, check=True).stdout if feed else b""
    argv = shlex.split(command_part)
    assert argv[0] == "tcli", command
    p = subprocess.run(
        [*tcli_command(), *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env(), cwd=ROOT,
        input=stdin, timeout=120,
    )  # fmt: skip
    got = p.stdout.decode()
    assert got.rstrip("\n") == output.rstrip("\n"), f"$ {command}\n--- README\n{output}--- got\n{got}"


def test_readme_documents_completion_and_cuda() -> None:
    text = README.read_text(encoding="utf-8")
    for needle in ("_TCLI_COMPLETE=bash_source", "_TCLI_COMPLETE=zsh_source", "_TCLI_COMPLETE=fish_source",
                   "[cuda12]", "[cuda13]", "--device cuda", "scripts/tutorial/", "man/tcli.1"):  # fmt: skip
        assert needle in text, f"README does not mention {needle}"


def test_bundled_examples_run() -> None:
    """Every example shipped in the package runs; those named oops* are meant to fail, with a hint."""
    examples = sorted((ROOT / "tcli" / "examples").glob("*.tsr"))
    assert examples
    for example in examples:
        p = tcli("run", str(example.relative_to(ROOT)))
        if example.stem.startswith("oops"):
            assert p.returncode == 1 and "hint:" in p.stderr, (example.name, p.stderr)
        else:
            assert p.returncode == 0, (example.name, p.stderr)


# ---------------------------------------------------------------------------------------------------------
# a fresh machine
# ---------------------------------------------------------------------------------------------------------

# Build inputs only: the copy must not carry a venv, build leftovers (setuptools would package stale files from
# an old build/ directory) or caches.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".ci-venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", ".hypothesis", "*.pyc",
)  # fmt: skip


@pytest.mark.skipif(os.environ.get("TCLI_SKIP_SLOW") == "1", reason="TCLI_SKIP_SLOW=1")
def test_fresh_install(tmp_path: Path) -> None:
    """A regular (non-editable) install of a copy of the source into a new venv: the installed tcli is the one
    that runs, `tcli --version` works, the man pages are under the venv's share/man, the bundled examples are
    package data, and every tutorial script prints its expected output.

    The venv borrows the dependencies (numpy, click, ...) of the environment running the tests through a .pth
    file, and tcli is installed with --no-deps: the install of tcli itself is real, downloading its
    dependencies again would only test PyPI."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCE)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "_borrowed_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    # The build is isolated, as on a user's machine: pip fetches the setuptools that pyproject.toml asks for
    # (the venv's own may be too old to build a wheel), so this needs the package index.
    pip = [str(py), "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "-q"]
    p = subprocess.run([*pip, str(src)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr

    # The installed copy is the one that runs, not the source tree.
    p = subprocess.run(
        [str(py), "-c", "import tcli, engine; print(tcli.__file__); print(engine.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )  # fmt: skip
    for path in p.stdout.split():
        assert Path(path).resolve().is_relative_to(venv.resolve()), f"imported from {path}, not the fresh venv"

    exe = venv / "bin" / "tcli"
    p = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert p.stdout == f"tcli, version {__version__}\n", p.stderr

    for page in sorted((ROOT / "man").glob("*.[1-9]")):
        installed = venv / "share" / "man" / f"man{page.suffix[1:]}" / page.name
        assert installed.is_file(), f"{page.name} was not installed to {installed.parent}"
        assert installed.read_bytes() == page.read_bytes()

    examples = Path(site) / "tcli" / "examples"
    assert sorted(e.name for e in examples.glob("*.tsr")) == sorted(
        e.name for e in (ROOT / "tcli" / "examples").glob("*.tsr")
    ), "the bundled examples are not all installed as package data"

    failures = []
    for script in sorted(TUTORIAL.glob("[0-9][0-9]_*.tsr")):
        p = subprocess.run(
            [str(exe), "run", str(script)], capture_output=True, env=env(), cwd=tmp_path,
            stdin=subprocess.DEVNULL, timeout=300,
        )  # fmt: skip
        if p.returncode != 0 or p.stdout != script.with_suffix(".out").read_bytes():
            failures.append(f"{script.name}: exit {p.returncode} {p.stderr.decode()[-300:]}")
    assert not failures, "\n".join(failures)
