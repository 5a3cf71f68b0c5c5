"""torch.einsum: a port of ATen's einsum (aten/src/ATen/native/Linear.cpp) onto engine ops.

torch's einsum is a composite op: it parses the equation, takes diagonals for repeated labels, unsqueezes and
permutes every operand to one common label order, then contracts the operands left to right, each pair with
`sumproduct_pair` (a mul, or permutes and reshapes around one bmm), and finally views or sums the contracted
dims away. This module does the same steps with the engine's own ops (permute, unsqueeze, sum, mul, reshape,
view, bmm), so that

- the values, the result dtype (a mul promotes mixed dtypes, a bmm refuses them, a sum of integers is int64)
  and every error are torch's, the errors checked in the same order as torch checks them;
- the autograd graph is torch's graph node for node (ViewBackward0 on top of a contraction through bmm,
  PermuteBackward0 for a pure transpose or diagonal, SumBackward1 for a single-operand reduction, MulBackward0
  for a contraction-free product...), so grad_fn names match torch exactly rather than a single stand-in
  node, and gradients of any order (create_graph) come from the ops' own differentiable backward formulas;
- a result that torch returns as a view of its operand (a transpose, a diagonal: 'ij->ji', 'ii->i') is a
  view here too, sharing memory and the version counter.

Repeated labels take torch.diagonal (engine/ops/diagonal.py): a view with torch's DiagonalBackward0 node, whose
backward is DiagonalBackwardBackward0, differentiable in turn for higher-order gradients.

torch's Python wrapper (torch.functional.einsum) is reproduced as well: the operands may be given one by one,
as one list or tuple, or in the sublist format einsum(op0, [0, 1], op1, [1, 2], [0, 2]). With three or more
operands torch asks opt_einsum for a contraction order when that package is installed; the oracle has none,
so the order is always left to right, as here.

grad_fn naming: exact, by construction (no single stand-in node is needed). Known difference: which of
torch's three reshape nodes sits under a bmm (ViewBackward0 for a contiguous operand, ReshapeAliasBackward0
for a viewable non-contiguous one, UnsafeViewBackward0 over CloneBackward0 for a copy) depends on the memory
layout of the intermediate result being reshaped. torch lays out a mul's result after its inputs' strides
(TensorIterator), numpy by its own rules, so with three or more operands, where the product of two is then
contracted with a third, that node can differ (about 1 in 100 random equations of one to four operands with
size-1 dims); values and gradients are the same. On the device the layout is the array library's as well.
"""

from __future__ import annotations

from typing import Any

from engine.amp.policy import policy as autocast_policy
from engine.ops.diagonal import diagonal
from engine.ops.elementwise import mul
from engine.ops.linalg import bmm
from engine.ops.reduce import sum as _sum
from engine.ops.shape import permute, reshape, unsqueeze, view
from engine.ops.util import parser_type_name
from engine.tensor import Tensor

_LETTERS = 26
_TOTAL = 2 * _LETTERS  # labels A-Z are subscripts 0-25, a-z are 26-51 (torch's order, upper case first)
_ELLIPSIS = _TOTAL
_DOT, _COMMA, _SPACE = ord("."), ord(","), ord(" ")


def _to_subscript(c: int) -> int:
    return c - 65 if 65 <= c <= 90 else c - 97 + _LETTERS


def _to_label(s: int) -> str:
    return chr(s + 65) if s < _LETTERS else chr(s - _LETTERS + 97)


def _isalpha(c: int) -> bool:
    # C's isalpha in the "C" locale: ASCII letters only (a UTF-8 byte of another character is not one)
    return 65 <= c <= 90 or 97 <= c <= 122


# ---- the pairwise contraction --------------------------------------------------------------------------------
def _bmm_check(left: Tensor, right: Tensor) -> None:
    """torch's CPU bmm errors for the operands einsum builds, in its order; the engine's bmm words a dtype
    mismatch as matmul does ("expected m1 and m2 ..."), which einsum in torch never says."""
    ld, rd = left._data.dtype, right._data.dtype
    if ld.kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if ld != rd:
        raise RuntimeError(f"expected scalar type {left.dtype.scalar_name()} but found {right.dtype.scalar_name()}")


