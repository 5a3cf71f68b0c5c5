"""qa16c: a differential sweep of tsr against CPython 3.11 (the scripts of the sweep lived in
/work/scratch/qa16c); each difference fixed here has a program whose output, run by tsr, is what Python prints
for the same program (run_torch executes it with Python itself)."""

from __future__ import annotations

import pytest
from test_lang_torch import run_torch, run_tsr

from tests.test_security import run as run_limited


def same_as_python(src: str) -> str:
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out == run_torch(src)
    return out


def test_class_body_reads_its_own_names():
    # `h = d * 4` and a default `k=d` read the class namespace; a method's body does not (Python's scoping)
    same_as_python(
        """
        d = "module d"
        class C:
            d = 64
            h = d * 4
            names = [d, h]
            squares = [x * x for x in range(3)]
            def f(self, k=d):
                return k
            g = f
            def reads_d(self):
                return d
        print(C.h, C.names, C.squares, C().f(), C().g(), C().reads_d())
        class D:
            lr = 0.1
            lr = lr * 2
        print(D.lr)
        """
    )


def test_property_setter_and_deleter():
    out = same_as_python(
        """
        class Temp:
            def __init__(self):
                self._c = 0
            @property
            def c(self):
                return self._c
            @c.setter
            def c(self, v):
                if v < -273:
                    raise ValueError("too cold")
                self._c = v
            @c.deleter
            def c(self):
                print("deleting")
            @property
            def f(self):
                return self._c * 9 / 5 + 32
        t = Temp()
        t.c = 100
        print(t.c, t.f)
        try:
            t.c = -300
        except ValueError as e:
            print(e)
        try:
            t.f = 5
        except AttributeError as e:
            print(e)
        del t.c
        """
    )
    assert "212.0" in out


def test_special_method_alias_and_inplace_methods():
    same_as_python(
        """
        class Vec:
            def __init__(self, *xs):
                self.xs = list(xs)
            def __mul__(self, k):
                return Vec(*[x * k for x in self.xs])
            __rmul__ = __mul__
            def __iadd__(self, o):
                self.xs = [a + b for a, b in zip(self.xs, o.xs)]
                return self
            def __isub__(self, o):
                self.xs = [a - b for a, b in zip(self.xs, o.xs)]
                return self
            def __repr__(self):
                return "Vec(" + ", ".join(map(str, self.xs)) + ")"
        v = Vec(3, 4)
        print(v * 2, 2 * v)
        v += Vec(1, 1)
        v -= Vec(0, 2)
        print(v)
        """
    )


def test_special_method_as_another_method_of_the_body():
    same_as_python(
        """
        class Config:
            batch = 32
            def show(self):
                return f"batch={self.batch}"
            __str__ = show
            __repr__ = __str__
        print(Config(), str(Config()), [Config()])
        """
    )
    # (only a name a def bound: `show = print` rebinds it to something a def of __str__ could not be)
    status, _, err = run_tsr(
        "class A:\n    def show(self):\n        return 's'\n    show = print\n    __str__ = show\n"
    )
    assert status == 1 and "special names are Python's" in err


def test_special_name_alias_of_an_unknown_method_is_still_refused():
    status, _, err = run_tsr("class A:\n    __getattr__ = __repr__\n")
    assert status == 1 and "special names are Python's" in err
    status, _, err = run_tsr("class A:\n    def __len__(self):\n        return 0\n    __getattr__ = __len__\n")
    assert status == 1 and "special names are Python's" in err


def test_function_type_named_as_python_names_it():
    status, _, err = run_tsr("def f():\n    pass\nf[0]\n")
    assert "TypeError: 'function' object is not subscriptable" in err
    status, _, err = run_tsr("def f():\n    pass\nprint(f + 1)\n")
    assert "TypeError: unsupported operand type(s) for +: 'function' and 'int'" in err
    same_as_python("def f():\n    pass\nprint(type(f).__name__, f.__name__)\n")


def test_chain_from_iterable():
    same_as_python(
        """
        import itertools
        print(list(itertools.chain.from_iterable([[1], [2, 3], "ab"])))
        print(list(itertools.islice(itertools.chain.from_iterable(itertools.repeat([1, 2])), 5)))
        """
    )


