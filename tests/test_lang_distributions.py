"""torch.distributions in tsr: `from torch.distributions import ...`, a VAE step and a REINFORCE step through
`tcli run` printing what PyTorch prints, register_kl with a script's function (and the registry starting over
for the next program), validation errors a script catches, and the modules reachable by import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_lang_torch import run_torch, run_tsr

ROOT = Path(__file__).resolve().parent.parent

VAE_AND_REINFORCE = """
import torch
import torch.nn as nn
from torch.distributions import Categorical, Normal, Independent, kl_divergence
import torch.distributions as D

torch.manual_seed(0)

# a VAE step: z = mu + sigma * eps through rsample, the ELBO's KL in closed form
enc = nn.Linear(4, 4)
dec = nn.Linear(2, 4)
opt = torch.optim.SGD(list(enc.parameters()) + list(dec.parameters()), lr=0.1)
x = torch.rand(8, 4)
for step in range(3):
    h = enc(x)
    q = Independent(Normal(h[:, :2], h[:, 2:].exp()), 1)
    z = q.rsample()
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    recon = D.Bernoulli(logits=dec(z)).log_prob((x > 0.5).float()).sum(-1)
    loss = (kl_divergence(q, prior) - recon).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(step, loss)
print(q, prior.event_shape, q.batch_shape, q.mean.shape)

# a REINFORCE step with a Categorical policy
policy = nn.Linear(3, 2)
popt = torch.optim.Adam(policy.parameters(), lr=0.01)
states = torch.randn(5, 3)
dist = Categorical(logits=policy(states))
actions = dist.sample()
rewards = torch.where(actions == 1, 1.0, -1.0)
ploss = -(dist.log_prob(actions) * rewards).mean()
popt.zero_grad()
ploss.backward()
popt.step()
print(actions, ploss, policy.weight.grad, dist.probs, dist.entropy())

m = D.MultivariateNormal(torch.zeros(3), scale_tril=torch.eye(3) * 2)
print(m, m.entropy(), m.sample((2,)), m.variance)
print(D.Gamma(2.0, 3.0).sample((4,)), D.Poisson(torch.tensor([3.0, 30.0])).sample(), D.Beta(2.0, 5.0).rsample())
try:
    Categorical(torch.tensor([0.5, -0.5, 1.0]))
except ValueError as e:
    print(e)
try:
    Normal(0.0, 1.0).log_prob(torch.tensor(float("nan")))
except ValueError as e:
    print(e)
"""


def test_vae_and_reinforce_through_tcli_run(tmp_path: Path) -> None:
    script = tmp_path / "rl_vae.tsr"
    script.write_text(VAE_AND_REINFORCE)
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    p = subprocess.run(
        [sys.executable, "-m", "tcli", "run", str(script)], capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stdout == run_torch(VAE_AND_REINFORCE)


PROGRAMS = {
    "imports_and_modules": """
        import torch
        from torch.distributions import constraints, transforms, biject_to
        from torch.distributions.kl import kl_divergence
        from torch.distributions.transforms import ExpTransform, AffineTransform
        import torch.distributions.constraints as C
        from torch.distributions.utils import probs_to_logits
        print(constraints.positive, C.simplex, transforms.identity_transform, biject_to(C.positive))
        print(ExpTransform().inv, AffineTransform(0.0, 2.0).sign, probs_to_logits(torch.tensor([0.25, 0.75])))
        print(torch.distributions.Normal(0.0, 1.0), torch.distributions.Distribution)
        print(kl_divergence(torch.distributions.Exponential(2.0), torch.distributions.Exponential(3.0)))
    """,
    "register_kl_with_a_script_function": """
        import torch
        from torch.distributions import Normal, Categorical, kl_divergence, register_kl
        @register_kl(Normal, Categorical)
        def kl_normal_categorical(p, q):
            return p.loc * 0 + 7
        print(kl_divergence(Normal(torch.zeros(2), 1.0), Categorical(torch.ones(2, 3))))
    """,
    "transformed_distribution": """
        import torch
        from torch.distributions import Uniform, TransformedDistribution
        from torch.distributions.transforms import SigmoidTransform, AffineTransform
        torch.manual_seed(1)
        logistic = TransformedDistribution(Uniform(0.0, 1.0), [SigmoidTransform().inv, AffineTransform(1.0, 2.0)])
        s = logistic.sample((3,))
        print(s, logistic.log_prob(s), logistic.cdf(s), logistic.support)
    """,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_prints_what_pytorch_prints(name: str) -> None:
    status, out, err = run_tsr(PROGRAMS[name])
    assert status == 0, err
    assert out == run_torch(PROGRAMS[name])


def test_registered_pair_is_gone_for_the_next_program() -> None:
    run_tsr(PROGRAMS["register_kl_with_a_script_function"])
    status, out, err = run_tsr(
        """
        import torch
        from torch.distributions import Normal, Categorical, kl_divergence
        try:
            kl_divergence(Normal(0.0, 1.0), Categorical(torch.ones(3)))
        except NotImplementedError as e:
            print(e)
        """
    )
    assert status == 0, err
    assert out == "No KL(p || q) is implemented for p type Normal and q type Categorical\n"


def test_private_state_stays_out_of_reach() -> None:
    status, out, err = run_tsr(
        """
        import torch
        d = torch.distributions.Normal(0.0, 1.0)
        d._validate_args
        """
    )
    assert status == 1 and "AttributeError: access to attribute '_validate_args' is not allowed in tsr" in err
    status, out, err = run_tsr("from torch.distributions import NoSuchThing\n")
    assert status == 1 and "ImportError: cannot import name 'NoSuchThing' from 'torch.distributions'" in err


def test_distribution_modules_import_one_by_one_as_in_torch_docs() -> None:
    """The docstrings import from each module (`from torch.distributions.multivariate_normal import ...`)."""
    src = """\
    import torch
    from torch.distributions.multivariate_normal import MultivariateNormal
    from torch.distributions.studentT import StudentT
    import torch.distributions.normal as N
    torch.manual_seed(0)
    m = MultivariateNormal(torch.zeros(2), torch.eye(2))
    print(m, m.sample(), StudentT(2.0), N.Normal(0.0, 1.0).sample((2,)))
    """
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out == run_torch(src)


def test_vmap_builds_a_jacobian_from_autograd_grad_as_the_docstring_does() -> None:
    """torch.func.vmap's docstring: one autograd.grad per basis vector of the same graph (torch runs it once,
    batched; the engine runs it per element and keeps the graph until the last), and a vmapped op's output
    shows that op's node."""
    src = """\
    import torch
    torch.manual_seed(0)
    N = 3
    x = torch.randn(N, requires_grad=True)
    y = x ** 2
    I_N = torch.eye(N)
    def get_vjp(v):
        return torch.autograd.grad(y, x, v)
    jacobian = torch.vmap(get_vjp)(I_N)
    print(jacobian)
    print(torch.vmap(torch.relu)(x.unsqueeze(0)))
    """
    status, out, err = run_tsr(src)
    assert status == 0, err
    assert out == run_torch(src)
