"""torch.utils.checkpoint against PyTorch: outputs, gradients (of inputs and of the parameters a checkpointed
function uses) and grad_fn for both use_reentrant modes, how often and how far the function runs again in backward
(early stop, once per backward pass), the random state replayed for dropout, nesting, and torch's warnings and
errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from helpers import assert_same, make

import engine

MODES = [True, False]


def both(scenario, **tol) -> object:
    """scenario(T) with torch and with the engine: every value it returns agrees (tensors to tolerance), or both
    raise the same error."""
    results = []
    for lib in (torch, engine):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(scenario(lib))
            except Exception as e:  # noqa: BLE001 - the error itself is compared
                results.append((type(e).__name__, str(e)))
    want, got = results
    assert_same(got, want, **tol)
    return want


def _weights(T, seed: int) -> tuple:
    w1 = T.tensor(make((4, 3), seed=seed, low=-1, high=1), requires_grad=True)
    w2 = T.tensor(make((2, 4), seed=seed + 1, low=-1, high=1), requires_grad=True)
    return w1, w2


def _mlp(T, w1, w2, log: list):
    def block(x):
        log.append("start")
        h = T.tanh(x @ w1.t())
        out = (h @ w2.t()).relu() * h.sum(dim=1, keepdim=True)
        log.append("end")  # after the last op that saves a tensor: a non-reentrant rerun stops before it
        return out

    return block


@pytest.mark.usefixtures("device")
@pytest.mark.parametrize("reentrant", MODES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_and_gradients(reentrant: bool, seed: int) -> None:
    def scenario(T):
        w1, w2 = _weights(T, seed)
        x = T.tensor(make((5, 3), seed=seed + 2), requires_grad=True)
        log: list = []
        y = T.utils.checkpoint.checkpoint(_mlp(T, w1, w2, log), x, use_reentrant=reentrant)
        forward_log = list(log)
        (y * y).sum().backward()
        return y, x.grad, w1.grad, w2.grad, forward_log, log

    out = both(scenario)
    assert out[0].grad_fn.name() == ("CheckpointFunctionBackward" if reentrant else "MulBackward0")


@pytest.mark.usefixtures("device")
@pytest.mark.parametrize("reentrant", MODES)
def test_inputs_without_grad(reentrant: bool) -> None:
    """The reentrant mode's pitfall: with no input requiring grad, its output has no graph (and a warning says
    so); the non-reentrant mode still reaches the parameters."""

    def scenario(T):
        w1, w2 = _weights(T, 3)
        y = T.utils.checkpoint.checkpoint(_mlp(T, w1, w2, []), T.ones(2, 3), use_reentrant=reentrant)
        if y.requires_grad:
            y.sum().backward()
        return y, w1.grad, w2.grad

    both(scenario)
    for lib in (torch, engine):
        with pytest.warns(UserWarning) as rec:
            lib.utils.checkpoint.checkpoint(lambda t: t * 2, lib.ones(2), use_reentrant=True)
        assert [str(w.message) for w in rec] == ["None of the inputs have requires_grad=True. Gradients will be None"]


@pytest.mark.parametrize("reentrant", MODES)
@pytest.mark.parametrize("preserve", [True, False])
def test_dropout_masks_and_the_random_stream(reentrant: bool, preserve: bool) -> None:
    """preserve_rng_state replays forward's random state in the rerun (the same dropout mask, so the gradient is
    the one of the forward's values), and the caller's stream goes on as if the rerun had not drawn; without it
    the rerun draws on, as in torch."""

    def scenario(T):
        T.manual_seed(7)
        w1, w2 = _weights(T, 4)
        x = T.tensor(make((6, 3), seed=5), requires_grad=True)

        def f(x):
            return T.nn.functional.dropout(T.tanh(x @ w1.t()), 0.5, training=True) @ w2.t()

        y = T.utils.checkpoint.checkpoint(f, x, use_reentrant=reentrant, preserve_rng_state=preserve)
        y.sum().backward()
        return y, x.grad, w1.grad, T.rand(3)

    both(scenario)


@pytest.mark.usefixtures("device")
@pytest.mark.parametrize("reentrant", MODES)
def test_dropout_gradient_is_the_uncheckpointed_one(reentrant: bool) -> None:
    """On any device: with the random state replayed, checkpointing changes no value and no gradient."""
    x0 = make((4, 3), seed=6)
    grads = []
    for wrap in (False, True):
        engine.manual_seed(3)
        x = engine.tensor(x0, requires_grad=True)

        def f(x):
            return engine.nn.functional.dropout(x.sin(), 0.5, training=True) * x

        y = engine.utils.checkpoint.checkpoint(f, x, use_reentrant=reentrant) if wrap else f(x)
        y.sum().backward()
        grads.append((y.detach().cpu().numpy(), x.grad.cpu().numpy(), engine.rand(2).cpu().numpy()))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_reruns_once_per_backward_pass() -> None:
    def scenario(T):
        log: list = []
        x = T.tensor(make((3,), seed=8), requires_grad=True)

        def f(t):
            log.append("run")
            return t.exp() * t

        y = T.utils.checkpoint.checkpoint(f, x, use_reentrant=False)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        try:
            y.sum().backward()
        except RuntimeError as e:
            log.append(str(e))
        return x.grad, log

    both(scenario)


def test_early_stop_can_be_turned_off() -> None:
    def scenario(T):
        log: list = []
        w1, w2 = _weights(T, 9)
        x = T.tensor(make((2, 3), seed=10), requires_grad=True)
        with T.utils.checkpoint.set_checkpoint_early_stop(False):
            y = T.utils.checkpoint.checkpoint(_mlp(T, w1, w2, log), x, use_reentrant=False)
        y.sum().backward()
        return x.grad, log

    both(scenario)


@pytest.mark.usefixtures("device")
def test_gradients_through_autograd_grad_and_create_graph() -> None:
    def scenario(T):
        x = T.tensor(make((3,), seed=11), requires_grad=True)
        y = T.utils.checkpoint.checkpoint(lambda t: t**3 * t.sin(), x, use_reentrant=False)
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (g2,) = T.autograd.grad(g.sum(), x)
        z = T.utils.checkpoint.checkpoint(lambda t: t**3, x, use_reentrant=True)
        z.sum().backward(create_graph=True)
        return g, g2, x.grad

    both(scenario, atol=1e-4, rtol=1e-4)


@pytest.mark.usefixtures("device")
@pytest.mark.parametrize("reentrant", MODES)
def test_several_inputs_outputs_and_keywords(reentrant: bool) -> None:
    def scenario(T):
        a = T.tensor(make((3,), seed=12), requires_grad=True)
        b = T.tensor(make((3,), seed=13), requires_grad=True)

        def h(a, b, k, scale=2.0):
            return a * b * scale, (a + b).relu() ** k, "label"

        kw = {} if reentrant else {"scale": 3.0}
        o1, o2, label = T.utils.checkpoint.checkpoint(h, a, b, 2, use_reentrant=reentrant, **kw)
        (o1.sum() + o2.sum()).backward()
        return o1, o2, label, a.grad, b.grad

    both(scenario)


@pytest.mark.usefixtures("device")
@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_sequential(reentrant: bool) -> None:
    def scenario(T):
        T.manual_seed(0)
        nn = T.nn
        model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2))
        with T.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(T.tensor(make(tuple(p.shape), seed=20 + i, low=-1, high=1)))
        x = T.tensor(make((4, 3), seed=14), requires_grad=True)
        out = T.utils.checkpoint.checkpoint_sequential(model, 2, x, use_reentrant=reentrant)
        out.sum().backward()
        return out, x.grad, [p.grad for p in model.parameters()]

    both(scenario)


@pytest.mark.parametrize("outer_reentrant", MODES)
@pytest.mark.parametrize("shape", ["after", "plain", "reentrant_inside", "two"])
def test_nested(outer_reentrant: bool, shape: str) -> None:
    """A checkpoint inside another: which function runs again when, and how far (torch saves the inner one's
    inputs through the outer one, so the outer rerun comes first and stops where the inner checkpoint is made)."""

    def scenario(T):
        ckpt = T.utils.checkpoint.checkpoint
        log: list = []
        x = T.tensor(make((3,), seed=15), requires_grad=True)

        def inner(t):
            log.append("inner")
            r = t.sin() * t
            log.append("inner end")
            return r

        def outer(t):
            log.append("outer")
            if shape == "after":
                u = (ckpt(inner, t.exp(), use_reentrant=False) * t).sum()
            elif shape == "plain":
                u = ckpt(inner, t, use_reentrant=False).sum()
            elif shape == "reentrant_inside":
                u = ckpt(inner, t * 2, use_reentrant=True).sum()
            else:
                u = (ckpt(inner, t, use_reentrant=False) + ckpt(inner, t.cos(), use_reentrant=False)).sum()
            log.append("outer end")
            return u

        y = ckpt(outer, x, use_reentrant=outer_reentrant)
        log.append("backward")
        y.backward()
        return y, x.grad, log

    both(scenario)


def test_under_no_grad_nothing_is_kept() -> None:
    def scenario(T):
        x = T.tensor(make((3,), seed=15), requires_grad=True)
        with T.no_grad():
            z = T.utils.checkpoint.checkpoint(lambda t: t.sin() * 2, x, use_reentrant=False)
        return z

    both(scenario)


def test_a_rerun_that_differs_from_forward() -> None:
    def scenario(T):
        calls = [0]
        x = T.tensor(make((3,), seed=16), requires_grad=True)
        out = []

        def fewer(t):
            calls[0] += 1
            return t.sin().cos() if calls[0] == 1 else t.sin()

        def reshaped(t):
            calls[0] += 1
            return t.repeat(calls[0]).sin()

        def more(t):
            calls[0] += 1
            return t.sin().cos() if calls[0] % 2 else t.sin().cos().exp()

        for fn, kw in ((fewer, {}), (reshaped, {}), (more, {"early": False})):
            calls[0] = 0
            with T.utils.checkpoint.set_checkpoint_early_stop(kw.get("early", True)):
                y = T.utils.checkpoint.checkpoint(fn, x, use_reentrant=False)
            try:
                y.sum().backward()
            except T.utils.checkpoint.CheckpointError as e:
                out.append(str(e))
        return out

    assert len(both(scenario)) == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda T, x: T.utils.checkpoint.checkpoint(lambda t: t, x, use_reentrant=True, scale=2),
        lambda T, x: T.utils.checkpoint.checkpoint(lambda t: t, x, use_reentrant=True, debug=True),
        lambda T, x: T.utils.checkpoint.checkpoint(
            lambda t: t, x, use_reentrant=True, context_fn=lambda: (T.no_grad(), T.no_grad())
        ),
        lambda T, x: T.utils.checkpoint.checkpoint(lambda t: t, x, use_reentrant=False, determinism_check="all"),
        lambda T, x: T.utils.checkpoint.checkpoint_sequential([lambda t: t], 1, x, use_reentrant=True, extra=1),
        lambda T, x: T.autograd.grad(T.utils.checkpoint.checkpoint(lambda t: t * 2, x, use_reentrant=True).sum(), x),
        lambda T, x: T.utils.checkpoint.checkpoint(lambda t: t * 2, x, use_reentrant=True).sum().backward(inputs=[x]),
        lambda T, x: T.utils.checkpoint.checkpoint(lambda t: t.detach(), x, use_reentrant=True).sum().backward(),
        lambda T, x: T.utils.checkpoint.detach_variable([x]),
    ],
)
def test_errors(call) -> None:
    errors = []
    for lib in (torch, engine):
        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call(lib, x)
            except Exception as e:  # noqa: BLE001 - the error itself is compared
                errors.append((type(e).__name__, str(e)))
    assert len(errors) == 2, errors
    assert errors[1] == errors[0]


def test_selective_checkpointing_is_a_scope_note() -> None:
    assert callable(torch.utils.checkpoint.create_selective_checkpoint_contexts)
    with pytest.raises(AttributeError, match="create_selective_checkpoint_contexts is not in tcli's engine"):
        engine.utils.checkpoint.create_selective_checkpoint_contexts  # noqa: B018 - the lookup is the test


def test_use_reentrant_must_be_passed_or_a_warning_says_so() -> None:
    for lib in (torch, engine):
        x = lib.ones(2, requires_grad=True)
        with pytest.warns(UserWarning) as rec:
            y = lib.utils.checkpoint.checkpoint(lambda t: t * 2, x)
            lib.utils.checkpoint.checkpoint_sequential([lambda t: t + 1, lambda t: t * 3], 2, x)
        assert y.grad_fn.name() == "CheckpointFunctionBackward"  # (the default is still the reentrant mode)
        messages = [str(w.message) for w in rec]
        assert messages[0].startswith("torch.utils.checkpoint: the use_reentrant parameter should be passed")
        assert messages[1].startswith("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter")
        if lib is torch:
            want = messages
        else:
            assert messages == want


def test_names_print_as_torchs() -> None:
    assert repr(engine.utils.checkpoint.CheckpointFunction) == repr(torch.utils.checkpoint.CheckpointFunction)
    x = engine.ones(2, requires_grad=True)
    y = engine.utils.checkpoint.checkpoint(lambda t: t * 2, x, use_reentrant=True)
    assert repr(y) == "tensor([2., 2.], grad_fn=<CheckpointFunctionBackward>)"
    assert (
        type(y.grad_fn).__name__
        == type(
            torch.utils.checkpoint.checkpoint(
                lambda t: t * 2, torch.ones(2, requires_grad=True), use_reentrant=True
            ).grad_fn
        ).__name__
    )
