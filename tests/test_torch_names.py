"""tcli/torch_names.py lists torch's public names for every module a tsr script may import; it is generated from
the installed PyTorch, and a torch submodule added to the policy without regenerating it would show none."""

from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("gen_torch_names", ROOT / "scripts" / "gen_torch_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_torch_names_file_is_current() -> None:
    import subprocess
    import sys

    fresh = _generator().render()
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "-"], input=fresh, capture_output=True, text=True, check=True
    ).stdout
    assert (ROOT / "tcli" / "torch_names.py").read_text() == formatted, "run: python scripts/gen_torch_names.py"


def test_every_importable_module_has_names() -> None:
    from tcli import policy
    from tcli.torch_names import torch_names

    assert "Linear" in torch_names("nn") and "relu" in torch_names("nn.functional")
    # (torch.signal holds nothing but its windows submodule)
    assert all(torch_names(path) for path in policy.TORCH_SUBMODULES if path != "signal")
    assert not torch_names("signal") and "hann" in torch_names("signal.windows")
    assert not torch_names("no.such.module")