def test_chain_from_iterable_of_endless_empties_stops_at_the_timeout():
    status, _, err = run_limited(
        "import itertools\nnext(itertools.chain.from_iterable(itertools.repeat([])))\n", timeout=1.0
    )
    assert status == 1 and "TimeoutError" in err


def test_issubclass():
    same_as_python(
        """
        import torch
        class A:
            pass
        class B(A):
            pass
        class Net(torch.nn.Module):
            pass
        print(issubclass(B, A), issubclass(A, B), issubclass(bool, int), issubclass(B, (int, A)))
        print(issubclass(Net, torch.nn.Module), issubclass(torch.nn.Linear, torch.nn.Module))
        try:
            issubclass(1, int)
        except TypeError as e:
            print(e)
        """
    )


def test_functools_wraps():
    same_as_python(
        """
        import functools
        from functools import wraps
        def logged(fn):
            @wraps(fn)
            def inner(*a, **k):
                print("calling", fn.__name__)
                return fn(*a, **k)
            return inner
        @logged
        def train_step(x):
            return x + 1
        print(train_step(1), train_step.__name__)
        def plain(fn):
            @functools.wraps(fn)
            def w():
                return fn()
            return w
        print(plain(len).__name__)
        """
    )


DQN_MEMORY = """
    import random
    from collections import namedtuple, deque
    import torch

    Transition = namedtuple('Transition', ('state', 'action', 'next_state', 'reward'))

    class ReplayMemory(object):
        def __init__(self, capacity):
            self.memory = deque([], maxlen=capacity)
        def push(self, *args):
            self.memory.append(Transition(*args))
        def sample(self, batch_size):
            return random.sample(self.memory, batch_size)
        def __len__(self):
            return len(self.memory)

    random.seed(0)
    mem = ReplayMemory(5)
    for i in range(8):
        nxt = None if i == 3 else torch.tensor([float(i + 1)])
        mem.push(torch.tensor([float(i)]), torch.tensor([[i % 2]]), nxt, torch.tensor([1.0]))
    print(len(mem), mem.memory[0])
    transitions = mem.sample(3)
    batch = Transition(*zip(*transitions))
    print(batch.action)
    mask = torch.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=torch.bool)
    print(mask, torch.cat(batch.state), torch.cat(batch.reward))
"""


def test_dqn_replay_memory():
    """The PyTorch DQN tutorial's ReplayMemory: namedtuple and deque."""
    same_as_python(DQN_MEMORY)


def test_namedtuple():
    same_as_python(
        """
        from collections import namedtuple
        Transition = namedtuple('Transition', ('state', 'action', 'next_state', 'reward'))
        t = Transition(1, 2, 3, 4)
        print(t, repr(t), t._fields, t._asdict(), t._replace(reward=9), t == (1, 2, 3, 4), t[::-1])
        print(Transition._make([5, 6, 7, 8]), sorted([Transition(2, 0, 0, 0), Transition(1, 0, 0, 0)]))
        a, b, c, d = t
        print(a + d, isinstance(t, tuple), len(t), hash(t) == hash((1, 2, 3, 4)))
        P = namedtuple("P", "x y", defaults=[0])
        print(P(1), P(1, 2), P(x=3), P._field_defaults)
        class Pt(namedtuple("Pt", ["x", "y"])):
            def norm(self):
                return (self.x ** 2 + self.y ** 2) ** 0.5
        print(Pt(3, 4).norm(), Pt(3, 4))
        print(namedtuple("R", "a, b", rename=True)(1, 2), namedtuple("R", ["a", "def", "a", "_x"], rename=True)._fields)
        tests = [lambda: P(), lambda: P(1, 2, 3), lambda: P(1, z=2), lambda: P(1, x=2), lambda: Transition(1),
                 lambda: Transition(1, 2), lambda: Transition(1, 2, 3, 4, 5), lambda: namedtuple("Q", "a a"),
                 lambda: namedtuple("Q", "_a"), lambda: namedtuple("Q", "def"), lambda: namedtuple("1Q", "a"),
                 lambda: t._replace(zz=1), lambda: P._make([1]), lambda: setattr(t, "state", 5)]
        for f in tests:
            try:
                f()
            except Exception as e:
                print(type(e).__name__, e)
        """
    )


