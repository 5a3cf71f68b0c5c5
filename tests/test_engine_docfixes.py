"""Fixes from the QA sweep of PyTorch's docstring examples (/work/qa_doc), each against PyTorch: logical ops' out=,
repeat_interleave's one-argument form and output_size=, inner on N-d and 0-d operands, resize_, inference
tensors, torch's module paths in default reprs, subscriptable data classes, and coverage additions (in-place
forms, autograd aliases, thread settings, hsplit/vsplit/dsplit, unique_consecutive, combinations)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import Arg, assert_same, check, graph, make, same, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")


def outcome(fn, T):  # noqa: ANN001, ANN201
    """repr of fn(T), or the raised (type name, message)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return repr(fn(T)).replace(", device='cuda:0'", "")  # (the cuda half prints as the cpu one)
    except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
        return (type(e).__name__, str(e))


def agree(fn) -> str:  # noqa: ANN001
    t, e = outcome(fn, torch), outcome(fn, engine)
    assert e == t, f"\nengine: {e}\ntorch:  {t}"
    return t


# ---- logical ops: out= of any dtype, torch's argument errors --------------------------------------------------------
@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("dt", ["bool", "int16", "uint8", "float32", "float64"])
def test_logical_binary_out(name: str, dt: str) -> None:
    a, b = make((2, 4), "int8", -2, 2), make((4,), "int8", -2, 2, seed=1)
    same(lambda T, x, y: getattr(T, name)(x, y, out=T.empty(2, 4, dtype=getattr(T, dt))), a, b)
    same(lambda T, x, y: getattr(T, name)(x, y, out=T.empty(0, dtype=getattr(T, dt))), a, b)


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary_errors_and_forms(name: str) -> None:
    a = make((4,), "float32")
    cases = [
        lambda T: getattr(T, name)(T.tensor(a), T.tensor(a), out=[1]),
        lambda T: getattr(T, name)(T.tensor(a), T.tensor(a), foo=1),
        lambda T: getattr(T, name)(T.tensor(a)),
        lambda T: getattr(T, name)(T.tensor(a), 1),
        lambda T: getattr(T, name)(1, T.tensor(a)),
        lambda T: getattr(T, name)(T.ones(2, 3), T.ones(4)),
        lambda T: getattr(T.tensor(a), name)(1),
        lambda T: getattr(T.tensor(a), name)(),
        lambda T: getattr(T.tensor(a), name)(T.tensor(a), out=T.empty(4)),
        lambda T: getattr(T.tensor(a), name + "_")(1),
        lambda T: getattr(T.tensor(a), name + "_")(T.tensor(a).flip(0)),
        lambda T: getattr(T.tensor(a), name)(T.tensor(a).flip(0)),
        # no derivative: an operand or out that requires grad is fine
        lambda T: getattr(T, name)(T.ones(2, requires_grad=True), T.ones(2), out=T.empty(2)),
        lambda T: getattr(T, name)(T.ones(2), T.ones(2), out=T.empty(2, requires_grad=True)),
    ]
    for fn in cases:
        agree(fn)


