"""The manual pages in man/: they render without a single groff warning, they document every option the
click commands actually have (so the pages cannot drift from the code), and every page is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tcli import __version__
from tcli.cli import main

ROOT = Path(__file__).resolve().parent.parent
MAN = ROOT / "man"
PAGES = sorted(p for p in MAN.iterdir() if re.fullmatch(r"[\w.-]+\.[1-9]", p.name))


def page_text(path: Path) -> str:
    """The page's source with the roff escapes an option name or a word may contain undone, so that
    `\\-\\-max\\-memory` is found as --max-memory."""
    text = path.read_text(encoding="utf-8")
    for escape, plain in (("\\-", "-"), ("\\(hy", "-"), ("\\(aq", "'"), ("\\e", "\\"), ("\\&", "")):
        text = text.replace(escape, plain)
    return text


def mentions(text: str, word: str) -> bool:
    # Whole words only: --device must not be satisfied by --device-id, nor -c by -cuda.
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def entry_tags(text: str) -> str:
    """The tag lines of the page's indented entries (the line after each .TP): an option is documented when it
    heads an entry of its own, not when it is only named in passing somewhere else."""
    lines = text.splitlines()
    return "\n".join(lines[i + 1] for i, line in enumerate(lines[:-1]) if line.strip() == ".TP")


def commands(group: click.Command, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command under `group`, with its full name ('run', 'bench', ...), depth first."""
    found = []
    if isinstance(group, click.Group):
        for name, cmd in sorted(group.commands.items()):
            full = f"{prefix}{name}"
            found.append((full, cmd))
            found += commands(cmd, f"{full} ")
    return found


# Commands whose options tcli(1) leaves to their own page instead of listing them (bench has many, with long
# explanations); every other command's options must be in tcli.1, and in its own page too when it has one.
DEFERRED = {"bench"}


def pages_for(command_name: str) -> list[Path]:
    own = MAN / f"tcli-{command_name.replace(' ', '-')}.1"
    pages = [own] if own.exists() else []
    if command_name not in DEFERRED:
        pages.append(MAN / "tcli.1")
    assert pages, f"`tcli {command_name}` has no man page of its own and tcli.1 defers it"
    return pages


def test_pages_exist() -> None:
    names = {p.name for p in PAGES}
    assert "tcli.1" in names
    assert "tcli-bench.1" in names, "bench is documented in its own page, tcli-bench(1)"


def test_groff_lint_clean() -> None:
    """`groff -man -ww -z man/*` prints nothing: no warnings of any kind, in any page."""
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed (apt-get install groff); the man pages were NOT linted")
    p = subprocess.run(
        ["groff", "-man", "-ww", "-z", *map(str, PAGES)], capture_output=True, text=True, timeout=60
    )  # fmt: skip
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p.stdout + p.stderr


def test_groff_renders_every_page_cleanly() -> None:
    """Each page on its own, formatted for a terminal, also without warnings (a page that lints only in the
    company of others would still be broken for `man`)."""
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed (apt-get install groff); the man pages were NOT rendered")
    for page in PAGES:
        p = subprocess.run(
            ["groff", "-man", "-ww", "-Tutf8", str(page)], capture_output=True, text=True, timeout=60
        )  # fmt: skip
        assert p.returncode == 0 and p.stderr == "", f"{page.name}: {p.stderr}"
        assert "NAME" in re.sub(".\x08", "", p.stdout)  # grotty emboldens by overstriking: X backspace X


@pytest.mark.parametrize("name,command", commands(main), ids=[n for n, _ in commands(main)])
def test_every_option_is_documented(name: str, command: click.Command) -> None:
    """Each option of `tcli NAME` (every spelling, e.g. -h and --help) heads an entry in the command's pages,
    and each value of a choice is named there."""
    for page in pages_for(name):
        text = page_text(page)
        tags = entry_tags(text)
        assert mentions(text, name.split()[-1]), f"{page.name} does not mention the command {name!r}"
        missing = []
        for param in command.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            if param.name == "help" and mentions(entry_tags(page_text(MAN / "tcli.1")), "--help"):
                continue  # --help is documented once, for every command, in tcli(1)
            for opt in [*param.opts, *param.secondary_opts]:
                if not mentions(tags, opt):
                    missing.append(opt)
            if isinstance(param.type, click.Choice):
                missing += [f"{param.opts[0]} {c}" for c in param.type.choices if not mentions(text, str(c))]
        assert not missing, f"{page.name} does not document these options of `tcli {name}`: {missing}"


