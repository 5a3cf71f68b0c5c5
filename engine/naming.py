"""How engine classes print: as torch's (`type(x)` is `<class 'torch.Tensor'>`, a grad_fn's class is
`<class 'MulBackward0'>`), so that scripts printing types match PyTorch's output. Only the class's repr
changes (and, for a C type, __name__ drops its dotted prefix as in torch); its module stays the engine's own."""

from __future__ import annotations

_TYPE_NAME = type.__dict__["__name__"]


class TorchNamed(type):
    """Metaclass: a class prints as `<class '{_torch_name}'>`, with {name} replaced by the class's own name
    (subclasses inherit the pattern: every autograd node class prints as its bare name, as in torch)."""

    _torch_name = "{name}"

    def __init__(cls, name: str, bases: tuple, ns: dict) -> None:
        type.__init__(cls, name, bases, ns)  # (not super(): tensortype is both an instance and a subclass)
        if ns.get("_c_type"):
            # one of torch's C types: Python's own messages name it by its full tp_name ("'torch.Size' object
            # is not callable", "must be torch.dtype, not torch.Size"), while its __name__ is the part after
            # the last dot (the property below): a heap type's tp_name is what type's own __name__ stores
            _TYPE_NAME.__set__(cls, cls._torch_name.format(name=name))

    @property
    def __name__(cls) -> str:  # type: ignore[override]
        name = _TYPE_NAME.__get__(cls)
        return name.rpartition(".")[2] if cls.__dict__.get("_c_type") else name

    @__name__.setter
    def __name__(cls, value: str) -> None:
        _TYPE_NAME.__set__(cls, value)

    def __repr__(cls) -> str:
        return f"<class '{cls._torch_name.format(name=cls.__name__)}'>"


class TorchModuleNamed(type):
    """Metaclass: a class prints as `<class 'torch.{module}.{name}'>`, its engine module read as torch's
    (engine.distributions.normal.Normal is torch.distributions.normal.Normal); a class may name its torch
    module in `_torch_module` where the engine splits one of torch's modules into several."""

    def __repr__(cls) -> str:
        mod = cls.__module__
        if mod.startswith("engine."):
            mod = getattr(cls, "_torch_module", None) or "torch." + mod[len("engine.") :]
        return f"<class '{mod}.{cls.__qualname__}'>"


def object_repr(self: object) -> str:
    """object.__repr__ as torch's objects print (`<torch.utils.data.dataloader.DataLoader object at 0x...>`):
    an engine class with its own _torch_name shows that path; any other class, a script's subclass included,
    prints as Python prints it. The class's __module__ stays the engine's (tsr's sandbox reads it)."""
    cls = type(self)
    name = cls.__dict__.get("_torch_name")
    if name is None:
        return object.__repr__(self)
    return f"<{name.format(name=cls.__name__)} object at {id(self):#x}>"


class _Result(tuple, metaclass=TorchNamed):
    """torch.return_types.X: a named tuple of tensors that prints as torch prints it."""

    _torch_name = "torch.return_types.{name}"
    _name = "result"
    _names: tuple = ()
    __slots__ = ()

    def __new__(cls, *items: object) -> _Result:
        return tuple.__new__(cls, items)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._names, self))
        return f"torch.return_types.{self._name}(\n{body})"

    __str__ = __repr__


def result_type(name: str, *fields: str) -> type:
    """The torch.return_types class `name` with these fields (slogdet: sign, logabsdet; aminmax: min, max)."""
    import operator

    # (_c_type: a structseq's tp_name is the dotted torch.return_types.<name>, which Python's messages print)
    ns: dict = {"__slots__": (), "_name": name, "_names": fields, "__qualname__": name, "_c_type": True}
    for i, f in enumerate(fields):
        ns[f] = property(operator.itemgetter(i))
    return type(name, (_Result,), ns)


