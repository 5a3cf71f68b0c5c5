"""Differences from PyTorch found by a differential QA pass over ops (session 5): 0-dim tensors given a dim,
index errors, index_put's dtype rule, nansum, tril/triu, the nodes torch records for scatter_add/index_add/take,
torch.Size arithmetic, torch.device('cuda'). Oracle: PyTorch 2.13 on the cpu."""

from __future__ import annotations

import pytest
import torch
from helpers import graph, same, same_error

import engine

pytestmark = pytest.mark.usefixtures("device")

ZERO_DIM_RESULTS = {
    "flip": lambda T: T.tensor(5.0).flip(0),
    "flip_neg": lambda T: T.tensor(5.0).flip(-1),
    "all": lambda T: T.tensor(5.0).all(0),
    "any_keepdim": lambda T: T.tensor(0.0).any(0, keepdim=True),
    "logsumexp": lambda T: T.tensor(5.0).logsumexp(0),
    "count_nonzero": lambda T: T.tensor(5.0).count_nonzero(0),
    "topk": lambda T: T.tensor(5.0).topk(1),
    "movedim": lambda T: T.tensor(5.0).movedim(0, -1),
    "nonzero": lambda T: T.tensor(5.0).nonzero(),
    "nonzero_zero": lambda T: T.tensor(0.0).nonzero(),
    "nonzero_tuple": lambda T: T.tensor(5.0).nonzero(as_tuple=True),
    "hstack": lambda T: T.hstack([T.tensor(1), T.tensor(2)]),
}


@pytest.mark.parametrize("name", list(ZERO_DIM_RESULTS))
def test_zero_dim_tensors_take_dim_zero(name: str) -> None:
    same(ZERO_DIM_RESULTS[name])


ZERO_DIM_ERRORS = {
    "roll": lambda T: T.tensor(5.0).roll(1, 0),
    "roll_bad_dim": lambda T: T.arange(6).reshape(2, 3).roll(1, 2),
    "unique": lambda T: T.tensor(5.0).unique(dim=0),
    "narrow": lambda T: T.tensor(5.0).narrow(0, 0, 1),
    "split": lambda T: T.tensor(5.0).split(1, 0),
    "chunk": lambda T: T.tensor(5.0).chunk(2, 0),
    "tensor_split": lambda T: T.tensor_split(T.tensor(5.0), 2),
    "flipud": lambda T: T.tensor(5.0).flipud(),
    "fliplr": lambda T: T.ones(3).fliplr(),
    "index_int": lambda T: T.tensor(5)[0],
    "index_slice": lambda T: T.tensor(5)[0:1],
    "index_tuple": lambda T: T.tensor(5)[(0,)],
    "setitem_int": lambda T: T.tensor(5).__setitem__(0, 1),
    "setitem_bool_value": lambda T: T.tensor(0).__setitem__(0, T.tensor(False)),
    "put_list_long": lambda T: T.zeros(3).__setitem__([0, 1], T.tensor([1, 2])),
    "put_mask_long": lambda T: T.zeros(3).__setitem__(T.zeros(3) >= 0, T.tensor([1, 2, 3])),
    "put_tensor_double": lambda T: T.zeros(3).__setitem__(T.tensor([0, 1]), T.tensor(1.0, dtype=T.float64)),
    "put_list_0d_long": lambda T: T.zeros(3).__setitem__([0], T.tensor(1)),
    "tril_1d": lambda T: T.tril(T.tensor([1.0, 2, 3])),
    "triu_1d": lambda T: T.tensor([1.0, 2, 3]).triu(),
}


@pytest.mark.parametrize("name", list(ZERO_DIM_ERRORS))
def test_errors_match_torch(name: str) -> None:
    same_error(ZERO_DIM_ERRORS[name])


def test_index_put_casts_where_torch_does() -> None:
    def fn(T: object) -> object:
        a = T.zeros(3)
        a[a > -1] = T.tensor(1)  # a mask with a 0-dim value is masked_fill_: it casts
        a[0:2] = T.tensor([4, 5])  # basic slicing copies, casting
        a[1] = T.tensor(7)
        return a

    same(fn)


