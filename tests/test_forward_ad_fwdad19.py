"""torch.autograd.forward_ad (engine/forward_ad.py): dual tensors, their tangents, printing and errors, against
real torch; and the forward-mode AD tutorial run as a tsr script."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import engine
from tcli import policy
from tcli.session import Session

efw = engine.autograd.forward_ad

rng = np.random.default_rng(0)
P = rng.standard_normal((3, 4)).astype(np.float32)
T = rng.standard_normal((3, 4)).astype(np.float32)
W = rng.standard_normal((5, 4)).astype(np.float32)
B = rng.standard_normal(5).astype(np.float32)
Y = rng.standard_normal((3, 4)).astype(np.float32)


def _ops(lib: object) -> dict:
    F = lib.nn.functional  # noqa: N806

    def c(a: np.ndarray) -> object:
        return lib.tensor(a)

    return {
        "add": lambda x: x + c(Y), "mul": lambda x: x * c(Y), "div": lambda x: x / 3.0, "pow2": lambda x: x ** 2,
        "sq": lambda x: x * x, "rsub": lambda x: 1 - x, "sin": lib.sin, "cos": lib.cos, "exp": lib.exp,
        "log": lambda x: lib.log(x.abs()), "tanh": lib.tanh, "sigmoid": lib.sigmoid, "relu": F.relu,
        "sqrt": lambda x: x.abs().sqrt(), "abs": lib.abs, "mm": lambda x: x @ c(W).T,
        "linear": lambda x: F.linear(x, c(W), c(B)), "sum": lambda x: x.sum(), "sum1": lambda x: x.sum(1),
        "view": lambda x: x.view(4, 3), "T": lambda x: x.T, "idx": lambda x: x[1:, 2], "flat": lambda x: x.reshape(-1),
        "tutorial": lambda x: x ** 2 + c(Y) ** 2, "max": lambda x: x.max(1).values,
        "transpose": lambda x: x.transpose(0, 1), "cat": lambda x: lib.cat([x, x * 2]),
    }  # fmt: skip


# composites whose forward formula in torch sums in another order than the transposed backward: last-ulp equal
_CLOSE = {
    "mean": lambda lib: lambda x: x.mean(),
    "mse": lambda lib: lambda x: lib.nn.functional.mse_loss(x, lib.tensor(Y)),
    "softmax": lambda lib: lambda x: lib.nn.functional.softmax(x, dim=1),
    "log_softmax": lambda lib: lambda x: lib.nn.functional.log_softmax(x, dim=1),
    "gelu": lambda lib: lambda x: lib.nn.functional.gelu(x),
    "cross_entropy": lambda lib: lambda x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 2, 3])),
    "norm": lambda lib: lambda x: x.norm(),
    "rdiv": lambda lib: lambda x: lib.tensor(Y) / x,
}


def _unpacked(lib: object, fw: object, fn: object) -> tuple[np.ndarray, np.ndarray]:
    with fw.dual_level():
        out = fw.unpack_dual(fn(fw.make_dual(lib.tensor(P), lib.tensor(T))))
        return out.primal.numpy(), out.tangent.numpy()


@pytest.mark.parametrize("name", list(_ops(torch)))
def test_tangents_bit_for_bit(name: str) -> None:
    tp, tt = _unpacked(torch, tfw, _ops(torch)[name])
    ep, et = _unpacked(engine, efw, _ops(engine)[name])
    assert ep.dtype == tp.dtype and et.shape == tt.shape
    assert ep.tobytes() == tp.tobytes()
    assert et.tobytes() == tt.tobytes()


@pytest.mark.parametrize("name", list(_CLOSE))
def test_tangents_close(name: str) -> None:
    tp, tt = _unpacked(torch, tfw, _CLOSE[name](torch))
    ep, et = _unpacked(engine, efw, _CLOSE[name](engine))
    assert ep.tobytes() == tp.tobytes()
    np.testing.assert_allclose(et, tt, rtol=1e-6, atol=1e-7)


def _both(src: str) -> tuple[str, str]:
    """The printed output of src run with torch and with the engine (`torch` and `fwAD` bound in each)."""
    out = []
    for lib, fw in ((torch, tfw), (engine, efw)):
        buf = io.StringIO()
        scope = {"torch": lib, "fwAD": fw, "P": P, "T": T, "print": lambda *a, buf=buf: print(*a, file=buf)}
        exec(textwrap.dedent(src), scope)  # noqa: S102 - the test's own source, run against both libraries
        out.append(buf.getvalue())
    return out[0], out[1]


def test_printing_matches_torch() -> None:
    t, e = _both("""
        p, t = torch.tensor(P[0]), torch.tensor(T[0])
        with fwAD.dual_level():
            d = fwAD.make_dual(p, t)
            print(d)
            print(d * 2, d.sin())
            print(d[:2], d.sum(), d.view(2, 2))
            print(fwAD.unpack_dual(d * 3))
            print(fwAD.unpack_dual(p))
            print(fwAD.make_dual(torch.tensor(P), torch.tensor(T)))
            print(fwAD.make_dual(p, t.double()))
            print(fwAD.unpack_dual(fwAD.make_dual(p, t.double()) * 3))
            print(d.argmax(), d > 0, d.detach())
            r = torch.tensor(P[1], requires_grad=True)
            d2 = fwAD.make_dual(r, t)
            print(d2, (d2 * torch.tensor(P[2])).detach())
            print(fwAD.unpack_dual(d2.sum()).primal)
            o = d * 2
        print(o, d)
        print(fwAD.unpack_dual(o))
    """)
    assert e == t


def test_tangent_identity_and_layout() -> None:
    for lib, fw in ((torch, tfw), (engine, efw)):
        p, t = lib.tensor(P), lib.tensor(T.T.copy())
        tt = lib.tensor(T)
        with fw.dual_level():
            assert fw.unpack_dual(fw.make_dual(p, tt)).tangent is tt
            alt = fw.unpack_dual(fw.make_dual(p, t.T)).tangent
            assert alt is not t and alt.is_contiguous()
            assert (alt == t.T).all()
            assert fw.unpack_dual(lib.ones(2)).tangent is None
            assert fw.unpack_dual(fw.make_dual(p, tt) > 0).tangent is None
            u = fw.unpack_dual(fw.make_dual(p, tt))
            assert isinstance(u, fw.UnpackedDualTensor) and u._fields == ("primal", "tangent")
            out = fw.make_dual(p, tt).exp()
        assert fw.unpack_dual(out).tangent is None
        assert fw.unpack_dual(out).primal is out


def _error(lib: object, fw: object, src: str) -> tuple[type, str]:
    try:
        exec(textwrap.dedent(src), {"torch": lib, "fwAD": fw, "F": lib.nn.functional})  # noqa: S102
    except Exception as e:  # noqa: BLE001
        return type(e), str(e)
    raise AssertionError("no error")


@pytest.mark.parametrize(
    "src",
    [
        "fwAD.make_dual(torch.ones(2), torch.ones(2))",
        "with fwAD.dual_level():\n    with fwAD.dual_level():\n        pass",
        "with fwAD.dual_level():\n    fwAD.make_dual(torch.ones(3), torch.ones(2))",
        "with fwAD.dual_level():\n    fwAD.make_dual(torch.ones(3), torch.ones(3, dtype=torch.int64))",
        "with fwAD.dual_level():\n    fwAD.make_dual(torch.ones(3, dtype=torch.int64), torch.ones(3))",
        "with fwAD.dual_level():\n    fwAD.exit_dual_level(level=3)",
        "with fwAD.dual_level():\n    d = fwAD.make_dual(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2))\n"
        "    fwAD.unpack_dual(F.grid_sample(d, torch.zeros(1, 1, 1, 2), align_corners=False))",
    ],
)
def test_errors_match_torch(src: str) -> None:
    assert _error(engine, efw, src) == _error(torch, tfw, src)


def test_levels() -> None:
    for fw in (tfw, efw):
        assert fw.enter_dual_level() == 0
        fw.exit_dual_level()
        with fw.dual_level() as lvl:
            assert lvl == 0
        assert fw.unpack_dual(engine.ones(1)).tangent is None


def test_modules_with_dual_parameters() -> None:
    """The tutorial's two ways: parameters replaced by dual tensors, and torch.func.functional_call."""
    res = []
    for lib, fw in ((torch, tfw), (engine, efw)):
        lib.manual_seed(0)
        model = lib.nn.Linear(5, 5)
        x = lib.randn(16, 5)
        params = dict(model.named_parameters())
        tangents = {name: lib.rand_like(p) for name, p in params.items()}
        with fw.dual_level():
            dual = {name: fw.make_dual(p, tangents[name]) for name, p in params.items()}
            out = lib.func.functional_call(model, dual, (x,))
            a = fw.unpack_dual(out).tangent.detach().numpy()
            for name, p in params.items():
                delattr(model, name)
                setattr(model, name, fw.make_dual(p, tangents[name]))
            b = fw.unpack_dual(model(x)).tangent.detach().numpy()
            loss = lib.nn.functional.mse_loss(model(x), lib.zeros(16, 5))
            u = fw.unpack_dual(loss)
            c = u.tangent.detach().numpy()
            assert u.primal.requires_grad and repr(u.primal.grad_fn.name()).endswith("Identity'")
        res.append((a, b, c))
    (ta, tb, tc), (ea, eb, ec) = res
    assert ea.tobytes() == ta.tobytes() and eb.tobytes() == tb.tobytes()
    np.testing.assert_allclose(ec, tc, rtol=1e-6)


