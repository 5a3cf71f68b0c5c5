"""The tsr language on plain values: each program must print exactly what CPython prints for it."""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest

from tcli.session import Session


def run_tsr(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err, color=False).run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def run_python(src: str) -> str:
    """The reference: CPython running the same (test-authored) program."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(textwrap.dedent(src), "<reference>", "exec"), {"__name__": "__main__"})
    return out.getvalue()


PROGRAMS = {
    "arithmetic": """
        print(7 // 2, -7 // 2, 7 % 3, -7 % 3, 2 ** 10, 2 ** -1, 7 / 2, -7 / 2, 1e300 * 10)
        print(3 & 5, 3 | 5, 3 ^ 5, ~3, 1 << 10, 1024 >> 3, +4, -(-4), 10 - 3 * 2)
        print(0.1 + 0.2, 1 / 3, 2.5e-8, complex(1, 2) * 2, abs(-3), divmod(-7, 2), round(2.5), round(3.14159, 3))
    """,
    "comparisons": """
        print(1 < 2 < 3, 1 < 3 < 2, 1 == 1.0, "a" < "b", [1, 2] < [1, 3], (1,) == (1,), 3 in [1, 2, 3])
        print(2 not in {1}, None is None, [] is not [], 1 != 2, 1 <= 1 >= 0)
    """,
    "booleans": """
        print(0 or "x", 1 and 2, not [], [] or {} or None, "a" and "", 1 if 0 else 2)
        print(bool(0), bool("s"), bool([]), any([0, 1]), all([1, 0]), any(x > 2 for x in range(5)))
    """,
    "strings": """
        s = "Hello, World"
        print(s.lower(), s.upper(), s.split(", "), s[::-1], s[2:5], len(s), s.count("l"), s.find("W"))
        print("-".join(["a", "b"]), " x ".strip(), "a b".replace(" ", "_"), "abc".startswith("ab"))
        print("x".center(7, "*"), "7".zfill(3), "a\\tb".expandtabs(4), "ab".ljust(4) + "|", "ab".rjust(4))
        print(repr("a'b\\n"), str(12), "%s=%d %.2f %5s|%-5s|" % ("k", 3, 1.0 / 3, "r", "l"), "%(a)s" % {"a": 1})
    """,
    "fstrings": """
        x, name, big = 3.14159, "tsr", 1234567.891
        print(f"{x:.2f} {x:10.3f}| {name!r} {name:>6} {name:^7}| {big:,.1f} {255:#x} {255:08b} {0.25:%}")
        print(f"{'nested ' + name} {x:{'.'}{3}f} {{literal}} {[1, 2]} {name=}")
        print("{} {} {:>4}".format(1, "a", 2), "{0}{1}{0}".format("a", "b"), "{n:.1f}".format(n=2.25))
    """,
    "containers": """
        l = [3, 1, 2]
        l.append(4); l.extend([5, 6]); l.insert(0, 0); l.remove(6); l.sort(); l.reverse()
        print(l, l.pop(), l.index(3), l.count(1), l[1:3], l[-1], sorted(l), sorted(l, reverse=True))
        d = {"a": 1, "b": 2}
        d["c"] = 3; d.update(e=5); del d["a"]
        print(d, d.get("z", 0), list(d.keys()), list(d.values()), list(d.items()), "b" in d, d.pop("b"))
        s = {1, 2}; s.add(3); s.discard(1)
        print(s, s | {9}, s & {2}, s - {2}, s ^ {2, 7}, frozenset([1]), {1, 2}.union([5]))
        t = (1, 2, 3)
        print(t + (4,), t * 2, t.count(1), t[::2], [1] * 3, [[0] * 2] * 2, list(range(2, 10, 3)))
    """,
    "unpacking": """
        a, (b, c) = 1, (2.5, "s")
        x, *mid, y = range(6)
        first, *_ = "abc"
        print(a, b, c, x, mid, y, first, _)
        for i, (j, k) in enumerate([(1, 2), (3, 4)]):
            print(i, j, k)
        print(*[1, 2], *"ab", sep="|")
        print([*range(3), *"xy"], {**{"a": 1}, "b": 2}, (*[1], 2))
        p, q = q, p = 1, 2
        print(p, q)
    """,
    "loops": """
        total = 0
        for i in range(10):
            if i == 2:
                continue
            if i == 7:
                break
            total += i
        else:
            total = -1
        print(total)
        for i in range(2):
            pass
        else:
            print("for else", i)
        n = 0
        while n < 5:
            n += 1
        else:
            print("while else", n)
        while True:
            n -= 1
            if n < 0:
                break
        print(n)
        for a in []:
            print("never")
        nested = []
        for i in range(3):
            for j in range(3):
                if j > i:
                    break
                nested.append((i, j))
        print(nested)
    """,
    "comprehensions": """
        print([x * x for x in range(5) if x % 2], {x: x * x for x in range(3)}, {x % 3 for x in range(9)})
        print([(i, j) for i in range(3) for j in range(i)], [y for x in [[1, 2], [3]] for y in x])
        print(sum(x for x in range(101)), list(x for x in "ab"), max((len(w), w) for w in ["a", "abc"]))
        x = "outer"
        print([x for x in range(2)], x)
        print([v for v in range(5) if (w := v * 2) > 4], w)
        g = (i * 2 for i in range(3))
        print(next(g), list(g))
    """,
    "functions": """
        def f(a, b=2, *args, c, d=4, **kw):
            \"\"\"Docstrings are allowed.\"\"\"
            return a, b, args, c, d, kw
        print(f(1, c=3), f(1, 2, 3, 4, c=5, e=6), f(*[1, 2], **{"c": 0}))
        def posonly(a, /, b, *, c=1):
            return a + b + c
        print(posonly(1, b=2), posonly(1, 2, c=3))
        def fact(n):
            return 1 if n <= 1 else n * fact(n - 1)
        print(fact(20))
        def make_counter():
            count = 0
            def inc(step=1):
                nonlocal count
                count += step
                return count
            return inc
        c = make_counter()
        c(); c(5)
        print(c())
        adders = [lambda x, i=i: x + i for i in range(3)]
        late = [lambda: i for i in range(3)]
        print([fn(10) for fn in adders], [fn() for fn in late])
        g = 0
        def set_global():
            global g
            g = 42
        set_global()
        print(g, (lambda *a, **k: (a, k))(1, x=2), sorted([3, 1, 2], key=lambda v: -v))
        def defaults(acc=[]):
            acc.append(1)
            return acc
        print(defaults(), defaults(), list(map(fact, range(5))), list(filter(lambda v: v % 2, range(5))))
        def noreturn():
            pass
        print(noreturn())
    """,
    "decorators": """
        def tag(label):
            def deco(fn):
                def wrapper(*a, **k):
                    return label + ":" + str(fn(*a, **k))
                return wrapper
            return deco
        @tag("outer")
        @tag("inner")
        def add(a, b):
            return a + b
        print(add(1, 2))
    """,
    "exceptions": """
        try:
            1 / 0
        except ZeroDivisionError as e:
            print("caught", e, type(e))
        else:
            print("no")
        finally:
            print("finally")
        try:
            try:
                raise ValueError("inner")
            except ValueError:
                raise
        except Exception as e:
            print("reraised", repr(e), e.args)
        try:
            raise KeyError("k")
        except (TypeError, KeyError) as e:
            print("tuple", repr(e))
        def early():
            try:
                return "body"
            finally:
                print("cleanup")
        print(early())
        def override():
            try:
                return 1
            finally:
                return 2
        print(override())
        for i in range(3):
            try:
                if i == 1:
                    continue
                print("i", i)
            finally:
                print("fin", i)
        try:
            raise RuntimeError("boom") from ValueError("cause")
        except RuntimeError as e:
            print(e)
        try:
            [][1]
        except LookupError as e:
            print(type(e), e)
        try:
            assert 1 == 2, "math"
        except AssertionError as e:
            print("assert", e)
        try:
            int("x")
        except ValueError as e:
            print(e)
        e = "kept?"
        try:
            raise TypeError
        except TypeError as e:
            pass
        print("e" in dir() if False else "handler name deleted")
    """,
    "python_errors": """
        def unbound():
            print(v)
            v = 1
        def f(a, b, *, c):
            return a
        nothing = None
        cases = [
            lambda: undefined_name, unbound, lambda: f(), lambda: f(1), lambda: f(1, 2), lambda: f(1, 2, 3, c=1),
            lambda: f(1, 2, c=1, a=3), lambda: f(1, 2, c=1, z=0), lambda: [].pop(), lambda: {}["k"],
            lambda: (1, 2)[5], lambda: "a" + 1, lambda: 1 / 0, lambda: int("x"), lambda: nothing(),
        ]
        for case in cases:
            try:
                case()
            except Exception as e:
                print(type(e), e)
        def unpack(v):
            a, b = v
        for v in [(1, 2, 3), (1,), 5]:
            try:
                unpack(v)
            except Exception as e:
                print(type(e), e)
    """,
    "with_and_scoping": """
        x = 1
        def read():
            return x
        def shadow():
            x = 2
            return x
        print(read(), shadow(), x)
        def outer():
            y = "enclosing"
            def inner():
                return y
            y = "changed"
            return inner()
        print(outer())
        if True:
            block = "blocks share the scope"
        print(block)
        del block
        try:
            block
        except NameError as e:
            print(e)
    """,
    "scopes_deep": """
        total = 0
        def outer():
            a = 1
            def middle():
                b = 2
                def inner():
                    nonlocal a, b
                    global total
                    a += 10
                    b += 20
                    total += a + b
                    return [a * k for k in range(2) if (hit := k) >= 0], hit
                r = inner()
                return r, b
            return middle(), a
        print(outer(), total)
        def counter_factory():
            fns = []
            for i in range(3):
                def f(x, i=i):
                    return x * i
                fns.append(f)
            return fns
        print([f(2) for f in counter_factory()])
        def gen_after_return(n):
            base = n * 10
            return (base + i for i in range(n))
        print(list(gen_after_return(3)))
        def loop_control():
            out = []
            for i in range(5):
                try:
                    if i == 1:
                        continue
                    if i == 3:
                        break
                    out.append(i)
                finally:
                    out.append("f")
            return out
        print(loop_control())
        def with_return():
            for i in range(3):
                while True:
                    return i
        print(with_return())
        def fact(n):
            def go(k, acc):
                return acc if k <= 1 else go(k - 1, acc * k)
            return go(n, 1)
        print(fact(10), [[y for y in range(x)] for x in range(3)], {x: [x * y for y in range(2)] for x in "ab"})
        g = 5
        def shadow_then_global():
            global g
            del g
        shadow_then_global()
        print("g" in [k for k in ("g",)], (lambda: [z for z in range(2)])())
    """,
    "builtins": """
        print(len("abc"), min([4, 2]), max(1, 9, 3), sum([1, 2], 10), abs(-2.5), round(1.2345, 2), pow(3, 4, 5))
        print(list(enumerate("ab", 1)), list(zip("ab", [1, 2], strict=False) if False else zip("ab", [1, 2])))
        print(list(reversed(range(3))), sorted({3: 0, 1: 0}), isinstance(1, (str, int)), hasattr([], "append"))
        print(int("ff", 16), float("inf"), str(1.5), repr([1]), tuple("ab"), set("aab") == {"a", "b"})
        print(chr(97), ord("a"), hex(255), oct(8), bin(5), divmod(9, 4), callable(len), type(3) is int)
        print(list(map(lambda a, b: a * b, [1, 2], [3, 4])), dict([("a", 1)]), list(iter([1, 2])))
        print(id(1) == id(1), hash(1) == hash(1.0), min("bca"), max([], default="empty"), slice(1, 5, 2))
        print(getattr("abc", "upper")(), getattr([], "missing", "dflt"), format(3.14159, ".2f"), format(5))
    """,
    "misc_syntax": """
        x: int = 5
        y: list
        print(x, ..., __name__)
        a = b = c = 7
        print(a, b, c)
        n = [1, 2, 3]
        n[0] = 9; n[1:2] = [8, 8]; del n[-1]
        print(n)
        m = [[1, 2], [3, 4]]
        m[1][0] += 10
        print(m, (1,), (), [] == list())
        i = 0; i += 1; i -= 3; i *= -2; i //= 3; i **= 3; i %= 5; i |= 8; i &= 12; i ^= 1; i <<= 2; i >>= 1
        print(i)
        s = "x"; s += "y"; s *= 2
        print(s)
        if 0:
            pass
        elif 1:
            print("elif")
        print(1_000_000, 0x10, 0o7, 0b11, 1e3, 2j, "a" "b", '''triple''')
    """,
    "generators": """
        def batches(xs, size):
            for i in range(0, len(xs), size):
                yield xs[i : i + size]

        print(list(batches(list(range(7)), 3)), [sum(b) for b in batches([1, 2, 3, 4], 2)])
        g = batches([1, 2], 1)
        print(next(g), next(g), next(g, "done"))

        def fib():
            a, b = 0, 1
            while True:
                yield a
                a, b = b, a + b

        print([x for _, x in zip(range(10), fib())], next(x for x in fib() if x > 50))

        def averager():
            total, n, avg = 0.0, 0, None
            while True:
                x = yield avg
                if x is None:
                    return (n, avg)
                total, n = total + x, n + 1
                avg = total / n

        a = averager()
        next(a)
        print(a.send(10), a.send(20), a.send(0))
        try:
            a.send(None)
        except StopIteration as e:
            print("returned", e.value)

        def inner(k):
            try:
                yield k
                yield k + 1
            finally:
                print("inner done", k)
            return k * 10

        def outer():
            r = yield from inner(1)
            print("got", r)
            with_else = []
            for i in range(3):
                if i == 1:
                    continue
                yield i
            else:
                yield "else"
            try:
                yield "try"
                raise KeyError("k")
            except KeyError as err:
                yield "caught " + str(err)
            yield from [7, 8]

        print(list(outer()))
        g = inner(5)
        print(next(g))
        g.close()
        print("after close")

        def catcher():
            while True:
                try:
                    yield "ready"
                except ValueError as err:
                    yield "caught " + str(err)

        c = catcher()
        print(next(c), c.throw(ValueError("bad")), next(c))

        def stops():
            yield 1
            return
            yield 2

        print(list(stops()), list(stops()))

        def nested():
            def helper():
                return [(yield_ := 3), yield_]
            yield helper()

        print(list(nested()))

        def countdown(n):
            while n > 0:
                yield n
                n -= 1

        print(list(countdown(3)), list(zip(countdown(2), "ab")), sorted(countdown(4)))
    """,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_prints_what_python_prints(name: str) -> None:
    src = PROGRAMS[name]
    status, out, err = run_tsr(src)
    assert err == ""
    assert status == 0
    assert out == run_python(src)


def test_recursion_deep_enough_for_ordinary_code() -> None:
    status, out, _ = run_tsr("def d(n):\n    return 0 if n == 0 else 1 + d(n - 1)\nprint(d(150))\n")
    assert (status, out) == (0, "150\n")


def test_generator_expression_is_lazy_and_keeps_its_scope() -> None:
    src = """
        def make():
            k = 10
            return (k + i for i in range(3))
        g = make()
        k = -100
        print(list(g))
        seen = []
        def note(v):
            seen.append(v)
            return v
        g2 = (note(i) for i in range(5))
        print(next(g2), seen)
    """
    assert run_tsr(src)[1] == run_python(src)


def test_functions_are_callable_from_builtins() -> None:
    src = (
        "print(sorted(['bb', 'a', 'ccc'], key=len), list(map(lambda v: v * 2, (1, 2))), max([1, 5], key=lambda v: -v))"
    )
    assert run_tsr(src)[1] == run_python(src)


def test_function_repr_looks_like_python() -> None:
    _, out, _ = run_tsr("def f():\n    pass\nprint(f, type(f), (lambda: 0))\n")
    assert out.startswith("<function f at 0x") and "<class 'function'>" in out and "<function <lambda> at 0x" in out


def test_print_file_is_sys_stdout_or_stderr_only() -> None:
    status, out, err = run_tsr("print('x', file=None)\nprint('y', file=1)\n")
    assert status == 1 and out == "x\n"
    assert "TypeError: print(file=...) in tsr writes to sys.stdout or sys.stderr, not a file" in err


def test_print_flush_and_sep_end() -> None:
    status, out, _ = run_tsr("print(1, 2, sep=None, end=None, flush=True)\nprint('a', 'b', sep='', end='')\n")
    assert (status, out) == (0, "1 2\nab")


def test_any_all_and_in_stop_at_the_answer() -> None:
    # a generator is read only as far as the answer: its later side effects never happen, and an iterator
    # keeps what was not read
    src = (
        "def check(x):\n    print('checking', x)\n    return x > 1\n"
        "print(any(check(x) for x in [1, 2, 3, 4]))\n"
        "print(all(check(x) for x in [5, 0, 7]))\n"
        "it = iter([1, 2, 3])\nprint(any(x == 1 for x in it), list(it))\n"
        "g = (check(x) for x in [1, 2, 3])\nprint(True in g, list(g))\n"
    )
    assert run_tsr(src)[1] == run_python(src)
    assert run_python(src).count("checking") == 7


def test_os_and_warning_exceptions_can_be_named() -> None:
    src = "try:\n    raise PermissionError('no')\nexcept OSError as e:\n    print(type(e).__name__, e)\n"
    src += "print(issubclass(UserWarning, Warning) if False else [TimeoutError.__name__, FileNotFoundError.__name__])\n"
    assert run_tsr(src)[1] == "PermissionError no\n['TimeoutError', 'FileNotFoundError']\n"


def test_grad_modes_decorate_without_parentheses() -> None:
    src = (
        "import torch\nx = torch.ones(2, requires_grad=True)\n"
        "@torch.no_grad\ndef f(a):\n    return a * 2\n"
        "@torch.enable_grad\ndef g(a):\n    return a * 2\n"
        "print(f(x))\nwith torch.no_grad():\n    print(g(x))\n"
    )
    assert run_tsr(src)[1] == "tensor([2., 2.])\ntensor([2., 2.], grad_fn=<MulBackward0>)\n"


def test_module_versions_and_hook_handles_are_readable() -> None:
    src = (
        "import torch\nprint(torch.__version__.startswith('2.13'))\na = torch.ones(2, requires_grad=True)\n"
        "h = a.register_hook(lambda g: g * 2)\nh.remove()\n(a * 1).sum().backward()\nprint(a.grad)\n"
    )
    assert run_tsr(src)[1] == "True\ntensor([1., 1.])\n"


def test_and_or_return_their_last_operand_untested() -> None:
    """Python never tests the truth of the last operand of `and`/`or`: `h or torch.zeros(2)` is a tensor."""
    from test_lang_torch import run_tsr

    status, out, err = run_tsr(
        "import torch\nh = None\nh = h or torch.zeros(2)\n"
        "print(h, 1 and torch.ones(2), 0 or 0.0 or [], 1 and 2 and 3)\n"
    )
    assert (status, err) == (0, "")
    assert out == "tensor([0., 0.]) tensor([1., 1.]) [] 3\n"
