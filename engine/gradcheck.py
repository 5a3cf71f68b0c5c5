"""torch.autograd.gradcheck / gradgradcheck for the engine: central finite differences against the
analytical Jacobian that the engine's backward pass computes (slow mode, as torch's default).

The numerical Jacobian perturbs each input element in place through the tensor's array (as torch does
through `.data`, so version counters are not bumped), evaluates func at x - eps and x + eps and divides
the difference by 2 * eps. The analytical Jacobian is built row by row from vector-Jacobian products
(`engine.autograd.grad` with one-hot grad_outputs), twice, to check that backward is deterministic.
gradgradcheck applies gradcheck to the function (inputs, grad_outputs) -> grad(func(inputs)) with
create_graph=True, so it checks second derivatives through the graph of the backward pass.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from engine.tensor import Tensor, wrap
from engine.warn import user_stacklevel

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Error raised by gradcheck and gradgradcheck."""


FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


# ---- helpers ------------------------------------------------------------------------------------------
def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _iter_tensors(x: Any, only_requiring_grad: bool = False) -> Iterable[Tensor]:
    if isinstance(x, Tensor):
        if x.requires_grad or not only_requiring_grad:
            yield x
    elif isinstance(x, Iterable) and not isinstance(x, str):
        for elem in x:
            yield from _iter_tensors(elem, only_requiring_grad)


def _is_float(t: Any) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind in "fc"


def _differentiable_outputs(x: Any) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _zeros(shape: tuple, np_dtype: Any, like: Tensor) -> Tensor:
    return wrap(like._dev.xp.zeros(shape, dtype=np_dtype), like._dev)


def _check_inputs(tupled_inputs: tuple) -> None:
    any_requiring = False
    for idx, inp in enumerate(tupled_inputs):
        if isinstance(inp, Tensor) and inp.requires_grad:
            if inp._data.dtype != np.float64 and inp._data.dtype != np.complex128:
                warnings.warn(
                    f"Input #{idx} requires gradient and is not a double precision floating point or "
                    "complex. This check will likely fail if all the inputs are not of double precision "
                    "floating point or complex. ",
                    stacklevel=user_stacklevel(),
                )
            if not all(st > 0 or sz <= 1 for st, sz in zip(inp.stride(), inp._data.shape)):
                raise RuntimeError(
                    f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs that "
                    "are non-overlapping to be able to compute the numerical gradients correctly. You should "
                    "call .contiguous on the input before passing it to gradcheck."
                )
            any_requiring = True
    if not any_requiring:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True."
        )


def _allclose(a: Tensor, b: Tensor, rtol: float, atol: float) -> bool:
    from engine.dtypes import PROMOTE_NP

    dt = PROMOTE_NP[a._data.dtype, b._data.dtype]
    return bool(np.allclose(a._host().astype(dt), b._host().astype(dt), rtol=rtol, atol=atol))


def _notallclose_msg(analytical: Tensor, numerical: Tensor, output_idx: int, input_idx: int) -> str:
    return (
        f"Jacobian mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"
        f"numerical:{numerical}\nanalytical:{analytical}\n"
    )


# ---- numerical Jacobian ------------------------------------------------------------------------------------
def _check_same_dtype_and_shape(a: Tensor, b: Tensor, eps: float, idx: tuple) -> None:
    if a._data.shape != b._data.shape:
        raise AssertionError(
            f"Expected `func` to return outputs with the same shape when inputs are perturbed on index {idx} "
            f"by {eps}, but got: shapes {a.shape} and {b.shape}."
        )
    if a.dtype is not b.dtype:
        raise AssertionError(
            f"Expected `func` to return outputs with the same dtype when inputs are perturbed on index {idx} "
            f"by {eps}, but got: dtypes {a.dtype} and {b.dtype}."
        )


def _eval(func: Callable, inputs: tuple) -> tuple:
    return tuple(o.clone() for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor))


