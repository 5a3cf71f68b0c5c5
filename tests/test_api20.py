"""api20: divergences from PyTorch 2.13 closed, each checked against PyTorch: forward-AD dual tensors' autograd
attributes, requires_grad_(), backward and grad() on them, ops torch has no forward formula for; methods read off
a subclass (`torch.optim.AdamW.step is torch.optim.Adam.step`). Scripts run through tcli's Session and as Python
with torch."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
import warnings

import pytest

from tcli.session import Session

_ADDR = re.compile(r"0x[0-9a-f]{6,}")


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


def run_torch(src: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(textwrap.dedent(src), "prog.py", "exec"), {})  # noqa: S102 - the oracle's own run
    return out.getvalue()


def _addresses_numbered(text: str) -> str:
    """Addresses as the order they are first seen in (tcli's are its own): which objects are one is kept."""
    seen: dict[str, int] = {}
    return _ADDR.sub(lambda m: f"0xADDR{seen.setdefault(m.group(), len(seen))}", text)


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    expected = run_torch(src)
    assert _addresses_numbered(out) == _addresses_numbered(expected)
    return out


# ---- forward AD: a dual tensor's autograd attributes -------------------------------------------------------------

_DUAL_ATTRIBUTES = """
import torch
import torch.autograd.forward_ad as fwAD
x = torch.tensor([1., 2., 3.]); t = torch.ones(3)
with fwAD.dual_level():
    d = fwAD.make_dual(x, t)
    print(d.requires_grad, d.grad_fn, d.is_leaf)
    y = d * 2 + d.sin()
    print(y.requires_grad, y.grad_fn, y.is_leaf, getattr(y, "grad_fn"), getattr(y, "requires_grad"))
    print(y[1:].requires_grad, y.sum().is_leaf, (y @ y).grad_fn)
    print(y)
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    d2 = fwAD.make_dual(w, t)
    print(d2.requires_grad, d2.grad_fn.name(), d2.is_leaf)
    y2 = d2 * d
    print(y2.requires_grad, y2.grad_fn.name(), y2.is_leaf)
    print(fwAD.unpack_dual(y).primal.requires_grad, fwAD.unpack_dual(y).primal.grad_fn)
print(y.requires_grad, y.grad_fn, y.is_leaf, d.requires_grad, d.is_leaf)
print(y2.requires_grad, y2.grad_fn.name(), y2.is_leaf, d2.requires_grad)
"""


def test_dual_tensor_attributes_as_torch() -> None:
    out = same_as_torch(_DUAL_ATTRIBUTES)
    assert out.startswith("False None True\nFalse None True None False\n")


def test_requires_grad_of_a_dual_tensor() -> None:
    same_as_torch("""
        import torch
        import torch.autograd.forward_ad as fwAD
        x = torch.tensor([1., 2., 3.]); t = torch.ones(3)
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            e = d * 3
            d.requires_grad_()
            print(d.requires_grad, d.grad_fn, d.is_leaf)
            y = (d * d).sum()
            y.backward()
            print(d.grad, fwAD.unpack_dual(y).tangent.detach(), fwAD.unpack_dual(e).tangent, e.requires_grad)
            d3 = fwAD.make_dual(x, t)
            d3.requires_grad_(False)
            print(d3.requires_grad, fwAD.unpack_dual(d3 * 2).tangent)
            d4 = fwAD.make_dual(x, t)
            d4.requires_grad = True
            print(d4.requires_grad, d4.is_leaf, fwAD.unpack_dual(d4.exp()).tangent)
        print(d.requires_grad, d.is_leaf, d4.requires_grad)
    """)


def test_backward_then_tangent_in_a_dual_level() -> None:
    # torch computed the tangent as the op ran; the engine reads it from the graph, which backward keeps
    same_as_torch("""
        import torch
        import torch.autograd.forward_ad as fwAD
        w = torch.tensor([1., 2., 3.], requires_grad=True); t = torch.ones(3)
        with fwAD.dual_level():
            d = fwAD.make_dual(w, t)
            y = (d * d.exp()).sum()
            y.backward()
            print(w.grad, fwAD.unpack_dual(y).tangent.detach())
            z = (d * d).sum()
            print(fwAD.unpack_dual(torch.autograd.grad(z, w)[0]).primal, fwAD.unpack_dual(z).tangent.detach())
    """)


@pytest.mark.parametrize(
    "line",
    [
        "(d * 2).sum().backward()",
        "torch.autograd.grad((d * 2).sum(), d)",
        "torch.autograd.grad((d * w).sum(), d)",
        "torch.autograd.grad((d * w).sum(), [w, d])",
        "torch.autograd.backward([(d * 2).sum()])",
    ],
)
def test_autograd_refuses_a_dual_tensors_graph(line: str) -> None:
    src = f"""
        import torch
        import torch.autograd.forward_ad as fwAD
        x = torch.tensor([1., 2., 3.]); t = torch.ones(3); w = torch.ones(3, requires_grad=True)
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            try:
                {line}
                print("no error")
            except RuntimeError as e:
                print("RuntimeError", e)
            print(fwAD.unpack_dual(d * 3).tangent)
    """
    out = same_as_torch(src)
    assert out.startswith("RuntimeError")


_NO_FORWARD = {
    "grid_sampler_2d": "F.grid_sample(d, torch.zeros(2, 2, 2, 2), align_corners=False)",
    "_ctc_loss": "F.ctc_loss(d.reshape(4, 2, 12).log_softmax(2), torch.tensor([[1, 2], [3, 4]]), "
    "torch.tensor([4, 4]), torch.tensor([2, 2]))",
    "_embedding_bag": "F.embedding_bag(torch.tensor([[0, 1]]), d.reshape(-1, 4))",
    "_cdist_forward": "torch.cdist(d[0], d[1])",
    "multi_margin_loss": "F.multi_margin_loss(d[:, :, 0, 0], torch.tensor([0, 1]))",
    "multilabel_margin_loss_forward": "F.multilabel_margin_loss(d[:, :, 0, 0], torch.tensor([[0, 1, -1], [1, -1, 0]]))",
    "_unique2": "d.unique()",
    "index_reduce": "torch.zeros(3).index_reduce(0, torch.tensor([0, 1, 0]), d.reshape(-1)[:3], 'prod')",
    "mkldnn_rnn_layer": "torch.nn.LSTM(4, 3)(d[0])[0]",
    "_scaled_dot_product_flash_attention_for_cpu": "F.scaled_dot_product_attention(d, d, d)",
}


@pytest.mark.parametrize("op", list(_NO_FORWARD))
def test_ops_without_a_forward_formula(op: str) -> None:
    # torch refuses as the op runs, the engine where the tangent is read: the same error, the same text
    src = f"""
        import torch
        import torch.autograd.forward_ad as fwAD
        F = torch.nn.functional
        torch.manual_seed(0)
        x = torch.rand(2, 3, 4, 4) + 0.5
        with fwAD.dual_level():
            d = fwAD.make_dual(x, torch.ones_like(x))
            try:
                print(fwAD.unpack_dual({_NO_FORWARD[op]}).tangent)
            except NotImplementedError as e:
                print("NotImplementedError", e)
    """
    out = same_as_torch(src)
    assert out.startswith(f"NotImplementedError Trying to use forward AD with {op} that does not support it")


# ---- a method read off a subclass is its base's function --------------------------------------------------------


def test_inherited_methods_are_the_base_function() -> None:
    out = same_as_torch("""
        import torch
        print(torch.optim.Adam.step)
        print(torch.optim.AdamW.step)
        print(torch.optim.AdamW.step is torch.optim.Adam.step, torch.optim.Adam.step is torch.optim.SGD.step)
        print(torch.optim.Adam.zero_grad is torch.optim.SGD.zero_grad, torch.optim.SGD.zero_grad)
        print(torch.nn.Linear.parameters is torch.nn.Module.parameters, torch.nn.Linear.forward)
        p = torch.nn.Parameter(torch.ones(2))
        opt = torch.optim.AdamW([p])
        print(repr(opt.step).splitlines()[0])
        torch.optim.AdamW.step(opt)
        print(p)
    """)
    assert "<function Adam.step at 0xADDR0>\n<function Adam.step at 0xADDR0>\nTrue False" in _addresses_numbered(out)


def test_torch_func_in_a_dual_level() -> None:
    same_as_torch("""
        import torch
        import torch.autograd.forward_ad as fwAD
        x = torch.tensor([1., 2., 3.]); t = torch.ones(3)
        print(torch.func.jvp(torch.sin, (x,), (t,)))
        with fwAD.dual_level():
            d = fwAD.make_dual(x, t)
            for f in (lambda: torch.func.jvp(torch.sin, (d,), (t,)),
                      lambda: torch.func.jvp(lambda a: a * d, (x,), (t,)),
                      lambda: torch.func.jacfwd(torch.sin)(x), lambda: torch.func.linearize(torch.sin, x),
                      lambda: torch.func.hessian(lambda a: a.sin().sum())(x)):
                try:
                    print(f())
                except RuntimeError as e:
                    print("RuntimeError", e)
            print(torch.func.grad(lambda a: (a * a).sum())(d))
            print(torch.func.jacrev(torch.sin)(x), torch.autograd.functional.jvp(torch.sin, (x,), (t,)))
    """)


# ---- recursion: as deep as Python's ------------------------------------------------------------------------------

_DEEP = """
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def deep(n):
    return 0 if n == 0 else deep(n - 1) + 1
print(fact(900) % 1000003, fib(18), deep(998))
def outer():
    return deep(997)
print(outer())
for n in (999, 5000):
    try:
        deep(n)
    except RecursionError as e:
        print("RecursionError", e)
"""


def test_recursion_as_deep_as_python() -> None:
    import subprocess
    import sys

    status, out, err = run_tsr(_DEEP)
    assert status == 0, err
    python = subprocess.run([sys.executable, "-c", _DEEP], capture_output=True, text=True, check=True, timeout=60)
    assert out == python.stdout
    assert out.endswith("RecursionError maximum recursion depth exceeded\n" * 2)


_RECURSIONS = {
    "plain": "def f(n):\n    return 0 if n == 0 else f(n - 1) + 1\nprint(f(D))\n",
    "sort key": "def f(n):\n    return 0 if n == 0 else sorted([n - 1], key=f)[0] + 1\nprint(f(D))\n",
    "map": "def f(n):\n    return 0 if n == 0 else list(map(f, [n - 1]))[0] + 1\nprint(f(D))\n",
    "__call__": "class A:\n    def __call__(self, n):\n        return 0 if n == 0 else self(n - 1) + 1\n"
    "print(A()(D))\n",
    "__repr__": "class A:\n    def __init__(self, n):\n        self.n = n\n    def __repr__(self):\n"
    "        return '0' if self.n == 0 else repr(A(self.n - 1))\nprint(repr(A(D)))\n",
    "module": "import torch\nclass M(torch.nn.Module):\n    def forward(self, n):\n"
    "        return 0 if n == 0 else self(n - 1) + 1\nprint(M()(D))\n",
    "generator": "def f(n):\n    return 0 if n == 0 else sum(f(n - 1) for _ in range(1)) + 1\nprint(f(D))\n",
    "nested list": "a = []\nfor i in range(D * 40):\n    a = [a]\nprint(len(repr(a)))\n",
}


@pytest.mark.parametrize("kind", list(_RECURSIONS))
def test_deep_recursion_never_crashes(kind: str) -> None:
    # tcli run and an embedded session (the default 8 MiB stack of pytest's process): a clean RecursionError at
    # 5000 (the Python frames several thousand deep: no C stack overflow), a result at 300
    import subprocess
    import sys

    src = _RECURSIONS[kind]
    p = subprocess.run([sys.executable, "-m", "tcli", "run", "-c", src.replace("D", "5000")], capture_output=True,
                       text=True, timeout=300)  # fmt: skip
    assert p.returncode == 1, (p.returncode, p.stderr[-500:])
    assert "RecursionError: maximum recursion depth exceeded" in p.stderr.splitlines()[0]
    status, _, err = run_tsr(src.replace("D", "5000"))
    assert status == 1 and "RecursionError: maximum recursion depth exceeded" in err.splitlines()[0]
    if kind != "nested list":
        status, out, err = run_tsr(src.replace("D", "300"))
        assert (status, err) == (0, "") and out.strip() in ("300", "0")


# ---- torch's argument-parser errors for the usual slips ----------------------------------------------------------

_SLIPS = [
    "x.sum(dim='a')", "x.sum('a')", "torch.zeros(2, dtype=3)", "x.view('a')", "torch.cat(x)", "x.reshape(2, 'a')",
    "x.mean('a')", "x.mean(dim=1.5)", "x.max('a')", "x.softmax('a')", "x.transpose(0, 'a')", "x.permute('a')",
    "x.unsqueeze('a')", "x.squeeze('a')", "x.flatten('a')", "torch.ones('a')", "torch.ones(2, 'a')",
    "torch.arange('a')", "x.expand('a')", "x.repeat('a')", "x.argmax(dim='a')", "x.cumsum('a')", "x.std('a')",
    "torch.stack(x)", "torch.cat([x, x], dim='a')", "x.index_select('a', torch.tensor([0]))", "x.gather(1, 'a')",
    "x.clamp('a')", "x.pow('a')", "x.add('a')", "torch.matmul(x, 'a')", "x.mm('a')", "x.narrow('a', 0, 1)",
    "x.chunk('a')", "x.topk('a')", "x.sort(dim='a')", "torch.full((2,), 'a')", "x.view(2, 3.0)", "x.reshape((2, 3.0))",
    "torch.zeros((2, 'a'))", "x.sum(1, keepdim='a')", "x.type(3)", "x.new_zeros('a')", "torch.eye('a')",
    "torch.linspace(0, 1, 'a')", "x.masked_fill('a', 1)", "torch.where('a', x, x)", "x.flip('a')", "x.roll('a')",
    "x.var(dim='a')", "x.prod('a')", "x.all('a')", "x.any(dim='a')", "x.min(dim='a')", "x.logsumexp('a')",
    "torch.sum(x, 'a')", "torch.sum(x, dim='a')", "torch.mean(x, 'a')", "torch.ones(2, requires_grad='a')",
    "x.unflatten('a', (1, 3))", "x.movedim('a', 0)", "x.view(-1, None)", "x.sum(None, 'a')", "torch.max(x, 'a')",
    "x.select('a', 0)", "x.diagonal('a')", "x.tril('a')", "x.softmax(1, 'a')", "x.topk(1, 0, 'a')",
    "x.argmax(0, 'a')", "torch.softmax(x, 'a')", "x.sum(1, 'a')", "x.sum(1, True, 'a')", "x.unsqueeze(dim='a')",
    "x.cumsum(0, dtype=3)", "torch.full('a', 1)", "x.chunk(2, 'a')", "x.diagonal(0, 'a')",
    # a list first and more after: torch's "takes 1 positional argument" (an int first: the ints are one size)
    "torch.zeros((2, 3), (4,))", "torch.zeros(2, (4,))", "torch.zeros([2], [3])", "x.reshape((2, 3), 1)",
    "x.reshape(2, (3,))", "torch.ones((2,), 3, 4)", "x.repeat((2,), 2)", "x.permute((0,), 1)",
]  # fmt: skip
# (and where the parser takes the arguments, the op's own error or result stands)
_FINE = ["x.sum(1, True)", "x.sum(dim=(0, 1))", "x.sum(5)", "x.permute(1, 0)", "x.expand(2, -1)", "x.max(x)",
         "x.std(unbiased=False)", "torch.where(x > 0, x, 0.0)", "torch.linspace(0, 1, steps=3)", "x.pow(2)",
         "x.add(1)", "x.topk(k=2)", "torch.cat((x, x), 0)", "x.flip(0, 1)", "x.unsqueeze(9)", "x.view(5)"]  # fmt: skip


def _slip_script(cases: list[str]) -> str:
    lines = ["import torch", "x = torch.ones(2, 3)"]
    for c in cases:
        lines += ["try:", f"    r = {c}", f"    print({c!r}, 'ok')", "except Exception as e:",
                  f"    print({c!r}, type(e).__name__, repr(str(e)))"]  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("cases", [_SLIPS, _FINE], ids=["slips", "fine"])
def test_argument_parser_errors_as_torch(cases: list[str]) -> None:
    out = same_as_torch(_slip_script(cases))
    assert len(out.splitlines()) == len(cases)


def test_dual_tensor_in_tcli_views() -> None:
    # tcli's own views (graph(), show(), a leaf's .grad) say what torch's attributes say
    src = """
        import torch
        import torch.autograd.forward_ad as fwAD
        with fwAD.dual_level():
            d = fwAD.make_dual(torch.tensor([1., 2., 3.]), torch.ones(3))
            y = d * 2
            print(y.grad, d.grad)
            graph(y)
            show(y)
    """
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "None None"
    assert lines[1] == "y: no autograd graph (requires_grad=False)  shape=(3,)"
    assert "requires_grad=False" in lines[2]


def _table_slips() -> list[str]:
    """Slips for every function of engine/ops/arg_parser's table: a wrong type at each of the first positions
    and for each keyword."""
    from engine.ops.arg_parser import SIGNATURES, _params

    cases = []
    for (kind, name), sigs in SIGNATURES.items():
        call = f"x.{name}(" if kind == "method" else f"torch.{name}("
        if kind == "function" and ("Tensor input" in sigs[0] or "Tensor condition" in sigs[0]):
            call += "x, "
        for bad in ("'a'", "1.5", "None", "[0.5]", "x"):
            cases += [f"{call}{bad})", f"{call}0, {bad})", f"{call}0, 1, {bad})"]
        for param in sorted({p.name for s in sigs for p in _params(s.removeprefix("hidden:"))} - {"input", "out"}):
            cases += [f"{call}{param}='a')", f"{call}0, {param}='a')"]
    return cases


#: where tcli's op raises an error of its own that torch's parser would not have (the parser takes the arguments)
_OWN_ERRORS = {"x.index_select(0, x)", "x.unflatten(0, None)", "x.unflatten(0, x)", "torch.index_select(x, 0, x)"}


def test_argument_parser_table_against_torch() -> None:
    # every slip the engine refuses is refused in torch's words (where the engine takes what torch refuses, it
    # runs: the engine's leniency, not the parser's wording)
    cases = _table_slips()
    status, out, err = run_tsr(_slip_script(cases))
    assert status == 0, err
    expected = run_torch(_slip_script(cases)).splitlines()
    got = [line for line in out.splitlines() if line.startswith(("x.", "torch."))]
    assert len(got) == len(expected) == len(cases)
    wrong = [(c, e, g) for c, e, g in zip(cases, expected, got) if e != g and not g.endswith(" ok") and
             c not in _OWN_ERRORS]  # fmt: skip
    assert not wrong, wrong[:5]
    assert sum(e == g for e, g in zip(expected, got)) > 0.9 * len(cases)
