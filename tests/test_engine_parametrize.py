"""torch.nn.utils.parametrize, torch.nn.utils.parametrizations, the legacy weight_norm / spectral_norm hooks, the
batch-norm fusions and skip_init against PyTorch: each scenario runs on both libraries and returns what a user
sees (values, gradients, state_dict keys, printed modules and classes), compared item by item; error cases must
raise the same exception type with the same message."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from helpers import assert_same

import engine


def _classes(lib: Any) -> dict[str, type]:
    """The tutorial's parametrizations, written against `lib`."""
    nn = lib.nn

    class Symmetric(nn.Module):
        def forward(self, X: Any) -> Any:
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A: Any) -> Any:
            return A.triu()

    class Skew(nn.Module):
        def forward(self, X: Any) -> Any:
            A = X.triu(1)
            return A - A.transpose(-1, -2)

    class MatrixExponential(nn.Module):
        def forward(self, X: Any) -> Any:
            return lib.matrix_exp(X)

    class Counting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def forward(self, X: Any) -> Any:
            self.calls += 1
            return X * 2

        def right_inverse(self, X: Any) -> Any:
            return X / 2

    class Split(nn.Module):  # right_inverse returns two tensors: original0 and original1
        def forward(self, A: Any, B: Any) -> Any:
            return A + B

        def right_inverse(self, X: Any) -> Any:
            return X / 4, X * 3 / 4

    class Widen(nn.Module):  # changes the shape: needs unsafe=True
        def forward(self, X: Any) -> Any:
            return lib.cat([X, X], 0)

    class Halve(nn.Module):  # changes the dtype
        def forward(self, X: Any) -> Any:
            return X.double()

    return {c.__name__: c for c in (Symmetric, Skew, MatrixExponential, Counting, Split, Widen, Halve)}