def test_logical_not_out() -> None:
    x = np.array([0.0, 1.0, -10.0], dtype=np.float32)
    for dt in ("int16", "float16", "bool", "int64"):
        same(lambda T, v, d=dt: T.logical_not(v, out=T.empty(3, dtype=getattr(T, d))), x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (resizing a non-empty out warns)
        same(lambda T, v: T.logical_not(v, out=T.empty(1, dtype=T.bool)), x)
    for fn in (
        lambda T: T.logical_not(1),
        lambda T: T.logical_not(T.ones(2), out=[1]),
        lambda T: T.logical_not(T.ones(2), foo=1),
        lambda T: T.logical_not(T.ones(2, requires_grad=True), out=T.empty(2)),
    ):
        agree(fn)
    # the docstring's examples
    agree(lambda T: T.logical_and(T.tensor([0, 1, 10, 0], dtype=T.int8), T.tensor([4, 0, 1, 0], dtype=T.int8),
                                  out=T.empty(4, dtype=T.bool)))  # fmt: skip
    o = agree(lambda T: T.logical_not(T.tensor([0.0, 1.0, -10.0]), out=T.empty(3, dtype=T.int16)))
    assert o == "tensor([1, 0, 0], dtype=torch.int16)"


# ---- repeat_interleave: the one-argument form, output_size= ---------------------------------------------------------
def test_repeat_interleave_one_argument_and_output_size() -> None:
    x = make((2, 3), "float32")
    r = np.array([1, 2])
    for fn in (
        lambda T, x: T.repeat_interleave(x, T.tensor(r), dim=0, output_size=3),
        lambda T, x: T.repeat_interleave(x, T.tensor(r, dtype=T.int32), 0),
        lambda T, x: T.repeat_interleave(x, T.tensor([0, 2, 1]), dim=1, output_size=3),
        lambda T, x: T.repeat_interleave(x, T.tensor(2), dim=1),
        lambda T, x: T.repeat_interleave(x, T.tensor([3])),
        lambda T, x: T.repeat_interleave(x, 2, dim=0, output_size=4),
        lambda T, x: T.repeat_interleave(x, 2, output_size=12),
        lambda T, x: x.repeat_interleave(T.tensor(r), dim=0, output_size=3),
        lambda T, x: x.repeat_interleave(2, 1, output_size=6),
        lambda T, x: x.repeat_interleave(repeats=2, dim=0),
    ):
        check(fn, x)
    for rep in ([1, 2, 3], [0, 0], [], [4, 0, 1]):
        same(lambda T, v: T.repeat_interleave(v), Arg(np.array(rep, dtype=np.int64)))
        same(lambda T, v: T.repeat_interleave(v.int()), Arg(np.array(rep, dtype=np.int64)))
        same(lambda T, v: T.repeat_interleave(repeats=v, output_size=int(v.sum())), Arg(np.array(rep, dtype=np.int64)))
    errors = [
        lambda T: T.repeat_interleave(T.tensor([1, 2, 3]), output_size=5),
        lambda T: T.repeat_interleave(T.tensor([1.0, 2.0])),
        lambda T: T.repeat_interleave(T.tensor([1, 2], dtype=T.uint8)),
        lambda T: T.repeat_interleave(T.tensor([[1, 2]])),
        lambda T: T.repeat_interleave(T.tensor([[1.0, 2.0]])),
        lambda T: T.repeat_interleave(T.tensor(2)),
        lambda T: T.repeat_interleave(T.tensor([1, -2])),
        lambda T: T.repeat_interleave(input=T.tensor([1, 2])),
        lambda T: T.repeat_interleave(T.tensor([1, 2]), dim=0),
        lambda T: T.repeat_interleave(),
        lambda T: T.repeat_interleave(T.tensor([1, 2]), foo=3),
        lambda T: T.repeat_interleave(T.tensor([1, 2]), True),
        lambda T: T.repeat_interleave(T.tensor([1, 2]), 2.0),
        lambda T: T.repeat_interleave(T.tensor([1, 2]), 2, 0, 4),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([1, 2]), dim=0, output_size=4),
        lambda T: T.repeat_interleave(T.ones(2, 2), 2, dim=0, output_size=3),
        lambda T: T.repeat_interleave(T.ones(2, 2), -1, dim=0, output_size=3),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([[1, 2]]), dim=0),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([1, 2, 3]), dim=0),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([1, 2])),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([1.0, 2.0]), dim=0),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([1, -2]), dim=0),
        lambda T: T.repeat_interleave(T.ones(2, 2), T.tensor([1, 2]), dim=2),
        lambda T: T.ones(2).repeat_interleave(),
        lambda T: T.ones(2).repeat_interleave(2, foo=1),
        lambda T: T.ones(2).repeat_interleave(T.tensor([1, 2]), out=T.ones(2)),
    ]
    for fn in errors:
        same_error(fn)
    assert agree(lambda T: T.repeat_interleave(T.tensor([1, 2, 3]))) == "tensor([0, 1, 1, 2, 2, 2])"


# ---- inner: N-d operands contract their last dims, a 0-d operand multiplies -----------------------------------------
INNER_SHAPES = [((2,), (2,)), ((2, 2), (3, 2)), ((2, 2), ()), ((), (3, 2)), ((), ()), ((2, 3, 4), (5, 4)),
                ((4,), (2, 3, 4)), ((2, 3), (3,)), ((1, 2), (1, 2)), ((3, 1), (1,)), ((0, 2), (3, 2)),
                ((2, 0), (3, 0))]  # fmt: skip


@pytest.mark.parametrize(("sa", "sb"), INNER_SHAPES)
def test_inner_nd(sa: tuple, sb: tuple) -> None:
    a, b = make(sa, "float64"), make(sb, "float64", seed=1)
    check(lambda T, x, y: T.inner(x, y), a, b)
    check(lambda T, x, y: x.inner(y), a, b)
    out = same(lambda T, x, y: T.inner(x, y, out=T.empty(0, dtype=T.float64)), a, b)
    assert out is not None
    # the whole graph: ViewBackward0 over torch's tensordot (an mm, or a dot for a one-element result)
    g = [graph(T.inner(T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True))) for T in (torch, engine)]
    assert g[1] == g[0]