def type_name(x: object) -> str:
    """The name of x's class as Python's own messages print it (its tp_name): `torch.Size` for torch's C
    types, whose __name__ is the short `Size`; a static C type's dotted tp_name (`numpy.ndarray`, whose
    __name__ is `ndarray`); any other class's __name__."""
    cls = type(x)
    name = _TYPE_NAME.__get__(cls)
    if not cls.__flags__ & _HEAPTYPE and cls.__module__ != "builtins":  # (Python keeps a static type's module)
        return f"{cls.__module__}.{name}"
    return name


_HEAPTYPE = 1 << 9  # (Py_TPFLAGS_HEAPTYPE: a class made by a class statement, not a C extension's static type)


#: the functions of torch's namespace that are C builtins in torch 2.13 (torch._C._VariableFunctions):
#: `print(torch.zeros)` shows `<built-in method zeros of type object at 0x...>` (tcli's text conversions)
TORCH_C_FUNCTIONS = frozenset(
    """
    abs abs_ absolute acos acos_ acosh acosh_ adaptive_avg_pool1d adaptive_max_pool1d add addbmm addcdiv addcmul
    addmm addmv addmv_ addr adjoint affine_grid_generator alias_copy all allclose alpha_dropout alpha_dropout_
    amax amin aminmax angle any arange arccos arccos_ arccosh arccosh_ arcsin arcsin_ arcsinh arcsinh_ arctan
    arctan2 arctan_ arctanh arctanh_ argmax argmin argsort argwhere as_strided as_strided_ as_strided_copy
    as_strided_scatter as_tensor asarray asin asin_ asinh asinh_ atan atan2 atan_ atanh atanh_ avg_pool1d
    baddbmm bartlett_window batch_norm batch_norm_backward_elemt batch_norm_backward_reduce batch_norm_elemt
    batch_norm_gather_stats batch_norm_gather_stats_with_counts batch_norm_stats batch_norm_update_stats
    bernoulli bilinear binary_cross_entropy_with_logits bincount binomial bitwise_and bitwise_left_shift
    bitwise_not bitwise_or bitwise_right_shift bitwise_xor blackman_window bmm broadcast_to bucketize can_cast
    cat ccol_indices_copy ceil ceil_ celu celu_ channel_shuffle cholesky cholesky_inverse cholesky_solve
    choose_qparams_optimized chunk clamp clamp_ clamp_max clamp_max_ clamp_min clamp_min_ clip clip_ clone
    col_indices_copy column_stack combinations complex concat concatenate conj conj_physical conj_physical_
    constant_pad_nd conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d conv_transpose3d convolution
    copysign corrcoef cos cos_ cosh cosh_ cosine_embedding_loss cosine_similarity count_nonzero cov cross
    crow_indices_copy ctc_loss cudnn_affine_grid_generator cudnn_batch_norm cudnn_convolution
    cudnn_convolution_add_relu cudnn_convolution_relu cudnn_convolution_transpose cudnn_grid_sampler
    cudnn_is_acceptable cummax cummin cumprod cumsum cumulative_trapezoid deg2rad deg2rad_ dequantize det detach
    detach_ detach_copy diag diag_embed diagflat diagonal diagonal_copy diagonal_scatter diff digamma dist div
    divide dot dropout dropout_ dsmm dsplit dstack embedding embedding_bag embedding_renorm_ empty empty_like
    empty_permuted empty_quantized empty_strided eq equal erf erf_ erfc erfc_ erfinv exp exp2 exp2_ exp_
    expand_copy expm1 expm1_ eye fake_quantize_per_channel_affine fake_quantize_per_tensor_affine
    fbgemm_linear_fp16_weight fbgemm_linear_fp16_weight_fp32_activation fbgemm_linear_int8_weight
    fbgemm_linear_int8_weight_fp32_activation fbgemm_linear_quantize_weight fbgemm_pack_gemm_matrix_fp16
    fbgemm_pack_quantized_matrix feature_alpha_dropout feature_alpha_dropout_ feature_dropout feature_dropout_
    fill fill_ fix fix_ flatten flip fliplr flipud float_power floor floor_ floor_divide fmax fmin fmod frac
    frac_ frexp frobenius_norm from_file from_numpy frombuffer full full_like fused_moving_avg_obs_fake_quant
    gather gcd gcd_ ge geqrf ger get_device gradient greater greater_equal grid_sampler grid_sampler_2d
    grid_sampler_3d group_norm gru gru_cell gt hamming_window hann_window hardshrink hash_tensor heaviside
    hinge_embedding_loss histc histogram histogramdd hsmm hsplit hspmm hstack hypot i0 i0_ igamma igammac imag
    index_add index_copy index_fill index_put index_put_ index_reduce index_select indices_copy inner
    instance_norm int_repr inverse is_complex is_conj is_distributed is_floating_point is_inference is_neg
    is_nonzero is_same_size is_signed is_vulkan_available isclose isfinite isin isinf isnan isneginf isposinf
    isreal istft kaiser_window kl_div kron kthvalue layer_norm lcm lcm_ ldexp ldexp_ le lerp less less_equal
    lgamma linspace log log10 log10_ log1p log1p_ log2 log2_ log_ log_softmax logaddexp logaddexp2 logcumsumexp
    logdet logical_and logical_not logical_or logical_xor logit logit_ logspace logsumexp lstm lstm_cell lt
    lu_solve lu_unpack margin_ranking_loss masked_fill masked_scatter masked_select matmul matrix_exp
    matrix_power max max_pool1d max_pool1d_with_indices max_pool2d max_pool3d maximum mean median min minimum
    miopen_batch_norm miopen_convolution miopen_convolution_add_relu miopen_convolution_relu
    miopen_convolution_transpose miopen_ctc_loss miopen_depthwise_convolution miopen_rnn
    mkldnn_adaptive_avg_pool2d mkldnn_convolution mkldnn_linear_backward_weights mkldnn_max_pool2d
    mkldnn_max_pool3d mkldnn_rnn_layer mm mode moveaxis movedim msort mul multinomial multiply mv mvlgamma
    nan_to_num nan_to_num_ nanmean nanmedian nanquantile nansum narrow narrow_copy native_batch_norm
    native_channel_shuffle native_dropout native_group_norm native_layer_norm native_norm ne neg neg_ negative
    negative_ nextafter nonzero nonzero_static norm_except_dim normal not_equal nuclear_norm numel ones
    ones_like orgqr ormqr outer pairwise_distance pdist permute permute_copy pinverse pixel_shuffle
    pixel_unshuffle poisson poisson_nll_loss polar polygamma positive pow prelu prod promote_types put
    q_per_channel_axis q_per_channel_scales q_per_channel_zero_points q_scale q_zero_point qr quantile
    quantize_per_channel quantize_per_tensor quantize_per_tensor_dynamic quantized_batch_norm quantized_gru_cell
    quantized_lstm_cell quantized_max_pool1d quantized_max_pool2d quantized_max_pool3d quantized_rnn_relu_cell
    quantized_rnn_tanh_cell rad2deg rad2deg_ rand rand_like randint randint_like randn randn_like randperm range
    ravel real reciprocal reciprocal_ relu relu_ remainder renorm repeat_interleave reshape resize_as_
    resize_as_sparse_ resolve_conj resolve_neg result_type rms_norm rnn_relu rnn_relu_cell rnn_tanh
    rnn_tanh_cell roll rot90 round round_ row_indices_copy row_stack rrelu rrelu_ rsqrt rsqrt_ rsub saddmm
    scalar_tensor scatter scatter_add scatter_reduce searchsorted segment_reduce select select_copy
    select_scatter selu selu_ sgn sigmoid sigmoid_ sign signbit sin sin_ sinc sinc_ sinh sinh_ slice_copy
    slice_inverse slice_scatter slogdet smm softmax sort sparse_bsc_tensor sparse_bsr_tensor
    sparse_compressed_tensor sparse_coo_tensor sparse_csc_tensor sparse_csr_tensor split_copy split_with_sizes
    split_with_sizes_copy spmm sqrt sqrt_ square square_ squeeze squeeze_copy sspaddmm stack std std_mean sub
    subtract sum svd swapaxes swapdims sym_constrain_range sym_constrain_range_for_size t t_copy take
    take_along_dim tan tan_ tanh tanh_ tensor tensor_split threshold threshold_ tile topk trace transpose
    transpose_copy trapezoid trapz triangular_solve tril tril_indices triplet_margin_loss triu triu_indices
    true_divide trunc trunc_ unbind unbind_copy unflatten unfold_copy unsafe_chunk unsafe_split
    unsafe_split_with_sizes unsqueeze unsqueeze_copy values_copy vander var var_mean vdot view_as_complex
    view_as_complex_copy view_as_real view_as_real_copy view_copy vsplit vstack where xlogy xlogy_ zero_ zeros
    zeros_like
    """.split()
)

