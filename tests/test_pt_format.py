"""torch.save/torch.load in PyTorch's own format: files move both ways between the engine and PyTorch, and
loading never runs a file's code."""

from __future__ import annotations

import io
import os
import pickle
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import engine as E
from engine.pt_format import UnpicklingError
from tcli.session import Session

torch = pytest.importorskip("torch")


def _checkpoint(T):
    """The same objects built by torch or by the engine: a trained module's and optimizer's state and the odd
    values people keep next to them."""
    T.manual_seed(0)
    m = T.nn.Sequential(T.nn.Linear(3, 2), T.nn.BatchNorm1d(2))
    opt = T.optim.Adam(m.parameters())
    m(T.randn(4, 3)).sum().backward()
    opt.step()
    return {
        "sd": m.state_dict(), "opt": opt.state_dict(), "view": T.arange(6.0).view(2, 3)[:, 1:], "n": 3,
        "big": 2**70, "neg": -70000, "p": T.nn.Parameter(T.ones(2)), "h": T.ones(2, dtype=T.float16) / 3,
        "b": T.ones(2, dtype=T.bfloat16) / 3, "i": T.tensor([1, 2]), "l": [1.5, "a", None, True, (1, 2, 3, 4), 2j],
        "g": T.ones(2, requires_grad=True), "bool": T.tensor([True, False]), "c": T.tensor([1 + 2j]),
        "e": T.zeros(0, 3), "s": T.tensor(3.5), "size": T.Size([2, 3]), "dt": T.float64,
        "u8": T.tensor([255], dtype=T.uint8), "i8": T.tensor([-3], dtype=T.int8),
        "f64": T.tensor([0.1], dtype=T.float64),
    }  # fmt: skip


def _bits(t) -> bytes:
    if t.dtype in (torch.bfloat16, E.bfloat16):
        t = t.float()
    return np.asarray(t.detach().numpy()).tobytes()


def test_engine_loads_what_pytorch_saved(tmp_path: Path) -> None:
    ref = _checkpoint(torch)
    torch.save(ref, tmp_path / "a.pt")
    got = E.load(str(tmp_path / "a.pt"))
    assert str(got) == str(ref)
    assert type(got["sd"]).__name__ == "OrderedDict" and type(got["p"]).__name__ == "Parameter"
    assert got["g"].requires_grad and got["p"].requires_grad and not got["view"].requires_grad
    for k in ("h", "b", "f64", "view", "c"):
        assert _bits(got[k]) == _bits(ref[k]), k
    assert got["sd"]._metadata == ref["sd"]._metadata  # module versions, which load_state_dict reads


def test_pytorch_loads_what_engine_saved(tmp_path: Path) -> None:
    ref = _checkpoint(torch)
    E.save(_checkpoint(E), str(tmp_path / "b.pt"))
    for options in ({}, {"weights_only": True}, {"mmap": True}):  # mmap needs torch's 64-byte record alignment
        got = torch.load(tmp_path / "b.pt", **options)
        assert str(got) == str(ref)
        assert type(got["p"]) is torch.nn.Parameter and got["g"].requires_grad
        for k in ("h", "b", "f64", "view"):
            assert _bits(got[k]) == _bits(ref[k]), k


def test_a_state_dict_trained_in_one_predicts_the_same_in_the_other(tmp_path: Path) -> None:
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    torch.save(net.state_dict(), tmp_path / "net.pth")
    x = [[0.5, -1.0, 2.0, 0.25]]
    ours = E.nn.Sequential(E.nn.Linear(4, 8), E.nn.Tanh(), E.nn.Linear(8, 2))
    ours.load_state_dict(E.load(str(tmp_path / "net.pth"), weights_only=True))
    assert str(ours(E.tensor(x))) == str(net(torch.tensor(x)))
    with E.no_grad():
        ours[0].weight.mul_(2)
    E.save(ours.state_dict(), str(tmp_path / "back.pth"))
    net.load_state_dict(torch.load(tmp_path / "back.pth"))
    assert str(ours(E.tensor(x))) == str(net(torch.tensor(x)))