def test_inner_docstring_and_errors() -> None:
    assert agree(lambda T: T.inner(T.tensor([[1.0, 2.0], [3.0, 4.0]]), T.tensor(2.0))) == (
        "tensor([[2., 4.],\n        [6., 8.]])"
    )
    agree(lambda T: T.inner(T.tensor([[1.0, 2.0], [3.0, 4.0]]), T.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])))
    for fn in (
        lambda T: T.inner(T.ones(2, 2), T.ones(3, 3)),
        lambda T: T.inner(T.ones(3), T.ones(2)),
        lambda T: T.inner(T.ones(2, dtype=T.int64), T.ones(2)),
        lambda T: T.inner(T.ones(2, 2), T.ones(3, 2, dtype=T.float64)),
        lambda T: T.inner(T.ones(2), 2),
        lambda T: T.inner(2, T.ones(2)),
        lambda T: T.inner(T.ones(2, dtype=T.bool), T.ones(2, dtype=T.bool)),
        lambda T: T.inner(T.ones(2, 2, dtype=T.bool), T.ones(2, dtype=T.bool)),
    ):
        same_error(fn)
    same(lambda T: T.inner(T.tensor(2), T.ones(2, dtype=T.float64)))
    same(lambda T: T.inner(T.ones(2, 3, dtype=T.int32), T.ones(4, 3, dtype=T.int32)))


# ---- resize_ -------------------------------------------------------------------------------------------------------
def _resized(T, make_x, *steps, grow_to=None):  # noqa: ANN001, ANN202
    """x after each resize_ in steps: its values (the ones a grown storage holds from before only), shape,
    strides, storage offset, version count and identity."""
    x = make_x(T)
    v0 = x._version
    out = []
    for s in steps:
        s = s(T) if callable(s) else s  # noqa: PLW2901
        r = x.resize_(*s) if isinstance(s, tuple) else x.resize_(s)
        out.append((r is x, tuple(x.shape), x.stride(), x.storage_offset(), x._version - v0))
    return out, x if grow_to is None else x.reshape(-1)[:grow_to]


RESIZES = {
    "docstring": (lambda T: T.arange(1.0, 7.0), [(2, 3)]),
    "tuple": (lambda T: T.arange(1.0, 7.0), [((3, 2),)]),
    "size": (lambda T: T.arange(1.0, 7.0), [lambda T: (T.Size([3, 2]),)]),
    "list": (lambda T: T.arange(1, 7), [([3, 2],)]),
    "shrink_regrow": (lambda T: T.arange(1.0, 7.0), [(2,), (3, 2)]),
    "same": (lambda T: T.arange(1.0, 7.0), [(6,)]),
    "empty": (lambda T: T.arange(1.0, 7.0), [(0,), (2, 3)]),
    "transposed": (lambda T: T.arange(6.0).reshape(2, 3).t(), [(6,)]),
    "transposed_same": (lambda T: T.arange(6.0).reshape(2, 3).t(), [(3, 2)]),
    "slice": (lambda T: T.arange(6.0)[2:4], [(3,)]),
    "strided": (lambda T: T.arange(6.0)[::2], [(2,)]),
    "expanded": (lambda T: T.ones(2, 2).expand(3, 2, 2), [(2,)]),
    "scalar": (lambda T: T.tensor(5.0), [(1, 1)]),
}


@pytest.mark.parametrize("case", sorted(RESIZES))
def test_resize_(case: str) -> None:
    make_x, steps = RESIZES[case]
    same(lambda T: _resized(T, make_x, *steps))


def test_resize_grows_views_and_errors() -> None:
    # growing past the storage: the old values stay in front (the rest is torch's uninitialised memory)
    same(lambda T: _resized(T, lambda T: T.arange(1.0, 7.0), (3, 4), grow_to=6))
    same(lambda T: _resized(T, lambda T: T.arange(1.0, 7.0), (2,), (9,), grow_to=6))

    def view_sees(T):  # noqa: ANN001, ANN202 - a shrink keeps the storage: views still alias it
        x = T.arange(1.0, 7.0)
        v = x.view(2, 3)
        x.resize_(4)
        x[0] = 100
        return v, x, v._version

    same(view_sees)
    same(lambda T: T.arange(1.0, 7.0).resize_as_(T.ones(3, 2)))
    same(lambda T: T.arange(1.0, 7.0).resize_as_(T.ones(2)))
    for fn in (
        lambda T: T.ones(2, requires_grad=True).resize_(4),
        lambda T: T.ones(2, requires_grad=True).resize_(2),
        lambda T: (T.ones(2, requires_grad=True) * 2).resize_(1),
        lambda T: T.arange(1.0, 7.0).resize_(),
        lambda T: T.arange(1.0, 7.0).resize_(-1),
        lambda T: T.arange(1.0, 7.0).resize_(2, -3),
        lambda T: T.arange(1.0, 7.0).resize_(2.0),
        lambda T: T.arange(1.0, 7.0).resize_(2, 3, foo=1),
        lambda T: T.arange(1.0, 7.0).resize_as_(2),
    ):
        same_error(fn)

    def no_grad(T):  # noqa: ANN001, ANN202
        x = T.ones(2, requires_grad=True)
        with T.no_grad():
            return x.resize_(1)

    same_error(no_grad)
    assert agree(lambda T: T.arange(1.0, 7.0).resize_(2, 3)) == "tensor([[1., 2., 3.],\n        [4., 5., 6.]])"