def test_deque():
    same_as_python(
        """
        from collections import deque
        d = deque()
        d.append(1); d.appendleft(0); d.extend([2, 3]); d.extendleft([-1, -2])
        print(d, len(d), d[0], d[-1], list(d), 2 in d)
        print(d.pop(), d.popleft(), d)
        d.rotate(2); print(d)
        w = deque(range(10), maxlen=3)
        print(w, w.maxlen)
        w.append(99); print(w)
        print(deque("abc"), deque([1, 2]) + deque([3]), deque([1]) * 3, d.count(0), d.index(1))
        d += [7, 8]
        print(d, sum(deque([1, 2, 3])) / 3, repr(deque()))
        try:
            deque().pop()
        except IndexError as e:
            print(e)
        """
    )


@pytest.mark.parametrize(
    "expr",
    [
        "deque(itertools.repeat(1))",
        "deque(iterable=itertools.repeat(1))",
        "deque().extend(itertools.repeat(1))",
        "deque().extendleft(itertools.repeat(1))",
        "deque([1]) * 10**9",
        "10**9 * deque([1])",
        "namedtuple('A', 'x')._make(itertools.repeat(1))",
        "namedtuple('A', itertools.repeat('x'))",
    ],
)
def test_collections_additions_keep_the_limits(expr):
    src = f"import itertools\nfrom collections import deque, namedtuple\n{expr}\n"
    status, _, err = run_limited(src, timeout=10.0)
    assert status == 1 and "MemoryError: a sequence of" in err


def test_deque_inplace_ops_keep_the_limits():
    for stmt in ("d += itertools.repeat(1)", "d *= 10**9"):
        status, _, err = run_tsr(f"import itertools\nfrom collections import deque\nd = deque([1])\n{stmt}\n")
        assert status == 1 and "MemoryError: a sequence of" in err


def test_printing_big_deque_or_namedtuple_is_refused():
    for value in ("deque([[0] * 10**5] * 10**5)", "namedtuple('A', 'x')([[0] * 10**5] * 10**5)"):
        status, _, err = run_tsr(f"from collections import deque, namedtuple\nprint({value})\n")
        assert status == 1 and "MemoryError: printing this value" in err


def test_custom_exception_classes():
    same_as_python(
        """
        class TrainingError(Exception):
            \"\"\"Raised when training fails.\"\"\"
        class DivergedError(TrainingError):
            def __init__(self, step, loss):
                super().__init__(f"loss diverged at step {step}: {loss}")
                self.step = step
                self.loss = loss
        class ShapeError(ValueError):
            def __str__(self):
                return "custom str: " + repr(self.args)
        try:
            raise DivergedError(3, float("inf"))
        except TrainingError as e:
            print(type(e).__name__, e, e.step, e.loss, e.args, repr(e), isinstance(e, Exception))
        try:
            raise ShapeError(1, 2)
        except ValueError as e:
            print(e, repr(e), str(e))
        try:
            raise TrainingError
        except Exception as e:
            print(repr(e), e.args)
        errs = (DivergedError, ShapeError)
        for cls in errs:
            try:
                raise cls(1, 2)
            except errs as e:
                print("tuple caught", type(e).__name__)
        class MyWarning(UserWarning):
            pass
        print(issubclass(DivergedError, Exception), issubclass(MyWarning, Warning))
        """
    )


def test_uncaught_custom_exception_reads_as_pythons():
    status, _, err = run_tsr("class ConfigError(Exception):\n    pass\nraise ConfigError(f\"missing key {'lr'!r}\")\n")
    assert status == 1 and err.splitlines()[0] == "<test>:3:1: ConfigError: missing key 'lr'"
    status, _, err = run_tsr('class K(KeyError):\n    def __str__(self):\n        return "custom"\nraise K("k")\n')
    assert err.splitlines()[0] == "<test>:4:1: K: custom"


