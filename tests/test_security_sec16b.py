"""Security review sec16b: the qa16c language sweep (class bodies, script exception classes, namedtuple/deque, new
builtins, random state) and torch.load's own pickle interpreter (engine/pt_format.py) attacked with crafted files.
Each hole found has a test that failed before its fix (the catalogue goes on from tests/test_security_sec16.py)."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.test_security import refused

# -- C loops that hold the interpreter lock: --timeout's last stop ------------------------------------------------
# Eighty levels of `t = (t, t)` are a few hundred bytes, but hashing or comparing t walks 2**80 items in C without
# letting the lock go: the alarm and the watchdog thread (both Python) never ran, and tcli run ran on for ever.
# faulthandler's timer (a C thread) now ends the process a little after the watchdog would have, with the
# script's TimeoutError shown by a forked helper and exit status 1.

SHARED = "t = (1,)\nu = (1,)\nfor i in range(80):\n    t = (t, t)\n    u = (u, u)\n"


@pytest.mark.parametrize("use", ["hash(t)", "d = {t: 1}", "t == u", "sorted([t, u])", "print([t].count(u))"])
def test_a_c_loop_that_never_releases_the_lock_still_ends_at_the_timeout(use: str) -> None:
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "tcli", "run", "--timeout", "1", "-c", SHARED + use],
                       capture_output=True, text=True, timeout=60)  # fmt: skip
    assert time.monotonic() - start < 30
    assert p.returncode == 1
    assert p.stderr == (
        "TimeoutError: the script ran longer than the time limit of 1s (--timeout); it was stopped inside one "
        "long operation\n"
    )


def test_a_run_that_ends_in_time_leaves_no_helper_behind() -> None:
    p = subprocess.run([sys.executable, "-m", "tcli", "run", "--timeout", "30", "-c", "print(1)"],
                       capture_output=True, text=True, timeout=20)  # fmt: skip
    assert (p.returncode, p.stdout, p.stderr) == (0, "1\n", "")


# -- an exception's text is its args' -------------------------------------------------------------------------
# ValueError(*["y" * 10**6] * 1000) holds 1000 references to one string; its str() is a gigabyte, which print,
# f-strings and the error report of an uncaught raise built in C before any limit looked (an uncaught one ended
# in "tcli: internal error: MemoryError" after 4 GB). An exception is now measured by its args as a tuple is.

EXC = 'e = ValueError(*(("y" * 10**6,) * 1000))\n'


@pytest.mark.parametrize(
    "src",
    [EXC + "print(e)", EXC + "s = f'{e}'", EXC + "raise e", EXC + "assert False, e", EXC + "print('%s' % e)",
     "class E(ValueError):\n    pass\nx = E()\nx.args = ('x',) * 10**7\nraise x",
     "class E(ValueError):\n    pass\nraise E(*(('y' * 10**6,) * 1000))"],
)  # fmt: skip
def test_an_exception_with_huge_args_is_refused_before_its_text_is_made(src: str) -> None:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        msg = refused(src, "MemoryError")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert "10,000,000 characters (tsr limit)" in msg
    assert peak < 150 << 20, peak


def test_an_exception_with_a_long_message_is_still_shown() -> None:
    msg = refused("raise ValueError('x' * 100000)", "ValueError")
    assert msg.lstrip(": ") == "x" * 100000


# -- torch.load of crafted files ---------------------------------------------------------------------------------

REBUILD = (b"ctorch._utils\n_rebuild_tensor_v2\n(h\x00K\x00J\x00\x00\x10\x00\x85K\x00\x85\x89"
           b"ccollections\nOrderedDict\n)RtR")  # fmt: skip
STORAGE = b"(X\x07\x00\x00\x00storagectorch\nDoubleStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQq\x000"


def _archive(path: Path, pkl: bytes, *extra: tuple[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/data.pkl", pkl)
        for name, data in extra:
            z.writestr(name, data)
        z.writestr("a/version", b"3")


def _raw_zip(path: Path, members: list) -> None:
    """A zip whose headers say what the caller says: (name, stored bytes, method, crc, declared size)."""
    out, cd = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        off, nb = len(out), name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(nb), 0) + nb
        out += data
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size, len(nb),
                          0, 0, 0, 0, 0, off) + nb  # fmt: skip
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), len(out), 0)
    path.write_bytes(bytes(out + cd + end))


SHARED_TUPLE = b"K\x01" + b"2\x86" * 80  # DUP + TUPLE2 eighty times: ((1, 1), (1, 1)) ... 2**80 leaves

CRAFTED = {
    "key.pt": b"\x80\x02}" + SHARED_TUPLE + b"K\x01s.",  # a dict key, hashed
    "set.pt": b"\x80\x02c__builtin__\nset\n" + SHARED_TUPLE + b"\x85\x85R.",  # set((t,)) hashes t
    "fset.pt": b"\x80\x02(" + SHARED_TUPLE + b"\x91.",  # FROZENSET
    "odict.pt": b"\x80\x02ccollections\nOrderedDict\n" + SHARED_TUPLE + b"K\x01\x86\x85\x85R.",
    "global.pt": b"\x80\x02" + SHARED_TUPLE + b"K\x01\x93.",  # STACK_GLOBAL's names were str()'d
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_checkpoint_whose_keys_share_parts_is_refused(name: str, tmp_path: Path) -> None:
    _archive(tmp_path / name, CRAFTED[name])
    # (in a process of its own: before the fix the hash never returned, and the test would hang with it)
    code = f"import torch\nx = torch.load('{name}')"
    p = subprocess.run([sys.executable, "-m", "tcli", "run", "--timeout", "20", "-c", code],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)  # fmt: skip
    assert p.returncode == 1
    assert "UnpicklingError: torch.load: " in p.stderr.splitlines()[0], p.stderr


def test_a_member_that_inflates_past_its_declared_size_is_not_inflated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ZipFile.read inflated a member whole before cutting it to the size its header declares (the size the
    host charged): 1.5 MB of deflated zeros declared as 8 bytes took 1.5 GB. Now only the declared size is read."""
    monkeypatch.chdir(tmp_path)
    pkl = b"\x80\x02" + STORAGE[:-1] + REBUILD.replace(b"J\x00\x00\x10\x00", b"K\x01") + b"."
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(b"\0" * (200 << 20)) + c.flush()
    _raw_zip(tmp_path / "bomb.pt", [("a/data.pkl", pkl, 0, zlib.crc32(pkl), len(pkl)),
                                    ("a/data/0", bomb, 8, zlib.crc32(b"\0" * 8), 8)])  # fmt: skip
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        status, out, err = _run("import torch\nprint(torch.load('bomb.pt'))")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert (status, out, err) == (0, "tensor([0.], dtype=torch.float64)\n", "")
    assert peak < 50 << 20, peak


