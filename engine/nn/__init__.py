"""torch.nn: functional, init, Parameter, Module and its containers, and the layers, activations and losses the
engine covers. The modules load on first use (from __getattr__), so `import engine` pays nothing for them.
Asking for a torch.nn name the engine does not cover gets an AttributeError that says so and shows the
tensor-level way to write it."""

from __future__ import annotations

from engine.nn import functional  # noqa: F401
from engine.not_covered import not_covered

_MODULE = "engine.nn.module"
_CONTAINERS = "engine.nn.containers"
_LAYERS = "engine.nn.layers"
_LOSSES = "engine.nn.loss_modules"

# name -> the engine module that defines it (loaded, and the name bound here, on first access)
_LAZY = {
    "Parameter": "engine.nn.parameter",
    "Buffer": "engine.nn.buffer",
    "DataParallel": "engine.nn.parallel",
    "AdaptiveLogSoftmaxWithLoss": "engine.nn.adaptive",
    "Module": _MODULE,
    **dict.fromkeys(
        ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Container"), _CONTAINERS
    ),
    **dict.fromkeys(
        ("Identity", "Linear", "Flatten", "Unflatten", "Embedding", "LayerNorm", "Dropout", "PairwiseDistance",
         "CosineSimilarity", "ReLU", "SiLU", "Mish", "SELU", "Hardsigmoid", "Hardswish", "Threshold", "Hardtanh",
         "ReLU6", "Sigmoid", "Tanh", "ELU", "CELU", "GLU", "GELU", "Hardshrink", "Softshrink", "LeakyReLU",
         "LogSigmoid", "Softsign", "Tanhshrink", "Softplus", "PReLU", "Softmax", "Softmin", "LogSoftmax",
         "Softmax2d"),
        _LAYERS,
    ),
    "MultiheadAttention": "engine.nn.attention",
    **dict.fromkeys(
        ("LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
         "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "UninitializedParameter",
         "UninitializedBuffer"),
        "engine.nn.lazy",
    ),
    **dict.fromkeys(
        ("Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
         "TransformerDecoderLayer"),
        "engine.nn.transformer",
    ),
    **dict.fromkeys(
        ("L1Loss", "MSELoss", "NLLLoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "HuberLoss",
         "SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
         "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
         "MultiMarginLoss", "MultiLabelMarginLoss", "NLLLoss2d",
         "MultiLabelSoftMarginLoss", "CTCLoss"),
        _LOSSES,
    ),
}  # fmt: skip
_SUBMODULES = ("init", "parameter", "utils", "parallel")
__all__ = ["functional", "init", *_LAZY]  # (a star import loads the modules)


def __getattr__(name: str) -> object:
    import importlib

    if name in _SUBMODULES:
        try:
            return importlib.import_module(f"engine.nn.{name}")  # (the import binds it here)
        except ModuleNotFoundError as e:
            if e.name != f"engine.nn.{name}":
                raise
            raise not_covered("torch.nn", name) from None
    where = _LAZY.get(name)
    if where is None:
        where = _from_layer_modules(name)
    if where is None:
        raise not_covered("torch.nn", name)
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


# modules whose __all__ adds more layers to torch.nn (convolution, pooling, normalisation, recurrent)
_LAYER_MODULES = ("engine.nn.conv_layers", "engine.nn.norm_layers", "engine.nn.rnn_layers", "engine.nn.bilinear",
                  "engine.nn.channel_shuffle", "engine.nn.embedding_bag", "engine.nn.random_activations")  # fmt: skip


def _from_layer_modules(name: str) -> str | None:
    import importlib

    for where in _LAYER_MODULES:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as e:
            if e.name != where:  # (a module that is there but fails to import is a bug to see)
                raise
            continue
        if name in getattr(module, "__all__", ()):
            return where
    return None


def __dir__() -> list:
    import importlib

    extra = [n for where in _LAYER_MODULES for n in getattr(importlib.import_module(where), "__all__", ())]
    return sorted({*globals(), *_LAZY, *_SUBMODULES, *extra})