TUTORIAL = """\
import torch
import torch.autograd.forward_ad as fwAD
from torch.func import functional_call

torch.manual_seed(0)
primal = torch.randn(4, 4)
tangent = torch.randn(4, 4)

def fn(x, y):
    return x ** 2 + y ** 2

with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    assert fwAD.unpack_dual(dual_input).tangent is tangent
    dual_input_alt = fwAD.make_dual(primal, tangent.T)
    assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
    plain_tensor = torch.randn(4, 4)
    dual_output = fn(dual_input, plain_tensor)
    print(dual_output)
    jvp = fwAD.unpack_dual(dual_output).tangent
    p, t = fwAD.unpack_dual(dual_output)
    print(jvp, p)
    print(fwAD.unpack_dual(dual_output))
assert fwAD.unpack_dual(dual_output).tangent is None
print(dual_output)

model = torch.nn.Linear(5, 5)
params = {name: p for name, p in model.named_parameters()}
tangents = {name: torch.rand_like(p) for name, p in params.items()}
with fwAD.dual_level():
    dual_params = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
    out = functional_call(model, dual_params, torch.randn(2, 5))
    print(fwAD.unpack_dual(out).tangent.detach())
try:
    fwAD.make_dual(primal, tangent)
except RuntimeError as e:
    print(e)
"""


