"""Differences from PyTorch found by QA round 21 (learner drills: tensor manipulation, autograd, printing, nn,
schedulers, losses; each run as a tsr script and by Python with PyTorch, stdout compared byte for byte)."""

from __future__ import annotations

import contextlib
import io
import textwrap
import warnings

from tcli.session import Session


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def run_torch(src: str) -> str:
    """The reference: Python with PyTorch running the same (test-authored) snippet."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(textwrap.dedent(src), "<reference>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def assert_snippet(src: str) -> None:
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out == run_torch(src)


def test_index_add_out_of_range_error_follows_torch_kernel_path() -> None:
    # a vector, or a dim that is neither first nor last, or alpha != 1, or an int32 index: the serial kernel's
    # IndexError; a matrix's first or last dim with alpha 1: scatter_add_'s RuntimeError; an empty matrix: no check
    assert_snippet("""
        import torch
        cases = [
            lambda: torch.zeros(3).index_add_(0, torch.tensor([0, 5]), torch.ones(2)),
            lambda: torch.zeros(3).index_add(0, torch.tensor([-1]), torch.ones(1)),
            lambda: torch.zeros(3, dtype=torch.long).index_add_(0, torch.tensor([3]), torch.ones(1, dtype=torch.long)),
            lambda: torch.zeros(()).index_add_(0, torch.tensor([1]), torch.ones(())),
            lambda: torch.zeros(3, 2).index_add_(0, torch.tensor([5]), torch.ones(1, 2)),
            lambda: torch.zeros(3, 2).index_add_(1, torch.tensor([-1, 0]), torch.ones(3, 2)),
            lambda: torch.zeros(3, 2).index_add_(0, torch.tensor([5]), torch.ones(1, 2), alpha=2),
            lambda: torch.zeros(3, 2).index_add_(0, torch.tensor([5], dtype=torch.int32), torch.ones(1, 2)),
            lambda: torch.zeros(2, 3, 2).index_add_(1, torch.tensor([7, 0]), torch.ones(2, 2, 2)),
            lambda: torch.zeros(2, 3, 2).index_add_(-1, torch.tensor([2]), torch.ones(2, 3, 1)),
            lambda: torch.zeros(0, 2).index_add_(1, torch.tensor([5]), torch.ones(0, 1)),
            lambda: torch.index_add(torch.zeros(4), 0, torch.tensor([9]), torch.ones(1)),
        ]
        for i, f in enumerate(cases):
            try:
                print(i, f())
            except Exception as e:
                print(i, type(e).__name__, e)
    """)


def test_too_many_positional_arguments_to_a_tensor_method() -> None:
    # torch's parser does not count self ("roll() takes from 1 to 2 ..."); a method of self alone is a METH_NOARGS
    # builtin ("TensorBase.abs() takes no arguments (1 given)")
    assert_snippet("""
        import torch
        x = torch.zeros(3, 4)
        cases = [
            lambda: x.roll(1, 0, 1), lambda: x.diag(0, 1), lambda: x.flatten(0, 1, 2), lambda: x.unsqueeze(0, 1),
            lambda: x.chunk(2, 0, 1), lambda: x.rot90(1, [0, 1], 2), lambda: x.abs(1), lambda: x.t(1),
            lambda: x.detach(2, 3), lambda: x.numel(1), lambda: x.sigmoid(1), lambda: x.relu(1, 2),
            lambda: torch.roll(x, 1, 0, 1),
        ]
        for i, f in enumerate(cases):
            try:
                f()
            except TypeError as e:
                print(i, e)
    """)


def test_in_place_subtraction_of_bool_tensors_says_torchs_words() -> None:
    assert_snippet("""
        import torch
        bo = torch.tensor([True, False])
        for f in [lambda: bo.sub_(bo), lambda: bo.clone().sub_(True), lambda: bo.sub_(torch.tensor(1))]:
            try:
                f()
            except Exception as e:
                print(type(e).__name__, e)
        b2 = bo.clone()
        try:
            b2 -= bo
        except Exception as e:
            print(type(e).__name__, e)
        print(b2)
    """)


def test_nn_utils_fusion_is_reachable_as_torch_reaches_it() -> None:
    # torch/nn/utils/__init__.py imports its fusion module: torch.nn.utils.fusion.fuse_conv_bn_eval works without
    # an import of its own, and `from torch.nn.utils.fusion import ...` too
    assert_snippet("""
        import torch
        import torch.nn as nn
        from torch.nn.utils.fusion import fuse_linear_bn_eval
        torch.manual_seed(84)
        conv, bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
        x = torch.randn(8, 3, 6, 6)
        bn(conv(x))
        conv.eval()
        bn.eval()
        print(hasattr(torch.nn.utils, "fusion"))
        fused = torch.nn.utils.fusion.fuse_conv_bn_eval(conv, bn)
        print(fused, fused(x)[0, 0, 0], bn(conv(x))[0, 0, 0])
        lin, bn1 = nn.Linear(3, 2).eval(), nn.BatchNorm1d(2).eval()
        print(fuse_linear_bn_eval(lin, bn1).bias)
    """)


def test_a_non_tensor_operand_gets_torchs_parser_error() -> None:
    # not AttributeError "'int' object has no attribute '_data'" from inside the engine
    assert_snippet("""
        import numpy as np
        import torch
        x = torch.ones(2, 3)
        cases = [
            lambda: x.view_as(1), lambda: x.type_as([1]), lambda: x.expand_as(2), lambda: x.reshape_as((2, 3)),
            lambda: torch.equal(x, [1.]), lambda: torch.equal([1.], x), lambda: torch.unique([1, 1]),
            lambda: torch.unique([1, 1], dim=0), lambda: x.mm(np.ones((3, 1))), lambda: torch.mm(x, np.float64(1.0)),
        ]
        for f in cases:
            try:
                f()
            except TypeError as e:
                print(e)
    """)


def test_to_dense_of_a_strided_tensor_is_itself() -> None:
    assert_snippet("""
        import torch
        t = torch.ones(2, requires_grad=True)
        d = t.to_dense()
        print(d is t, d.grad_fn, torch.ones(2).to_dense(torch.float64), torch.ones(2).to_dense(masked_grad=False))
        u = torch.arange(3) * 2
        print(u.to_dense() is u, u.to_dense(torch.int64) is u, u.retains_grad)
    """)


def test_type_of_torchs_c_functions_and_tensor_methods() -> None:
    # torch writes tensor methods and torch.zeros in C: type(x.size) is builtin_function_or_method, not method;
    # a Python-level method (x.split, x.backward) stays a method, torch.Tensor.add is a method_descriptor
    assert_snippet("""
        import numpy as np
        import torch
        x = torch.ones(2)
        m = torch.nn.Linear(1, 1)
        for v in [x.size, x.view, x.repeat, x.sum, x.norm, x.split, x.backward, torch.zeros, torch.relu, m.forward,
                  torch.Tensor.add, torch.manual_seed, x.numpy, x.item, torch.Size([1]).numel, np.arange, np.exp,
                  np.float32, np.ones(2).sum]:
            print(type(v).__name__, type(v))
    """)


def test_creation_functions_refuse_an_unknown_keyword_in_torchs_words() -> None:
    # numpy habits (shape=, num=) and typos: the function's name and torch's parser message, not a bare
    # "got an unexpected keyword argument"
    assert_snippet("""
        import torch
        cases = [
            lambda: torch.zeros(shape=(2, 3)), lambda: torch.ones(2, foo=1), lambda: torch.empty(shape=2),
            lambda: torch.zeros(2, size=(3,)), lambda: torch.rand(shape=(2,)), lambda: torch.randn(2, foo=1),
            lambda: torch.rand(), lambda: torch.randn(), lambda: torch.linspace(0, 1, num=5),
            lambda: torch.logspace(0, 1, num=5), lambda: torch.arange(0, 5, num=2), lambda: torch.arange(num=2),
            lambda: torch.linspace(0, num=3), lambda: torch.logspace(0, 1), lambda: torch.zeros(size=(2,)).shape,
        ]
        for f in cases:
            try:
                print(f())
            except TypeError as e:
                print(e)
    """)


def test_a_float_dim_is_named_as_torchs_parser_names_it() -> None:
    # `dim = x.ndim / 2` and the like: "transpose(): argument 'dim1' (position 2) must be int, not float", not
    # the engine's "dim must be an int, got float"; by keyword without the position; a method does not count self
    assert_snippet("""
        import torch
        x = torch.arange(24.).view(2, 3, 4)
        cases = [
            lambda: x.transpose(0, 1.), lambda: x.transpose(0., 1), lambda: x.unsqueeze(1.), lambda: x.flatten(0, 1.),
            lambda: x.select(1., 0), lambda: x.softmax(1.), lambda: x.gather(1., x.long()), lambda: x.swapaxes(0, 1.),
            lambda: x.size(1.), lambda: x.chunk(2, 1.), lambda: x.amax(1.), lambda: x.roll(1, 1.),
            lambda: torch.cat([x, x], 1.), lambda: torch.stack([x, x], 1.), lambda: torch.transpose(x, 0, 1.),
            lambda: torch.softmax(x, 1.), lambda: x.unsqueeze(dim=1.), lambda: torch.cat([x], dim=1.),
            lambda: x.unsqueeze(torch.tensor(1)).shape, lambda: x.chunk(2.0), lambda: torch.chunk(x, 2.0),
            lambda: x.chunk(chunks=2.0),
        ]
        for f in cases:
            try:
                print(f())
            except TypeError as e:
                print(e)
    """)


def test_a_layer_constructors_argument_error_names_torchs_init() -> None:
    # nn.BatchNorm1d(3, momentu=0.1) runs _BatchNorm.__init__ in torch, nn.Dropout runs _DropoutNd's, nn.ReLU its own
    assert_snippet("""
        import torch.nn as nn
        cases = [
            lambda: nn.BatchNorm1d(3, momentu=0.1), lambda: nn.BatchNorm2d(), lambda: nn.Dropout(prob=0.5),
            lambda: nn.ReLU(inplace=True, foo=1), lambda: nn.Softmax(axis=1), lambda: nn.ELU(alpha=1.0, beta=2),
            lambda: nn.MarginRankingLoss(margn=1.0), lambda: nn.SiLU(True, 1), lambda: nn.LazyConv2d(4, 3, stide=2),
            lambda: nn.LazyBatchNorm1d(foo=1), lambda: nn.Linear(2, 3, bias_=False), lambda: nn.LSTM(2, 3, num_layer=2),
        ]
        for f in cases:
            try:
                f()
            except TypeError as e:
                print(e)
    """)


def test_numpy_keyword_names_where_torchs_parser_takes_them() -> None:
    # torch's C builtins take axis= for dim= and keepdims= for keepdim=: F.cosine_similarity and
    # F.pairwise_distance are such builtins, and so is repeat_interleave
    assert_snippet("""
        import torch
        import torch.nn.functional as F
        torch.manual_seed(0)
        v = torch.randn(3, 4)
        print(F.cosine_similarity(v, v.flip(0), axis=0), torch.cosine_similarity(v, v.flip(1), axis=1))
        print(F.pairwise_distance(v, v.flip(0), keepdims=True), torch.repeat_interleave(v, 2, axis=1).shape)
        print(v.repeat_interleave(2, axis=0).shape, str(F.cosine_similarity).split(" at ")[0])
    """)


def test_a_c_function_of_one_signature_names_its_missing_argument_as_torch() -> None:
    # torch.matmul(x), F.linear(x): 'matmul() missing 1 required positional arguments: "other"' (torch's parser's
    # plural and quotes), as tensor methods already said it
    assert_snippet("""
        import torch
        import torch.nn.functional as F
        x = torch.ones(2, 3)
        cases = [
            lambda: torch.matmul(x), lambda: F.linear(x), lambda: torch.cat(), lambda: torch.gather(x, 1),
            lambda: torch.topk(x), lambda: torch.transpose(x, 0), lambda: torch.full((2,)), lambda: torch.exp(),
            lambda: torch.argmax(), lambda: torch.zeros_like(), lambda: torch.allclose(x), lambda: torch.chunk(x),
            lambda: torch.unsqueeze(x), lambda: torch.multinomial(x), lambda: F.relu(), lambda: F.mse_loss(x),
        ]
        for f in cases:
            try:
                f()
            except TypeError as e:
                print(e)
    """)