def test_tensors_that_overlap_a_small_storage_are_charged_to_max_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tensor of 2**20 elements with stride 0 over a one-element storage is copied out (8 MB); a hundred of them
    from a 20 KB file were never counted against --max-memory."""
    monkeypatch.chdir(tmp_path)
    pkl = b"\x80\x02](" + STORAGE + REBUILD * 100 + b"e."
    _archive(tmp_path / "strided.pt", pkl, ("a/data/0", b"\0" * 8))
    msg = refused("import torch\nx = torch.load('strided.pt')", "MemoryError", max_memory=64 << 20)
    assert "(--max-memory)" in msg
    # one such tensor is loaded as before
    _archive(tmp_path / "one.pt", b"\x80\x02" + STORAGE + REBUILD + b".", ("a/data/0", b"\0" * 8))
    assert _run("import torch\nprint(torch.load('one.pt').shape)")[1] == "torch.Size([1048576])\n"


def _run(src: str) -> tuple[int, str, str]:
    from tests.test_security import run

    return run(src)


# -- random.setstate ----------------------------------------------------------------------------------------------
# setstate keeps the state's third item (the next gauss() value) whatever it is, and gauss returns `mu + z * sigma`
# of it inside random.py, where tsr checks nothing: a list there and gauss([], 12) built 120M items (2 GB under a
# 300 MB --max-memory). Only a state getstate could have returned is taken now.


@pytest.mark.parametrize("gen", ["random", "random.Random(1)"])
def test_random_setstate_takes_only_a_state_getstate_returns(gen: str) -> None:
    src = f"import random\nr = {gen}\ns = r.getstate()\nr.setstate((s[0], s[1], [0] * 10**7))\nx = r.gauss([], 12)"
    msg = refused(src, "TypeError")
    assert msg.endswith("the state must be a tuple that random.getstate() returned")


def test_random_state_round_trips() -> None:
    src = (
        "import random\nr = random.Random(1)\nr.gauss(0, 1)\ns = r.getstate()\na = r.gauss(0, 1)\nr.setstate(s)\n"
        "random.seed(2)\nrandom.gauss(0, 1)\nt = random.getstate()\nb = random.gauss(0, 1)\nrandom.setstate(t)\n"
        "print(r.gauss(0, 1) == a, random.gauss(0, 1) == b)"
    )
    assert _run(src)[1] == "True True\n"


# -- bytes from a checkpoint ----------------------------------------------------------------------------------------
# A pickle's BINBYTES hands the script a bytes object (a script cannot write one): its *, + and % went unchecked
# (bytes * 7e7 made 280 MB, b"%*d" % (2e8, 1) 200 MB); they now follow str's limit, and % on bytes is refused.


@pytest.mark.parametrize(
    ("pkl", "src", "error"),
    [(b"C\x04abcd", "y = x * (7 * 10**7)", "MemoryError"), (b"C\x04abcd", "y = (7 * 10**7) * x", "MemoryError"),
     (b"C\x04abcd", "y = x\nfor i in range(30):\n    y += y", "MemoryError"),
     (b"C\x03%*d", "y = x % (2 * 10**8, 1)", "TypeError")],
)  # fmt: skip
def test_bytes_from_a_checkpoint_keep_the_string_limits(
    pkl: bytes, src: str, error: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _archive(tmp_path / "b.pt", b"\x80\x02" + pkl + b".")
    msg = refused(f"import torch\nx = torch.load('b.pt')\n{src}", error)
    assert "over the tsr limit of 10,000,000" in msg or "tsr does not format bytes" in msg, msg
    assert _run("import torch\nx = torch.load('b.pt')\nprint(x + x * 2)")[1] in (
        "b'abcdabcdabcd'\n",
        "b'%*d%*d%*d'\n",
    )


# -- namedtuple -----------------------------------------------------------------------------------------------------


def test_a_namedtuple_of_many_fields_is_charged_to_max_memory() -> None:
    """Each field is a property with a doc string (about 400 bytes from a name of a few characters): a class of 1.2M
    fields took 450 MB under a 300 MB --max-memory. The fields are charged before the class is built."""
    src = (
        'from collections import namedtuple\ns = " ".join("a" + str(i) for i in range(300000))\nP = namedtuple("P", s)'
    )
    msg = refused(src, "MemoryError", max_memory=100 << 20)
    assert "(--max-memory)" in msg
    assert _run('from collections import namedtuple\nP = namedtuple("P", "x y")\nprint(P(1, 2))')[1] == "P(x=1, y=2)\n"