def test_tutorial_as_tsr_script() -> None:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False, limits=policy.Limits())  # type: ignore[arg-type]
    assert session.run_source(TUTORIAL, "<test>") == 0, err.getvalue()
    expected = subprocess.run([sys.executable, "-c", TUTORIAL], capture_output=True, text=True, check=True).stdout
    assert out.getvalue() == expected


def test_not_covered_no_more() -> None:
    assert engine.autograd.forward_ad is efw
    assert "autograd.forward_ad" in policy.TORCH_SUBMODULES


CUSTOM = """
class Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        result = torch.exp(foo)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        del ctx.result
        return gO

class NoJvp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2

class Bad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2

    @staticmethod
    def jvp(ctx, g):
        return g * 3

torch.manual_seed(0)
primal = torch.randn(3, dtype=torch.double, requires_grad=True)
tangent = torch.randn(3, dtype=torch.double)
with fwAD.dual_level():
    dual_output = Fn.apply(fwAD.make_dual(primal, tangent))
    print(fwAD.unpack_dual(dual_output).tangent)
    print(fwAD.unpack_dual(dual_output.sin() * 2).tangent.detach())
    d = fwAD.make_dual(torch.ones(2), torch.ones(2))
    print(fwAD.unpack_dual(Fn.apply(d)))
    try:
        NoJvp.apply(d)
    except NotImplementedError as e:
        print(e)
print(torch.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True, check_backward_ad=False,
                               check_undefined_grad=False, check_batched_grad=False))
x = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
print(torch.autograd.gradcheck(lambda x: (x.sin() * x).sum(1), (x,), check_forward_ad=True))
try:
    torch.autograd.gradcheck(Bad.apply, (torch.ones(2, dtype=torch.double, requires_grad=True),), check_forward_ad=True)
except Exception as e:
    print(type(e).__name__, e)
print(torch.autograd.gradgradcheck(lambda x: (x.sin() * x).sum(), (x[0].detach().requires_grad_(),),
                                   check_fwd_over_rev=True))
"""


def test_custom_function_jvp_and_gradcheck() -> None:
    """The tutorial's custom Function with a jvp staticmethod, and gradcheck(check_forward_ad=True)."""
    t, e = _both(CUSTOM)
    assert e == t


BEHAVIOUR = """
def tr(f):
    try:
        print(f())
    except Exception as e:
        print(type(e).__name__, e)

with fwAD.dual_level():
    d = fwAD.make_dual(torch.tensor([1., 2.]), torch.tensor([1., 0.]))
    o = d * 3
    tr(lambda: o.numpy())
    tr(lambda: o.tolist())
    tr(lambda: o.sum().item())
    tr(lambda: o.sum().backward())
    tr(lambda: torch.autograd.backward([o.sum()]))
    def inplace():
        d.mul_(2)
        return fwAD.unpack_dual(d)
    tr(inplace)
    def setitem():
        z = torch.zeros(2)
        z[0] = d[1]
        return fwAD.unpack_dual(z)
    tr(setitem)
    def iadd():
        z = d * 1
        z += 1
        return fwAD.unpack_dual(z)
    tr(iadd)
    tr(lambda: fwAD.unpack_dual(o.clone()))
    tr(lambda: fwAD.unpack_dual(torch.stack([d, d])))
    tr(lambda: fwAD.unpack_dual(d.to(torch.float64)))
    tr(lambda: fwAD.unpack_dual(torch.where(d > 1, d, d * 2)))
    tr(lambda: type(fwAD.unpack_dual(d)))
    print(d, o)
print(d, o, o.numpy())
"""


def test_dual_tensor_behaviour() -> None:
    """numpy() and backward() of a dual tensor whose primal needs no grad, in-place ops on dual tensors."""
    t, e = _both(BEHAVIOUR)
    assert e == t


def test_hooks_leave_with_the_last_hidden_graph() -> None:
    """Printing, backward() and numpy() go back to their plain paths once no dual tensor's graph is alive."""
    import gc

    from engine import autograd, printing

    tensor_module = sys.modules["engine.tensor"]
    with efw.dual_level():
        d = efw.make_dual(engine.ones(2), engine.ones(2))
        o = (d * 2).sum()
        assert autograd.FORWARD_AD[0] is not None and printing.FORWARD_AD[0] is not None
    assert repr(o) == "tensor(4.)"
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        o.backward()
    del d, o
    gc.collect()
    assert autograd.FORWARD_AD[0] is None and printing.FORWARD_AD[0] is None
    assert tensor_module.FORWARD_AD[0] is None
