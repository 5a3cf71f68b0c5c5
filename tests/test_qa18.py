"""Differences from PyTorch found by QA round 18 (a differential sweep of whole learner programs on tensor
creation, indexing, views, promotion, autograd errors, custom Functions, hooks, printing and the training
utilities; each program run by `tcli run` and by Python with PyTorch, stdout compared byte for byte)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from test_lang_torch import run_torch, run_tsr

import engine


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert out == run_torch(src)
    return out


def _outcome(fn, lib):
    try:
        r = fn(lib)
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return type(e).__name__, str(e)
    return tuple(r.shape), r.tolist(), str(r.dtype).replace("engine.", "torch.")


# ---- type(node).__name__ of a custom Function's node ----------------------------------------------------------


def test_custom_function_node_type_name_is_the_short_name():
    # type(y.grad_fn).__name__ is 'MyReLUBackward' (its repr names torch.autograd.function.MyReLUBackward)
    out = same_as_torch(
        """
        import torch
        class MyReLU(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.clamp(min=0)
            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return g * (x > 0)
        y = MyReLU.apply(torch.tensor([-1., 2.], requires_grad=True))
        print(type(y.grad_fn).__name__, type(y.grad_fn), y.grad_fn.__class__.__name__)
        print(type((y * 2).grad_fn).__name__, type((y * 2).grad_fn))
        """
    )
    assert out.startswith("MyReLUBackward <class 'torch.autograd.function.MyReLUBackward'> MyReLUBackward\n")


# ---- indexing: several Ellipses, str entries, float lists -----------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        (Ellipsis, 0, Ellipsis),
        (Ellipsis, Ellipsis),
        (0, Ellipsis, Ellipsis),
        (Ellipsis, 1, 2, 3, Ellipsis),
        (Ellipsis, None, Ellipsis),
        "a",
        ("a",),
        [1.5],
        [[1.7, 0.2]],
        ([1.9, 0.0], 1),
        [1, "a"],
    ],
)
def test_index_forms_match_torch(index):
    def get(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.arange(24).reshape(2, 3, 4)[index]

    assert _outcome(get, engine) == _outcome(get, torch)


@pytest.mark.parametrize("index", [(Ellipsis, 1, Ellipsis), [0.5], ([1.2], Ellipsis, Ellipsis)])
def test_index_write_forms_match_torch(index):
    def put(lib):
        x = lib.zeros(2, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x[index] = 5
        return x

    assert _outcome(put, engine) == _outcome(put, torch)


# ---- a Python int base out of an integer tensor's range: cast as C casts it ------------------------------------


@pytest.mark.parametrize("base", [-1, -2, 300, -129, 1000])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_rpow_int_base_wraps_into_the_dtype(base, dtype):
    def rpow(lib):
        return base ** lib.tensor([3, 1, 0, 2], dtype=getattr(lib, dtype))

    assert _outcome(rpow, engine) == _outcome(rpow, torch)


# ---- losses: no edge, and no requires_grad, for an argument torch has no derivative for ------------------------


def _edges(y) -> list:
    return [(f.name() if f is not None else None, i) for f, i in y.grad_fn.next_functions]


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x, t, w: F.binary_cross_entropy(x.sigmoid(), t),
        lambda F, x, t, w: F.binary_cross_entropy(x.sigmoid(), t, weight=w, reduction="none"),
        lambda F, x, t, w: F.binary_cross_entropy(x.sigmoid(), t.requires_grad_(), weight=w),
        lambda F, x, t, w: F.binary_cross_entropy_with_logits(x, t),
        lambda F, x, t, w: F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=w),
        lambda F, x, t, w: F.binary_cross_entropy_with_logits(x, t.requires_grad_(), pos_weight=w, reduction="sum"),
    ],
)
def test_bce_nodes_have_torch_edges_and_grads(call):
    def run(lib):
        x = lib.tensor([[0.5, -1.0], [0.25, 2.0]], requires_grad=True)
        t = lib.tensor([[0.0, 1.0], [0.3, 0.9]])
        w = lib.tensor([2.0, 0.5])
        y = call(lib.nn.functional, x, t, w)
        edges = _edges(y)
        y.sum().backward()
        grads = [x.grad.tolist(), None if t.grad is None else t.grad.tolist()]
        return edges, y.tolist(), grads

    ours, ref = run(engine), run(torch)
    assert ours[0] == ref[0]
    assert np_close(ours[1:], ref[1:])


def np_close(a, b) -> bool:
    import numpy as np

    return all(
        (x is None and y is None) or np.allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=1e-7)
        for x, y in zip([a[0], *a[1]], [b[0], *b[1]])
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x, w: F.binary_cross_entropy(x.sigmoid(), x.sigmoid(), weight=w),
        lambda F, x, w: F.binary_cross_entropy_with_logits(x, x, weight=w),
        lambda F, x, w: F.binary_cross_entropy_with_logits(x, x, pos_weight=w),
        lambda F, x, w: F.nll_loss(x, x.new_tensor([1, 0]).long(), weight=w),
        lambda F, x, w: F.cross_entropy(x, x.new_tensor([1, 0]).long(), weight=w),
        lambda F, x, w: F.cross_entropy(x, x.new_tensor([1, 0]).long(), weight=w, label_smoothing=0.1),
        lambda F, x, w: F.nll_loss(x.reshape(1, 2, 2, 1), x.new_zeros(1, 2, 1).long(), weight=w),
    ],
)
def test_loss_weight_requiring_grad_is_refused(call):
    def run(lib, grad_mode):
        x = lib.tensor([[0.5, -1.0], [0.25, 2.0]])
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.set_grad_enabled(grad_mode):
            try:
                return call(lib.nn.functional, x, w).tolist()
            except RuntimeError as e:
                return str(e)

    assert run(engine, True) == run(torch, True)
    assert isinstance(run(torch, True), str)
    assert run(engine, False) == pytest.approx(run(torch, False))


def test_normalize_graph_clamps_with_clamp_min():
    # torch's F.normalize: input / norm.clamp_min(eps).expand_as(input)
    def run(lib):
        x = lib.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
        y = lib.nn.functional.normalize(x)
        div = y.grad_fn
        expand = div.next_functions[1][0]
        names = [div.name(), expand.name(), expand.next_functions[0][0].name()]
        y.sum().backward()
        return names, y.tolist(), x.grad.tolist()

    assert run(engine) == run(torch)


# ---- elementwise results laid out as TensorIterator lays them out ---------------------------------------------


_LAYOUT_CASES = [
    ("t*c", lambda L, a, c: a.t() * c),
    ("c*t", lambda L, a, c: c * a.t()),
    ("t>c", lambda L, a, c: a.t() > c),
    ("t+col", lambda L, a, c: a.t() + L.ones(4, 1)),
    ("col+t", lambda L, a, c: L.ones(4, 1) + a.t()),
    ("max", lambda L, a, c: L.maximum(a.t(), c)),
    ("where", lambda L, a, c: L.where(a.t() > 2, a.t(), c)),
    ("where c", lambda L, a, c: L.where(c > 0, a.t(), c)),
    ("3d", lambda L, a, c: a.t()[None] * L.ones(2, 4, 3)),
    ("perm", lambda L, a, c: L.ones(2, 3, 4).permute(2, 0, 1) + L.ones(4, 2, 3)),
    ("slice", lambda L, a, c: a[:, ::2].t() * L.ones(2, 3)),
]


@pytest.mark.parametrize("name,op", _LAYOUT_CASES, ids=[c[0] for c in _LAYOUT_CASES])
def test_elementwise_layout_follows_the_first_operand(name, op):
    # torch's reorder_dimensions: each pair of dims is ordered by the first operand whose strides tell them apart;
    # numpy writes C order where its operands disagree (x.t() * y was contiguous, and .view(-1) of it worked)
    def run(lib):
        a = lib.arange(12.0).reshape(3, 4)
        r = op(lib, a, lib.ones(4, 3))
        return tuple(r.shape), r.stride(), r.is_contiguous(), r.tolist()

    assert run(engine) == run(torch)


def test_view_of_a_product_with_a_transposed_first_operand_is_refused():
    def run(lib):
        try:
            (lib.arange(12.0).reshape(3, 4).t() * lib.ones(4, 3)).view(-1)
        except RuntimeError as e:
            return str(e)
        return "viewed"

    assert run(engine) == run(torch) != "viewed"


# ---- the argument parser's messages for the usual slips: a float size, randint/normal without a size -----------


def _error(fn, lib):
    try:
        r = fn(lib)
    except (TypeError, RuntimeError) as e:
        return type(e).__name__, str(e)
    return tuple(r.shape)


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.zeros(6).view(6 / 2, 2),  # view(n / 2, -1): a float from true division
        lambda L: L.zeros(6).view("a", 3),
        lambda L: L.zeros(6).view(),
        lambda L: L.zeros(6).view((3.0, 2)),
        lambda L: L.zeros(6).reshape(3.0, 2),
        lambda L: L.randn(6 / 3, 2),
        lambda L: L.rand(2.0, 3),
        lambda L: L.randn(None, 3),
        lambda L: L.zeros(2.0, 3),
        lambda L: L.randint(0, 5),  # randint(low, high) with no size
        lambda L: L.randint(5, size=3),
        lambda L: L.randint(high=5, size=3),
        lambda L: L.randint(0, 5, 2.0),
        lambda L: L.randint(5),
        lambda L: L.randint(0, 5, (3,)),
        lambda L: L.randint(5, size=(2, 2)),
        lambda L: L.normal(0, 1),  # numpy's np.random.normal(0, 1)
        lambda L: L.normal(0.0, 1.0),
        lambda L: L.normal(0, 1, 3),
        lambda L: L.normal(0.0, 1.0, (3,)),
        lambda L: L.gather(L.zeros(2, 3), 0, [[0]]),
    ],
)
def test_parser_messages_match_torch(call):
    assert _error(call, engine) == _error(call, torch)


def test_logspace_float_steps_names_logspace():
    call = lambda L: L.logspace(0, 1, 2.5)  # noqa: E731
    assert _error(call, engine) == _error(call, torch)


# ---- the names functions print with ---------------------------------------------------------------------------


def test_public_functions_made_by_factories_have_their_public_names():
    import types

    for mod in (engine, engine.nn.functional, engine.linalg, engine.special, engine.fft):
        for name in dir(mod):
            f = getattr(mod, name)
            if not name.startswith("_") and type(f) is types.FunctionType:
                assert "<locals>" not in f.__qualname__, (mod.__name__, name, f.__qualname__)
    assert engine.relu.__qualname__ == "relu" and engine.eq.__name__ == "eq"


def test_optimizer_step_wrapped_by_a_scheduler_prints_as_torch():
    def run(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        lib.optim.lr_scheduler.StepLR(opt, 2)
        adam = lib.optim.Adam([lib.zeros(1, requires_grad=True)])
        lib.optim.lr_scheduler.ExponentialLR(adam, 0.9)
        return opt.step.__qualname__, adam.step.__qualname__

    assert run(engine) == run(torch) == ("SGD.step", "Adam.step")


# ---- numpy arrays torch will not take --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.from_numpy(np.arange(4)[::-1]),  # np.flip / img[:, ::-1]: a negative stride
        lambda L: L.tensor(np.arange(6).reshape(2, 3)[:, ::-1]),
        lambda L: L.as_tensor(np.arange(4)[::-1]),
        lambda L: L.from_numpy(np.arange(4)[::-1].copy()),
        lambda L: L.tensor(np.arange(4)[::2]),
        lambda L: L.from_numpy(np.array(["a"])),
        lambda L: L.tensor(np.array([b"a"])),
        lambda L: L.tensor(np.array([1.0], dtype=np.longdouble)),
    ],
)
def test_numpy_arrays_torch_refuses(call):
    def run(lib):
        try:
            return call(lib).tolist()
        except (TypeError, ValueError) as e:
            return type(e).__name__, str(e)

    assert run(engine) == run(torch)
