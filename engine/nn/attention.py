"""Attention: F.scaled_dot_product_attention, F.multi_head_attention_forward and nn.MultiheadAttention.

scaled_dot_product_attention computes softmax(q @ k^T * scale + mask) @ v. Without dropout it is one node,
ScaledDotProductFlashAttentionForCpuBackward0, as torch's cpu flash kernel records it for 4-d inputs; on numpy
float32/float64 arrays in exact mode (MKL loaded) that kernel's own arithmetic, forward and backward, bit for bit
(engine/ops/flash_attention_cpu.py), elsewhere (cuda, no MKL, a 3-d mask) the same formula op by op, equal to
rounding. With dropout or other ranks it is torch's math path, op by op (its graph ends in MmBackward0 or
UnsafeViewBackward0, and its dropout draws torch's mask).

MultiheadAttention follows torch's Python code op for op (in-projection, baddbmm/bmm and softmax when the
weights are asked for, scaled_dot_product_attention when not, the out-projection), so its graph, its
parameters' seeded initialisation and its dropout are torch's. Separate key/value sizes (kdim, vdim),
add_bias_kv and add_zero_attn are supported; torch's inference fast path is not taken (the same numbers,
computed the training way).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

import engine
from engine.amp.policy import policy as autocast_policy
from engine.grad_mode import no_grad
from engine.nn import functional as F
from engine.nn import init
from engine.nn.layers import Linear
from engine.nn.module import Module
from engine.nn.parameter import Parameter
from engine.ops import flash_attention_cpu
from engine.sdpa_backends import SDPBackend, cpu_backend, sdpa_kernel  # noqa: F401 - (torch.nn.attention's)
from engine.tensor import Tensor, wrap


# ---- scaled_dot_product_attention --------------------------------------------------------------------------------
def _additive(mask: Tensor | None, dtype: Any) -> Tensor | None:
    """A boolean mask (True = may attend) as 0 / -inf to add; a float mask as it is."""
    if mask is None or mask.dtype is not engine.bool:
        return mask
    return engine.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(mask.logical_not(), -math.inf)


def _causal(n_q: int, n_k: int, dtype: Any, device: Any) -> Tensor:
    keep = engine.ones(n_q, n_k, dtype=engine.bool, device=device).tril()
    return _additive(keep, dtype)


def _probs(q: Tensor, k: Tensor, scale: float, mask: Tensor | None) -> Tensor:
    s = q.matmul(k.transpose(-2, -1)) * scale
    if mask is not None:
        s = s + mask
    p = s.softmax(-1)
    # a row with every key masked out attends to nothing: zeros, not the nan of 0/0 (torch's _safe_softmax)
    return p.nan_to_num(0.0) if mask is not None else p


@autocast_policy(cpu="lower", cuda="lower")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:  # fmt: skip
    """softmax(query @ key^T * scale + mask) @ value over the last two dims (batch dims broadcast).
    attn_mask: boolean (True may attend) or added to the scores; is_causal: each query sees keys up to its own
    position; scale: 1/sqrt(head size) by default."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        F.tensor_arg("scaled_dot_product_attention", t, name, ("query", "key", "value").index(name) + 1)
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype.name_for_error()} key.dtype: {key.dtype.name_for_error()} and value.dtype: "
            f"{value.dtype.name_for_error()} instead."
        )
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: {query.dim()} "
            f"key.dim: {key.dim()} and value.dim: {value.dim()} instead."
        )
    e = query.size(-1)
    given = scale
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    mask = _additive(attn_mask, query.dtype)
    flash = dropout_p <= 0.0 and query.dim() == key.dim() == value.dim() == 4  # (the cpu flash kernel's inputs)
    backend = cpu_backend(flash)
    if backend == "flash" and (out := _flash_cpu(query, key, value, mask, is_causal, scale, enable_gqa)) is not None:
        return out
    if enable_gqa and query.dim() >= 3 and key.size(-3) != query.size(-3):
        reps = query.size(-3) // key.size(-3)
        key, value = key.repeat_interleave(reps, -3), value.repeat_interleave(reps, -3)
    mask = _with_causal(mask, is_causal, query, key)
    if backend == "math":  # torch's math path, op by op
        return _math(query, key, value, mask, dropout_p, given)
    with no_grad():
        out = _probs(query, key, scale, mask).matmul(value)
    if not engine.is_grad_enabled() or not (query.requires_grad or key.requires_grad or value.requires_grad):
        return out

    def backward(g: Tensor, q: Tensor, k: Tensor, v: Tensor) -> tuple:
        return _math_backward(g, q, k, v, scale, mask)

    return F._record("ScaledDotProductFlashAttentionForCpuBackward0", out, (query, key, value),
                     (query, key, value), backward)  # fmt: skip