# ---- inference tensors ---------------------------------------------------------------------------------------------
def _inference_facts(T):  # noqa: ANN001, ANN202
    """is_inference, torch.is_inference and _version (or its error) of tensors made in and out of inference mode."""
    x = T.ones(3)
    with T.inference_mode():
        made = {"mul": T.ones(2) * 2, "of_normal": x * 2, "view_of_normal": x.view(3), "factory": T.zeros(2),
                "tensor": T.tensor([1.0, 2.0]), "index_of_normal": x[0],
                "enabled": T.is_inference_mode_enabled()}  # fmt: skip
        x.add_(1)  # (an in-place change of a normal tensor: it stays normal, and counts)
    with T.inference_mode(False):
        made["mode_false"] = T.ones(2) * 2
    with T.no_grad():
        made["no_grad"] = T.ones(2) * 2

    @T.inference_mode()
    def decorated(a):  # noqa: ANN001, ANN202
        return a * 2, T.is_inference_mode_enabled()

    made["decorated"], made["enabled_in_decorated"] = decorated(x)
    made["view_of_inference"] = made["mul"][0]
    made["normal"] = x
    out = {"enabled_after": T.is_inference_mode_enabled()}
    for k, t in made.items():
        if not isinstance(t, T.Tensor):
            out[k] = t
            continue
        out[k] = (t.is_inference(), T.is_inference(t), outcome(lambda T, t=t: t._version, T))
    return out


def test_inference_tensors() -> None:
    t, e = _inference_facts(torch), _inference_facts(engine)
    assert e == t
    assert t["mul"][2] == ("RuntimeError", "Inference tensors do not track version counter.")
    for fn in (lambda T: T.is_inference(1), lambda T: T.is_inference(), lambda T: T.ones(1).is_inference(1)):
        same_error(fn)


# ---- default reprs: torch's module paths ---------------------------------------------------------------------------
def _default_reprs(T):  # noqa: ANN001, ANN202
    import re

    D = T.utils.data  # noqa: N806
    L = T.optim.lr_scheduler  # noqa: N806
    ds = D.TensorDataset(T.ones(4, 2))

    class MyData(D.Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> int:
            return i

    class MyIterable(D.IterableDataset):
        def __iter__(self):  # noqa: ANN204
            return iter(range(3))

    opt = T.optim.SGD([T.zeros(1, requires_grad=True)], lr=0.1)

    class MyStep(L.StepLR):
        pass

    objs = [
        ds, D.Subset(ds, [0]), D.random_split(ds, [2, 2]), D.ConcatDataset([ds, ds]), D.ChainDataset([MyIterable()]),
        D.DataLoader(ds), iter(D.DataLoader(ds)), iter(D.DataLoader(ds, num_workers=2)),
        iter(D.DataLoader(ds, num_workers=2, persistent_workers=True)), type(iter(D.DataLoader(ds))),
        type(iter(D.DataLoader(ds, num_workers=1))), D.SequentialSampler(ds), D.RandomSampler(ds),
        D.SubsetRandomSampler([0, 1]), D.WeightedRandomSampler([0.5, 0.5], 2),
        D.BatchSampler(D.SequentialSampler(ds), 2, False), D.DataLoader(MyIterable()).sampler,
        D.DataLoader(ds).batch_sampler, MyData(), MyIterable(),
        L.StepLR(opt, 1), L.LambdaLR(opt, lambda e: 1.0), L.MultiplicativeLR(opt, lambda e: 1.0),
        L.MultiStepLR(opt, [1]), L.ConstantLR(opt), L.LinearLR(opt), L.ExponentialLR(opt, 0.9), L.PolynomialLR(opt),
        L.CosineAnnealingLR(opt, 3), L.ReduceLROnPlateau(opt), L.CyclicLR(opt, 0.01, 0.1),
        L.CosineAnnealingWarmRestarts(opt, 2), L.OneCycleLR(opt, 0.1, total_steps=10),
        L.SequentialLR(opt, [L.StepLR(opt, 1), L.StepLR(opt, 1)], [1]), L.ChainedScheduler([L.StepLR(opt, 1)]),
        MyStep(opt, 1),
    ]  # fmt: skip
    return [re.sub(r"0x[0-9a-f]+", "0x", repr(o)) for o in objs]


def test_default_reprs_name_torch_modules() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, e = _default_reprs(torch), _default_reprs(engine)
    assert e == t
    assert t[0] == "<torch.utils.data.dataset.TensorDataset object at 0x>"
    # the classes keep the engine's module (tsr's sandbox decides attribute access by it)
    assert engine.utils.data.DataLoader.__module__.startswith("engine")
    assert type(iter(engine.utils.data.DataLoader([1]))).__module__.startswith("engine")


# ---- typing generics: Dataset[...], Sampler[...], DataLoader[...] ---------------------------------------------------
GENERIC_NAMES = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset", "Sampler",
                 "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
                 "DataLoader"]  # fmt: skip