def _numerical_jacobian(func: Callable, inputs: tuple, outputs: tuple, eps: float) -> list:
    """For each input requiring grad, a tuple with one (input numel, output numel) Jacobian per float
    output: column d of output k's Jacobian holds d(out_k)/d(x[d])."""
    float_outs = [o for o in outputs if _is_float(o)]
    result = []
    for inp in inputs:
        if not (isinstance(inp, Tensor) and inp.requires_grad):
            continue
        arr = inp._data  # perturbed in place, like torch's input.data
        n = int(arr.size)
        jac = [np.zeros((n, o._data.size), dtype=o._data.dtype) for o in float_outs]
        for d_idx, idx in enumerate(itertools.product(*[range(m) for m in arr.shape])):
            orig = arr[idx].copy()
            arr[idx] = orig - eps
            outa = _eval(func, inputs)
            arr[idx] = orig + eps
            outb = _eval(func, inputs)
            arr[idx] = orig
            k = 0
            for a, b in zip(outa, outb):
                _check_same_dtype_and_shape(a, b, eps, idx)
                if not _is_float(a):
                    continue
                col = (b._host().astype(np.float64) - a._host().astype(np.float64)) / (2 * eps)
                if k < len(jac):
                    jac[k][d_idx] = col.reshape(-1)
                k += 1
        result.append(tuple(wrap(inp._dev.xp.asarray(j), inp._dev) for j in jac))
    return result


# ---- analytical Jacobian ---------------------------------------------------------------------------------
def _analytical_jacobian(inputs: tuple, output: Tensor, nondet_tol: float, check_grad_dtypes: bool) -> tuple:
    from engine import autograd

    diff_inputs = list(_iter_tensors(inputs, True))

    def rows() -> list:
        n_out = int(output._data.size)
        jacs = [np.zeros((int(x._data.size), n_out), dtype=x._data.dtype) for x in diff_inputs]
        sizes_ok = types_ok = True
        for j in range(n_out):
            go = np.zeros(output._data.size, dtype=output._data.dtype)
            go[j] = 1
            g_out = wrap(output._dev.xp.asarray(go.reshape(output._data.shape)), output._dev)
            grads = autograd.grad(output, diff_inputs, g_out, retain_graph=True, allow_unused=True)
            for i, g in enumerate(grads):
                if g is None:
                    continue
                if g._data.shape != diff_inputs[i]._data.shape:
                    sizes_ok = False
                elif g._data.dtype != diff_inputs[i]._data.dtype:
                    types_ok = False
                if g._data.size != jacs[i].shape[0]:
                    raise AssertionError(
                        f"Expected out_jacobian column to have {g._data.size} elements, but got {jacs[i].shape[0]}"
                    )
                jacs[i][:, j] = np.asarray(g._host(), dtype=jacs[i].dtype).reshape(-1)
        return jacs, sizes_ok, types_ok

    jac1, sizes_ok, types_ok = rows()
    jac2, _, _ = rows()
    reentrant = all(a.size == 0 or float(np.abs(a - b).max()) <= nondet_tol for a, b in zip(jac1, jac2))
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
            "times gives different values, although analytical gradient matches numerical gradient."
            f"The tolerance for nondeterminism was {nondet_tol}." + FAILED_NONDET_MSG
        )
    return tuple(wrap(x._dev.xp.asarray(j), x._dev) for j, x in zip(jac1, diff_inputs))  # host Jacobians


# ---- the checks --------------------------------------------------------------------------------------------
def _slow_gradcheck(func: Callable, func_out: Any, inputs: tuple, outputs: tuple, eps: float, rtol: float,
                    atol: float, check_grad_dtypes: bool, nondet_tol: float) -> bool:  # fmt: skip
    func_out = tuple(o for o in _as_tuple(func_out) if isinstance(o, Tensor))
    numerical = _numerical_jacobian(func, inputs, func_out, eps)
    if not outputs:
        for per_input in numerical:
            for jac in per_input:
                if bool((jac._data != 0).any()):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    # numerical[input][output] -> per differentiable output, one Jacobian per input
    float_outs = [o for o in func_out if _is_float(o)]
    by_output = list(zip(*numerical)) if numerical else [() for _ in float_outs]
    by_output = [nj for o, nj in zip(float_outs, by_output) if o.requires_grad]
    for i, o in enumerate(outputs):
        analytical = _analytical_jacobian(inputs, o, nondet_tol, check_grad_dtypes)
        for j, (a, n) in enumerate(zip(analytical, by_output[i])):
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_notallclose_msg(a, n, i, j))
    return True


def _test_backward_mul_by_grad_output(outputs: tuple, inputs: tuple) -> None:
    from engine import autograd

    diff_inputs = list(_iter_tensors(inputs, True))
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")
    zeros = [_zeros(o._data.shape, o._data.dtype, o) for o in outputs]
    grads = autograd.grad(outputs, diff_inputs, zeros, allow_unused=True)
    for gi, di in zip(grads, diff_inputs):
        if gi is None:
            continue
        if not bool((gi._data == 0).all()):
            raise GradcheckError("backward not multiplied by grad_output")
        if gi.dtype is not di.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi._dev is not di._dev:
            raise GradcheckError("grad is incorrect device")
        if gi._data.shape != di._data.shape:
            raise GradcheckError("grad is incorrect size")