def _sumproduct_pair(left: Tensor, right: Tensor, sum_dims: list) -> Tensor:
    """(left * right).sum(sum_dims, keepdim=True) through one bmm, as ATen's sumproduct_pair; both operands
    have the same number of dims, broadcast against each other."""
    if not sum_dims:
        return mul(left, right)
    ndim = left._data.ndim
    summed = set(sum_dims)
    lro: list = []
    lo: list = []
    ro: list = []
    lro_size = lo_size = ro_size = sum_size = 1
    for i in range(ndim):
        sl = left._data.shape[i] != 1
        sr = right._data.shape[i] != 1
        if i in summed:
            if sl and sr:
                sum_size *= left._data.shape[i]
            elif sl:  # summed and only in left: sum it now
                left = _sum(left, [i], True)
            elif sr:
                right = _sum(right, [i], True)
        elif sl and sr:
            lro.append(i)
            lro_size *= left._data.shape[i]
        elif sl:
            lo.append(i)
            lo_size *= left._data.shape[i]
        else:
            ro.append(i)
            ro_size *= right._data.shape[i]
    if lo and ro and ro[-1] < lo[0]:
        # torch 2.13 swaps the pair when all of the right operand's own dims come before the left one's, so that
        # bmm's result is laid out closer to the output order ('jk,ij' multiplies ij @ jk). The rule is read off
        # torch's graphs (which operand reaches bmm first), over a few hundred random pairs
        left, right, lo, ro, lo_size, ro_size = right, left, ro, lo, ro_size, lo_size
    out_size = (
        [left._data.shape[d] for d in lro]
        + [left._data.shape[d] for d in lo]
        + [1] * len(sum_dims)
        + [right._data.shape[d] for d in ro]
    )
    lperm = lro + lo + sum_dims + ro
    rperm = lro + sum_dims + ro + lo
    operm = [-1] * len(lperm)
    for pos, d in enumerate(lperm):
        operm[d] = pos
    a = reshape(permute(left, lperm), (lro_size, lo_size, sum_size))
    b = reshape(permute(right, rperm), (lro_size, sum_size, ro_size))
    _bmm_check(a, b)
    return permute(view(bmm(a, b), tuple(out_size)), operm)


# ---- the equation -------------------------------------------------------------------------------------------
def _parse_lhs(lhs: bytes, num_ops: int) -> list:
    """Each operand's subscripts (0-51, or _ELLIPSIS), with torch's checks in torch's order."""
    op_labels: list = [[] for _ in range(num_ops)]
    ell_in_input = False
    curr = 0
    i = 0
    n = len(lhs)
    while i < n:
        c = lhs[i]
        if c == _SPACE:
            pass
        elif c == _DOT:
            if ell_in_input:
                raise RuntimeError(f"einsum(): found '.' for operand {curr} for which an ellipsis was already found")
            if not (i + 2 < n and lhs[i + 1] == _DOT and lhs[i + 2] == _DOT):
                raise RuntimeError(f"einsum(): found '.' for operand {curr} that is not part of any ellipsis")
            i += 2
            op_labels[curr].append(_ELLIPSIS)
            ell_in_input = True
        elif c == _COMMA:
            curr += 1
            if curr >= num_ops:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            ell_in_input = False
        else:
            if not _isalpha(c):
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {i} in the equation string, subscripts must be in "
                    "[a-zA-Z]"
                )
            op_labels[curr].append(_to_subscript(c))
        i += 1
    if curr != num_ops - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return op_labels


