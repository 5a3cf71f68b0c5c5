"""torch.return_types: the named (values, indices) pairs that max/min/sort/topk return."""

from engine.ops.order_stats import (
    aminmax_out_type,
    aminmax_type,
    frexp_out_type,
    frexp_type,
    nanmedian_out_type,
    nanmedian_type,
)
from engine.ops.reduce import RT

max = RT["max"]  # noqa: A001
min = RT["min"]  # noqa: A001
sort = RT["sort"]
topk = RT["topk"]
median = RT["median"]
max_out, min_out, sort_out, topk_out, median_out = (RT[n + "_out"] for n in ("max", "min", "sort", "topk", "median"))
# engine/ops/order_stats.py's: pairs of (values, indices) as above, and aminmax's (min, max)
kthvalue, mode, cummax, cummin = (RT[n] for n in ("kthvalue", "mode", "cummax", "cummin"))
kthvalue_out, mode_out, cummax_out, cummin_out = (RT[n + "_out"] for n in ("kthvalue", "mode", "cummax", "cummin"))
nanmedian, nanmedian_out = nanmedian_type, nanmedian_out_type
aminmax, aminmax_out = aminmax_type, aminmax_out_type
frexp, frexp_out = frexp_type, frexp_out_type


from engine.ops.linalg_registry import RETURN_TYPES as _LINALG_RT  # noqa: E402

globals().update(_LINALG_RT)

from engine.ops.histogram import RETURN_TYPES as _HISTOGRAM_RT  # noqa: E402

globals().update(_HISTOGRAM_RT)