def _flash_cpu(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, is_causal: bool, scale: float,
               gqa: bool) -> Tensor | None:  # fmt: skip
    """torch's cpu flash attention kernel, bit for bit (engine/ops/flash_attention_cpu.py), where it applies:
    numpy float32/float64 arrays in exact mode, 4-d inputs of one batch, head count (or with gqa, key heads
    shared by query heads in groups) and head size, a mask (2-d or 4-d, in the query's dtype once a boolean one
    is made additive, not requiring grad) that broadcasts; None elsewhere."""
    qd, kd, vd = query._data, key._data, value._data
    md = None if mask is None else mask._data
    if (mask is not None and mask.requires_grad) or not flash_attention_cpu.usable(qd, kd, vd, md, gqa):
        return None  # (a mask that requires grad sends torch to its math path, with or without grad mode)
    if md is not None:
        target = qd.shape[:3] + kd.shape[2:3]
        if md.ndim not in (2, 4) or any(s not in (1, t) for s, t in zip(md.shape[::-1], target[::-1])):
            return None
    out, lse = flash_attention_cpu.forward(qd, kd, vd, md, is_causal, scale)
    out_t = wrap(out, query._dev)
    if not engine.is_grad_enabled() or not (query.requires_grad or key.requires_grad or value.requires_grad):
        return out_t

    def backward(g: Tensor, q: Tensor, k: Tensor, v: Tensor) -> tuple:
        if engine.is_grad_enabled() and type(g._data) is np.ndarray and g._data.dtype == qd.dtype:
            # create_graph: torch's kernel has no derivative of its own; its gradients are recorded by a node that
            # refuses a second backward
            with no_grad():
                grads = backward(g, q, k, v)
            return tuple(F._record("NotImplemented", d, (g, q, k, v), (), _second_order) for d in grads)
        if engine.is_grad_enabled() or type(g._data) is not np.ndarray or g._data.dtype != qd.dtype:
            if k.size(-3) != q.size(-3):  # (grouped-query attention: the formula on repeated keys and values)
                reps = q.size(-3) // k.size(-3)
                k, v = k.repeat_interleave(reps, -3), v.repeat_interleave(reps, -3)
            return _math_backward(g, q, k, v, scale, _with_causal(mask, is_causal, q, k))  # (create_graph)
        dq, dk, dv = flash_attention_cpu.backward(g._data, q._data, k._data, v._data, out, lse, md, is_causal, scale)
        return wrap(dq, q._dev), wrap(dk, k._dev), wrap(dv, v._dev)

    return F._record("ScaledDotProductFlashAttentionForCpuBackward0", out_t, (query, key, value),
                     (query, key, value), backward)  # fmt: skip


def _second_order(g: Tensor) -> tuple:
    raise RuntimeError("derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward is not implemented")


def _with_causal(mask: Tensor | None, is_causal: bool, query: Tensor, key: Tensor) -> Tensor | None:
    """The additive mask and the causal one as one."""
    if not is_causal:
        return mask
    causal = _causal(query.size(-2), key.size(-2), query.dtype, query.device)
    return causal if mask is None else mask + causal


def _math(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, dropout_p: float, scale: Any) -> Tensor:
    """torch's _scaled_dot_product_attention_math, op by op (its values, its graph): float16 and bfloat16 in
    float32; query and key^T each scaled by the square root of the scale (MulBackward1) before their product,
    the mask added, _safe_softmax, dropout, the product with value."""
    from engine.ops.elementwise import mul_scalar
    from engine.ops.reduce import safe_softmax

    low = query.dtype in (engine.float16, engine.bfloat16)
    origin = query.dtype
    if low:
        query, key, value = query.float(), key.float(), value.float()
    negative = scale is not None and scale < 0
    sf = math.sqrt(1.0 / math.sqrt(query.size(-1)) if scale is None else abs(float(scale)))
    q = mul_scalar(query, -sf if negative else sf)
    attn = q.matmul(mul_scalar(key.transpose(-2, -1), sf))
    if mask is not None:
        attn = attn + (mask.float() if low and mask.dtype is not engine.float32 else mask)
    attn = safe_softmax(attn, -1)
    if dropout_p > 0.0:
        attn = F.dropout(attn, dropout_p, True)
    out = attn.matmul(value)
    return out.to(origin) if low else out


def _math_backward(g: Tensor, q: Tensor, k: Tensor, v: Tensor, scale: float, mask: Tensor | None) -> tuple:
    """softmax attention's gradients in engine ops (differentiable again)."""
    p = _probs(q, k, scale, mask)
    dv = p.transpose(-2, -1).matmul(g)
    dp = g.matmul(v.transpose(-2, -1))
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    dq = ds.matmul(k) * scale
    dk = ds.transpose(-2, -1).matmul(q) * scale
    return dq, dk, dv


