"""torch.autograd.graph's saved tensors: the nodes' _saved_* fields and saved_tensors_hooks, against torch."""

import io
import textwrap

import pytest
import torch

import engine
from engine import autograd_graph
from tcli.session import Session


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


def _trace(lib):
    """What the hooks see for a few ops, and the gradients: a list of printable records."""
    log = []

    def pack(t):
        log.append(("P", t.tolist(), type(t.grad_fn).__name__ if t.grad_fn is not None else None))
        return t

    def unpack(t):
        log.append(("U", t.tolist()))
        return t

    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 0.5], requires_grad=True)
    c = lib.tensor([2.0, 4.0])
    for f in (
        lambda: a * b,
        lambda: a * c,  # only c is saved (a's gradient needs it; c needs none)
        lambda: a / b,
        lambda: a.pow(b),
        lambda: (a * b).exp(),
        lambda: a.sin() * b.softmax(0),
        lambda: lib.max(a * b),
        lambda: a @ b,
    ):
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = f()
        log.append(type(y.grad_fn).__name__)
        y.sum().backward()
    log.append((a.grad.tolist(), b.grad.tolist()))
    return log


def test_pack_and_unpack_hooks_see_what_torch_saves_in_its_order():
    assert _trace(engine) == _trace(torch)


def test_hooks_that_change_what_is_saved_change_the_gradient_as_in_torch():
    def grads(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 4, lambda t: t):
            y = (x * x).sin().exp()
        y.sum().backward()
        return x.grad

    torch.testing.assert_close(torch.from_numpy(grads(engine).numpy()), grads(torch))


def test_save_on_cpu_and_no_hooks_after_the_context():
    for lib in (engine, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.save_on_cpu():
            y = (x * x).exp().sum()
        y.backward()
        assert x.grad.tolist() == pytest.approx([2 * 2.718281828, 4 * 54.59815003], rel=1e-6)
    assert not autograd_graph._HOOKS and engine.autograd.Node._saved == ()


def test_unpack_hook_must_return_a_tensor_and_disable_refuses_hooks():
    errors = []
    for lib in (engine, torch):
        a = lib.ones(2, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: [t], lambda p: p):
            y = a * a
        with pytest.raises(TypeError) as e:
            y.sum().backward()
        errors.append(str(e.value))
        with lib.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="^no hooks here$"):
                with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
                    pass
    assert (
        errors[0]
        == errors[1]
        == "Output of saved tensor unpack_hook expected to be a Tensor but got result of type list"
    )


def test_a_graph_built_under_hooks_is_freed_by_backward():
    for lib in (engine, torch):
        a = lib.ones(2, requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
            y = (a * a).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
            y.backward()


def _fields(lib):
    x = lib.tensor([0.5, 1.5, -2.0], requires_grad=True)
    rows = []
    p = x.pow(2)
    rows.append((x.equal(p.grad_fn._saved_self), x is p.grad_fn._saved_self, p.grad_fn._saved_exponent))
    e = x.exp()
    rows.append((e.equal(e.grad_fn._saved_result), e is e.grad_fn._saved_result))
    rows.append(x.sin().grad_fn._saved_self is x)
    m = x * 3
    rows.append((m.grad_fn._saved_self, repr(m.grad_fn._saved_other)))
    rows.append(repr((x * 0.5).grad_fn._saved_other))
    rows.append((x.sum().grad_fn._saved_self_sym_sizes, x.mean().grad_fn._saved_self_sym_numel))
    s = x.softmax(0)
    rows.append((s.grad_fn._saved_dim, s.grad_fn._saved_result.tolist()))
    c = x.clamp(min=0)
    rows.append((c.grad_fn._saved_min, c.grad_fn._saved_max))
    with pytest.raises(AttributeError) as err:
        _ = x.sin().grad_fn._saved_result
    rows.append(str(err.value))
    e.sum().backward()
    with pytest.raises(RuntimeError) as err:
        _ = e.grad_fn._saved_result
    rows.append(str(err.value))
    return rows


def test_saved_fields_read_as_torch_reads_them():
    assert _fields(engine) == _fields(torch)


def test_saved_fields_and_hooks_in_a_script():
    status, out, err = run_tsr(
        """
        import torch
        def pack(x):
            print("Packing", x)
            return x
        def unpack(x):
            print("Unpacking", x)
            return x
        a = torch.ones(3, requires_grad=True)
        b = torch.ones(3, requires_grad=True) * 2
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = a * b
        y.sum().backward()
        print(a.grad)
        y = a.pow(2)
        print(a is y.grad_fn._saved_self)
        print(y.grad_fn._next)
        """
    )
    assert out.splitlines() == [
        "Packing tensor([2., 2., 2.], grad_fn=<MulBackward0>)",
        "Packing tensor([1., 1., 1.], requires_grad=True)",
        "Unpacking tensor([2., 2., 2.], grad_fn=<MulBackward0>)",
        "Unpacking tensor([1., 1., 1.], requires_grad=True)",
        "tensor([2., 2., 2.])",
        "True",
    ]
    # the saved fields are the only private names a node hands out
    assert status == 1 and "AttributeError: access to attribute '_next' is not allowed" in err
