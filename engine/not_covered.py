"""The AttributeError for torch names the engine does not cover (torch.nn.Conv2d, torch.fft, ...): it names
what is covered and shows the tensor-level way to write it, so a tutorial's first `nn.Linear` reads as a scope
note rather than a typo in the user's code. `e.not_covered` marks it for hosts that rephrase attribute errors."""

from __future__ import annotations

_HINTS = {
    "torch.nn": "the engine's torch.nn has Module, Parameter, the containers, Linear, Embedding, the 1-d, 2-d and 3-d "
    "convolution, pooling and padding layers, normalisation, dropout, recurrent layers (RNN, LSTM, GRU, over padded "
    "or packed batches), MultiheadAttention and the Transformer layers, activations and losses; write other layers "
    "as a Module whose forward uses tensor ops",
}


# torch's submodules the engine has none of (a plain missing name still gets Python's own message)
TORCH_SUBMODULES = frozenset({"utils", "jit", "onnx",
                              "hub", "quantization", "profiler", "export"})  # fmt: skip

# names tutorials reach for that torch has and the engine does not, per namespace
_IN_TORCH = {
    "torch": frozenset({"lobpcg",
                        "sparse_csr_tensor", "sparse_csc_tensor", "sparse_bsr_tensor", "sparse_bsc_tensor",
                        "sparse_compressed_tensor", "smm", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc",
                        "nested_tensor"}),
    "torch.linalg": frozenset({"ldl_factor", "ldl_solve"}),
    "torch.autograd": frozenset({"graph", "profiler"}),
    "torch.func": frozenset({"functionalize", "debug_unwrap", "rearrange",
                             "replace_all_batch_norm_modules_"}),
    # (the optimizers the engine has are real attributes: these are what it may lack)
    "torch.testing": frozenset({"FileCheck"}),  # (TorchScript's IR checker)
    "torch.optim": frozenset(),
    # (torch.sparse has sum and mm here: engine/sparse.py)
    "torch.sparse": frozenset({"addmm", "sampled_addmm", "softmax", "log_softmax", "spdiags", "spsolve",
                               "check_sparse_tensor_invariants", "as_sparse_gradcheck", "to_sparse_semi_structured",
                               "SparseSemiStructuredTensor", "FloatTensor", "DoubleTensor", "LongTensor",
                               "IntTensor", "ShortTensor", "ByteTensor", "CharTensor", "HalfTensor",
                               "BFloat16Tensor"}),
    "torch.utils": frozenset({"tensorboard", "cpp_extension", "benchmark", "hooks", "mobile_optimizer"}),
    "torch.utils.checkpoint": frozenset({"create_selective_checkpoint_contexts", "CheckpointPolicy",
                                         "SelectiveCheckpointContext", "SAC_IGNORED_OPS", "DefaultDeviceType",
                                         "get_device_states", "set_device_states", "GraphExecGroup"}),
}  # fmt: skip


def not_covered(module: str, name: str) -> AttributeError:
    """The error for `module.name`: torch's plain message for a name torch lacks too, else a scope note."""
    full = f"{module}.{name}"
    in_torch = (
        (module == "torch.nn" and (name[:1].isupper() or name in ("init", "utils", "parallel", "modules")))
        or (module == "torch" and name in TORCH_SUBMODULES)
        or name in _IN_TORCH.get(module, ())
    )
    if not in_torch:
        e = AttributeError(f"module '{module}' has no attribute '{name}'")
        e.not_covered = False  # type: ignore[attr-defined]
        return e
    hint = _HINTS.get(full)
    if hint is None and module == "torch.nn":
        hint = _HINTS["torch.nn"]
    msg = (
        f"{full} is not in tcli's engine; it covers tensors, autograd, torch.optim, torch.distributions, torch.nn's "
        "common modules and most of torch.nn.functional, torch.linalg and torch.special"
    )
    e = AttributeError(f"{msg}; {hint}" if hint else msg)
    e.not_covered = True  # type: ignore[attr-defined]
    return e
