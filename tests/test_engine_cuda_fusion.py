"""Fused elementwise chains on cuda (engine/ops/fusion.py), checked under the cupy emulator, whose
ElementwiseKernel evaluates the generated C expression with numpy's per-operation rounding: a fused chain must
give the very bits the same ops give one at a time, and must never see a later write into its inputs.

Runs only under TCLI_FAKE_CUPY=1 (CI does, from tests/test_engine_fakecuda.py and .ci/run); the whole cuda half
of the engine suite also runs with TCLI_FUSE_MIN_NUMEL=0 in .ci/run, so every op there meets pending tensors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("TCLI_FAKE_CUPY") != "1", reason="checks generated kernels in the cupy emulator: TCLI_FAKE_CUPY=1"
)

if os.environ.get("TCLI_FAKE_CUPY") == "1":
    import fakecupy

    import engine as torch
    from engine.ops import fusion


@pytest.fixture(autouse=True)
def fuse_everything(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(fusion, "MIN_NUMEL", 0)
    torch.manual_seed(0)
    yield
    fusion.flush()


def _pair(*shapes: tuple, dtype: Any = None) -> tuple[list, list]:
    dtype = dtype or torch.float32
    cpu = [torch.randn(*s, dtype=dtype) for s in shapes]
    return cpu, [t.cuda() for t in cpu]


def _same(a: Any, b: Any) -> bool:
    x, y = a.cpu().numpy(), b.cpu().numpy()
    return x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y, equal_nan=True)


CHAINS: dict[str, Callable[..., Any]] = {
    "bench chain": lambda x, y, z: torch.tanh(2 * torch.sigmoid((x * y + z).exp() * 0.5) - 1),
    "issue chain": lambda x, y, z: (x * y + z).exp(),
    "reflected": lambda x, y, z: 1 - 2 / (3 + x) - y,
    "powers": lambda x, y, z: x**2 + y.abs() ** 0.5 + z.abs() ** 1.5 + x**-1,
    "unary mix": lambda x, y, z: -(x.sin() * y.cos()) + torch.sqrt(z * z + 1).log() + x.tanh(),
    "shared input": lambda x, y, z: (x * x) * (x + x) - x,
    "methods": lambda x, y, z: x.mul(y).add(z).div(2).sub(1),
    "chained pending operands": lambda x, y, z: (x + 1) * (y - 1) / ((z + 2) * (x - 3)),
}


@pytest.mark.parametrize("name", list(CHAINS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_fused_chain_gives_the_op_by_op_bits(name: str, dtype: str) -> None:
    (xc, yc, zc), (x, y, z) = _pair((5, 7), (5, 7), (7,), dtype=getattr(torch, dtype))
    got = CHAINS[name](x, y, z)
    assert type(got) is fusion.Pending  # one recipe, not yet run
    fusion.MIN_NUMEL = 1 << 62  # the same ops one at a time on the device (the cpu's pow is torch's own kernel)
    try:
        want = CHAINS[name](x, y, z)
    finally:
        fusion.MIN_NUMEL = 0
    assert type(want) is torch.Tensor
    assert _same(got, want)
    assert type(got) is torch.Tensor  # reading it ran the recipe, once
    assert not fusion.ERRORS, fusion.ERRORS


def test_one_kernel_per_recipe_shape_reused_across_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fusion, "_KERNELS", {})
    (_, _, _), (x, y, z) = _pair((4, 4), (4, 4), (4, 4))
    for _ in range(3):
        (x * y + z).exp().sum()
    assert len(fusion._KERNELS) == 1
    body = fusion.source(fusion._SLOT.__get__((x * y + z).exp()))[0]
    assert body == "exp(tcli_add(tcli_mul(in0, in1), in2))"


def test_kernels_never_contract_a_multiply_and_an_add() -> None:
    # a*b+c in plain C may become one fma (rounded once); the ops one by one round twice
    x = torch.randn(3, device="cuda")
    body = fusion.source(fusion._SLOT.__get__(x * 3 + 1))[0]
    assert body == "tcli_add(tcli_mul(in0, c0), c1)"
    assert "__fmul_rn(a, b)" in fusion._PREAMBLE and "__fadd_rn(a, b)" in fusion._PREAMBLE


def test_what_a_recipe_reads_is_fixed_when_it_is_made() -> None:
    (xc, yc), (x, y) = _pair((3, 4), (3, 4))
    writes: list[Callable[[], Any]] = [
        lambda: x.add_(1),
        lambda: x.mul_(y),
        lambda: x.__setitem__(0, 5.0),
        lambda: x.zero_(),
        lambda: x.copy_(y),
        lambda: x.clamp_(0, 1),
        lambda: torch.mul(y, 2, out=x),
    ]
    for write in writes:
        before = x.cpu()
        pending = x * 2 + 1
        write()
        assert _same(pending, before * 2 + 1)


def test_a_view_write_and_a_noqrad_update_are_seen_too() -> None:
    _, (x,) = _pair((4,))
    before = x.cpu()
    pending = x.exp()
    x[1:].add_(3)  # through a view of the input
    assert _same(pending, before.exp())
    w = torch.randn(4, device="cuda", requires_grad=True)
    (w * 2).sum().backward()
    g_before = w.grad.cpu()
    scaled = w.grad * 0.5  # pending on the .grad array
    (w * 3).sum().backward()  # accumulates into that same array
    assert _same(scaled, g_before * 0.5)


def test_no_recipe_where_a_graph_is_recorded() -> None:
    _, (x,) = _pair((3,))
    w = torch.randn(3, device="cuda", requires_grad=True)
    y = x * w + 1
    assert type(y) is torch.Tensor and y.grad_fn is not None
    y.sum().backward()
    assert _same(w.grad, x)
    with torch.no_grad():
        assert type(x * w + 1) is fusion.Pending


def test_small_tensors_cpu_tensors_ints_and_mixed_dtypes_run_op_by_op(monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.randn(3, device="cuda")
    assert type(torch.randn(3) * 2) is torch.Tensor
    assert type(torch.arange(3, device="cuda") * 2) is torch.Tensor
    assert type(x * x.double()) is torch.Tensor
    assert type(x * True) is torch.Tensor
    monkeypatch.setattr(fusion, "MIN_NUMEL", 1 << 16)
    assert type(x * 2) is torch.Tensor
    big = torch.zeros(1 << 16, device="cuda")
    assert type(big * 2) is fusion.Pending
    assert type(torch.zeros(256, 1, device="cuda") + torch.zeros(256, device="cuda")) is fusion.Pending  # 65536


def test_a_pending_tensor_acts_as_a_tensor() -> None:
    (xc,), (x,) = _pair((2, 3))
    for use in (
        lambda t: t.shape,
        lambda t: t.dtype,
        lambda t: str(t),
        lambda t: t.sum(),
        lambda t: t[0, 1:],
        lambda t: t.t() @ t,
        lambda t: t.reshape(3, 2),
        lambda t: t.max(1),
        lambda t: torch.cat([t, t]),
        lambda t: t > 0,
        lambda t: t.tolist(),
        lambda t: isinstance(t, torch.Tensor),
    ):
        got, want = use(x * 2 - 1), use(xc * 2 - 1)
        if isinstance(want, torch.Tensor) and want.shape == (3, 3) and want.dtype.is_floating_point:
            # (the matrix product: the cpu adds in MKL's order, the device in its BLAS's, last bits apart)
            assert got.shape == want.shape and np.allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6, atol=0)
        elif isinstance(want, torch.Tensor):
            assert _same(got, want)
        elif isinstance(want, tuple) and hasattr(want, "values"):
            assert _same(got.values, want.values) and _same(got.indices, want.indices)
        elif isinstance(want, str):
            assert got == want.replace(")", ", device='cuda:0')") if "tensor(" in want else got == want
        else:
            assert got == want
    p = x * 2
    p.requires_grad_()
    (p * p).sum().backward()
    assert _same(p.grad, xc * 4)


def test_an_unbuildable_kernel_falls_back_to_op_by_op(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("nvrtc: compilation failed")

    monkeypatch.setattr(fakecupy._MODULE, "ElementwiseKernel", broken)
    monkeypatch.setattr(fusion, "_KERNELS", {})
    monkeypatch.setattr(fusion, "_FAILED", set())
    monkeypatch.setattr(fusion, "ERRORS", [])
    (xc, yc), (x, y) = _pair((3,), (3,))
    assert _same((x * y).exp(), (xc * yc).exp())
    assert len(fusion.ERRORS) == 1 and "compilation failed" in fusion.ERRORS[0][1]
    assert _same((x * y).exp(), (xc * yc).exp())  # the failure is remembered, not retried
    assert len(fusion.ERRORS) == 1


def test_long_chains_are_cut_into_bounded_kernels() -> None:
    (xc,), (x,) = _pair((8,))
    w, wc = torch.zeros(8, device="cuda"), torch.zeros(8)
    for _ in range(100):
        w, wc = w * 0.9 + x, wc * 0.9 + xc
    assert fusion._SLOT.__get__(w).nodes <= fusion.MAX_NODES
    assert _same(w, wc)


def test_past_the_kernel_budget_new_recipes_run_op_by_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fusion, "_KERNELS", {})
    monkeypatch.setattr(fusion, "MAX_KERNELS", 1)
    (xc,), (x,) = _pair((5,))
    assert _same(x * 2 + 1, xc * 2 + 1)
    assert _same((x - 1).exp(), (xc - 1).exp())  # a second shape: not compiled, still right
    assert len(fusion._KERNELS) == 1 and not fusion.ERRORS
    assert _same(x * 3 + 2, xc * 3 + 2)  # the first shape's kernel is still used


def test_a_tsr_script_sees_pending_tensors_as_torch_tensors() -> None:
    import io

    from tcli.session import Session

    src = (
        "import torch\n"
        "x = torch.arange(6.0).reshape(2, 3).to('cuda')\n"
        "y = (x * 2 + 1).exp() / 100\n"
        "print(type(y), type(y) is torch.Tensor, isinstance(y, torch.Tensor))\n"
        "print(y)\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert Session(stdout=out, stderr=err, color=False).run_source(src, "<test>") == 0, err.getvalue()
    assert out.getvalue() == (
        "<class 'torch.Tensor'> True True\n"
        "tensor([[2.7183e-02, 2.0086e-01, 1.4841e+00],\n"
        "        [1.0966e+01, 8.1031e+01, 5.9874e+02]], device='cuda:0')\n"
    )


def test_unread_pending_tensors_leave_nothing_behind() -> None:
    fusion.flush()
    x = torch.randn(4, device="cuda")
    for _ in range(1000):
        x * 2 + 1  # never read
    assert len(fusion._LIVE) == 0
    kept = [x * k for k in range(3)]
    assert len(fusion._LIVE) == 3
    kept[0].tolist()
    assert len(fusion._LIVE) == 2


def test_tensor_op_pending_keeps_the_forward_ops_rules() -> None:
    (wc, xc), (w, x) = _pair((300,), (300,))
    wc.requires_grad_()
    w.requires_grad_()
    for f in (lambda a, p: a - p, lambda a, p: a / p, lambda a, p: a + p, lambda a, p: a * p):
        got, want = f(w, x * 2), f(wc, xc * 2)  # Python asks the pending operand's reflected method first
        assert got.grad_fn is not None and got.grad_fn.name() == want.grad_fn.name()
        got.sum().backward()
        want.sum().backward()
        assert _same(w.grad, wc.grad)
    a, b = torch.ones(5, 3, device="cuda"), torch.ones(3, 5, device="cuda")
    for f in (lambda a, b: a - b, lambda a, b: a + b, lambda a, b: a / b):
        with pytest.raises(RuntimeError) as plain:
            f(a, b)
        with pytest.raises(RuntimeError) as fused:
            f(a, b * 2)
        assert str(fused.value) == str(plain.value)
    with pytest.raises(RuntimeError) as e:
        torch.ones(3) - torch.ones(3, device="cuda") * 2
    assert "cpu and cuda:0" in str(e.value)


def test_scalar_over_a_pending_tensor_rounds_as_torch_does() -> None:
    (xc,), (x,) = _pair((100_000,))
    got, want = 3.0 / (x + 0), 3.0 / (xc + 0)  # torch: reciprocal(x) * 3
    assert type(got) is fusion.Pending
    assert _same(got, want)
    assert _same(0.5 / (x * 1e-38), 0.5 / (xc * 1e-38))  # where c / x and reciprocal(x) * c part ways


def test_an_op_that_raises_raises_at_the_op_and_leaves_no_trace() -> None:
    _, (x, y) = _pair((4,), (4,))
    with pytest.raises(OverflowError):
        (x * 2) + 10**400
    y.add_(1)  # nothing deferred to fail here
    torch.cuda.synchronize()
    assert type((x * 2) + 1) is fusion.Pending and not fusion.ERRORS


def test_a_hook_snapshot_of_a_grad_is_not_changed_by_the_accumulation() -> None:
    x = torch.ones(4, device="cuda", requires_grad=True)
    (x * 2).sum().backward()
    kept: list = []
    x.register_hook(lambda g: kept.append(x.grad * 1))
    (x * 3).sum().backward()
    assert kept[0].tolist() == [2.0] * 4 and x.grad.tolist() == [5.0] * 4


def test_pending_to_the_power_of_a_tensor() -> None:
    (xc, ec), (x, e) = _pair((3,), (3,))
    assert _same((x * 1).abs() ** e, (xc * 1).abs() ** ec)


def test_metadata_does_not_run_the_recipe() -> None:
    x = torch.randn(2, 3, device="cuda", dtype=torch.float64)
    p = x * 2
    assert (p.shape, p.size(), p.size(-1), p.dtype, p.ndim, p.dim(), p.numel()) == (
        torch.Size([2, 3]), torch.Size([2, 3]), 3, torch.float64, 2, 2, 6,
    )  # fmt: skip
    assert type(p) is fusion.Pending


def test_a_bad_fuse_size_setting_warns_and_keeps_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCLI_FUSE_MIN_NUMEL", "64k")
    with pytest.warns(UserWarning, match="TCLI_FUSE_MIN_NUMEL='64k'"):
        assert fusion._min_numel() == 1 << 16
    monkeypatch.setenv("TCLI_FUSE_MIN_NUMEL", "0")
    assert fusion._min_numel() == 0