# ---- multi-head attention ----------------------------------------------------------------------------------------
def _canonical_mask(mask: Tensor | None, mask_name: str, other_type: Any, other_name: str, target_type: Any,
                    check_other: bool = True) -> Tensor | None:  # fmt: skip
    """torch's: a boolean mask (True = masked out) as 0 / -inf in the query's dtype; a float mask as it is."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype is not engine.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=3,
        )
    if not is_float:
        mask = engine.zeros_like(mask, dtype=target_type).masked_fill_(mask, -math.inf)
    return mask


def _shape_check(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None,
                 attn_mask: Tensor | None, num_heads: int) -> bool:  # fmt: skip
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found {key.dim()}-D and "
                f"{value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found "
                f"{key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.dim()}-D tensor instead"
            )
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found {key.dim()}-D and "
                f"{value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found "
                f"{key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                    f"{attn_mask.dim()}-D tensor instead"
                )
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor")


def _in_projection_packed(q: Tensor, k: Tensor, v: Tensor, w: Tensor, b: Tensor | None) -> tuple:
    e = q.size(-1)
    if k is v:
        if q is k:  # self-attention: one projection, split
            proj = F.linear(q, w, b).unflatten(-1, (3, e)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([e, e * 2])
        b_q, b_kv = (None, None) if b is None else b.split([e, e * 2])
        q_proj = F.linear(q, w_q, b_q)
        kv = F.linear(k, w_kv, b_kv).unflatten(-1, (2, e)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
        return q_proj, kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return F.linear(q, w_q, b_q), F.linear(k, w_k, b_k), F.linear(v, w_v, b_v)


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None,
    add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
    training: bool = True, key_padding_mask: Tensor | None = None, need_weights: bool = True,
    attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
    static_v: Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False,
) -> tuple:  # fmt: skip
    """torch.nn.functional.multi_head_attention_forward (sequence-first: (L, N, E) or unbatched (L, E))."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("the engine's multi_head_attention_forward takes no static_k/static_v")
    batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    other = None if attn_mask is None else attn_mask.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", other, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
            "`generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # (the causal hint stands in for the mask)
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}"
            )
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = F.linear(query, q_proj_weight, b_q), F.linear(key, k_proj_weight, b_k), F.linear(
            value, v_proj_weight, b_v)  # fmt: skip
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                    f"{(bsz * num_heads, tgt_len, src_len)}."
                )
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        k = engine.cat([k, bias_k.repeat(1, bsz, 1)])
        v = engine.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.view(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.view(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = (bsz * num_heads, 1, head_dim)
        k = engine.cat([k, engine.zeros(zeros, dtype=k.dtype, device=k.device)], dim=1)
        v = engine.cat([v, engine.zeros(zeros, dtype=v.dtype, device=v.device)], dim=1)
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got {key_padding_mask.shape}"
            )
        key_padding_mask = (key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
                            .reshape(bsz * num_heads, 1, src_len))  # fmt: skip
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        e = q.shape[-1]
        q_scaled = q * math.sqrt(1.0 / float(e))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = engine.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = engine.bmm(q_scaled, k.transpose(-2, -1))
        weights = F.softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        out = engine.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.size(1))
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.size(1))
    if not batched:
        out = out.squeeze(1)
    return out, None


class NonDynamicallyQuantizableLinear(Linear):
    """The out-projection's class in torch (a Linear by another name, which its repr shows)."""

    _torch_name = "torch.nn.modules.linear.{name}"


class MultiheadAttention(Module):
    """nn.MultiheadAttention: num_heads attention heads over embed_dim features, with packed in-projection
    weights (separate ones when kdim or vdim differ) and an out-projection."""

    _torch_name = "torch.nn.modules.activation.{name}"

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None) -> None:  # fmt: skip
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(engine.empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(engine.empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(engine.empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(engine.empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(engine.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(engine.empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(engine.empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple:  # fmt: skip
        batched = query.dim() == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                           None if attn_mask is None else attn_mask.dtype, "attn_mask",
                                           query.dtype)  # fmt: skip
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if self.batch_first and batched:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight if separate
            else None, k_proj_weight=self.k_proj_weight if separate else None,
            v_proj_weight=self.v_proj_weight if separate else None, average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )  # fmt: skip
        if self.batch_first and batched:
            return out.transpose(1, 0), weights
        return out, weights


FUNCTIONS = {"scaled_dot_product_attention": scaled_dot_product_attention,
             "multi_head_attention_forward": multi_head_attention_forward}  # fmt: skip