def test_a_tsr_script_reads_and_writes_pytorch_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    lin = torch.nn.Linear(2, 1)
    torch.save(lin.state_dict(), "model_weights.pth")
    src = (
        "import torch\nmodel = torch.nn.Linear(2, 1)\n"
        "model.load_state_dict(torch.load('model_weights.pth', weights_only=True))\n"
        "print(model(torch.tensor([[1.0, 2.0]])))\n"
        "torch.save({'w': model.weight * 2, 'epoch': 5}, 'ckpt.pt')\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert Session(stdout=out, stderr=err).run_source(src, "s.tsr") == 0, err.getvalue()
    assert out.getvalue() == str(lin(torch.tensor([[1.0, 2.0]]))) + "\n"
    back = torch.load("ckpt.pt")
    assert back["epoch"] == 5 and torch.equal(back["w"], lin.weight.detach() * 2)


class _Trap:
    """A pickle that would create a file if anything ran its reduce."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _archive(tmp_path: Path, payload: bytes, records: dict | None = None) -> str:
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("evil/data.pkl", payload)
        for k, v in (records or {}).items():
            z.writestr(f"evil/data/{k}", v)
    return str(path)


def test_a_pickle_naming_any_other_function_is_refused_and_never_called(tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    for payload in (pickle.dumps(_Trap(str(planted)), protocol=2), pickle.dumps(_Trap(str(planted)), protocol=4),
                    pickle.dumps({"x": [os.getcwd, 1]}, protocol=2)):  # fmt: skip
        with pytest.raises(UnpicklingError, match="which is not plain data"):
            E.load(_archive(tmp_path, payload), weights_only=False)
    assert not planted.exists()


@pytest.mark.parametrize(
    "payload, why",
    [
        (b"\x80\x02}q\x00(X\x01\x00\x00\x00a", "ends in the middle"),
        (
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x02K\x04\x85K\x01\x85\x89)tR.",
            "reaches element 5",
        ),
        (
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00J\x00\x00\x00\x10\x85K\x00\x85\x89)tR.",
            "overlaps itself",
        ),
        (
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
            b"X\x01\x00\x00\x009X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89)tR.",
            "lacks the record",
        ),
        (b"\x80\x02X\x01\x00\x00\x00aK\x01R.", "not a known builder"),
        (b"\x80\x02I1\n.", "opcode"),
    ],
)
def test_malformed_pickles_are_clear_errors(tmp_path: Path, payload: bytes, why: str) -> None:
    path = _archive(tmp_path, payload, {"0": np.arange(4, dtype=np.float32).tobytes()})
    with pytest.raises(UnpicklingError, match=why):
        E.load(path)


def test_a_pickle_sharing_one_list_exponentially_loads_and_moves_fast(tmp_path: Path) -> None:
    layer: list = [1]
    for _ in range(60):
        layer = [layer, layer]
    path = _archive(tmp_path, pickle.dumps(layer, protocol=2))
    start = time.perf_counter()
    got = E.load(path, map_location="cpu")
    assert time.perf_counter() - start < 5  # a walk without memory would take 2**60 steps
    assert got[0] is got[1]


def test_other_files_say_what_they_are(tmp_path: Path) -> None:
    (tmp_path / "old.pt").write_bytes(b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.")  # the legacy format's magic
    with pytest.raises(UnpicklingError, match="not a zip archive.*before 1.6"):
        E.load(str(tmp_path / "old.pt"))
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(RuntimeError, match="not a PyTorch checkpoint"):
        E.load(str(tmp_path / "other.zip"))


def test_npz_names_still_get_numpy_archives(tmp_path: Path) -> None:
    E.save({"w": E.ones(2)}, str(tmp_path / "w.npz"))
    assert "__spec__" in np.load(tmp_path / "w.npz").files
    assert str(E.load(str(tmp_path / "w.npz"))) == "{'w': tensor([1., 1.])}"


def test_cuda_checkpoints_need_cuda_or_a_map_location(tmp_path: Path) -> None:
    if E.cuda.is_available():
        pytest.skip("a GPU is present")
    t = torch.ones(2)
    torch.save(t, tmp_path / "c.pt")
    with zipfile.ZipFile(tmp_path / "c.pt") as z:  # the same file as saved on a GPU: location 'cuda:0'
        records = {i.filename: z.read(i) for i in z.infolist()}
    key = next(k for k in records if k.endswith("data.pkl"))
    records[key] = records[key].replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(tmp_path / "c.pt", "w") as z:
        for k, v in records.items():
            z.writestr(k, v)
    with pytest.raises(RuntimeError, match="torch.cuda.is_available\\(\\) is False"):
        E.load(str(tmp_path / "c.pt"))
    assert str(E.load(str(tmp_path / "c.pt"), map_location="cpu")) == "tensor([1., 1.])"
    assert str(E.load(str(tmp_path / "c.pt"), map_location={"cuda:0": "cpu"})) == "tensor([1., 1.])"


def test_a_pickled_model_is_named_in_the_script_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    torch.save(torch.nn.Linear(2, 1), "whole.pt")  # the whole module pickled, as weights_only=True refuses too
    out, err = io.StringIO(), io.StringIO()
    status = Session(stdout=out, stderr=err).run_source(
        "import torch\nm = torch.load('whole.pt', weights_only=False)\n", "s.tsr"
    )
    assert status == 1
    assert (
        "s.tsr:2:5: UnpicklingError: torch.load: whole.pt holds a pickled `torch.nn.modules.linear.Linear`"
        in err.getvalue()
    )
    assert str(tmp_path) not in err.getvalue()
