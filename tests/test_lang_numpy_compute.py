"""tsr's numpy beyond creation: the elementwise functions and reductions tutorials use beside torch print what
numpy prints, `out=` writes through to a tensor's memory as in PyTorch's tensors tutorial, and every result is
checked against the memory limit before numpy allocates it."""

from __future__ import annotations

import pytest
from test_lang_torch import run_torch, run_tsr

PROGRAM = """
    import numpy as np
    import torch
    a = np.arange(6.0).reshape(2, 3)
    print(np.add(a, 1), np.subtract(a, [1, 2, 3]), np.multiply(a, 2), np.divide(a, 4), np.power(a, 2))
    print(np.maximum(a, 2.5), np.minimum(a, 2), np.negative(a), np.abs(-a), np.exp(a).round(3), np.sqrt(a))
    print(np.sum(a), np.sum(a, axis=0), np.mean(a), np.max(a), np.argmax(a), np.std(a), np.var(a, axis=1))
    print(np.allclose(a, a + 1e-9), np.array_equal(a, a), np.isclose(a, 2), np.all(a >= 0), np.any(a > 4))
    print(np.exp([0.0, 1.0]), np.sum([1, 2, 3]), np.mean(range(5)), np.square(np.int64(3)), np.sign(-2.5))
    # PyTorch's tensors tutorial, "Bridge with NumPy": changes in the array reflect in the tensor
    t = torch.ones(5)
    n = t.numpy()
    np.add(n, 1, out=n)
    print(f"t: {t}")
    print(f"n: {n}")
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    print(f"t: {t}")
"""


def test_numpy_functions_print_what_numpy_prints() -> None:
    status, out, err = run_tsr(PROGRAM)
    assert (status, err) == (0, "")
    assert out == run_torch(PROGRAM)


@pytest.mark.parametrize(
    "expr",
    [
        "np.add(np.ones((100000, 1)), np.ones(100000))",
        "np.exp(range(10 ** 10))",
        "np.sum([[0] * 10 ** 5] * 10 ** 5)",
        "np.multiply(np.ones(3), [[1] * 10 ** 5] * 10 ** 5)",
        "np.array([[1] * 10 ** 5] * 10 ** 5)",
    ],
)
def test_numpy_results_are_checked_before_they_are_allocated(expr: str) -> None:
    status, _, err = run_tsr(f"import numpy as np\n{expr}\n")
    assert status == 1
    assert "MemoryError: allocating 74.5 GiB would exceed the memory limit" in err


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "np.add.outer(np.ones(2), np.ones(2))",
            "AttributeError: 'builtin_function_or_method' object has no attribute",
        ),
        ("np.multiply.reduce", "AttributeError"),
        ("np.add(np.ones(2), 1, dtype='O')", "TypeError"),
        ("np.sum([print])", "TypeError: numpy in tsr builds arrays from numbers"),
    ],
)
def test_numpy_functions_stay_in_the_sandbox(expr: str, message: str) -> None:
    status, _, err = run_tsr(f"import numpy as np\n{expr}\n")
    assert status == 1
    assert message in err.splitlines()[0]


def test_a_list_that_holds_itself_is_refused_not_walked_forever() -> None:
    status, _, err = run_tsr("import numpy as np\nl = [1]\nl.append(l)\nnp.array(l)\n")
    assert status == 1
    assert "Error" in err.splitlines()[0]