def _einsum(equation: str, operands: tuple) -> Tensor:
    """ATen's einsum(equation, operands) without a contraction path: parse, align, contract left to right."""
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    num_ops = len(operands)
    eq = equation.encode()  # (torch indexes the UTF-8 bytes in its messages)
    arrow = eq.find(b"->")
    lhs = eq if arrow < 0 else eq[:arrow]
    op_labels = _parse_lhs(lhs, num_ops)

    label_count = [0] * _TOTAL
    ell_num_dim = 0  # the most dims any ellipsis covers
    for i, op in enumerate(operands):
        labels = op_labels[i]
        ndims = op._data.ndim
        nlabels = len(labels)
        has_ellipsis = False
        for s in labels:
            if s == _ELLIPSIS:
                nlabels -= 1
                has_ellipsis = True
                ell_num_dim = max(ell_num_dim, ndims - nlabels)
            else:
                label_count[s] += 1
        if not (nlabels <= ndims if has_ellipsis else nlabels == ndims):
            if has_ellipsis:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({nlabels}) is more than the number of "
                    f"dimensions ({ndims}) for operand {i}"
                )
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({nlabels}) does not match the number of "
                f"dimensions ({ndims}) for operand {i} and no ellipsis was given"
            )

    # every operand is aligned to the dims [output dims..., contracted dims...]; label_perm_index maps a label
    # to its position there
    label_perm_index = [-1] * _TOTAL
    perm_index = 0
    ell_index = 0
    ell_in_output = False
    if arrow < 0:
        # implicit output: the ellipsis dims, then the labels seen once, in subscript order (A-Z, then a-z)
        perm_index = ell_num_dim
        ell_in_output = True
        for s in range(_TOTAL):
            if label_count[s] == 1:
                label_perm_index[s] = perm_index
                perm_index += 1
    else:
        rhs = eq[arrow + 2 :]
        i = 0
        while i < len(rhs):
            c = rhs[i]
            if c == _SPACE:
                pass
            elif c == _DOT:
                if ell_in_output:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
                if not (i + 2 < len(rhs) and rhs[i + 1] == _DOT and rhs[i + 2] == _DOT):
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
                i += 2
                ell_index = perm_index
                perm_index += ell_num_dim
                ell_in_output = True
            else:
                if not _isalpha(c):
                    raise RuntimeError(
                        f"einsum(): invalid subscript given at index {len(lhs) + 2 + i} in the equation string, "
                        "subscripts must be in [a-zA-Z]"
                    )
                s = _to_subscript(c)
                if label_count[s] == 0 or label_perm_index[s] != -1:
                    why = (
                        "appears more than once in the output"
                        if label_perm_index[s] > -1
                        else "does not appear in the equation for any input operand"
                    )
                    raise RuntimeError(f"einsum(): output subscript {chr(c)} {why}")
                label_perm_index[s] = perm_index
                perm_index += 1
            i += 1
    out_num_dim = perm_index
    if not ell_in_output:  # ellipsis dims missing from the output are contracted
        ell_index = perm_index
        perm_index += ell_num_dim
    for s in range(_TOTAL):
        if label_count[s] > 0 and label_perm_index[s] == -1:
            label_perm_index[s] = perm_index
            perm_index += 1

    # check sizes, take diagonals of repeated labels, unsqueeze missing dims and permute each operand into the
    # common order; dim_counts counts, per aligned dim, the operands where it is not 1 (for when to sum it)
    label_size = [1] * _TOTAL
    ell_sizes = [1] * ell_num_dim
    dim_counts = [0] * perm_index
    ops: list = []
    for i, operand in enumerate(operands):
        op = operand
        permutation = [-1] * perm_index
        dim = 0
        for s in op_labels[i]:
            shape = op._data.shape
            if s == _ELLIPSIS:
                ndim = operand._data.ndim - (len(op_labels[i]) - 1)
                for j in range(ell_num_dim - ndim, ell_num_dim):
                    size = op._data.shape[dim]
                    if size != 1:
                        if ell_sizes[j] != 1 and ell_sizes[j] != size:
                            # (torch's message lacks the space before "has")
                            raise RuntimeError(
                                f"einsum(): dimension {dim} covered by ellipsis in operand {i}has size {size} which "
                                f"does not broadcast with previously seen ellipsis with size {ell_sizes[j]} for the "
                                "respective dimension"
                            )
                        ell_sizes[j] = size
                        dim_counts[ell_index + j] += 1
                    permutation[ell_index + j] = dim
                    dim += 1
            elif permutation[label_perm_index[s]] == -1:
                size = shape[dim]
                if size != 1:
                    if label_size[s] != 1 and label_size[s] != size:
                        raise RuntimeError(
                            f"einsum(): subscript {_to_label(s)} has size {size} for operand {i} which does not "
                            f"broadcast with previously seen size {label_size[s]}"
                        )
                    label_size[s] = size
                    dim_counts[label_perm_index[s]] += 1
                permutation[label_perm_index[s]] = dim
                dim += 1
            else:
                # a repeated label: take the diagonal, kept where the label first appeared
                prev = permutation[label_perm_index[s]]
                if shape[dim] != shape[prev]:
                    raise RuntimeError(
                        f"einsum(): subscript {_to_label(s)} is repeated for operand {i} but the sizes don't match, "
                        f"{shape[dim]} != {shape[prev]}"
                    )
                op = _movedim_last(diagonal(op, 0, prev, dim), prev)
        for k, v in enumerate(permutation):
            if v == -1:
                op = unsqueeze(op, dim)
                permutation[k] = dim
                dim += 1
        ops.append(permute(op, permutation))

    # contract left to right; a dim is summed as soon as no operand still to come has it
    while len(ops) > 1:
        a, b = ops[0], ops[1]
        del ops[:2]
        sum_dims: list = []
        a_sum: list = []
        b_sum: list = []
        sa, sb = a._data.shape, b._data.shape
        for d in range(out_num_dim, perm_index):
            if sa[d] != 1 and sb[d] != 1:
                dim_counts[d] -= 1
                if dim_counts[d] == 1:
                    sum_dims.append(d)
                    dim_counts[d] = 0
            elif dim_counts[d] == 1:
                if sa[d] != 1:
                    a_sum.append(d)
                    dim_counts[d] = 0
                elif sb[d] != 1:
                    b_sum.append(d)
                    dim_counts[d] = 0
        if a_sum:
            a = _sum(a, a_sum, True)
        if b_sum:
            b = _sum(b, b_sum, True)
        ops.insert(0, _sumproduct_pair(a, b, sum_dims))

    r = ops[0]
    if perm_index > out_num_dim:
        if num_ops > 1:  # the contracted dims are all 1 by now: view them away
            return view(r, r._data.shape[:out_num_dim])
        return _sum(r, list(range(out_num_dim, perm_index)))
    return r


