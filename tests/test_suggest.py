"""'Did you mean' for NameError and AttributeError: CPython 3.11's choice, over names the policy lets a script use."""

from __future__ import annotations

import contextlib
import io
import random
import sys
import textwrap

import pytest

from tcli.session import Session
from tcli.suggest import closest


def run(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False)
    status = session.run_source(textwrap.dedent(src), "prog.tsr")
    return status, out.getvalue(), err.getvalue()


def python_suggestion(names: list[str], wrong: str) -> str | None:
    """What CPython's own excepthook suggests for `obj.wrong` on an object whose dir() is `names`."""
    obj = type("Probe", (), {"__dir__": lambda self: names})()
    try:
        getattr(obj, wrong)
    except AttributeError as e:
        exc = e
    buf = io.StringIO()
    with contextlib.redirect_stderr(buf):
        sys.__excepthook__(type(exc), exc, None)
    last = buf.getvalue().strip().splitlines()[-1]
    marker = ". Did you mean: '"
    return last.split(marker, 1)[1][:-2] if marker in last else None


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the oracle is CPython 3.11's suggestions.c")
def test_the_choice_is_cpython_311s() -> None:
    rng = random.Random(5)
    alphabet = "abcdeABCDE_xyz"
    for _ in range(400):
        names = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))) for _ in range(30)})
        base = rng.choice(names)
        wrong = list(base)
        for _ in range(rng.randint(1, 3)):  # a few random edits
            i = rng.randrange(len(wrong) + 1)
            op = rng.randrange(3)
            if op == 0:
                wrong.insert(i, rng.choice(alphabet))
            elif wrong and op == 1:
                del wrong[min(i, len(wrong) - 1)]
            elif wrong:
                wrong[min(i, len(wrong) - 1)] = rng.choice(alphabet)
        typo = "".join(wrong) or "q"
        if typo.startswith("_") or not typo.isidentifier():
            continue
        pool = [n for n in names if not n.startswith("_")]
        assert closest(typo, pool) == python_suggestion(pool, typo), (typo, pool)


@pytest.mark.parametrize(
    ("src", "headline"),
    [
        (
            "import torch\nx = torch.ones(2)\nprint(x.sume())\n",
            "prog.tsr:3:7: AttributeError: 'Tensor' object has no attribute 'sume'. Did you mean: 'sum'?",
        ),
        (
            "import torch\ntorch.tensr([1.])\n",
            "prog.tsr:2:1: AttributeError: module 'torch' has no attribute 'tensr'. Did you mean: 'tensor'?",
        ),
        (
            "import torch.nn as nn\nnn.Linaer(2, 3)\n",
            "prog.tsr:2:1: AttributeError: module 'torch.nn' has no attribute 'Linaer'. Did you mean: 'Linear'?",
        ),
        (
            "import numpy as np\nnp.zers(3)\n",
            "prog.tsr:2:1: AttributeError: module 'numpy' has no attribute 'zers'. Did you mean: 'zeros'?",
        ),
        (
            "l = [1]\nl.apend(2)\n",
            "prog.tsr:2:1: AttributeError: 'list' object has no attribute 'apend'. Did you mean: 'append'?",
        ),
        (
            "import torch\nx = torch.ones(2)\ngetattr(x, 'sume')\n",
            "prog.tsr:3:1: AttributeError: 'Tensor' object has no attribute 'sume'. Did you mean: 'sum'?",
        ),
        (
            "import torch\nx = torch.ones(2)\ngetattr(x, 'sume', None).foo\n",
            "prog.tsr:3:1: AttributeError: 'NoneType' object has no attribute 'foo'",
        ),
        ("xx = 1\nprint(x)\n", "prog.tsr:2:7: NameError: name 'x' is not defined. Did you mean: 'xx'?"),
        (
            "def f(alpha):\n    return alpah\nf(1)\n",
            "prog.tsr:2:12: NameError: name 'alpah' is not defined. Did you mean: 'alpha'?",
        ),
        (
            "def f():\n    total = 1\n    return [totl for _ in range(2)]\nf()\n",
            "prog.tsr:3:13: NameError: name 'totl' is not defined. Did you mean: 'total'?",
        ),
        ("prnt(1)\n", "prog.tsr:1:1: NameError: name 'prnt' is not defined. Did you mean: 'print'?"),
        ("zzz_unlike_anything\n", "prog.tsr:1:1: NameError: name 'zzz_unlike_anything' is not defined"),
    ],
)
def test_suggestions_follow_the_message(src: str, headline: str) -> None:
    status, _, err = run(src)
    assert status == 1
    assert err.splitlines()[0] == headline


def test_script_class_attributes_are_suggested() -> None:
    status, _, err = run(
        """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer1 = nn.Linear(2, 2)
                self.scale = 3
            def forward(self, x):
                return self.layer1(x) * self.scael
        net = Net()
        net(torch.ones(2))
        """
    )
    assert status == 1
    assert err.splitlines()[0].endswith("'Net' object has no attribute 'scael'. Did you mean: 'scale'?")
    status, _, err = run("import torch.nn as nn\nclass N(nn.Module):\n    pass\nnn.Linear(2, 2).wieght\n")
    assert err.splitlines()[0].endswith("'Linear' object has no attribute 'wieght'. Did you mean: 'weight'?")


def test_the_exception_itself_has_no_suggestion() -> None:
    # as in Python: the suggestion is part of the report, not of str(e)
    status, out, _ = run("l = [1]\ntry:\n    l.apend(2)\nexcept AttributeError as e:\n    print(e)\n")
    assert status == 0 and out == "'list' object has no attribute 'apend'\n"


@pytest.mark.parametrize(
    "expr",
    [
        "net.hidden_value",  # the script's own private attribute
        "y.grad_fn.aply",  # a node's apply is hidden (policy.HIDDEN_NODE_ATTRIBUTES)
        "d.xq",  # a device's array module is hidden (policy.HIDDEN_ENGINE_ATTRIBUTES)
        "torch.distributions.lazy_propert",  # policy.HIDDEN_TORCH_NAMES
        "x.versio",  # _version: private
    ],
)
def test_refused_names_are_never_suggested(expr: str) -> None:
    status, _, err = run(
        f"""
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self._hidden_value = 1
        net = Net()
        x = torch.ones(2, requires_grad=True)
        y = (x * 2).sum()
        d = torch.device("cpu")
        {expr}
        """
    )
    assert status == 1
    assert "has no attribute" in err and "Did you mean" not in err


def test_private_globals_are_not_suggested() -> None:
    status, _, err = run("_secret = 1\nsecret\n")
    assert status == 1 and "Did you mean" not in err
