"""`tcli run` on PyTorch's Parametrizations Tutorial (Symmetric, Skew, CayleyMap, MatrixExponential, caching,
right_inverse, removing), a script's own parametrized module and the library's orthogonal / spectral_norm /
weight_norm: stdout is byte for byte what PyTorch prints running the same file. Then the sandbox side: the class
swap parametrize does never lands on a class the engine shares, and a script cannot reach through it."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from helpers import run_tsr_and_python

from tcli import policy
from tcli.session import Session

PROGRAM = """\
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils.parametrizations import orthogonal, spectral_norm, weight_norm

torch.manual_seed(0)


def symmetric(X):
    return X.triu() + X.triu(1).transpose(-1, -2)


X = torch.rand(3, 3)
A = symmetric(X)
assert torch.allclose(A, A.T)
print(A)


class LinearSymmetric(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(n_features, n_features))
        self._scale = 2.0

    def forward(self, x):
        A = symmetric(self.weight)
        return x @ A * self._scale


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


layer = nn.Linear(3, 3)
parametrize.register_parametrization(layer, "weight", Symmetric())
A = layer.weight
assert torch.allclose(A, A.T)
print(A)


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
parametrize.register_parametrization(cnn, "weight", Skew())
print(cnn.weight[0, 1])
print(cnn.weight[2, 2])

layer = nn.Linear(3, 3)
print(f"Unparametrized:\\n{layer}")
parametrize.register_parametrization(layer, "weight", Symmetric())
print(f"\\nParametrized:\\n{layer}")
print(type(layer), type(layer).__name__, parametrize.type_before_parametrizations(layer))
parametrized_weight = layer.parametrizations.weight
print(parametrized_weight)
print(parametrized_weight[0])
print(layer.parametrizations.weight.original)
print(list(layer.state_dict().keys()))
symmetric_mod = Symmetric()
weight_orig = layer.parametrizations.weight.original
print(torch.dist(layer.weight, symmetric_mod(weight_orig)))


class NoisyParametrization(nn.Module):
    def forward(self, X):
        print("Computing the Parametrization")
        return X


layer = nn.Linear(4, 4)
parametrize.register_parametrization(layer, "weight", NoisyParametrization())
print("Here, layer.weight is recomputed every time we call it")
foo = layer.weight + layer.weight.T
bar = layer.weight.sum()
with parametrize.cached():
    print("Here, it is computed just the first time layer.weight is called")
    foo = layer.weight + layer.weight.T
    bar = layer.weight.sum()


class CayleyMap(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X):
        # (I + X)(I - X)^{-1}
        return torch.linalg.solve(self.Id - X, self.Id + X)


layer = nn.Linear(3, 3)
parametrize.register_parametrization(layer, "weight", Skew())
parametrize.register_parametrization(layer, "weight", CayleyMap(3))
X = layer.weight
print(torch.dist(X.T @ X, torch.eye(3)) < 1e-5)
print(layer)


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


layer_orthogonal = nn.Linear(3, 3)
parametrize.register_parametrization(layer_orthogonal, "weight", Skew())
parametrize.register_parametrization(layer_orthogonal, "weight", MatrixExponential())
X = layer_orthogonal.weight
print(torch.dist(X.T @ X, torch.eye(3)) < 1e-5)

layer_spd = nn.Linear(3, 3)
parametrize.register_parametrization(layer_spd, "weight", Symmetric())
parametrize.register_parametrization(layer_spd, "weight", MatrixExponential())
X = layer_spd.weight
print(torch.dist(X, X.T) < 1e-5)
print((torch.linalg.eigvalsh(X) > 0.).all())


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


layer = nn.Linear(3, 3)
parametrize.register_parametrization(layer, "weight", Symmetric())
X = torch.rand(3, 3)
X = X + X.T
layer.weight = X
print(torch.dist(layer.weight, X))


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu(1)


layer = nn.Linear(3, 3)
parametrize.register_parametrization(layer, "weight", Skew())
X = torch.rand(3, 3)
X = X - X.T
layer.weight = X
print(torch.dist(layer.weight, X))

layer = nn.Linear(3, 3)
print("Before:")
print(layer)
print(layer.weight)
parametrize.register_parametrization(layer, "weight", Skew())
print("\\nParametrized:")
print(layer)
print(layer.weight)
parametrize.remove_parametrizations(layer, "weight")
print("\\nAfter. Weight has skew-symmetric values but it is unconstrained:")
print(layer)
print(layer.weight)

