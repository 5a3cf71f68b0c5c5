"""torch.func.functional_call and stack_module_state: a module run with parameters and buffers given per call
(torch/nn/utils/stateless.py and torch/nn/utils/_named_member_accessor.py, with their checks and messages).

functional_call swaps the given tensors into the module's _parameters/_buffers dicts (or attributes) for the call
and swaps the originals back afterwards, whatever the call raised; a value the module replaced in place is written
back into the caller's dict, as torch does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from engine.nn.module import Module
from engine.ops.index import stack
from engine.tensor import Tensor

__all__ = ["functional_call", "stack_module_state"]

_MISSING: Any = object()  # a name the module did not have before the swap


def _check_name(name: str) -> None:
    if "." in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == "":
        raise KeyError('tensor name can\'t be empty string ""')


def _swap_tensor(module: Module, name: str, tensor: Any) -> Any:
    """Put tensor at module.name (removing it for _MISSING); returns what was there (_MISSING for nothing)."""
    if tensor is not _MISSING and not isinstance(tensor, Tensor) and tensor is not None:
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    _check_name(name)
    for table in (module._parameters, module._buffers):
        if name in table:
            orig = table[name]
            if tensor is _MISSING:
                del table[name]
            else:
                table[name] = tensor
            return orig
    orig = getattr(module, name) if hasattr(module, name) else _MISSING
    if orig is not _MISSING and not isinstance(orig, Tensor) and orig is not None:
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        if name.startswith("_") and orig is _MISSING:
            # (a new private attribute could take a name the engine reads as a tensor's field, _data or _grad:
            # functional_call's keys name the module's own tensors)
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return orig


class _Accessor:
    """Submodules by dotted path, each looked up once (torch's NamedMemberAccessor)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.memo: dict[str, Module] = {}

    def submodule(self, name: str) -> Module:
        if not name:
            return self.module
        if name in self.memo:
            return self.memo[name]
        prefix, dot, attr = name.rpartition(".")
        module = self.submodule(prefix) if dot else self.module
        try:
            sub = getattr(module, attr)
        except AttributeError as ex:
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`") from ex
        if not isinstance(sub, Module):
            raise TypeError(f"submodule `{name}`: {sub} is not an instance of torch.nn.Module")
        self.memo[name] = sub
        return sub

    def swap(self, name: str, value: Any) -> Any:
        prefix, _, attr = name.rpartition(".")
        return _swap_tensor(self.submodule(prefix), attr, value)

    def swap_dict(self, named: dict) -> dict:
        """Swap every name in; if one fails, those already swapped are put back before the error propagates."""
        orig: dict = {}
        try:
            for name, tensor in named.items():
                orig[name] = self.swap(name, tensor)
        except Exception:
            for name, tensor in orig.items():
                self.swap(name, tensor)
            raise
        return orig


def _untie(module: Module, given: dict) -> dict:
    """given with every name tied to a given name (one tensor under several names) mapped to the same value;
    ValueError where different values are given for names of one tensor."""
    names_of: dict = {}
    for name, tensor in [*module.named_parameters(remove_duplicate=False),
                         *module.named_buffers(remove_duplicate=False)]:  # fmt: skip
        names_of.setdefault(id(tensor), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given_tied = {name for name in given if name in tied}
    for name in given_tied:
        names = tied[name]
        # (torch reads every tied name from given here: a KeyError where one of three tied names is not given)
        if len(names & given_tied) > 1 and len({id(given[n]) for n in names}) != 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(names)}, which are tied. Consider using "
                "tie_weights=False"
            )
    untied = dict(given)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = given[name]
    return untied


def _check_keys(module: Module, module_name: str, keys: dict) -> None:
    valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    missing, unexpected = sorted(valid - set(keys)), sorted(set(keys) - valid)
    msgs = []
    if unexpected:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if msgs:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module_name, "\n\t".join(msgs)))


@contextlib.contextmanager
def _reparametrized(module: Module, given: dict, tie_weights: bool, strict: bool) -> Iterator[None]:
    untied = _untie(module, given) if tie_weights else given
    if strict:
        _check_keys(module, module._get_name(), untied)
    accessor = _Accessor(module)
    orig: dict = {}
    try:
        orig = accessor.swap_dict(untied)
        yield
    finally:
        current = accessor.swap_dict(orig)
        given.update({k: current[k] for k in given if k in current})


def functional_call(
    module: Module, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: dict | None = None, *,
    tie_weights: bool = True, strict: bool = False,
) -> Any:  # fmt: skip
    """module(*args, **kwargs) with the named parameters and buffers replaced by the given tensors (a dict, or a
    sequence of dicts with no key in two of them); args that is not a tuple is the one argument."""
    if isinstance(parameter_and_buffer_dicts, dict):
        given = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts: dict = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        given = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
            f"{type(parameter_and_buffer_dicts)}"
        )
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrized(module, given, tie_weights, strict):
        return module(*args, **kwargs)


def _stacked_leaf(tensors: tuple, name: str) -> Tensor:
    all_rg = all(t.requires_grad for t in tensors)
    if not all_rg and any(t.requires_grad for t in tensors):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    return result.detach().requires_grad_() if all_rg else result


def stack_module_state(models: Sequence[Module]) -> tuple[dict, dict]:
    """(parameters, buffers) of models of one class, each name's tensors stacked along a new first dimension (new
    leaves that require grad where the originals do): the state vmap runs an ensemble over."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers
