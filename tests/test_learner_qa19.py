"""Differences from PyTorch found by QA round 19 (a differential sweep of whole learner programs: einsum,
masking, sorting, scans, gather/scatter, promotion, printing, complex numbers, linear algebra, autograd errors,
module hooks, state_dict round trips, nn.init, Python containers and the argument parser's errors; each program
run by `tcli run` and by Python with PyTorch, stdout compared byte for byte)."""

from __future__ import annotations

import warnings

from test_lang_torch import run_torch, run_tsr


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert out == run_torch(src)
    return out


# ---- fft of real input: the full spectrum is the onesided one, mirrored and conjugated ----------------------


def test_fft_of_real_input_fills_the_upper_half_with_conjugates():
    # torch: an r2c transform, then bin k past the half = conj(bin n - k), so a zero imaginary part there is -0
    out = same_as_torch(
        """
import torch
print(torch.fft.fft(torch.tensor([1., 0., 0., 0.])))
print(torch.fft.ifft(torch.tensor([1., 0., 0., 0.])))
for n in (4, 5):
    r = torch.fft.fft(torch.tensor([1., 2., 3., 0., 0.])[:n])
    print(torch.signbit(r.imag).tolist())
print(torch.stft(torch.ones(8), 4, window=torch.ones(4), return_complex=True, onesided=False)[3])
x = torch.tensor([1., 2., 0., -1., 0.5], requires_grad=True)
torch.fft.fft(x).real.sum().backward()
print(x.grad)
"""
    )
    assert "1.-0.j" in out


# ---- copy.deepcopy of tensors: torch's storage-sharing copy ---------------------------------------------------


def test_deepcopy_keeps_views_sharing_one_copied_storage():
    same_as_torch(
        """
import torch
import copy
t = torch.arange(6.)
v = t[1:].view(1, 5)
a, b = copy.deepcopy([t, v])
print(b.storage_offset(), b.is_contiguous(), b.stride())
a[1] = 100
print(b, t)
c = copy.deepcopy(torch.arange(4).reshape(2, 2).t())
print(c.stride(), c.is_contiguous(), c)
d = copy.deepcopy({'x': t, 'y': t})
print(d['x'] is d['y'], d['x'] is t)
print(copy.deepcopy(t.expand(2, 6)).stride())
"""
    )


def test_deepcopy_copies_the_gradient_and_refuses_a_non_leaf():
    same_as_torch(
        """
import torch
import copy
w = torch.ones(2, requires_grad=True)
(w * 2).sum().backward()
w2 = copy.deepcopy(w)
print(w2, w2.grad, w2.is_leaf, w2.grad is w.grad)
try:
    copy.deepcopy(w * 2)
except RuntimeError as e:
    print(e)
with torch.no_grad():
    print(copy.deepcopy(w * 3))
m = torch.nn.Linear(2, 2)
m2 = copy.deepcopy(m)
print(m2.weight is m.weight, torch.equal(m2.weight, m.weight), type(m2.weight).__name__)
"""
    )


# ---- a product's operand that is not a tensor: the parser's message names the argument and its position -------


def test_product_operand_type_errors_name_the_argument_and_position():
    same_as_torch(
        """
import torch
x = torch.ones(2, 3)
v = torch.ones(3)
for f in [lambda: torch.matmul(x, [1, 2, 3]), lambda: x.matmul([1, 2, 3]), lambda: torch.mm(x, [1]),
          lambda: x.mm([1]), lambda: torch.matmul([1], x), lambda: torch.bmm(x, [1]), lambda: x.bmm([1]),
          lambda: torch.dot(v, [1]), lambda: v.dot([1]), lambda: torch.dot([1], v), lambda: torch.mv(x, [1]),
          lambda: x.mv([1]), lambda: torch.mm([1], x), lambda: torch.outer(v, [1]), lambda: v.outer([1]),
          lambda: torch.outer([1], v), lambda: torch.mm(x, None), lambda: v.ger(None)]:
    try:
        f()
    except TypeError as e:
        print(e)
print(x.matmul(v), x.mm(x.t()), v.dot(v), x.mv(v), v.outer(v).shape)
"""
    )


# ---- clip_grad_value_ with no gradient at all (after zero_grad): torch's grouping error ------------------------


