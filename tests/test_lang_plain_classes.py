"""Plain classes in tsr (`class A:`, `class A(object):`): the data-holding classes of tutorials and the
operator-overloading scalar of micrograd, with the special methods Python calls for operators, builtins and
printing, run as the script's code; their output is Python's."""

from __future__ import annotations

import pytest
from test_lang_torch import run_torch, run_tsr

MICROGRAD = """
    import math
    import random


    class Value:
        def __init__(self, data, _children=(), _op=""):
            self.data = data
            self.grad = 0
            self._backward = lambda: None
            self._prev = list(_children)  # (a set would order by address)
            self._op = _op

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other), "+")

            def _backward():
                self.grad += out.grad
                other.grad += out.grad

            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad

            out._backward = _backward
            return out

        def __pow__(self, other):
            assert isinstance(other, (int, float)), "only supporting int/float powers for now"
            out = Value(self.data**other, (self,), f"**{other}")

            def _backward():
                self.grad += (other * self.data ** (other - 1)) * out.grad

            out._backward = _backward
            return out

        def relu(self):
            out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")

            def _backward():
                self.grad += (out.data > 0) * out.grad

            out._backward = _backward
            return out

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                self.grad += (1 - t**2) * out.grad

            out._backward = _backward
            return out

        def backward(self):
            topo = []
            visited = set()

            def build_topo(v):
                if v not in visited:
                    visited.add(v)
                    for child in v._prev:
                        build_topo(child)
                    topo.append(v)

            build_topo(self)
            self.grad = 1
            for v in reversed(topo):
                v._backward()

        def __neg__(self):
            return self * -1

        def __radd__(self, other):
            return self + other

        def __sub__(self, other):
            return self + (-other)

        def __rsub__(self, other):
            return other + (-self)

        def __rmul__(self, other):
            return self * other

        def __truediv__(self, other):
            return self * other**-1

        def __rtruediv__(self, other):
            return other * self**-1

        def __repr__(self):
            return f"Value(data={self.data}, grad={self.grad})"


    class Module:
        def zero_grad(self):
            for p in self.parameters():
                p.grad = 0

        def parameters(self):
            return []


    class Neuron(Module):
        def __init__(self, nin, nonlin=True):
            self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(0)
            self.nonlin = nonlin

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.relu() if self.nonlin else act

        def parameters(self):
            return self.w + [self.b]

        def __repr__(self):
            return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


    class Layer(Module):
        def __init__(self, nin, nout, **kwargs):
            self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

        def __call__(self, x):
            out = [n(x) for n in self.neurons]
            return out[0] if len(out) == 1 else out

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

        def __repr__(self):
            return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


    class MLP(Module):
        def __init__(self, nin, nouts):
            sz = [nin] + nouts
            self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

        def __repr__(self):
            return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    print(f"{g.data:.4f}")
    g.backward()
    print(f"{a.grad:.4f}", f"{b.grad:.4f}")
    print(a, [Value(1), Value(2)])
    random.seed(1337)
    model = MLP(3, [4, 4, 1])
    print(model)
    print("number of parameters", len(model.parameters()))
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    for k in range(3):
        ypred = [model(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data += -0.05 * p.grad
        print(k, loss.data)
"""

DATA_CLASSES = """
    import torch

    class Config(object):
        \"\"\"hyper-parameters\"\"\"
        lr = 0.1
        epochs = 3

    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y
        def __repr__(self):
            return f"Point({self.x}, {self.y})"
        def __eq__(self, other):
            return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)
        def __hash__(self):
            return hash((self.x, self.y))
        def __lt__(self, other):
            return (self.x, self.y) < (other.x, other.y)
        def __add__(self, other):
            return Point(self.x + other.x, self.y + other.y)
        def __neg__(self):
            return Point(-self.x, -self.y)
        def __abs__(self):
            return (self.x ** 2 + self.y ** 2) ** 0.5
        def __bool__(self):
            return bool(self.x or self.y)
        @property
        def norm1(self):
            return abs(self.x) + abs(self.y)
        @classmethod
        def origin(cls):
            return cls(0, 0)
        @staticmethod
        def unit():
            return Point(1, 0)

    class Labeled(Point):
        def __init__(self, x, y, label):
            super().__init__(x, y)
            self.label = label
        def __str__(self):
            return f"{self.label}@{super().__repr__()}"

    class Bag:
        def __init__(self):
            self.items = {}
        def __setitem__(self, k, v):
            self.items[k] = v
        def __getitem__(self, k):
            return self.items[k]
        def __contains__(self, k):
            return k in self.items
        def __len__(self):
            return len(self.items)
        def __iter__(self):
            return iter(sorted(self.items))
        def __call__(self, k, default=None):
            return self.items.get(k, default)

    cfg = Config()
    cfg.lr = 0.01
    print(cfg.lr, Config.lr, cfg.epochs, type(cfg).__name__, isinstance(cfg, Config))
    p, q = Point(1, 2), Point(3, -1)
    print(p + q, -p, abs(q), bool(Point.origin()), bool(p), p == Point(1, 2), p != q, p.norm1, Point.unit())
    print(sorted([q, p, Point(0, 5)]), max([p, q]), len({p, Point(1, 2), q}), [p, q])
    lp = Labeled(4, 5, "a")
    print(lp, str(lp), repr(lp), f"{lp}", [lp], lp + p, isinstance(lp, Point))
    b = Bag()
    b["w"] = torch.ones(2)
    b["b"] = torch.zeros(1)
    print(len(b), "w" in b, "z" in b, list(b), b("b"), b("z", -1))
    b["w"] += 1
    print(b["w"])
    print(str(Config()).startswith("<__main__.Config object at 0x"))
"""


@pytest.mark.parametrize("src", [MICROGRAD, DATA_CLASSES], ids=["micrograd", "data_classes"])
def test_plain_classes_print_what_python_prints(src: str) -> None:
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    assert out == run_torch(src)


@pytest.mark.parametrize(
    ("body", "headline"),
    [
        (
            "def __repr__(self):\n        return 5\nprint(A())",
            "<test>:4:1: TypeError: __str__ returned non-string (type int)",
        ),
        (
            "def __bool__(self):\n        return 2\nif A():\n    pass",
            "<test>:4:1: TypeError: __bool__ should return bool, returned int",
        ),
        (
            "def __repr__(self):\n        return repr(self)\nrepr(A())",
            "<test>:3:16: RecursionError: maximum recursion depth exceeded",
        ),
        ("pass\nA() + 1", "<test>:3:1: TypeError: unsupported operand type(s) for +: 'A' and 'int'"),
        (
            "def __hash__(self):\n        return 'h'\nhash(A())",
            "<test>:4:1: TypeError: __hash__ method should return an integer",
        ),
    ],
)
def test_special_method_errors_are_pythons(body: str, headline: str) -> None:
    status, _, err = run_tsr(f"class A:\n    {body}\n")
    assert status == 1
    assert err.splitlines()[0].startswith(headline)


def test_dict_fromkeys_as_python() -> None:
    src = """
        from collections import OrderedDict
        print(dict.fromkeys([3, 1, 3, 2]), list(dict.fromkeys("abca")), dict.fromkeys(range(3), 0))
        print({1: 2}.fromkeys([5]), OrderedDict.fromkeys("ab", 1), type(OrderedDict.fromkeys("ab")).__name__)
        print(dict.fromkeys({"k": 1}), dict.fromkeys(x * 2 for x in range(3)))
    """
    status, out, err = run_tsr(src)
    assert (status, err) == (0, "")
    assert out == run_torch(src)