@pytest.mark.parametrize("name", GENERIC_NAMES)
def test_data_classes_subscript_as_torchs_generics(name: str) -> None:
    from typing import List  # noqa: UP035 - the repr of a typing alias argument

    # fmt: off
    agree(lambda T: getattr(T.utils.data, name)[int])
    agree(lambda T: getattr(T.utils.data, name)[List[int]])  # noqa: UP006
    agree(lambda T: getattr(T.utils.data, name)[int, str])
    agree(lambda T: getattr(T.utils.data, name)[()])
    agree(lambda T: (getattr(T.utils.data, name)[int].__args__,
                     getattr(T.utils.data, name)[int] == getattr(T.utils.data, name)[int]))
    # fmt: on


def _subscripted_bases(T):  # noqa: ANN001, ANN202
    D = T.utils.data  # noqa: N806

    class MySampler(D.Sampler[int]):  # the Sampler docstring's example
        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self):  # noqa: ANN204
            return iter(range(self.n - 1, -1, -1))

        def __len__(self) -> int:
            return self.n

    class MyData(D.Dataset[T.Tensor]):
        def __getitem__(self, i: int) -> T.Tensor:
            return T.tensor([i])

        def __len__(self) -> int:
            return 3

    class MyStream(D.IterableDataset[int]):
        def __iter__(self):  # noqa: ANN204
            return iter(range(3, 7))

    s = MySampler(3)
    loaded = list(D.DataLoader(MyData(), batch_size=2, sampler=MySampler(3)))
    return (list(s), isinstance(s, D.Sampler), loaded, list(D.DataLoader(MyStream())),
            repr(MySampler.__orig_bases__), outcome(lambda T: MyData[int], T))  # fmt: skip


def test_subscripted_base_classes() -> None:
    t, e = _subscripted_bases(torch), _subscripted_bases(engine)
    assert t[0] == [2, 1, 0]
    assert_same(e[:4], t[:4])
    assert e[4:] == t[4:]


# ---- coverage: in-place forms ----------------------------------------------------------------------------------------
# torch.<name>(x, *args) on a non-leaf: values, grad_fn names and gradients (x in (0.1, 0.9): every domain fits)
TORCH_INPLACE = {
    "abs_": (), "acos_": (), "arccos_": (), "asin_": (), "arcsin_": (), "atan_": (), "arctan_": (), "ceil_": (),
    "clamp_": (0.3, 0.6), "clamp_max_": (0.5,), "clamp_min_": (0.5,), "clip_": (0.3,), "cos_": (), "cosh_": (),
    "deg2rad_": (), "erf_": (), "erfc_": (), "exp2_": (), "exp_": (), "expm1_": (), "fill_": (2.5,), "fix_": (),
    "floor_": (), "frac_": (), "i0_": (), "log10_": (), "log1p_": (), "log2_": (), "log_": (), "logit_": (),
    "nan_to_num_": (), "neg_": (), "negative_": (), "rad2deg_": (), "reciprocal_": (), "relu_": (), "round_": (),
    "rsqrt_": (), "sigmoid_": (), "sin_": (), "sinc_": (), "sinh_": (), "sqrt_": (), "tan_": (), "tanh_": (),
    "trunc_": (), "asinh_": (), "arcsinh_": (), "atanh_": (), "arctanh_": (),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TORCH_INPLACE))
def test_torch_inplace_functions(name: str) -> None:
    x = make((2, 3), "float64", 0.1, 0.9)
    args = TORCH_INPLACE[name]
    check(lambda T, a: getattr(T, name)(a * 1, *args), x)
    check(lambda T, a: getattr(T, name)(a.detach().clone(), *args), x)
    same_error(lambda T: getattr(T, name)(1.0, *args))
    same_error(lambda T: getattr(T, name)(T.ones(2, requires_grad=True), *args))


