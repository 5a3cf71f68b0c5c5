"""Completion: names in scope, `torch.` functions, attributes after a dot, meta-commands and their arguments,
found by looking names up; nothing typed is ever evaluated and private names are never offered."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from tcli import meta
from tcli.repl import ReplOptions, Shell
from tcli.repl_complete import CompletionSources, ReplCompleter, in_string_or_comment, python_completions


@pytest.fixture(autouse=True)
def engine_defaults_restored() -> Iterator[None]:
    """The engine's default dtype/device and grad mode are process-wide: leave them as found for the
    test files that run after this one."""
    import engine

    yield
    engine.set_default_dtype(engine.float32)
    engine.set_default_device("cpu")
    engine.set_grad_enabled(True)


def make_shell() -> tuple[Shell, io.StringIO]:
    out = io.StringIO()
    return Shell(ReplOptions(color=False), stdout=out, stderr=io.StringIO(), width=80), out


def completer_for(shell: Shell) -> ReplCompleter:
    return ReplCompleter(CompletionSources(shell.completion_names, shell.attribute_names, meta.catalogue))


def complete(completer: ReplCompleter, text: str) -> list[str]:
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]


SOURCES = CompletionSources(
    names=lambda: ["alpha", "alps", "_hidden", "beta"],
    attributes=lambda path: {("obj",): ["shape", "sum", "_private"], ("obj", "inner"): ["deep"]}.get(tuple(path), []),
)


def test_python_completions_from_plain_functions() -> None:
    assert python_completions("x = al", SOURCES) == (-2, ["alps", "alpha"][::-1])
    assert python_completions("obj.s", SOURCES) == (-1, ["shape", "sum"])
    assert python_completions("f(obj.inner.d", SOURCES) == (-1, ["deep"])
    assert python_completions("obj.", SOURCES) == (0, ["shape", "sum"])  # never "_private"
    assert python_completions("_h", SOURCES) == (-2, [])
    assert python_completions("obj._p", SOURCES) == (-2, [])
    assert python_completions("wh", SOURCES)[1] == ["while"]  # keywords


def test_nothing_is_offered_inside_strings_comments_numbers_or_for_an_empty_word() -> None:
    assert python_completions("print('al", SOURCES) == (0, [])
    assert python_completions("x = 1  # al", SOURCES) == (0, [])
    assert python_completions("1.5", SOURCES) == (0, [])
    assert python_completions("x = ", SOURCES) == (0, [])
    assert in_string_or_comment("'''a\nb")
    assert not in_string_or_comment("'a' + \"b\" + '''c''' + x")


def test_names_in_scope_builtins_and_torch_functions() -> None:
    shell, _ = make_shell()
    shell.handle("weights = torch.ones(3, requires_grad=True)")
    c = completer_for(shell)
    assert complete(c, "wei") == ["weights"]
    assert "print" in complete(c, "pri")
    assert complete(c, "torch.zeros") == ["zeros", "zeros_like"]
    assert "relu" in complete(c, "torch.nn.functional.re")
    assert complete(c, "torch.float6") == ["float64"]


def test_tensor_methods_and_attributes_after_a_dot() -> None:
    shell, _ = make_shell()
    shell.handle("x = torch.ones(2, 3, requires_grad=True)")
    shell.handle("y = (x * 2).sum()")
    c = completer_for(shell)
    assert complete(c, "x.grad") == ["grad", "grad_fn"]
    assert "backward" in complete(c, "y.back")
    assert "sum" in complete(c, "x.T.su")  # a view property is read; its result is a tensor
    assert "name" in complete(c, "y.grad_fn.na")
    assert all(not n.startswith("_") for n in complete(c, "x."))
    assert complete(c, "x._da") == []


def test_completion_never_calls_anything() -> None:
    shell, out = make_shell()
    shell.handle("calls = []\ndef f():\n    calls.append(1)\n    print('ran')\n    return torch.ones(1)\n")
    c = completer_for(shell)
    assert complete(c, "f().") == []
    assert complete(c, "f().su") == []
    assert complete(c, "torch.ones(2).su") == []  # no completion through a call
    assert complete(c, "x.sum.") == []  # nor through a method
    assert "ran" not in out.getvalue()
    assert shell.session.globals["calls"] == []


def test_a_computing_property_stops_the_walk_without_running() -> None:
    shell, _ = make_shell()
    reads = []

    class Probe:
        @property
        def expensive(self) -> object:
            reads.append(1)
            return self

    Probe.__module__ = "engine.probe"  # what the policy treats as an engine type (public attributes readable)
    shell.session.globals["probe"] = Probe()
    assert complete(completer_for(shell), "probe.exp") == ["expensive"]  # listing names reads nothing
    assert complete(completer_for(shell), "probe.expensive.") == []
    assert reads == []


def test_policy_refusals_complete_nothing() -> None:
    shell, _ = make_shell()
    shell.handle("s = 'text'")
    c = completer_for(shell)
    assert complete(c, "s.up") == ["upper"]
    assert complete(c, "s.enc") == []  # str.encode is not in the policy's list
    assert complete(c, "print.") == []  # functions expose no attributes to scripts


def test_meta_commands_and_their_arguments(tmp_path: Path) -> None:
    shell, _ = make_shell()
    shell.handle("x = torch.ones(2, requires_grad=True)")
    c = completer_for(shell)
    assert complete(c, ":gr") == ["graph", "grad", "gradcheck"]
    assert complete(c, ":") == list(meta.COMMANDS)
    assert complete(c, ":device c") == ["cpu", "cuda"]
    assert complete(c, ":dtype float") == ["float32", "float64", "float16"]
    assert complete(c, ":graph x.grad") == ["grad", "grad_fn"]
    assert complete(c, ":help gradc") == ["gradcheck"]
    (tmp_path / "train.tsr").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "sub").mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert complete(c, ":load ") == ["sub/", "train.tsr"]
        assert complete(c, ":restore ") == ["sub/"]
    finally:
        os.chdir(cwd)
    display = {c.text: c.display_meta_text for c in c.get_completions(Document(":ti"), CompleteEvent())}
    assert display == {"time": meta.COMMANDS["time"].summary}
