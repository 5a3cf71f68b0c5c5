"""The AttributeError for torch names the engine does not cover (torch.nn.Linear, torch.optim, ...): it names
what is covered and shows the tensor-level way to write it, so a tutorial's first `nn.Linear` reads as a scope
note rather than a typo in the user's code. `e.not_covered` marks it for hosts that rephrase attribute errors."""

from __future__ import annotations

_HINTS = {
    "torch.nn.Parameter": "make a leaf that requires grad instead: w = torch.randn(3, 2, requires_grad=True)",
    "torch.nn.Linear": "write the layer with tensors: W = torch.randn(out, in, requires_grad=True); "
    "y = torch.nn.functional.linear(x, W, b)",
    "torch.nn.Module": "write the model as a function of tensors, with its parameters in a list",
    "torch.nn.Sequential": "write the model as a function of tensors, with its parameters in a list",
    "torch.optim": "update the parameters by hand: with torch.no_grad(): p -= lr * p.grad; then p.grad = None",
}
_LOSSES = {"MSELoss": "mse_loss", "CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "L1Loss": "l1_loss",
           "BCELoss": "binary_cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits"}  # fmt: skip
_ACTIVATIONS = {"ReLU": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax", "GELU": "gelu",
                "LogSoftmax": "log_softmax", "LeakyReLU": "leaky_relu", "SiLU": "silu"}  # fmt: skip


# torch's submodules the engine has none of (a plain missing name still gets Python's own message)
TORCH_SUBMODULES = frozenset({"optim", "utils", "fft", "distributions", "sparse", "jit", "onnx", "amp",
                              "backends", "hub", "quantization", "profiler", "func", "export", "compiler"})  # fmt: skip


def not_covered(module: str, name: str) -> AttributeError:
    """The error for `module.name`: torch's plain message for a name torch lacks too, else a scope note."""
    full = f"{module}.{name}"
    covered = (module == "torch.nn" and (name[:1].isupper() or name in ("init", "utils", "parallel", "modules"))) or (
        module == "torch" and name in TORCH_SUBMODULES
    )
    if not covered:
        e = AttributeError(f"module '{module}' has no attribute '{name}'")
        e.not_covered = False  # type: ignore[attr-defined]
        return e
    hint = _HINTS.get(full)
    if hint is None and module == "torch.nn":
        if name in _LOSSES:
            hint = f"call the function instead: torch.nn.functional.{_LOSSES[name]}(input, target)"
        elif name in _ACTIVATIONS:
            hint = f"call the function instead: torch.nn.functional.{_ACTIVATIONS[name]}(x)"
        else:
            hint = _HINTS["torch.nn.Module"]
    msg = f"{full} is not in tcli's engine, which covers tensors, autograd and torch.nn.functional"
    e = AttributeError(f"{msg}; {hint}" if hint else msg)
    e.not_covered = True  # type: ignore[attr-defined]
    return e