def _test_undefined_backward_mode(func: Callable, inputs: tuple) -> None:
    """The engine has no undefined gradients: an all-zero grad_output stands in for one."""
    from engine import autograd

    diff_inputs = list(_iter_tensors(inputs, True))
    outs = [o for o in _differentiable_outputs(func(*inputs)) if isinstance(o, Tensor)]
    if not outs:
        return
    zeros = [_zeros(o._data.shape, o._data.dtype, o) for o in outs]
    try:
        grads = autograd.grad(outs, diff_inputs, zeros, allow_unused=True)
    except RuntimeError as e:
        raise GradcheckError(
            'Expected backward function to handle undefined output grads. Please look at "Notes about '
            'undefined output gradients" in "tools/autograd/derivatives.yaml"'
        ) from e
    for gi in grads:
        if gi is not None and not bool((gi._data == 0).all()):
            raise GradcheckError(
                "Expected all input grads to be undefined or zero when all output grads are undefined or "
                'zero. Please look at "Notes about undefined output gradients" in '
                '"tools/autograd/derivatives.yaml"'
            )


def _unsupported(name: str) -> NotImplementedError:
    if name == "check_batched_grad":  # (a loop is its own batching rule: there would be nothing to check)
        why = "checks vmap's batching rules, which this engine has none of (its vmap runs the function per element)"
    else:
        why = "needs forward-mode AD (not in this engine)"
    return NotImplementedError(f"gradcheck: {name}=True {why}")


def _as_real(func: Callable, inputs: tuple) -> tuple[Callable, tuple]:
    """A complex function checked as the real function of the real and imaginary parts (view_as_real on each
    side): its Jacobian is what torch's complex gradcheck compares, one real derivative per part."""
    from engine.ops.complex import view_as_complex, view_as_real

    cplx = [isinstance(t, Tensor) and t._data.dtype.kind == "c" for t in inputs]
    real_inputs = tuple(
        view_as_real(t.detach().resolve_conj()).clone().requires_grad_(t.requires_grad) if c else t
        for t, c in zip(inputs, cplx)
    )

    def real_func(*args: Any) -> Any:
        out = func(*(view_as_complex(a) if c else a for a, c in zip(args, cplx)))
        outs = tuple(view_as_real(o.resolve_conj()) if _is_complex(o) else o for o in _as_tuple(out))
        return outs if isinstance(out, tuple) else outs[0]

    return real_func, real_inputs


def _is_complex(t: Any) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind == "c"


def _forward_ad_jacobian(func: Callable, inputs: tuple) -> list:
    """Per input requiring grad, per float output: the (input numel, output numel) Jacobian, one row per
    one-hot tangent pushed through func with forward AD (torch's _get_analytical_jacobian_forward_ad)."""
    from engine import forward_ad as fwad
    from engine.creation import zeros_like

    result = []
    for i, inp in enumerate(inputs):
        if not (isinstance(inp, Tensor) and inp.requires_grad):
            continue
        n = int(inp._data.size)
        rows: list = []
        for d_idx in range(n):
            with fwad.dual_level():
                tangent = zeros_like(inp).detach()
                tangent._data.reshape(-1)[d_idx] = 1
                args = tuple(fwad.make_dual(a.detach(), tangent) if k == i else a for k, a in enumerate(inputs))
                outs = [o for o in _as_tuple(func(*args)) if isinstance(o, Tensor) and _is_float(o)]
                rows.append([fwad.unpack_dual(o).tangent for o in outs])
        jacs = []
        for k in range(len(rows[0]) if rows else 0):
            cols = [r[k] for r in rows]
            first = next((c for c in cols if c is not None), None)
            size = int(first._data.size) if first is not None else 0
            jac = np.zeros((n, size), dtype=inp._data.dtype)
            for d_idx, c in enumerate(cols):
                if c is not None:
                    jac[d_idx] = np.asarray(c._host(), dtype=jac.dtype).reshape(-1)
            jacs.append(wrap(inp._dev.xp.asarray(jac), inp._dev))
        result.append(jacs)
    return result


