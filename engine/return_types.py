"""torch.return_types: the named (values, indices) pairs that max/min/sort/topk return."""

from engine.ops.reduce import RT

max = RT["max"]  # noqa: A001
min = RT["min"]  # noqa: A001
sort = RT["sort"]
topk = RT["topk"]
median = RT["median"]
max_out, min_out, sort_out, topk_out, median_out = (RT[n + "_out"] for n in ("max", "min", "sort", "topk", "median"))