def _compare(scenario: Callable[[Any], list]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = scenario(torch)
        e_out = scenario(engine)
    assert len(e_out) == len(t_out)
    for i, (e, t) in enumerate(zip(e_out, t_out)):
        assert_same(e, t, where=f"item {i}")


def _raises(scenario: Callable[[Any], Any]) -> tuple[str, str]:
    errs = []
    for lib in (torch, engine):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                scenario(lib)
            except Exception as e:  # noqa: BLE001 - the point is to compare whatever is raised
                errs.append((type(e).__name__, str(e)))
            else:
                errs.append(None)
    assert errs[0] is not None, "torch did not raise"
    assert errs[1] == errs[0], f"\nengine: {errs[1]}\ntorch:  {errs[0]}"
    return errs[0]


def _seeded_linear(lib: Any, n: int = 3, m: int = 3, seed: int = 0) -> Any:
    lib.manual_seed(seed)
    return lib.nn.Linear(n, m)


# ---- parametrize -----------------------------------------------------------------------------------------


def test_register_prints_swaps_class_and_keys() -> None:
    def scenario(lib: Any) -> list:
        P = lib.nn.utils.parametrize
        layer = _seeded_linear(lib)
        before = repr(layer)
        P.register_parametrization(layer, "weight", _classes(lib)["Symmetric"]())
        x = lib.ones(2, 3)
        layer(x).pow(2).sum().backward()
        orig = layer.parametrizations.weight.original
        return [
            before,
            repr(layer),
            repr(type(layer)),
            type(layer).__name__,
            repr(P.type_before_parametrizations(layer)),
            P.is_parametrized(layer),
            P.is_parametrized(layer, "weight"),
            P.is_parametrized(layer, "bias"),
            layer.weight,
            orig.grad,
            layer.bias.grad,
            list(layer.state_dict()),
            [n for n, _ in layer.named_parameters()],
            repr(layer.parametrizations),
            repr(type(layer.parametrizations.weight)),
            layer.parametrizations.weight.is_tensor,
            layer.parametrizations.weight.ntensors,
        ]

    _compare(scenario)


def test_chained_parametrizations_right_inverse_and_removal() -> None:
    def scenario(lib: Any) -> list:
        P = lib.nn.utils.parametrize
        C = _classes(lib)
        out = []
        layer = _seeded_linear(lib)
        P.register_parametrization(layer, "weight", C["Skew"]())
        P.register_parametrization(layer, "weight", C["MatrixExponential"]())
        W = layer.weight
        out += [W, (W.T @ W - lib.eye(3)).abs().max() < 1e-5, repr(layer)]
        sym = _seeded_linear(lib, seed=1)
        P.register_parametrization(sym, "weight", C["Symmetric"]())
        X = lib.arange(9.0).reshape(3, 3)
        X = X + X.T
        sym.weight = X  # right_inverse sets the original
        out += [sym.weight, sym.parametrizations.weight.original]
        P.remove_parametrizations(sym, "weight")
        out += [repr(sym), repr(type(sym)), sym.weight, type(sym.weight).__name__, list(sym.state_dict())]
        kept = _seeded_linear(lib, seed=2)
        P.register_parametrization(kept, "weight", C["Skew"]())
        P.remove_parametrizations(kept, "weight", leave_parametrized=False)
        out += [kept.weight, hasattr(kept, "parametrizations")]
        return out

    _compare(scenario)


def test_cached_computes_once_and_nests() -> None:
    def scenario(lib: Any) -> list:
        P = lib.nn.utils.parametrize
        counting = _classes(lib)["Counting"]()
        layer = _seeded_linear(lib)
        P.register_parametrization(layer, "weight", counting)
        counts = [counting.calls]
        layer.weight + layer.weight
        counts.append(counting.calls)
        with P.cached():
            layer.weight + layer.weight
            with P.cached():
                layer.weight.sum()
            layer.weight.sum()
        counts.append(counting.calls)
        layer.weight.sum()
        counts.append(counting.calls)
        return [counts, layer.weight, layer.parametrizations.weight.original]

    _compare(scenario)


def test_tuple_right_inverse_registers_original0_original1() -> None:
    def scenario(lib: Any) -> list:
        P = lib.nn.utils.parametrize
        layer = _seeded_linear(lib)
        P.register_parametrization(layer, "weight", _classes(lib)["Split"]())
        p = layer.parametrizations.weight
        out = [list(layer.state_dict()), p.original0, p.original1, layer.weight, p.is_tensor, p.ntensors]
        layer.weight = lib.ones(3, 3)
        out += [p.original0, p.original1]
        P.remove_parametrizations(layer, "weight")
        out += [layer.weight, type(layer.weight).__name__, repr(layer)]
        return out

    _compare(scenario)


def test_unsafe_and_buffers_and_transfer() -> None:
    def scenario(lib: Any) -> list:
        P = lib.nn.utils.parametrize
        C = _classes(lib)
        layer = _seeded_linear(lib, 2, 2)
        P.register_parametrization(layer, "weight", C["Widen"](), unsafe=True)
        out = [layer.weight.shape, layer.parametrizations.weight.unsafe]
        bn = lib.nn.BatchNorm1d(3)
        P.register_parametrization(bn, "running_mean", C["Counting"]())
        out += [list(bn.state_dict()), repr(bn)]
        src = _seeded_linear(lib, seed=3)
        P.register_parametrization(src, "weight", C["Symmetric"]())
        dst = _seeded_linear(lib, seed=4)
        P.transfer_parametrizations_and_params(src, dst)
        out += [repr(dst), dst.weight, dst.parametrizations.weight.original is src.parametrizations.weight.original]
        clone = copy.deepcopy(src)
        out += [repr(clone), repr(type(clone)), clone.weight]
        return out

    _compare(scenario)


@pytest.mark.parametrize(
    "case",
    ["missing", "shape", "dtype", "not_parametrized", "empty_list", "no_right_inverse", "second_shape",
     "tuple_leave"],
)  # fmt: skip
def test_parametrize_errors(case: str) -> None:
    def scenario(lib: Any) -> Any:
        P = lib.nn.utils.parametrize
        C = _classes(lib)
        layer = _seeded_linear(lib)
        if case == "missing":
            P.register_parametrization(layer, "nothing", C["Skew"]())
        elif case == "shape":
            P.register_parametrization(layer, "weight", C["Widen"]())
        elif case == "dtype":
            P.register_parametrization(layer, "weight", C["Halve"]())
        elif case == "not_parametrized":
            P.remove_parametrizations(layer, "weight")
        elif case == "empty_list":
            P.ParametrizationList([], layer.weight)
        elif case == "no_right_inverse":
            P.register_parametrization(layer, "weight", C["Skew"]())
            layer.weight = lib.zeros(3, 3)
        elif case == "second_shape":
            P.register_parametrization(layer, "weight", C["Skew"]())
            P.register_parametrization(layer, "weight", C["Widen"]())
        elif case == "tuple_leave":
            P.register_parametrization(layer, "weight", C["Split"]())
            P.remove_parametrizations(layer, "weight", leave_parametrized=False)

    _raises(scenario)


# ---- parametrizations ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
def test_orthogonal_maps(shape: tuple, orthogonal_map: str | None) -> None:
    def scenario(lib: Any) -> list:
        layer = _seeded_linear(lib, shape[1], shape[0])
        lib.nn.utils.parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map)
        Q = layer.weight
        small = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
        layer(lib.ones(2, shape[1])).sum().backward()
        p = layer.parametrizations.weight
        return [Q, (small - lib.eye(min(shape))).abs().max() < 1e-5, p.original.grad, repr(layer),
                list(layer.state_dict())]  # fmt: skip

    _compare(scenario)