def test_main_options_documented() -> None:
    tags = entry_tags(page_text(MAN / "tcli.1"))
    for param in main.params:
        if isinstance(param, click.Option):
            for opt in [*param.opts, *param.secondary_opts]:
                assert mentions(tags, opt), f"tcli.1 has no entry for `tcli {opt}`"


def test_tcli1_has_the_sections_users_look_for() -> None:
    text = page_text(MAN / "tcli.1")
    sections = re.findall(r'^\.SH\s+"?([^"\n]+?)"?\s*$', text, re.M)
    for wanted in (
        "NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT", "FILES", "EXIT STATUS",
        "EXAMPLES", "SEE ALSO", "SHELL COMPLETION",
    ):  # fmt: skip
        assert wanted in sections, f"tcli.1 lacks the section {wanted}"
    for var in ("NO_COLOR", "TERM", "COLUMNS", "XDG_STATE_HOME"):
        assert mentions(text, var), f"tcli.1 ENVIRONMENT does not mention {var}"
    for command_name, _ in commands(main):
        assert mentions(text, command_name), f"tcli.1 does not mention the command {command_name}"
    for ref in ("tsr (5)", "tcli-bench (1)"):
        assert ref in text.replace(".BR ", ""), f"tcli.1 SEE ALSO lacks {ref.replace(' ', '')}"
    for shell in ("bash_source", "zsh_source", "fish_source"):
        assert shell in text, f"tcli.1 does not show completion for {shell.split('_')[0]}"


def test_version_in_title() -> None:
    """The page footer carries the version being installed."""
    title = next(line for line in (MAN / "tcli.1").read_text().splitlines() if line.startswith(".TH"))
    assert f"tcli {__version__}" in title, title


@pytest.mark.skipif(sys.version_info < (3, 11), reason="reading pyproject.toml needs tomllib (Python 3.11+)")
def test_every_page_is_installed() -> None:
    """[tool.setuptools.data-files] installs each page in man/ into share/man/manN, and lists no page
    that does not exist (setuptools would fail the build)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files = config["tool"]["setuptools"]["data-files"]
    installed = {}
    for target, files in data_files.items():
        for f in files:
            installed[f] = target
    for page in PAGES:
        rel = f"man/{page.name}"
        assert rel in installed, f"{rel} is not installed: add it to [tool.setuptools.data-files] in pyproject.toml"
        assert installed[rel] == f"share/man/man{page.suffix[1:]}", f"{rel} goes to {installed[rel]}"
    for rel in installed:
        if rel.startswith("man/"):
            assert (ROOT / rel).exists(), f"pyproject.toml installs {rel}, which does not exist"


def test_cross_references_name_existing_pages() -> None:
    """Every reference to one of tcli's own pages (`.BR tcli\\-repl (1)`, `tsr(5)` ...) names a page in man/,
    in its section: no tcli-run(1) that `man` could never find."""
    existing = {(p.stem, p.suffix[1:]) for p in PAGES}
    for page in PAGES:
        text = page_text(page)
        refs = re.findall(r"^\.[BI]R\s+\"?([\w.-]+)\"?\s+\((\d)\)", text, re.M)
        refs += re.findall(r"\\fB([\w.-]+)\\f[RP]\((\d)\)", text)
        own = [(name, sec) for name, sec in refs if name == "tcli" or name == "tsr" or name.startswith("tcli-")]
        missing = [f"{name}({sec})" for name, sec in own if (name, sec) not in existing]
        assert not missing, f"{page.name} refers to pages that do not exist: {missing}"