def test_torch_inplace_functions_with_operands() -> None:
    x = make((2, 3), "float64", 0.1, 0.9)
    check(lambda T, a: T.acosh_(a + 1), x)
    check(lambda T, a: T.arccosh_(a + 1), x)
    check(lambda T, a, b: T.xlogy_(a * 1, b), x, make((2, 3), "float64", 0.5, 2, seed=1))
    same(lambda T: T.gcd_(T.tensor([4, 6, 9]), T.tensor([6, 4, 3])))
    same(lambda T: T.lcm_(T.tensor([4, 6, 9]), T.tensor([6, 4, 3])))
    same(lambda T: T.detach_(T.ones(2, requires_grad=True) * 2))
    same(lambda T: T.resize_as_(T.arange(6.0), T.ones(2, 3)))
    same(lambda T: T.nan_to_num_(T.tensor([float("nan"), float("inf"), 1.0]), 0.5, 9.0, -9.0))
    same(lambda T: T.fill_(T.ones(2, dtype=T.int64), T.tensor(3)))


METHOD_INPLACE = {
    "cumsum_": lambda T, x: (x * 1).cumsum_(1), "cumsum_dtype": lambda T, x: (x * 1).cumsum_(0, dtype=T.float64),
    "cumsum_kw": lambda T, x: (x * 1).cumsum_(dim=1), "cumprod_": lambda T, x: (x * 1).cumprod_(0),
    "cumsum_int": lambda T, x: T.arange(6).reshape(2, 3).cumsum_(1),
    "cumprod_int": lambda T, x: T.arange(1, 7).reshape(2, 3).cumprod_(dim=-1),
    "cumsum_no_dim": lambda T, x: (x * 1).cumsum_(),
    "cumsum_other_dtype": lambda T, x: T.arange(6).cumsum_(0, dtype=T.float32),
    "cumprod_half": lambda T, x: T.arange(3).cumprod_(0, dtype=T.float16),
    "cumsum_bool": lambda T, x: T.ones(3, dtype=T.bool).cumsum_(0),
    "cumprod_bool": lambda T, x: T.ones(3, dtype=T.bool).cumprod_(0),
    "tril_": lambda T, x: (x * 1).tril_(), "tril_diag": lambda T, x: (x * 1).tril_(-1),
    "triu_": lambda T, x: (x * 1).triu_(1), "tril_1d": lambda T, x: T.ones(3).tril_(),
    "tril_leaf": lambda T, x: x.tril_(),
    "true_divide_": lambda T, x: (x * 1).true_divide_(x.detach() + 5),
    "addmm_": lambda T, x: (x * 1).addmm_(x, x, beta=2), "absolute_": lambda T, x: (x * 1).absolute_(),
    "negative_": lambda T, x: (x * 1).negative_(), "arccos_": lambda T, x: (x * 0.1).arccos_(),
    "arcsin_": lambda T, x: (x * 0.1).arcsin_(), "arctan_": lambda T, x: (x * 1).arctan_(),
    "arcsinh_": lambda T, x: (x * 1).arcsinh_(), "arccosh_": lambda T, x: (x.abs() + 1).arccosh_(),
    "arctanh_": lambda T, x: (x * 0.1).arctanh_(), "asinh_": lambda T, x: (x * 1).asinh_(),
    "left_shift": lambda T, x: T.arange(6).bitwise_left_shift_(2),
    "right_shift": lambda T, x: T.arange(6).bitwise_right_shift_(T.tensor(1)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(METHOD_INPLACE))
def test_tensor_inplace_methods(case: str) -> None:
    check(METHOD_INPLACE[case], make((3, 3), "float64"))


def test_functional_inplace_and_multinomial() -> None:
    x = make((2, 3), "float64")
    check(lambda T, a: T.nn.functional.relu_(a * 1), x)
    check(lambda T, a: T.nn.functional.leaky_relu_(a * 1), x)
    check(lambda T, a: T.nn.functional.leaky_relu_(a * 1, 0.2), x)
    for name in ("relu_", "leaky_relu_"):
        same_error(lambda T, n=name: getattr(T.nn.functional, n)(1.0))
        same_error(lambda T, n=name: getattr(T.nn.functional, n)(T.ones(2, requires_grad=True)))
    p = make((3, 4), "float64", 0.1, 0.9)
    same(lambda T, a: (T.manual_seed(0), a.multinomial(2))[1], Arg(p))
    same(lambda T, a: (T.manual_seed(0), a.multinomial(5, True))[1], Arg(p))
    same(lambda T, a: a.multinomial(2, generator=T.Generator().manual_seed(3)), Arg(p))
    same(lambda T, a: (T.manual_seed(1), a[0].multinomial(num_samples=3, replacement=False))[1], Arg(p))
    same_error(lambda T, a: a.multinomial(5), Arg(p))


# ---- coverage: process settings, torch.autograd's grad-mode names ---------------------------------------------------
_PROCESS_SCRIPT = """
import sys
if sys.argv[1] == "engine":
    import engine as torch
else:
    import torch
def r(f):
    try:
        print(repr(f()))
    except Exception as e:
        print(type(e).__name__, e)
r(lambda: torch.get_num_threads() == torch.get_num_interop_threads())
for f in (lambda: torch.set_num_threads(3), torch.get_num_threads, lambda: torch.set_num_threads(0),
          lambda: torch.set_num_threads(-1), lambda: torch.set_num_threads(2.0), lambda: torch.set_num_threads(True),
          lambda: torch.set_num_threads(), lambda: torch.get_num_threads(1), lambda: torch.set_num_interop_threads(0),
          lambda: torch.set_num_interop_threads(2), torch.get_num_interop_threads,
          lambda: torch.set_num_interop_threads(3), torch.are_deterministic_algorithms_enabled,
          torch.is_deterministic_algorithms_warn_only_enabled, lambda: torch.use_deterministic_algorithms(True),
          torch.are_deterministic_algorithms_enabled, torch.get_deterministic_debug_mode,
          lambda: torch.use_deterministic_algorithms(True, warn_only=True),
          torch.is_deterministic_algorithms_warn_only_enabled, torch.get_deterministic_debug_mode,
          lambda: torch.use_deterministic_algorithms(1), lambda: torch.use_deterministic_algorithms(),
          lambda: torch.use_deterministic_algorithms(False, warn_only=1),
          lambda: torch.use_deterministic_algorithms(mode=False), torch.are_deterministic_algorithms_enabled,
          lambda: torch.set_deterministic_debug_mode("error"), torch.get_deterministic_debug_mode,
          lambda: torch.set_deterministic_debug_mode(1), torch.is_deterministic_algorithms_warn_only_enabled,
          lambda: torch.set_deterministic_debug_mode("x"), lambda: torch.set_deterministic_debug_mode(5),
          lambda: torch.set_deterministic_debug_mode(1.5), lambda: torch.set_deterministic_debug_mode("default"),
          torch.are_deterministic_algorithms_enabled):
    r(f)
"""


def test_process_settings() -> None:
    """Thread counts and deterministic algorithms, in fresh processes (torch's inter-op count is set once)."""
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(engine.__file__))  # (this engine, in the child process too)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    out = [subprocess.run([sys.executable, "-c", _PROCESS_SCRIPT, lib], capture_output=True, text=True, check=True,
                          env=env).stdout for lib in ("torch", "engine")]  # fmt: skip
    assert out[1] == out[0]
    assert "set_num_threads expects a positive integer" in out[0]


