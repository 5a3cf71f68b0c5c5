"""engine/ops/cuda_vec.py without a GPU: the launch geometry covers every element exactly once (replayed here
with the kernel's own index arithmetic), the generated source keeps the caller's expression, and the dense path
stands aside wherever it does not apply. NVRTC compiles every such kernel in CI (scripts/nvrtc_check.py) and
scripts/gpu_fused_check.py compares it bit for bit with the ElementwiseKernel on a GPU."""

from __future__ import annotations

import numpy as np
import pytest

from engine.ops import cuda_vec


def _writes(n: int, lanes: int, nin: int) -> list[int]:
    """How often each element is written by the kernel's indexing (see cuda_vec.source)."""
    block, per = cuda_vec._BLOCK, cuda_vec.unroll(nin)
    nvec, count = n // lanes, [0] * n
    for b in range(cuda_vec.grid(n, lanes, nin)):
        for t in range(block):
            for u in range(per):
                j = b * block * per + t + u * block
                if j < nvec:
                    for lane in range(lanes):
                        count[j * lanes + lane] += 1
            tail = nvec * lanes + b * block + t
            if tail < n:
                count[tail] += 1
    return count


@pytest.mark.parametrize("nin", [1, 2, 3])
@pytest.mark.parametrize("lanes", [4, 2])
def test_every_element_written_once(nin: int, lanes: int) -> None:
    chunk = cuda_vec._BLOCK * cuda_vec.unroll(nin) * lanes
    for n in [*range(0, 19), chunk - 1, chunk, chunk + 1, 3 * chunk + lanes + 1, 100_003]:
        count = _writes(n, lanes, nin)
        assert count == [1] * n, (n, [i for i, c in enumerate(count) if c != 1][:5])


def test_no_blocks_for_nothing() -> None:
    assert cuda_vec.grid(0, 4, 1) == 0
    assert cuda_vec.grid(3, 4, 1) == 1  # the tail alone


def test_source_keeps_the_expression_per_lane() -> None:
    src = cuda_vec.source("in0 + c0 * in1 * in2", "float", "float4", 4, 3, 1)
    assert "return in0 + c0 * in1 * in2;" in src
    assert src.count("tcli_elem(a0[u].") == 4  # x, y, z, w
    assert "const float4* __restrict__ v2" in src and "const float c0" in src
    src2 = cuda_vec.source("exp(in0)", "double", "double2", 2, 1, 0, preamble="// pre")
    assert src2.startswith("// pre") and src2.count("tcli_elem(a0[u].") == 2 and "double2 a0[4];" in src2


def test_stands_aside_where_it_does_not_apply() -> None:
    a = np.ones(8, dtype=np.float32)
    half = np.ones(8, dtype=np.float16)
    assert cuda_vec.run("in0", [half], (), half.dtype, half.shape) is None  # no 16-bit vector kernels
    cuda_vec.ENABLED[0] = False
    try:
        assert cuda_vec.run("in0", [a], (), a.dtype, a.shape) is None
    finally:
        cuda_vec.ENABLED[0] = True