def _movedim_last(t: Tensor, dest: int) -> Tensor:
    """t.movedim(-1, dest), which torch records as a permute."""
    n = t._data.ndim
    order = list(range(n - 1))
    order.insert(dest, n - 1)
    return permute(t, order)


# ---- torch.functional.einsum: the Python front end ------------------------------------------------------------
def _parse_subscript(n: Any) -> str:
    if n is Ellipsis:
        return "..."
    # (compared as torch's wrapper compares, so a subscript of another type fails with the same TypeError)
    if n >= 0 and n < 26:
        return chr(ord("A") + n)
    if n >= 26 and n < 52:
        return chr(ord("a") + n - 26)
    raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")


@autocast_policy(cuda="lower")
def einsum(*args: Any) -> Tensor:
    """torch.einsum(equation, *operands), einsum(equation, [operands]) or the sublist format
    einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])."""
    if len(args) < 2:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, "
            "or at least one operand and its subscripts list"
        )
    if isinstance(args[0], Tensor):
        equation = ",".join("".join(_parse_subscript(s) for s in sub) for sub in args[1::2])
        if len(args) % 2 == 1:
            equation += "->" + "".join(_parse_subscript(s) for s in args[-1])
            operands = args[:-1:2]
        else:
            operands = args[::2]
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        return einsum(equation, *operands[0])  # the old interface: the operands as one list
    # the argument checks of torch's binding (_VF.einsum(str equation, TensorList tensors))
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {parser_type_name(equation)}")
    for i, op in enumerate(operands):
        if not isinstance(op, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {parser_type_name(op)}")
    return _einsum(equation, tuple(operands))