def test_custom_exception_whose_str_fails():
    # Python's traceback: "Bad: <exception str() failed>"; the other exception's __str__ (an endless loop) never runs
    src = """
        class Loop(Exception):
            def __str__(self):
                while True:
                    pass
        class Bad(ValueError):
            def __str__(self):
                raise Loop()
        raise Bad()
    """
    status, _, err = run_limited(src, timeout=5.0)
    assert status == 1 and err.splitlines()[0].endswith("Bad: <exception str() failed>")
    status, _, err = run_limited(
        "class L(Exception):\n    def __str__(self):\n        while True:\n            pass\nraise L()\n", timeout=1.0
    )
    assert status == 1 and "TimeoutError" in err


@pytest.mark.parametrize("base", ["BaseException", "KeyboardInterrupt"])
def test_exception_bases_outside_exception_are_refused(base):
    status, _, err = run_tsr(f"class E({base}):\n    pass\n")
    assert status == 1 and "TypeError: tsr classes derive from" in err and f"not '{base}'" in err


@pytest.mark.parametrize(
    "src",
    [
        "e = E()\ne.tsr_node",
        "e = E()\ne.tsr_type_name = 'Fake'",
        "e = E()\nsetattr(e, 'tsr_site', 1)",
        "class F(Exception):\n    tsr_type_name = 'Fake'",
    ],
)
def test_exception_bookkeeping_names_are_tclis(src):
    status, _, err = run_tsr("class E(Exception):\n    pass\n" + src + "\n")
    assert status == 1 and "names starting with 'tsr_' on an exception are tcli's own" in err


def test_engine_fields_are_not_read_off_a_script_exception():
    # (errors.py reads freed_site off the engine's RuntimeError for its hint; a script's class attribute is not one)
    status, _, err = run_tsr(
        """
        class R(RuntimeError):
            freed_site = ("elsewhere.py", 1, 1)
        raise R("Trying to backward through the graph a second time")
        """
    )
    assert status == 1 and "elsewhere.py" not in err


def test_random_getstate_setstate():
    same_as_python(
        """
        import random
        random.seed(5)
        s = random.getstate()
        x = [random.random() for _ in range(3)]
        random.setstate(s)
        print(x == [random.random() for _ in range(3)], x)
        """
    )


def test_not_implemented_declines_an_operator():
    same_as_python(
        """
        class Money:
            def __init__(self, v):
                self.v = v
            def __eq__(self, o):
                if not isinstance(o, Money):
                    return NotImplemented
                return self.v == o.v
            def __add__(self, o):
                if not isinstance(o, Money):
                    return NotImplemented
                return Money(self.v + o.v)
            def __radd__(self, o):
                return self if o == 0 else NotImplemented
        print(Money(1) == Money(1), Money(1) == 1, Money(1) != "a", sum([Money(1), Money(2)]).v)
        try:
            Money(1) + 1
        except TypeError as e:
            print(e)
        print(NotImplemented, Ellipsis, ... is Ellipsis, type(NotImplemented).__name__)
        """
    )


def test_in_on_a_value_that_is_not_iterable():
    same_as_python(
        """
        class NoIter:
            pass
        class Seq:
            def __getitem__(self, i):
                if i > 2:
                    raise IndexError
                return i
        print(2 in Seq(), 5 in Seq())
        for c in [NoIter(), 5, None]:
            try:
                print(1 in c)
            except TypeError as e:
                print(e)
        """
    )


def test_exception_cause_is_readable():
    same_as_python(
        """
        try:
            try:
                {}["k"]
            except KeyError as e:
                raise RuntimeError("wrapped") from e
        except RuntimeError as err:
            print(repr(err.__cause__), type(err.__cause__).__name__, err.__cause__.args)
        try:
            raise ValueError("plain")
        except ValueError as err:
            print(err.__cause__)
        try:
            try:
                1 / 0
            except ZeroDivisionError:
                raise ValueError("hidden") from None
        except ValueError as err:
            print(err.__cause__)
        """
    )
    status, _, err = run_tsr("try:\n    1/0\nexcept Exception as e:\n    e.__cause__ = None\n")
    assert status == 1 and "not allowed in tsr" in err