def test_nansum_keeps_integers_and_records_its_node() -> None:
    def fn(T: object) -> object:
        x = T.tensor([[1.0, float("nan")], [3.0, 4.0]], requires_grad=True)
        y = x.nansum(0)
        (y * T.tensor([2.0, 3.0])).sum().backward()
        return T.tensor([1, 2, 3]).nansum(), T.tensor([[1, 2, 3]]).nansum(0), y, x.grad, x.nansum()

    same(fn)


@pytest.mark.parametrize("k", [-1, 0, 1])
def test_tril_triu_nodes_and_grads(k: int) -> None:
    def fn(T: object) -> object:
        x = T.arange(12.0).reshape(3, 4).requires_grad_()
        lo, up = x.tril(k), T.triu(x, k)
        (lo * 2 + up * 3).sum().backward()
        return lo, up, x.grad, T.ones(2, 3, 3).tril()

    same(fn)


def test_scatter_add_index_add_take_nodes() -> None:
    def fn(T: object) -> object:
        x = T.arange(4.0).reshape(2, 2).requires_grad_()
        src = T.tensor([[1.0, 2.0]], requires_grad=True)
        s = x.scatter_add(0, T.tensor([[0, 1]]), src)
        ia = x.index_add(0, T.tensor([1]), src[:, :2], alpha=2)
        tk = x.take(T.tensor([0, 3, 3]))
        (s.sum() + (ia * ia).sum() + (tk * T.tensor([1.0, 2.0, 3.0])).sum()).backward()
        return s, ia, tk, x.grad, src.grad

    same(fn)


def test_mse_loss_target_grad_has_no_negative_zero() -> None:
    def fn(T: object) -> object:
        p = T.tensor([1.0, 2.0], requires_grad=True)
        q = T.tensor([1.0, 3.0], requires_grad=True)
        T.nn.functional.mse_loss(p, q).backward()
        return str(q.grad), str(p.grad)

    same(fn)


def test_size_arithmetic_and_cuda_device_without_index() -> None:
    def fn(T: object) -> object:
        d = T.device("cuda")
        s = T.Size([2, 3])
        return repr((1,) + s), repr(s * 2), repr(2 * s), repr(s[0:1] + (4,)), repr(d), str(d), d.index

    same(fn)
    assert engine.device("cuda") != engine.device("cuda:0")
    assert torch.device("cuda") != torch.device("cuda:0")


def test_std_warning_once_per_line() -> None:
    import warnings

    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("default")
        for _ in range(3):
            engine.ones(1).std()
    assert len([w for w in got if "degrees of freedom" in str(w.message)]) == 1


def test_scatter_add_larger_src_backward_error() -> None:
    def fn(T: object) -> None:
        x = T.zeros(2, 2, requires_grad=True)
        src = T.tensor([[1.0, 2.0, 9.0]], requires_grad=True)
        x.scatter_add(0, T.tensor([[0, 1]]), src).sum().backward()

    same_error(fn)


def test_multinomial_fast_path_and_exponential_follow_torchs_stream() -> None:
    """One sample, or several without replacement, is torch's p / Exp(1) argmax/topk; the draws, and every draw
    after them, match torch's (makemore samples one character at a time this way)."""

    def fn(T: object) -> object:
        T.manual_seed(0)
        p = T.tensor([0.2, 0.3, 0.5])
        one = [T.multinomial(p, num_samples=1).item() for _ in range(12)]
        rows = T.multinomial(T.rand(4, 10), 5)
        wide = T.multinomial(T.rand(4, 10, dtype=T.float64), 1)
        half = T.multinomial(T.tensor([1.0, 2.0, 3.0], dtype=T.float16), 2)
        with_rep = T.multinomial(p, 4, replacement=True)
        g = T.Generator().manual_seed(5)
        gen = T.multinomial(T.rand(3, 6), 4, generator=g)
        x = T.ones(3, requires_grad=True)
        e = (x * 1).exponential_(2.0)
        return one, rows, wide, half, with_rep, gen, e, T.empty(2, dtype=T.float64).exponential_(), T.rand(2)

    same(fn)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.multinomial(T.tensor([0.0, 1.0]), 3),
        lambda T: T.multinomial(T.tensor([0.0, 0.0]), 1),
        lambda T: T.multinomial(T.tensor([-1.0, 1.0]), 1),
        lambda T: T.multinomial(T.tensor([float("nan"), 1.0]), 1),
        lambda T: T.multinomial(T.ones(2, 2, 2), 1),
        lambda T: T.multinomial(T.tensor([1.0, 1.0]), 0),
        lambda T: T.multinomial(T.tensor([0.0, 0.0]), 2, True),
        lambda T: T.multinomial(T.tensor([1, 1]), 1),
        lambda T: T.empty(2).exponential_(-1),
        lambda T: T.empty(2, dtype=T.int64).exponential_(),
    ],
)
def test_multinomial_and_exponential_errors(call: object) -> None:
    same_error(call)