def test_autograd_grad_mode_names() -> None:
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode"):
        assert getattr(engine.autograd, name) is getattr(engine, name)
        assert repr(getattr(engine.autograd, name)) == repr(getattr(torch.autograd, name))
        assert getattr(engine.autograd.grad_mode, name) is getattr(engine, name)

    def run(T):  # noqa: ANN001, ANN202
        x = T.ones(2, requires_grad=True)
        with T.autograd.no_grad():
            a = x * 2
            with T.autograd.enable_grad():
                b = x * 2
        with T.autograd.set_grad_enabled(False):
            c = x * 2
        with T.autograd.inference_mode():
            d = x * 2
        return [t.requires_grad for t in (a, b, c, d)], d.is_inference(), T.is_grad_enabled()

    assert run(engine) == run(torch)


# ---- coverage: hsplit / vsplit / dsplit (and tensor_split's slices) ------------------------------------------------
@pytest.mark.parametrize("name", ["hsplit", "vsplit", "dsplit"])
def test_directional_splits(name: str) -> None:
    x = make((2, 3, 4), "float64")
    for arg in (1, 2, 3, 4, [1, 2], (1,), [], [0, 5], [-1], [2, 1]):
        check(lambda T, a, v=arg: getattr(T, name)(a, v), x)
        check(lambda T, a, v=arg: getattr(a, name)(v), x)
    check(lambda T, a: getattr(a, name)(1, 2), x)
    check(lambda T, a: getattr(T, name)(a, sections=1), x)
    check(lambda T, a: getattr(T, name)(a, indices=[1]), x)
    check(lambda T, a: getattr(a, name)(indices=[1]), x)
    check(lambda T, a: getattr(T, name)(a.reshape(6, 4), 2), x)
    check(lambda T, a: getattr(T, name)(a.reshape(24), 2), x)  # (hsplit splits a vector; the others refuse it)
    for fn in (
        lambda T: getattr(T, name)(T.tensor(1.0), 1),
        lambda T: getattr(T, name)(T.ones(2, 3, 4), 0),
        lambda T: getattr(T, name)(T.ones(2, 3, 4), -1),
        lambda T: getattr(T, name)(T.ones(2, 3, 4), 2.0),
        lambda T: getattr(T, name)(T.ones(2, 3, 4), T.tensor([1])),
        lambda T: getattr(T, name)(T.ones(2, 3, 4), 1, 2),
        lambda T: getattr(T, name)(T.ones(2, 3, 4)),
        lambda T: getattr(T, name)(),
        lambda T: getattr(T, name)([1, 2], 1),
        lambda T: getattr(T.ones(2, 3, 4), name)(),
        lambda T: getattr(T.ones(2, 3, 4), name)(1.5),
    ):
        same_error(fn)