def test_clip_grad_value_without_gradients_is_torchs_error():
    same_as_torch(
        """
import torch
m = torch.nn.Linear(2, 1)
for f in [lambda: torch.nn.utils.clip_grad_value_(m.parameters(), 0.1), lambda: torch.nn.utils.clip_grad_value_([], 1),
          lambda: torch.nn.utils.clip_grad_value_(torch.zeros(1, requires_grad=True), 1, foreach=False),
          lambda: torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)]:
    try:
        print(f())
    except RuntimeError as e:
        print(e)
m(torch.ones(3, 2)).sum().backward()
print(torch.nn.utils.clip_grad_value_(m.parameters(), 0.5), m.weight.grad, m.bias.grad)
"""
    )


# ---- torch.return_types: importable, its classes reachable -----------------------------------------------------


def test_return_types_module_is_reachable():
    same_as_torch(
        """
import torch
import torch.return_types
from torch.return_types import topk
r = torch.tensor([1., 3.]).max(0)
print(torch.return_types.max, isinstance(r, torch.return_types.max), topk, torch.return_types.sort)
print(torch.return_types.linalg_eig, isinstance(torch.linalg.eig(torch.eye(2)), torch.return_types.linalg_eig))
"""
    )


# ---- autograd.grad(is_grads_batched=True): one vector-Jacobian product per row of grad_outputs ---------------


def test_grad_is_grads_batched_gives_a_jacobian():
    same_as_torch(
        """
import torch
x = torch.tensor([1., 2., 3.], requires_grad=True)
w = torch.tensor(2., requires_grad=True)
u = torch.tensor(1., requires_grad=True)
y = x ** 2 * w
print(torch.autograd.grad(y, x, torch.eye(3), retain_graph=True, is_grads_batched=True))
print(torch.autograd.grad(y, [x, w], torch.eye(3), retain_graph=True, is_grads_batched=True))
print(torch.autograd.grad(y, [x, u], torch.eye(3), retain_graph=True, is_grads_batched=True, allow_unused=True))
print(torch.autograd.grad(y, [x, u], torch.eye(3), retain_graph=True, is_grads_batched=True, materialize_grads=True))
for go in [torch.ones(3, 4), torch.ones(3), torch.ones(2, 2, 3)]:
    try:
        print(torch.autograd.grad(y, x, go, retain_graph=True, is_grads_batched=True))
    except RuntimeError as e:
        print(e)
try:
    torch.autograd.grad(y, [x, u], torch.eye(3), retain_graph=True, is_grads_batched=True)
except RuntimeError as e:
    print(e)
J = torch.autograd.grad(y, x, torch.eye(3), is_grads_batched=True, create_graph=True)[0]
print(J.detach(), J.requires_grad)
print(torch.autograd.grad(J.sum(), x))
print(torch.autograd.grad(y, x, torch.eye(3)[:2], is_grads_batched=True))
try:
    torch.autograd.grad(y, x, torch.eye(3), is_grads_batched=True)
except RuntimeError as e:
    print(e)
z = torch.tensor([1., 2.], requires_grad=True)
print(torch.autograd.grad((z * 2, z ** 3), z, (torch.eye(2), torch.eye(2)), is_grads_batched=True))
"""
    )


# ---- a script's own context manager: __enter__ and __exit__ ----------------------------------------------------


def test_script_class_context_manager():
    same_as_torch(
        """
import torch
import time
class Timer:
    def __init__(self, name):
        self.name = name
    def __enter__(self):
        self.start = time.perf_counter()
        print('enter', self.name)
        return self
    def __exit__(self, exc_type, exc, tb):
        self.elapsed = time.perf_counter() - self.start
        print('exit', self.name, None if exc_type is None else exc_type.__name__, exc)
        return exc_type is ValueError
with Timer('a') as t, Timer('b'):
    y = torch.ones(2) * 3
print(y, t.elapsed >= 0, hasattr(t, '__enter__'))
with Timer('c'):
    raise ValueError('swallowed')
try:
    with Timer('d'):
        raise KeyError('kept')
except KeyError as e:
    print('caught', e)
class EvalMode:
    def __init__(self, m):
        self.m = m
    def __enter__(self):
        self.was = self.m.training
        self.m.eval()
        return self.m
    def __exit__(self, *args):
        self.m.train(self.was)
net = torch.nn.Dropout(0.5)
with EvalMode(net) as m:
    print(m.training, m(torch.ones(3)))
print(net.training)
def gen():
    with Timer('g'):
        yield 1
        yield 2
print(list(gen()))
class NoExit:
    def __enter__(self):
        return self
try:
    with NoExit():
        pass
except (TypeError, AttributeError) as e:
    print(type(e).__name__)
"""
    )


