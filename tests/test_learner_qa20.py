"""Differences from PyTorch found by QA round 20 (a differential sweep of whole learner programs: makemore,
a GPT block, a VAE, CNNs with BatchNorm, schedulers, distributions, data utilities, numpy interop, statistics,
printing, autograd errors and higher derivatives; each program run by `tcli run` and by Python with PyTorch,
stdout compared byte for byte)."""

from __future__ import annotations

import re
import warnings

from test_lang_torch import run_torch, run_tsr

_ADDR = re.compile(r"0x[0-9a-f]+")


def same_as_torch(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = run_torch(src)
    assert _ADDR.sub("0xADDR", out) == _ADDR.sub("0xADDR", expected)
    return out


# ---- printing a sized function (torch.zeros, np.arange) held in a container ---------------------------------


def test_print_a_sized_function_in_a_container():
    # the text conversion looked into the wrapper of a sized function as if it were a list:
    # "TypeError: 'builtin_function_or_method' object is not iterable"
    out = same_as_torch(
        """
import torch
import numpy as np
print(np.arange, [np.zeros, np.arange], {'f': np.full}, (np.ones,))
fns = [torch.zeros, torch.ones]
print(len(fns), fns[0](2))
print(str([torch.zeros]).startswith('[<'), repr({'z': torch.tensor}).startswith("{'z': <"))
"""
    )
    assert "[<built-in function zeros>, <built-in function arange>]" in out


def test_print_torch_functions_as_torch_writes_them():
    # torch's namespace functions are C builtins (`<built-in method zeros of type object at 0x...>`), as are some
    # of torch.nn.functional's (`<built-in function gelu>`, `<built-in method conv2d of type object ...>`);
    # tcli showed `<function zeros at 0x...>` for all of them
    out = same_as_torch(
        """
import torch
import torch.nn.functional as F
x = torch.ones(2)
print(torch.zeros)
print([torch.tensor, torch.matmul], {'act': torch.relu}, (torch.sigmoid, torch.tanh, torch.exp, torch.softmax))
print(torch.manual_seed, torch.get_default_dtype, torch.is_grad_enabled, torch.cat, torch.randn, torch.arange)
print(F.relu, F.softmax, F.sigmoid, F.gelu, F.linear, F.conv2d, F.dropout, F.max_pool2d, F.avg_pool2d, F.pad)
print(F.cross_entropy, F.one_hot, F.embedding, F.layer_norm, F.log_softmax, F.mse_loss)
acts = [torch.relu, F.relu]
print(f"{acts}", str(torch.zeros), repr(F.gelu), "{}".format(torch.ones))
print(x.mean, torch.zeros(1).sum)
"""
    )
    assert "<built-in method zeros of type object at 0x" in out


# ---- a method read off an engine class prints with its class, as Python's functions do ----------------------


def test_method_read_off_a_class_prints_its_qualified_name():
    out = same_as_torch(
        """
import torch
from torch import nn
print(nn.Module.parameters, nn.Linear.forward, nn.Module.train)
"""
    )
    assert "<function Module.parameters at 0x" in out and "<function Linear.forward at 0x" in out


# ---- a torch function the engine binds under an alias prints under the name the script read (ux19) -------------


def test_aliased_torch_functions_print_under_their_own_name():
    # the engine has clip = clamp, gt = greater ...: print(torch.clip) showed clamp's text, torch.gt greater's
    out = same_as_torch(
        """
import torch
import torch.nn.functional as F
print(torch.clip, torch.clamp, torch.gt, torch.greater, torch.lt, torch.less, torch.ge, torch.greater_equal)
print(torch.divide, torch.true_divide, torch.div, torch.multiply, torch.subtract, torch.not_equal)
print(torch.selu, F.selu, torch.celu, torch.rms_norm, torch.max_pool2d, torch.asarray, torch.as_tensor)
x = torch.tensor([-1.0, 0.5, 2.0])
print(torch.clip(x, 0, 1), torch.clip(x, min=0.0), torch.gt(x, 0), torch.divide(x, 2), torch.selu(x))
print(torch.clip.__name__, torch.clip is torch.clamp, torch.clip is torch.clip, [torch.multiply])
"""
    )
    assert "<built-in method clip of type object at 0x" in out and "<built-in method gt of type" in out


def test_aliased_torch_function_keeps_its_errors_and_help():
    status, out, err = run_tsr(
        """
import torch
x = torch.tensor([1.0])
try:
    torch.clip(x, foo=1)
except TypeError as e:
    print("TypeError", e)
help(torch.clip)
"""
    )
    assert status == 0, err
    assert "TypeError clip() received an invalid combination of arguments - got (Tensor, foo=int)" in out
    assert "torch.clamp(input, min=None, max=None" in out


# ---- each optimizer's step prints with its own class, as torch's SGD, Adam ... define their own (ux19) --------


def test_optimizer_step_prints_with_its_class():
    # the engine's optimizers inherit step from one base: print(torch.optim.SGD.step) showed
    # <function SingleTensorOptimizer.step ...>
    out = same_as_torch(
        """
import torch
from torch import nn
o = torch.optim
print(o.SGD.step, o.Adam.step, o.AdamW.step, o.RMSprop.step, o.Adagrad.step, o.LBFGS.step)
class My(torch.optim.SGD):
    pass
print(My.step)
m = nn.Linear(2, 1)
m.weight.grad = torch.ones_like(m.weight)
opt = torch.optim.SGD(m.parameters(), lr=0.5)
opt.step()
print(m.weight.grad, opt.step.__name__)
"""
    )
    assert "<function SGD.step at 0x" in out and "<function Adam.step at 0x" in out


# ---- a tensor method read off torch.Tensor prints as torch's method descriptor (ux19) --------------------------


def test_unbound_tensor_method_prints_as_torchs_descriptor():
    # print(torch.Tensor.add) showed <function add at 0x...>
    out = same_as_torch(
        """
import torch
print(torch.Tensor.add, torch.Tensor.clip, torch.Tensor.zero_, torch.Tensor.numpy, [torch.Tensor.mul])
print(torch.Tensor.backward, torch.Tensor.register_hook)
print(torch.Tensor.add(torch.ones(2), 1), f"{torch.Tensor.sum}")
"""
    )
    assert "<method 'add' of 'torch._C.TensorBase' objects>" in out