#: torch.nn.functional's functions that are torch's C functions (`<built-in method conv2d of type object ...>`)
F_C_METHODS = frozenset(
    """
    adaptive_avg_pool1d avg_pool1d bilinear celu_ channel_shuffle conv1d conv2d conv3d conv_tbc conv_transpose1d
    conv_transpose2d conv_transpose3d cosine_similarity hardshrink native_channel_shuffle pairwise_distance
    pdist pixel_shuffle pixel_unshuffle prelu relu_ rrelu_ selu_ threshold_
    """.split()
)

#: torch.nn.functional's functions from torch._C._nn (`<built-in function gelu>`)
F_C_FUNCTIONS = frozenset(
    """
    avg_pool2d avg_pool3d elu_ gelu hardtanh_ leaky_relu_ linear one_hot scaled_dot_product_attention softplus
    softshrink
    """.split()
)

#: torch.nn.functional's functions built by boolean_dispatch (`<function boolean_dispatch.<locals>.fn at ...>`)
F_BOOLEAN_DISPATCH = frozenset(
    """
    adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d fractional_max_pool2d fractional_max_pool3d
    max_pool1d max_pool2d max_pool3d
    """.split()
)

#: names torch.nn.functional binds to Python functions that torch's namespace has as C functions (F.celu,
#: torch.celu): one function of the engine under both names keeps Python's text
F_PYTHON_ALSO_C = frozenset(
    """
    adaptive_max_pool1d alpha_dropout batch_norm binary_cross_entropy_with_logits celu cosine_embedding_loss
    ctc_loss dropout embedding embedding_bag feature_alpha_dropout group_norm hinge_embedding_loss instance_norm
    kl_div layer_norm log_softmax margin_ranking_loss max_pool1d max_pool1d_with_indices max_pool2d max_pool3d
    poisson_nll_loss relu rms_norm rrelu selu sigmoid softmax tanh threshold triplet_margin_loss
    """.split()
)

#: the functions of torch's namespace from torch._C (`<built-in function is_grad_enabled>`)
TORCH_C_PLAIN = frozenset(
    """
    autocast_decrement_nesting autocast_increment_nesting clear_autocast_cache get_autocast_cpu_dtype
    get_autocast_dtype get_autocast_gpu_dtype get_autocast_ipu_dtype get_autocast_xla_dtype get_default_dtype
    get_num_interop_threads get_num_threads is_anomaly_check_nan_enabled is_anomaly_enabled
    is_autocast_cache_enabled is_autocast_cpu_enabled is_autocast_enabled is_autocast_ipu_enabled
    is_autocast_xla_enabled is_grad_enabled is_inference_mode_enabled set_anomaly_enabled
    set_autocast_cache_enabled set_autocast_cpu_dtype set_autocast_cpu_enabled set_autocast_dtype
    set_autocast_enabled set_autocast_gpu_dtype set_autocast_ipu_dtype set_autocast_ipu_enabled
    set_autocast_xla_dtype set_autocast_xla_enabled set_flush_denormal set_num_interop_threads set_num_threads
    """.split()
)