# ---- the argument parser's refusals: arange of a non-number, Tensor.type of an unknown name ------------------


def test_arange_of_a_non_number_is_the_parsers_error():
    same_as_torch(
        """
import torch
for a in [('5',), (0, '5'), (0, 5, '1'), (None,), ([1],), (torch.tensor([3]),), (0, torch.tensor([1, 2]))]:
    try:
        print(torch.arange(*a))
    except TypeError as e:
        print(e)
print(torch.arange(end=3), torch.arange(torch.tensor(3)), torch.arange(2.5), torch.arange(1, 2, step=0.5))
"""
    )


def test_tensor_type_of_an_unknown_name_is_a_value_error():
    same_as_torch(
        """
import torch
x = torch.ones(2)
for s in ['foo', 'FloatTensor', 'torch.FloatTensor', 'torch.float32', 'float', 'torch.LongTensor',
          'torch.foo.FloatTensor', 'torch.BoolTensor', 'torch.DoubleTensor']:
    try:
        print(s, x.type(s).dtype)
    except ValueError as e:
        print(s, e)
print(x.type(), x.type(torch.int32), x.type(torch.IntTensor).dtype)
"""
    )


# ---- io.BytesIO: torch.save into memory and back; storages shared as torch shares them -------------------------


def test_state_dict_round_trip_through_bytesio():
    same_as_torch(
        """
import io
import torch
import torch.nn as nn
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
buf = io.BytesIO()
torch.save(m.state_dict(), buf)
print(buf.tell() == buf.getbuffer().nbytes, buf.getbuffer().nbytes > 1000, isinstance(buf, io.BytesIO))
try:
    torch.load(buf)
except EOFError as e:
    print('EOFError', e)
buf.seek(0)
sd = torch.load(buf, weights_only=True)
m2 = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
print(m2.load_state_dict(sd), list(sd), sd['1.num_batches_tracked'])
print(all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values())))
t = torch.arange(6.).reshape(2, 3)
b2 = io.BytesIO()
torch.save({'t': t, 'row': t[1], 'col': t[:, 1], 'tt': t.t()}, b2)
b2.seek(0)
l = torch.load(b2)
print(l['row'].storage_offset(), l['col'].stride(), l['col'].storage_offset(), l['tt'].stride())
l['t'][1, 1] = -1
print(l['row'], l['col'], l['tt'])
"""
    )


# ---- print(loss.item): a tensor method shown as torch shows its C methods ---------------------------------------


def test_printed_tensor_methods_read_as_torchs_builtins():
    import re

    src = """
import torch
x = torch.ones(2)
loss = x.sum()
print(loss.item)
print(x.size, x.repeat, x.expand, x.view)
print(x.backward, x.register_hook)
print(f"{x.sum}", str(x.mean), repr(x.clip), x.shape.numel)
print(torch.nn.Parameter(torch.ones(1)).item)
"""
    status, out, err = run_tsr(src)
    assert status == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = run_torch(src)
    address = re.compile(r"0x[0-9a-f]+")
    assert address.sub("0x", out) == address.sub("0x", want)
    assert "<built-in method item of Tensor object at 0x" in out


def test_saved_views_load_back_as_torchs():
    same_as_torch(
        """
import io
import torch
x = torch.arange(12.).reshape(3, 4)
c = torch.tensor([1 + 2j, 3 - 1j])
views = {'flip': x.flip(0), 'step': x[::2, ::3], 'diag': x.diagonal(),
         'perm': x.permute(1, 0), 'conj': c.conj(), 'x': x, 'row': x[2]}
for k, v in views.items():
    b = io.BytesIO()
    torch.save(v, b)
    b.seek(0)
    t = torch.load(b)
    print(k, t, t.stride(), t.storage_offset())
b = io.BytesIO()
torch.save(views, b)
b.seek(0)
l = torch.load(b)
l['x'][2, 1] = -5
print(l['row'], l['step'], l['x'].untyped_storage().nbytes())
"""
    )


def test_eye_with_too_many_or_wrong_arguments_is_the_parsers_error():
    same_as_torch(
        """
import torch
import numpy as np
for a in [(2, 3, 4), (2, 3, 4, 5), (2, 'a'), (2, 2.5), (2, None), (2, np.int64(3)), (2, torch.tensor(3)), (3,),
          (2, True)]:
    try:
        print(torch.eye(*a))
    except TypeError as e:
        print(e)
print(torch.eye(2, m=3), torch.eye(n=2), torch.eye(2, dtype=torch.long))
"""
    )