def _forward_ad_gradcheck(func: Callable, func_out: Any, inputs: tuple, outputs: tuple, eps: float, rtol: float,
                          atol: float) -> None:  # fmt: skip
    func_out = tuple(o for o in _as_tuple(func_out) if isinstance(o, Tensor))
    numerical = _numerical_jacobian(func, inputs, func_out, eps)
    float_outs = [o for o in func_out if _is_float(o)]
    by_output = list(zip(*numerical)) if numerical else [() for _ in float_outs]
    by_output = [nj for o, nj in zip(float_outs, by_output) if o.requires_grad]
    analytical = _forward_ad_jacobian(func, inputs)
    for i, n_per_out in enumerate(by_output):
        for j, n in enumerate(n_per_out):
            a = analytical[j][i]
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(
                    f"Jacobian computed with forward mode mismatch for output {i:d} with respect to input {j:d},\n"
                    f"numerical:{n}\nanalytical:{a}\n"
                )


def _gradcheck_helper(func: Callable, inputs: Any, eps: float, atol: float, rtol: float, nondet_tol: float,
                      check_undefined_grad: bool, check_grad_dtypes: bool, check_forward_ad: bool = False,
                      check_backward_ad: bool = True) -> bool:  # fmt: skip
    tupled_inputs = _as_tuple(inputs)
    _check_inputs(tupled_inputs)
    if any(isinstance(t, Tensor) and t._data.dtype.kind == "c" for t in tupled_inputs) or any(
        t._data.dtype.kind == "c" for t in _iter_tensors(func(*tupled_inputs))
    ):
        func, tupled_inputs = _as_real(func, tupled_inputs)
    func_out = func(*tupled_inputs)
    outputs = _differentiable_outputs(func_out)
    if check_backward_ad:
        _slow_gradcheck(func, func_out, tupled_inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol)
    if check_forward_ad and outputs:
        _forward_ad_gradcheck(func, func_out, tupled_inputs, outputs, eps, rtol, atol)
    if not check_backward_ad:
        return True
    _test_backward_mul_by_grad_output(outputs, tupled_inputs)
    if check_undefined_grad:
        _test_undefined_backward_mode(func, tupled_inputs)
    return True


def gradcheck(
    func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False, check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False, check_forward_ad: bool = False, check_backward_ad: bool = True,
    fast_mode: bool = False, masked: bool | None = None,
) -> bool:  # fmt: skip
    """torch.autograd.gradcheck: analytical gradients of func at inputs against finite differences.

    fast_mode runs the full (slow-mode) check, which accepts and rejects the same functions."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    for name, flag in (("check_batched_grad", check_batched_grad),
                       ("check_batched_forward_grad", check_batched_forward_grad)):  # fmt: skip
        if flag:
            raise _unsupported(name)
    try:
        return _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                                 check_forward_ad, check_backward_ad)  # fmt: skip
    except GradcheckError:
        if raise_exception:
            raise
        return False


def gradgradcheck(
    func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6, atol: float = 1e-5,
    rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
    nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
    check_batched_grad: bool = False, check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
    fast_mode: bool = False, masked: bool = False,
) -> bool:  # fmt: skip
    """torch.autograd.gradgradcheck: gradcheck of the gradients of func (second order, via create_graph)."""
    from engine import autograd
    from engine import random as rnd

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*tupled_inputs))
        made = []
        for x in outputs:
            dt = x._data.dtype if x._data.dtype.kind in "fc" else np.dtype(np.float64)
            u = rnd.uniform(None, x._data.shape, dt, -1.0, 1.0)
            g = wrap(x._dev.xp.asarray(u), x._dev)
            g.requires_grad_()
            made.append(g)
        tupled_grad_outputs = tuple(made)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_input_idx = {i for i, x in enumerate(tupled_inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_grad_output_idx = {i for i, x in enumerate(tupled_grad_outputs) if x.requires_grad}

    def new_func(*args: Any) -> tuple:
        input_args = tuple(x.requires_grad_() if i in diff_input_idx else x for i, x in enumerate(args[:-num_outputs]))
        outputs = _differentiable_outputs(func(*input_args))
        gos = tuple(x.requires_grad_() if i in diff_grad_output_idx else x for i, x in enumerate(args[-num_outputs:]))
        diff_input_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_idx)
        grad_inputs = autograd.grad(outputs, diff_input_args, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(
        new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
        raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad, fast_mode=fast_mode,
        check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked,
    )  # fmt: skip