def test_numpy_keyword_names_and_python_dtypes() -> None:
    def fn(T: object) -> object:
        x = T.arange(6.0).reshape(2, 3)
        return (
            x.sum(axis=1, keepdims=True), x.mean(axis=0), T.cat([x, x], axis=0), x.max(axis=1), T.sum(x, axis=1),
            x.std(axis=1, keepdims=True), x.argmax(axis=1), T.softmax(x, axis=1), T.zeros(2, dtype=float),
            T.ones(2).to(float), T.tensor([1, 2], dtype=float), T.zeros(2, dtype=int), T.zeros(2, dtype=bool),
        )  # fmt: skip

    same(fn)
    same_error(lambda T: T.ones(2).sum(0, keepdim=True, keepdims=True))


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.nn.functional.cross_entropy(T.randn(4, 3), T.tensor([[0], [2], [1], [1]])),
        lambda T: T.nn.functional.cross_entropy(T.randn(4, 3), T.tensor([0, 2, 1, 1]).int()),
        lambda T: T.nn.functional.nll_loss(T.randn(4, 3), T.tensor([[0], [2], [1], [1]])),
        lambda T: T.nn.functional.binary_cross_entropy(T.tensor([0.7, 0.2]), T.tensor([1, 0])),
        lambda T: T.nn.functional.binary_cross_entropy_with_logits(T.tensor([0.7, 0.2]), T.tensor([1, 0])),
        lambda T: T.nn.functional.binary_cross_entropy(T.full((2, 3), 0.5), T.ones(2, 1)),
        lambda T: T.nn.functional.binary_cross_entropy(T.full((2, 3), 0.5), T.ones(2, 2)),
        lambda T: T.nn.functional.mse_loss(T.tensor([1, 2]), T.tensor([1, 3])),
    ],
)
def test_loss_target_checks(call: object) -> None:
    same_error(call)


def test_cross_entropy_byte_target_is_accepted() -> None:
    same(lambda T: T.nn.functional.cross_entropy(T.eye(4, 3), T.tensor([0, 2, 1, 1], dtype=T.uint8)))


def test_repeat_interleave_and_outer_nodes() -> None:
    def fn(T: object) -> object:
        x = T.arange(4.0).reshape(2, 2).requires_grad_()
        v = T.tensor([1.0, 2.0], requires_grad=True)
        outs = [x.repeat_interleave(2, dim=0), x.repeat_interleave(2), x.repeat_interleave(T.tensor([1, 2]), dim=0),
                x.repeat_interleave(T.tensor(3)), x.repeat_interleave(2, dim=1), T.outer(v, v)]  # fmt: skip
        sum(o.sum() for o in outs).backward()
        return [graph(o, 5) for o in outs], outs, x.grad, v.grad

    same(fn)
    same_error(lambda T: T.ones(2).repeat_interleave(-1))


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.ones(2, 3)[None, None, 5],
        lambda T: T.ones(2, 3)[1, 5],
        lambda T: T.ones(2, 3)[..., 5],
        lambda T: T.ones(2, 3, 4)[:, None, 7],
        lambda T: T.ones(2, 3)[[0], 5],
    ],
)
def test_index_errors_name_the_entry(call: object) -> None:
    same_error(call)


@pytest.mark.parametrize(
    "call",
    [
        lambda T: T.zeros(),
        lambda T: T.ones(),
        lambda T: T.ones((2, 2), 3),
    ],
)
def test_factory_size_errors(call: object) -> None:
    same_error(call)


def test_copy_from_a_number_and_grads_after_detach_() -> None:
    def fn(T: object) -> object:
        t = T.zeros(2).copy_(0.5)
        x = T.ones(2, requires_grad=True)
        b = x * 2
        x.detach_()
        b.sum().backward()
        return t, x.grad, x.requires_grad

    same(fn)


