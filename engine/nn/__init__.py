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
    if name in _TORCH_INIT_OWNER:
        _torch_init_name(value, _TORCH_INIT_OWNER[name])
    globals()[name] = value  # later lookups are plain attribute reads
    return value


#: the class whose __init__ torch's layer runs where that is not the engine's (BatchNorm1d runs _BatchNorm's,
#: ReLU its own): Python names it in its argument errors, `nn.BatchNorm1d(3, momentu=0.1)` says
#: "_BatchNorm.__init__() got an unexpected keyword argument 'momentu'"
_TORCH_INIT_OWNER = {
    "BatchNorm1d": "_BatchNorm", "BatchNorm2d": "_BatchNorm", "BatchNorm3d": "_BatchNorm", "CELU": "CELU",
    "CosineEmbeddingLoss": "CosineEmbeddingLoss", "Dropout": "_DropoutNd", "ELU": "ELU",
    "FractionalMaxPool2d": "FractionalMaxPool2d", "FractionalMaxPool3d": "FractionalMaxPool3d",
    "Hardshrink": "Hardshrink", "Hardsigmoid": "Hardsigmoid", "Hardswish": "Hardswish",
    "LazyBatchNorm1d": "_LazyNormBase", "LazyBatchNorm2d": "_LazyNormBase", "LazyBatchNorm3d": "_LazyNormBase",
    "LazyConv1d": "LazyConv1d", "LazyConv2d": "LazyConv2d", "LazyConv3d": "LazyConv3d",
    "LazyConvTranspose1d": "LazyConvTranspose1d", "LazyConvTranspose2d": "LazyConvTranspose2d",
    "LazyConvTranspose3d": "LazyConvTranspose3d", "LogSoftmax": "LogSoftmax",
    "MarginRankingLoss": "MarginRankingLoss", "Mish": "Mish", "ReLU": "ReLU", "SELU": "SELU", "SiLU": "SiLU",
    "Softmax": "Softmax", "Softmin": "Softmin", "Softshrink": "Softshrink",
}  # fmt: skip


def _torch_init_name(cls: type, owner: str) -> None:
    """cls.__init__ as a copy of the inherited one whose code is named {owner}.__init__ (Python 3.11 and later
    name a function's co_qualname in its argument errors; earlier, only __init__)."""
    import types

    f = cls.__init__
    code = getattr(f, "__code__", None)
    qual = f"{owner}.__init__"
    if code is None or not hasattr(code, "co_qualname") or code.co_qualname == qual:
        return
    copy = types.FunctionType(code.replace(co_qualname=qual), f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    copy.__kwdefaults__, copy.__qualname__, copy.__doc__ = f.__kwdefaults__, qual, f.__doc__
    copy.__dict__.update(f.__dict__)
    cls.__init__ = copy


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


for _name, _owner in _TORCH_INIT_OWNER.items():  # (the layers imported above; the lazy ones in __getattr__)
    if _name in globals():
        _torch_init_name(globals()[_name], _owner)

del _name, _owner