layer = nn.Linear(3, 3)
print("Before:")
print(layer)
print(layer.weight)
parametrize.register_parametrization(layer, "weight", Skew())
print("\\nParametrized:")
print(layer)
print(layer.weight)
parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
print("\\nAfter. Same as Before:")
print(layer)
print(layer.weight)

# a script's own module, parametrized: its own attributes and methods keep working
net = LinearSymmetric(3)
parametrize.register_parametrization(net, "weight", Skew())
print(net, type(net))
print(net(torch.ones(1, 3)), net._scale)
net._scale = 3.0
print(parametrize.is_parametrized(net), parametrize.is_parametrized(net, "bias"))
parametrize.remove_parametrizations(net, "weight")
print(type(net), net._scale)

# the library's parametrizations
torch.manual_seed(1)
lin = orthogonal(nn.Linear(4, 3))
Q = lin.weight
print(lin, (Q @ Q.T - torch.eye(3)).abs().max() < 1e-5)
sn = spectral_norm(nn.Linear(4, 3))
print(sorted(sn.state_dict().keys()), sn.state_dict()["parametrizations.weight.0._u"], sn.weight)
wn = weight_norm(nn.Linear(4, 3))
print(wn, sorted(wn.state_dict().keys()))
out = wn(torch.ones(2, 4)).sum()
out.backward()
print(wn.parametrizations.weight.original0.grad)
old = torch.nn.utils.weight_norm(nn.Linear(2, 2))
print(old.weight_g, old.weight_v.shape, sorted(old.state_dict().keys()))
try:
    parametrize.register_parametrization(nn.Linear(2, 2), "nothing", Skew())
except ValueError as e:
    print("ValueError:", e)
"""


#: the docstrings' examples (register_parametrization's RankOne, orthogonal, spectral_norm, weight_norm, the legacy
#: hooks, the fusions and skip_init)
DOCSTRINGS = """\
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as P
from torch.nn.utils.parametrizations import orthogonal, spectral_norm, weight_norm

torch.manual_seed(0)


class RankOne(nn.Module):
    def forward(self, x, y):
        # Form a rank 1 matrix multiplying two vectors
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z):
        # Project Z onto the rank 1 matrices
        U, S, Vh = torch.linalg.svd(Z, full_matrices=False)
        # Return rescaled singular vectors
        s0_sqrt = S[0].sqrt().unsqueeze(-1)
        return U[..., :, 0] * s0_sqrt, Vh[..., 0, :] * s0_sqrt


linear_rank_one = P.register_parametrization(nn.Linear(4, 4), "weight", RankOne())
print(torch.linalg.matrix_rank(linear_rank_one.weight).item())
print(linear_rank_one)
print({k: v.shape for k, v in linear_rank_one.state_dict().items()})


class Orthogonal(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X - X.T)


m = P.register_parametrization(nn.Linear(3, 3), "weight", Orthogonal())
print(P.is_parametrized(m), P.type_before_parametrizations(m))
try:
    m.weight = torch.eye(3)
except RuntimeError as e:
    print("RuntimeError:", e)

orth_linear = orthogonal(nn.Linear(20, 40))
print(orth_linear)
Q = orth_linear.weight
print(torch.dist(Q.T @ Q, torch.eye(20)) < 1e-5)

snm = spectral_norm(nn.Linear(20, 40))
print(snm)
print(snm.parametrizations.weight.original.size())
print(torch.linalg.matrix_norm(snm.weight, 2))

m = weight_norm(nn.Linear(20, 40), name='weight')
print(m)
print(m.parametrizations.weight.original0.size())
print(m.parametrizations.weight.original1.size())

m = torch.nn.utils.weight_norm(nn.Linear(20, 40), name='weight')
print(m)
print(m.weight_g.size())
print(m.weight_v.size())
torch.nn.utils.remove_weight_norm(m)

m = torch.nn.utils.spectral_norm(nn.Linear(20, 40))
print(m)
print(m.weight_u.size())
torch.nn.utils.remove_spectral_norm(m)
print(m)

fused = torch.nn.utils.fuse_linear_bn_eval(nn.Linear(3, 3).eval(), nn.BatchNorm1d(3).eval())
print(fused, fused.weight.requires_grad)
m = torch.nn.utils.skip_init(nn.Linear, 5, 1)
print(m.weight.shape)
print(torch.randn(3))
"""

#: a parametrized submodule of a script's model: deepcopy, an optimizer step, eval
TRAINING = """\
import copy
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as P


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self._tag = "net"

    def forward(self, x):
        return self.lin(x)