def test_ascii_builtin():
    same_as_python(
        """
        print(ascii("é"), ascii([1, "ü", "\\U0001f600", "\\u200b"]), ascii("plain"), ascii(1.5))
        class A:
            def __repr__(self):
                return "A(é)"
        print(ascii(A()), ascii(None))
        """
    )
    status, _, err = run_tsr('s = "é" * 2_000_000\nascii(s)\n')
    assert status == 1 and "MemoryError: a string of" in err


def test_functools_total_ordering():
    same_as_python(
        """
        import functools
        @functools.total_ordering
        class Version:
            def __init__(self, *parts):
                self.parts = parts
            def __eq__(self, other):
                return self.parts == other.parts
            def __lt__(self, other):
                return self.parts < other.parts
            def __repr__(self):
                return "v" + ".".join(map(str, self.parts))
        a, b = Version(1, 2), Version(1, 10)
        print(a < b, a <= b, a > b, a >= b, a == b, sorted([b, a]), max(a, b))
        """
    )
    # (it sets methods on the class it is given: never on the engine's)
    status, _, err = run_tsr("import functools, torch\nfunctools.total_ordering(torch.Size)\n")
    assert status == 1 and "decorates a class the script defined" in err


def test_script_method_read_off_its_class_takes_any_self():
    same_as_python(
        """
        class A:
            def m(self, x, *, y=0):
                return ("m", x, y)
        class B(A):
            def m(self, x, *, y=0):
                return ("B",) + A.m(self, x, y=y)
        print(A.m(A(), 1), B().m(2, y=3))
        for f in [lambda: A.m(), lambda: A.m(1), lambda: A.m(1, 2, 3), lambda: A.m(A(), 1, z=2)]:
            try:
                print(f())
            except TypeError as e:
                print(e)
        print(A.m("any self", 5))
        """
    )
    # the engine's methods still check their self (nn.Module.parameters on a class is a descriptor in torch)
    status, _, err = run_tsr("import torch\nclass N(torch.nn.Module):\n    pass\nN.parameters(5)\n")
    assert status == 1 and "descriptor 'parameters'" in err


def test_hasattr_of_a_special_name():
    same_as_python(
        """
        import torch
        def f():
            pass
        class A:
            def __len__(self):
                return 1
        class B:
            pass
        for obj in [[1], "s", 5, f, A(), B(), A, torch.ones(1), {}, None, (1,)]:
            print(hasattr(obj, "__len__"), hasattr(obj, "__iter__"), hasattr(obj, "__getitem__"),
                  hasattr(obj, "__call__"), hasattr(obj, "__add__"), hasattr(obj, "_private"))
        """
    )


def test_random_random_instances():
    same_as_python(
        """
        import random
        rng = random.Random(42)
        print(rng.random(), rng.randint(1, 6), rng.choice("abc"), rng.sample(range(10), 3), rng.choices([1, 2], k=3))
        xs = list(range(8))
        rng.shuffle(xs)
        print(xs, round(rng.gauss(0, 1), 8), rng.randrange(10), rng.uniform(0, 1))
        print(random.Random("seed").random(), isinstance(rng, random.Random), type(rng).__name__)
        s = rng.getstate()
        a = rng.random()
        rng.setstate(s)
        print(a == rng.random())
        rng.seed(1)
        print(rng.random() == random.Random(1).random())
        """
    )


@pytest.mark.parametrize(
    ("src", "error"),
    [
        ("r = random.Random(1)\nr.sample(range(10**9), 10**8)", "MemoryError: a sequence of"),
        ("r = random.Random(1)\nr.choices([1], k=10**9)", "MemoryError: a sequence of"),
        ("random.Random.sample(random.Random(1), range(10**9), 10**8)", "MemoryError: a sequence of"),
        ("r = random.Random(1)\nr.getrandbits(10**9)", "'getrandbits' is not available in tsr"),
        ("random.Random.getrandbits", "'getrandbits' is not available in tsr"),
    ],
)
def test_random_instances_keep_the_limits(src, error):
    status, _, err = run_tsr("import random\n" + src + "\n")
    assert status == 1 and error in err


def test_float_fromhex():
    same_as_python('print(float.fromhex("0x1.8p1"), (1.5).hex(), float.fromhex("-0x1p-2"), (2.0).fromhex("0x1p3"))\n')