@pytest.mark.parametrize("orthogonal_map", ["householder", "matrix_exp"])
def test_orthogonal_without_trivialization(orthogonal_map: str) -> None:
    def scenario(lib: Any) -> Any:
        layer = _seeded_linear(lib, 3, 4)
        lib.nn.utils.parametrizations.orthogonal(layer, orthogonal_map=orthogonal_map, use_trivialization=False)
        return [layer.weight, list(layer.state_dict())]

    if orthogonal_map == "householder":
        _compare(scenario)
    else:  # the initial assignment is skipped (NotImplementedError), and the weight is exp of the skew part
        _compare(scenario)


def test_orthogonal_assign_and_errors() -> None:
    def scenario(lib: Any) -> list:
        layer = _seeded_linear(lib, 3, 3)
        lib.nn.utils.parametrizations.orthogonal(layer)
        lib.manual_seed(5)
        Q, _ = lib.linalg.qr(lib.randn(3, 3))
        layer.weight = Q
        return [layer.weight, layer.parametrizations.weight.original]

    _compare(scenario)
    _raises(lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr"))
    _raises(lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), name="bias"))
    _raises(lambda lib: lib.nn.utils.parametrizations.orthogonal(lib.nn.Linear(3, 3), name="nope"))


@pytest.mark.parametrize("make", ["linear", "conv", "convT"])
def test_spectral_norm_parametrization(make: str) -> None:
    def scenario(lib: Any) -> list:
        lib.manual_seed(0)
        nn = lib.nn
        m = {"linear": lambda: nn.Linear(4, 5), "conv": lambda: nn.Conv2d(2, 3, 2),
             "convT": lambda: nn.ConvTranspose2d(2, 3, 2)}[make]()  # fmt: skip
        nn.utils.parametrizations.spectral_norm(m)
        p = m.parametrizations.weight[0]
        out = [p._u, p._v, m.weight, list(m.state_dict()), repr(m), p.dim]
        x = lib.ones(1, 4) if make == "linear" else lib.ones(1, 2, 3, 3)
        m(x).sum().backward()
        out += [m.parametrizations.weight.original.grad, p._u]
        m.eval()
        out += [m.weight, p._u]
        return out

    _compare(scenario)


def test_spectral_norm_errors() -> None:
    SN = "nn.utils.parametrizations.spectral_norm"
    for kwargs in ({"dim": 2}, {"n_power_iterations": 0}, {"name": "nothing"}):

        def scenario(lib: Any, kwargs: dict = kwargs) -> Any:
            fn = lib
            for part in SN.split("."):
                fn = getattr(fn, part)
            return fn(lib.nn.Linear(3, 3), **kwargs)

        _raises(scenario)


def test_weight_norm_parametrization() -> None:
    def scenario(lib: Any) -> list:
        m = _seeded_linear(lib, 4, 3)
        lib.nn.utils.parametrizations.weight_norm(m)
        p = m.parametrizations.weight
        out = [list(m.state_dict()), p.original0, p.original1, m.weight, repr(m)]
        m(lib.ones(2, 4)).sum().backward()
        out += [p.original0.grad, p.original1.grad]
        legacy = _seeded_linear(lib, 4, 3)
        lib.nn.utils.weight_norm(legacy)
        fresh = _seeded_linear(lib, 4, 3, seed=9)
        lib.nn.utils.parametrizations.weight_norm(fresh)
        fresh.load_state_dict(legacy.state_dict())  # the compat hook renames weight_g / weight_v
        out += [fresh.parametrizations.weight.original0, fresh.weight]
        m2 = _seeded_linear(lib, 4, 3)
        lib.nn.utils.parametrizations.weight_norm(m2, dim=None)
        out += [m2.parametrizations.weight.original0, m2.weight]
        conv = lib.nn.Conv2d(2, 3, 2)
        lib.nn.utils.parametrizations.weight_norm(conv, dim=1)
        out += [conv.parametrizations.weight.original0.shape]
        return out

    _compare(scenario)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_weight_norm_ops(dim: int) -> None:
    def scenario(lib: Any) -> list:
        lib.manual_seed(0)
        v = lib.randn(3, 4, 2, requires_grad=True)
        g = lib.norm_except_dim(v, 2, dim).detach().mul(1.5).requires_grad_()
        w = lib._weight_norm(v, g, dim)
        (w * lib.arange(24.0).reshape(3, 4, 2)).sum().backward()
        return [lib.norm_except_dim(v, 2, dim), w, v.grad, g.grad]

    _compare(scenario)