class Sym(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).T


torch.manual_seed(0)
net = Net()
P.register_parametrization(net.lin, "weight", Sym())
twin = copy.deepcopy(net)
print(twin, type(twin.lin), twin._tag)
print(torch.equal(twin.lin.weight, net.lin.weight))
opt = torch.optim.SGD(net.parameters(), lr=0.1)
loss = net(torch.ones(3, 2)).pow(2).sum()
loss.backward()
opt.step()
print(net.lin.weight)
print(P.is_parametrized(net), P.is_parametrized(net.lin), [n for n, _ in net.named_parameters()])
net.lin.eval()
print(net.lin.parametrizations.weight[0].training)
"""


@pytest.mark.parametrize("name", ["PROGRAM", "DOCSTRINGS", "TRAINING"])
def test_tutorial_prints_pytorchs_output(tmp_path: Path, name: str) -> None:
    pytest.importorskip("torch")
    script = tmp_path / "parametrizations.tsr"
    script.write_text(globals()[name])
    tsr, ref = run_tsr_and_python(script)
    assert tsr.returncode == 0, tsr.stderr
    if name != "TRAINING":
        assert "FutureWarning: `torch.nn.utils.weight_norm` is deprecated" in tsr.stderr
    assert tsr.stdout == ref.stdout


def _run(src: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    session = Session(stdout=out, stderr=err, color=False, limits=policy.Limits())
    status = session.run_source(textwrap.dedent(src), "<test>")
    return status, out.getvalue(), err.getvalue()


def test_a_faked_parametrizations_dict_never_changes_a_shared_class() -> None:
    status, out, err = _run(
        """
        import torch
        import torch.nn as nn
        import torch.nn.utils.parametrize as P
        m = nn.Linear(2, 2)
        m.parametrizations = nn.ModuleDict({"x": nn.Identity()})
        P.register_parametrization(m, "bias", nn.Identity())
        print(type(m).__name__, type(nn.Linear(2, 2).bias).__name__)
        m2 = nn.Linear(2, 2)
        chain = P.ParametrizationList([nn.Identity()], torch.zeros(2))
        m2.parametrizations = nn.ModuleDict({"reset_parameters": chain})
        try:
            P.remove_parametrizations(m2, "reset_parameters")
        except TypeError as e:
            print(e)
        nn.Linear(2, 2).reset_parameters()
        print("ok")
        """
    )
    assert (status, err) == (0, ""), err
    assert out == "ParametrizedLinear Parameter\nset_(): argument 'source' must be Tensor, not method\nok\n"


@pytest.mark.parametrize(
    ("src", "error"),
    [
        ("P.register_parametrization(nn.Linear, 'weight', nn.Identity())", "AttributeError"),
        ("P.register_parametrization(5, 'weight', nn.Identity())", "AttributeError"),
        ("type(P.register_parametrization(nn.Linear(2, 2), 'weight', nn.Identity())).weight.fget", "AttributeError"),
        ("type(type(P.register_parametrization(nn.Linear(2, 2), 'weight', nn.Identity())))('X', (), {})",
         "TypeError"),
        ("P._cache", "AttributeError"),
        ("P.deepcopy", "AttributeError"),
    ],
)  # fmt: skip
def test_the_class_swap_gives_nothing_away(src: str, error: str) -> None:
    status, _, err = _run(f"import torch.nn as nn\nimport torch.nn.utils.parametrize as P\n{src}\n")
    assert status == 1
    assert f": {error}" in err.splitlines()[0], err


def test_a_scripts_private_tensor_can_be_parametrized() -> None:
    status, out, err = _run(
        """
        import torch
        import torch.nn as nn
        import torch.nn.utils.parametrize as P
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self._w = nn.Parameter(torch.ones(2, 2))
                self._k = 3
            def forward(self, x):
                return x @ self._w * self._k
        class Double(nn.Module):
            def forward(self, X):
                return X * 2
        net = P.register_parametrization(Net(), "_w", Double())
        net._k = 1
        print(net(torch.ones(1, 2)).tolist(), net._k)
        try:
            net._torch_name
        except AttributeError as e:
            print(e)
        """
    )
    assert (status, err) == (0, ""), err
    assert out == (
        "[[4.0, 4.0]] 1\n"
        "access to attribute '_torch_name' is not allowed in tsr (names starting with '_' are private)\n"
    )