def test_tensor_split_slices() -> None:
    x = make((7, 2), "float64")
    for arg in (3, 7, 9, [1, -2, 9], [4, 2], [-9, 3], (2,)):
        check(lambda T, a, v=arg: T.tensor_split(a, v), x)
    for k in (0, -1):
        same_error(lambda T, v=k: T.tensor_split(T.ones(3), v))


# ---- coverage: unique_consecutive, combinations ----------------------------------------------------------------------
def test_unique_consecutive() -> None:
    v = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    m = np.array([[1.0, 1, 2], [1, 1, 2], [3, 3, 2]])
    for kw in ({}, {"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}):
        same(lambda T, a, k=kw: T.unique_consecutive(a, **k), Arg(v))
        same(lambda T, a, k=kw: a.unique_consecutive(**k), Arg(v))
        for dim in (None, 0, 1, -1):
            check(lambda T, a, k=kw, d=dim: T.unique_consecutive(a, dim=d, **k), m, grad=False)
    same(lambda T, a: T.unique_consecutive(a, True, True), Arg(v))
    same(lambda T, a: a.unique_consecutive(True), Arg(v))
    for fn in (
        lambda T: T.unique_consecutive(T.tensor(5)),
        lambda T: T.unique_consecutive(T.tensor(5), return_inverse=True, return_counts=True),
        lambda T: T.unique_consecutive(T.tensor([], dtype=T.long), return_inverse=True, return_counts=True),
        lambda T: T.unique_consecutive(T.ones(0, 3), dim=0, return_inverse=True, return_counts=True),
        lambda T: T.unique_consecutive(T.tensor([True, True, False])),
        lambda T: T.unique_consecutive(T.tensor([float("nan"), float("nan"), 1.0])),
        lambda T: T.unique_consecutive(T.tensor([0.0, -0.0, 1.0])),
        lambda T: T.unique_consecutive(T.tensor([[1, 2], [1, 2]]), return_inverse=True),
        lambda T: T.unique_consecutive(T.tensor([3.0, 3.0, 1.0], dtype=T.float16), return_counts=True),
        lambda T: T.unique_consecutive(T.tensor([1.0, 1.0, 2.0], requires_grad=True)),
    ):
        same(fn)
    for fn in (
        lambda T: T.unique_consecutive(T.ones(3, 3), dim=2),
        lambda T: T.unique_consecutive(T.tensor(5), dim=0),
        lambda T: T.unique_consecutive(T.ones(2, 0), dim=0),
        lambda T: T.unique_consecutive([1, 2]),
        lambda T: T.unique_consecutive(T.ones(2), foo=1),
        lambda T: T.unique_consecutive(T.ones(2), return_inverse=1),
        lambda T: T.unique_consecutive(T.ones(2), return_counts=2),
        lambda T: T.unique_consecutive(T.ones(2), dim=1.0),
        lambda T: T.unique_consecutive(),
        lambda T: T.ones(2).unique_consecutive(foo=1),
        lambda T: T.unique_consecutive(T.ones(2, requires_grad=True)).sum().backward(),
    ):
        same_error(fn)


def test_combinations() -> None:
    a = make((4,), "float64")
    for r in (1, 2, 3, 4, 5):
        for rep in (False, True):
            check(lambda T, x, r=r, rep=rep: T.combinations(x, r, rep), a)
    check(lambda T, x: T.combinations(x, r=3, with_replacement=True), a)
    g = [graph(T.combinations(T.tensor(a, requires_grad=True))) for T in (torch, engine)]
    assert g[1] == g[0]
    for fn in (
        lambda T: T.combinations(T.tensor([1.0, 2.0]), 0),
        lambda T: T.combinations(T.tensor([], dtype=T.long)),
        lambda T: T.combinations(T.tensor([1, 2, 3], dtype=T.int32), 2),
        lambda T: T.combinations(T.tensor([True, False]), 2, True),
    ):
        same(fn)
    for fn in (
        lambda T: T.combinations(T.ones(3), -1),
        lambda T: T.combinations(T.ones(2, 2)),
        lambda T: T.combinations(T.tensor(1.0)),
        lambda T: T.combinations([1, 2]),
        lambda T: T.combinations(T.ones(3), 2.0),
    ):
        same_error(fn)