# ---- legacy hooks -------------------------------------------------------------------------------------------


def test_legacy_weight_norm() -> None:
    def scenario(lib: Any) -> list:
        m = _seeded_linear(lib, 4, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.utils.weight_norm(m)
        out = [[(w.category.__name__, str(w.message)) for w in caught], list(m.state_dict()), m.weight_g, m.weight_v]
        out += [m.weight, repr(m), sorted(n for n, _ in m.named_parameters())]
        m(lib.ones(2, 4)).sum().backward()
        out += [m.weight_g.grad, m.weight_v.grad]
        lib.nn.utils.remove_weight_norm(m)
        out += [list(m.state_dict()), m.weight, type(m.weight).__name__, len(m._forward_pre_hooks)]
        return out

    _compare(scenario)
    _raises(lambda lib: lib.nn.utils.weight_norm(lib.nn.utils.weight_norm(lib.nn.Linear(2, 2))))
    _raises(lambda lib: lib.nn.utils.remove_weight_norm(lib.nn.Linear(2, 2)))


def test_legacy_spectral_norm() -> None:
    def scenario(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 3)
        lib.nn.utils.spectral_norm(m)
        sd = m.state_dict()
        out = [list(sd), sd._metadata[""], m.weight_u, m.weight_v, m.weight]
        y = m(lib.ones(2, 4))
        y.sum().backward()
        out += [y, m.weight_orig.grad, m.weight_u, m.weight_v]
        m.eval()
        out += [m(lib.ones(1, 4)), m.weight_u]
        lib.nn.utils.remove_spectral_norm(m)
        out += [list(m.state_dict()), m.weight, type(m.weight).__name__]
        return out

    _compare(scenario)
    _raises(lambda lib: lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))))
    _raises(lambda lib: lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2)))
    _raises(lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0))


# ---- fusion, skip_init --------------------------------------------------------------------------------------


def test_fuse_conv_and_linear_with_batch_norm() -> None:
    def scenario(lib: Any) -> list:
        nn, F = lib.nn, lib.nn.utils
        lib.manual_seed(0)
        conv, bn = nn.Conv2d(2, 3, 2), nn.BatchNorm2d(3)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        conv.eval(), bn.eval()
        x = lib.randn(1, 2, 4, 4)
        fused = F.fuse_conv_bn_eval(conv, bn)
        lin, bn1 = nn.Linear(3, 3), nn.BatchNorm1d(3)
        bn1.running_mean.uniform_(-1, 1)
        lin.eval(), bn1.eval()
        fl = F.fuse_linear_bn_eval(lin, bn1)
        xs = lib.randn(2, 3)
        ct = nn.ConvTranspose2d(2, 3, 2)
        w, b = F.fuse_conv_bn_weights(ct.weight, None, bn.running_mean, bn.running_var, 1e-3, None, None, True)
        fct = F.fuse_conv_bn_eval(ct.eval(), bn, transpose=True)
        return [fused(x), bn(conv(x)), fl(xs), bn1(lin(xs)), fused.weight, w, b, fct(x), bn(ct(x))]

    _compare(scenario)
    _raises(lambda lib: lib.nn.utils.fuse_conv_bn_eval(lib.nn.Conv2d(1, 1, 1), lib.nn.BatchNorm2d(1)))
    _raises(lambda lib: lib.nn.utils.fuse_linear_bn_eval(lib.nn.Linear(2, 3).eval(), lib.nn.BatchNorm1d(2).eval()))


def test_skip_init_leaves_the_generator_alone() -> None:
    def scenario(lib: Any) -> list:
        lib.manual_seed(0)
        m = lib.nn.utils.skip_init(lib.nn.Linear, 3, 4, bias=False)
        return [m.weight.shape, type(m.weight).__name__, repr(m), lib.randn(2)]

    _compare(scenario)
    _raises(lambda lib: lib.nn.utils.skip_init(int))


