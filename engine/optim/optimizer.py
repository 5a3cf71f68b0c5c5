"""torch.optim.Optimizer: parameter groups, per-parameter state, zero_grad and state_dict, as torch 2.13 has them.

The subclasses' step() runs torch's single-tensor (for-loop) algorithm, the one torch runs for cpu tensors, with
the arithmetic of engine/optim/_kernels.py on the parameters' arrays; each in-place op torch runs bumps its
tensor's version counter once, as torch's does, so autograd sees the changes.
"""

from __future__ import annotations

import types
from collections import defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

from engine import autograd
from engine.grad_mode import ENABLED
from engine.naming import TorchNamed
from engine.ops import fusion
from engine.tensor import Tensor
from engine.warn import user_stacklevel


class _OptimNamed(TorchNamed):
    """torch's classes print with their torch module (`<class 'torch.optim.sgd.SGD'>`); a user's subclass
    prints as Python prints it."""

    def __repr__(cls) -> str:
        if "_torch_name" in cls.__dict__:
            return super().__repr__()
        return type.__repr__(cls)


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' for a tensor, the qualified type name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in {"", "builtins"}:
        return qualname
    return f"{module}.{qualname}"


def scalar_dtype() -> Any:
    """The dtype of a 'step' counter: float64 when that is the default dtype, else float32 (torch's
    _get_scalar_dtype)."""
    from engine.dtypes import float32, float64, get_default_dtype

    return float64 if get_default_dtype() == float64 else float32


def not_supported(cls: str, flag: str) -> NotImplementedError:
    return NotImplementedError(
        f"{cls}: {flag}=True selects one of torch's other implementations (not in this engine); the engine runs "
        f"the for-loop implementation that torch runs on the cpu by default: leave {flag} unset"
    )


def check_flags(cls: str, **flags: Any) -> None:
    for name, value in flags.items():
        # foreach=True: torch's multi-tensor step gives its for-loop's bits on the cpu (checked against torch for
        # every optimizer here), except ASGD's, whose foreach arithmetic differs
        if value and (name != "foreach" or cls == "ASGD"):
            raise not_supported(cls, name)


def check_fused(fused: Any, foreach: Any, differentiable: Any) -> None:
    """torch's checks of the fused flag against the others (Adam, AdamW, Adagrad)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def tensor_steps(opt: Optimizer, make: Any) -> None:
    """An unpickled state's plain-number 'step' as the tensor torch keeps (make(float) builds it)."""
    for group in opt.param_groups:
        for p in group["params"]:
            p_state = opt.state.get(p, [])
            if len(p_state) != 0 and not isinstance(p_state["step"], Tensor):
                p_state["step"] = make(float(p_state["step"]))


_AUTOGRAD = autograd.__dict__  # (its module __getattr__ keeps autograd.<name> from being read quickly)


def bump(t: Tensor) -> None:
    """One in-place change to t's memory (what each of torch's in-place ops does to the version counter)."""
    c = t._vc
    c[0] += 1
    c[1] = _AUTOGRAD["current_site"]


def scalar(x: Any) -> Any:
    """A hyperparameter as the number torch's kernels receive: a 1-element tensor gives its value."""
    return x.item() if isinstance(x, Tensor) else x