def test_matmul_with_one_inner_term_keeps_the_sign_of_zero() -> None:
    def fn(T: object) -> object:
        return str(T.zeros(3, 1) @ T.tensor([[1.0, -1.0]])), str(T.tensor([[1.0], [0.0]]) @ T.tensor([[-2.0, 1.0]]))

    same(fn)


def test_mm_gradients_with_one_inner_term_keep_the_sign_of_zero() -> None:
    # a one-output layer's input gradient (and a one-row input's weight gradient) is an outer product
    def fn(T: object) -> object:
        x = T.ones(3, 2, requires_grad=True)
        w = T.tensor([[-1.0], [2.0]], requires_grad=True)
        (x @ w).backward(T.tensor([[0.0], [1.0], [-0.0]]))
        r = T.tensor([[0.0, -1.0]], requires_grad=True)
        v = T.ones(2, 3, requires_grad=True)
        (r @ v).backward(T.tensor([[-2.0, 0.0, 1.0]]))
        return str(x.grad), str(v.grad)

    same(fn)


def test_inplace_view_ops() -> None:
    def fn(T: object) -> object:
        a = T.arange(6.0).reshape(2, 3).requires_grad_()
        y = a * 1
        y.t_()
        (y * T.arange(6.0).reshape(3, 2)).sum().backward()
        z = a * 1
        z.unsqueeze_(0)
        first = z.grad_fn.name()
        z.squeeze_()
        q = T.ones(1, 2, 1, requires_grad=True)
        names = []
        for f in (lambda t: t.squeeze_(), lambda t: t.squeeze_(0), lambda t: t.squeeze_((0, 2)),
                  lambda t: t.unsqueeze_(1), lambda t: t.swapdims_(0, 1)):  # fmt: skip
            r = q * 1
            f(r)
            names.append((r.grad_fn.name(), tuple(r.shape)))
        b = T.ones(2, 3)
        b.t_()
        return y, a.grad, first, z.grad_fn.name(), names, b.stride(), b._version

    same(fn)
    same_error(lambda T: T.ones(2, 3, requires_grad=True).t_())


ARG_CHECKS_WF4 = {  # QA round wf4: argument and dtype checks torch makes before computing
    "nll_long": lambda T: T.nn.functional.nll_loss(T.tensor([[1, 2]]), T.tensor([0])),
    "nll_long_1d": lambda T: T.nn.functional.nll_loss(T.tensor([1, 2]), T.tensor(0)),
    "nll_int_spatial": lambda T: T.nn.functional.nll_loss(T.zeros(1, 2, 3, dtype=T.int32), T.zeros(1, 3).long()),
    "nll_bool": lambda T: T.nn.functional.nll_loss(T.tensor([[True, False]]), T.tensor([0])),
    "searchsorted_opposites": lambda T: T.searchsorted(T.tensor([1, 3]), T.tensor([3]), side="left", right=True),
    "searchsorted_side": lambda T: T.searchsorted(T.tensor([1, 3]), T.tensor([3]), side="middle"),
    "searchsorted_sorter": lambda T: T.searchsorted(T.tensor([1, 3, 5]), T.tensor([3]), sorter=T.tensor([0, 1])),
    "diff_negative": lambda T: T.diff(T.tensor([1.0, 2.0]), n=-1),
    "split_negative": lambda T: T.tensor([1.0, 2.0, 3.0]).split(-1),
    "split_negative_empty": lambda T: T.zeros(0).split(-1),
}


@pytest.mark.parametrize("name", list(ARG_CHECKS_WF4))
def test_argument_checks_found_by_qa_wf4(name: str) -> None:
    same_error(ARG_CHECKS_WF4[name])


def test_searchsorted_side_right_with_right_false_is_right() -> None:
    same(lambda T: T.searchsorted(T.tensor([1, 3, 5]), T.tensor([3]), side="right", right=False))


def test_bfloat16_is_refused_on_cuda_and_kept_on_the_cpu(device: str) -> None:
    """cupy has no bfloat16: on cuda the engine says so instead of keeping unrounded float32 values."""
    make = [
        lambda: engine.ones(2, dtype=engine.bfloat16),
        lambda: engine.ones(2).bfloat16(),
        lambda: engine.ones(2, device="cpu", dtype=engine.bfloat16).to(device),
    ]
    for f in make:
        if device == "cuda":
            with pytest.raises(RuntimeError, match="bfloat16 tensors are cpu-only"):
                f()
        else:
            assert f().dtype == engine.bfloat16
