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
            for f in (lambda: torch.func.jvp(torch.sin, (d,), (t,)), lambda: torch.func.jvp(lambda a: a * d, (x,), (t,)),
                      lambda: torch.func.jacfwd(torch.sin)(x), lambda: torch.func.linearize(torch.sin, x),
                      lambda: torch.func.hessian(lambda a: a.sin().sum())(x)):
                try:
                    print(f())
                except RuntimeError as e:
                    print("RuntimeError", e)
            print(torch.func.grad(lambda a: (a * a).sum())(d))
            print(torch.func.jacrev(torch.sin)(x), torch.autograd.functional.jvp(torch.sin, (x,), (t,)))
    """)