class Optimizer(metaclass=_OptimNamed):
    _torch_name = "torch.optim.optimizer.Optimizer"

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + typename(params)
            )
        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    #: (key, default) of the param-group options a subclass's state may lack (one saved by an older torch), in
    #: torch's order: __setstate__ fills them in
    _group_defaults: tuple = ()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_defaults:
                group.setdefault(key, value)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ---- state_dict ----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: the parameter's state dict (the same dict, not a copy)}, 'param_groups': [each
        group's options with 'params' as the list of indices]}: the parameters' positions over all groups."""
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update(
                {id(p): i for i, p in enumerate(group["params"], start_index) if id(p) not in param_mappings}
            )
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    @staticmethod
    def _process_value_according_to_param_policy(
        param: Tensor, value: Tensor, param_id: int, param_groups: list[dict[Any, Any]], key: Any = None
    ) -> Tensor:
        # a 'step' keeps its dtype and device (torch: unless fused or capturable, which the engine does not run)
        if key == "step":
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load what state_dict() returned: the groups' options, and each parameter's state matched by
        position (tensors cast to the parameter's dtype and device; a tensor that already matches is shared)."""
        state_dict = state_dict.copy()
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def _cast(param: Tensor, value: Any, param_id: Any = None, param_groups: Any = None, key: Any = None) -> Any:
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {
                    k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k) for k, v in value.items()
                }
            if isinstance(value, Iterable):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups) for v in value)  # type: ignore[call-arg]
            return value

        state: defaultdict[Any, Any] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})

    # ---- gradients -----------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Each parameter's .grad becomes None (set_to_none=False: zeros, detached from any graph)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        if g.grad_fn is not None:
                            g.detach_()
                        else:
                            g.requires_grad_(False)
                        g.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        raise NotImplementedError

    def _closure(self, closure: Callable[[], Any] | None) -> Any:
        """torch's step(): the closure runs with grad enabled (it calls backward), then the update runs with
        it disabled; the caller has already disabled grad (and restores it)."""
        if fusion._LIVE:  # pending device recipes may read the arrays the update writes
            fusion.flush()
        if closure is None:
            return None
        ENABLED[0] = True
        try:
            loss = closure()
        finally:
            ENABLED[0] = False
        if fusion._LIVE:
            fusion.flush()
        return loss

    # ---- groups --------------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (a dict with 'params' and any options; missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors "
                "in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)
        param_group["params"] = extracted_param_tensors
        if len(extracted_param_names) != 0:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            import warnings

            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                "error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=user_stacklevel(),
            )

        param_set: set[Tensor] = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current_group_txt} to the optimizer"
                )
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)


class SingleTensorOptimizer(Optimizer):
    """An optimizer whose step is torch's single-tensor loop: `_update(group)` for each param group, with grad
    off (the closure runs with it on); the options it cannot honour (`_unsupported`) refuse at step."""

    _unsupported: tuple = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Each of the engine's optimizers gets its own step, as torch's SGD, Adam ... each define one
        (print(torch.optim.SGD.step) reads `<function SGD.step ...>`): this class's, copied (the same code, so
        a step runs exactly as fast) under the subclass's qualname. A subclass of one of them (AdamW of Adam, a
        script's of SGD) inherits that one's, as in torch."""
        super().__init_subclass__(**kwargs)
        base = SingleTensorOptimizer.step
        if cls.__module__.startswith("engine.") and "step" not in cls.__dict__ and cls.step is base:
            own = types.FunctionType(base.__code__, base.__globals__, "step", base.__defaults__, base.__closure__)
            own.__doc__, own.__module__, own.__qualname__ = base.__doc__, cls.__module__, f"{cls.__qualname__}.step"
            own.__annotations__, own.__kwdefaults__ = base.__annotations__, base.__kwdefaults__
            cls.step = own  # type: ignore[method-assign]

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a .grad; returns closure()'s value (None without one)."""
        prev = ENABLED[0]
        ENABLED[0] = False
        try:
            loss = self._closure(closure)
            for group in self.param_groups:
                for flag in self._unsupported:
                    if group[flag] and (flag != "foreach" or type(self).__name__ == "ASGD"):  # (see check_flags)
                        raise not_supported(type(self).__name__, flag)
                try:
                    self._update(group)
                except NotImplementedError as e:  # a sparse .grad (engine/optim/sparse_grads.py)
                    from engine.optim.sparse_grads import sparse_update

                    sparse_update(self, group, e)
        finally:
            ENABLED[0] = prev
        return loss

    def _update(self, group: dict[str, Any]) -> None:
        raise NotImplementedError