def test_stateless_functional_call_warns_and_calls() -> None:
    def scenario(lib: Any) -> list:
        m = _seeded_linear(lib, 2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = lib.nn.utils.stateless.functional_call(m, {"weight": lib.ones(2, 2)}, lib.ones(1, 2))
        return [y, [(w.category.__name__, str(w.message)) for w in caught], m.weight]

    _compare(scenario)


def test_legacy_weight_norm_over_all_dims() -> None:
    def scenario(lib: Any) -> list:
        lib.manual_seed(0)
        conv = lib.nn.utils.weight_norm(lib.nn.Conv1d(2, 3, 2), dim=None)
        y = conv(lib.ones(1, 2, 4))
        y.sum().backward()
        return [conv.weight_g, y, conv.weight_g.grad, conv.weight_v.grad]

    _compare(scenario)


@pytest.mark.usefixtures("device")
def test_on_the_default_device() -> None:
    """The parametrizations run where the module's tensors live (built on the cpu with torch's draws, then moved:
    the engine's cuda generator is a stream of its own, so square weights: a tall one's orthogonal completion
    draws from the weight's device)."""
    import helpers

    def scenario(lib: Any) -> list:
        dev = helpers.DEVICE if lib is engine else "cpu"
        nn, P = lib.nn, lib.nn.utils.parametrize
        lib.manual_seed(0)
        layers = [nn.Linear(4, 4, device="cpu").to(dev) for _ in range(5)]
        x = lib.ones(2, 4, device="cpu").to(dev)
        P.register_parametrization(layers[0], "weight", _classes(lib)["Counting"]())
        nn.utils.parametrizations.weight_norm(layers[1])
        nn.utils.parametrizations.orthogonal(layers[2], orthogonal_map="householder")
        nn.utils.parametrizations.orthogonal(layers[3], orthogonal_map="cayley")
        nn.utils.weight_norm(layers[4])
        out = []
        for layer in layers:
            y = layer(x)
            y.sum().backward()
            out += [y.detach().cpu(), y.grad_fn.name(), [p.grad.cpu() for p in layer.parameters()],
                    list(layer.state_dict())]  # fmt: skip
        return out

    _compare(scenario)


@pytest.mark.parametrize("dim", [0, 2, 1])
def test_weight_norm_op_second_derivatives(dim: int) -> None:
    v = engine.randn(3, 2, 4, dtype=engine.float64, requires_grad=True)
    g = engine.norm_except_dim(v, 2, dim).detach().add(0.5).requires_grad_()

    def fn(v: Any, g: Any) -> Any:
        return engine._weight_norm(v, g, dim)

    assert engine.autograd.gradcheck(fn, (v, g))
    assert engine.autograd.gradgradcheck(fn, (v, g))


def test_legacy_spectral_norm_loads_old_and_new_checkpoints() -> None:
    # (a tall weight: the old format's v is solved through pinverse(W^T W), ill-posed for a wide one)
    def scenario(lib: Any) -> list:
        lib.manual_seed(0)
        src = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        src(lib.ones(1, 3))
        sd = src.state_dict()
        dst = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        out = [repr(dst.load_state_dict(sd)), dst.weight_v, dst.weight_u]
        plain = dict(sd)  # no metadata, all three keys: taken as the current format
        dst = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        out += [repr(dst.load_state_dict(plain)), dst.weight_v]
        old = {k: v for k, v in plain.items() if k != "weight_v"}  # a version-0 checkpoint: weight, no weight_v
        old["weight"] = src.weight.detach()
        dst = lib.nn.utils.spectral_norm(lib.nn.Linear(3, 5))
        out += [repr(dst.load_state_dict(old)), dst.weight_v]
        return out

    _compare(scenario)


def test_the_original_is_the_parameter_it_was() -> None:
    """Registering, assigning and removing keep the Parameter object (optimizers hold it), bumping its version
    as torch's set_ does."""

    def scenario(lib: Any) -> list:
        P = lib.nn.utils.parametrize
        m = _seeded_linear(lib)
        p = m.weight
        out = [p._version]
        P.register_parametrization(m, "weight", _classes(lib)["Symmetric"]())
        out += [m.parametrizations.weight.original is p, p._version]
        m.weight = lib.eye(3)
        out += [p._version]
        P.remove_parametrizations(m, "weight")
        out += [m.weight is p, p._version, p.is_leaf, p]
        return out

    _compare(scenario)
