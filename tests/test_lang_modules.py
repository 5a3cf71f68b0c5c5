"""tsr with torch.nn modules, torch.optim and script-defined classes: a tutorial's model, loss and optimizer
print what PyTorch prints, and a script's `class Net(nn.Module)` is a real module, with the sandbox's rules."""

from __future__ import annotations

import pytest
from test_lang_torch import run_torch, run_tsr

PROGRAMS = {
    "sequential_sgd_training": """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        print(model)
        loss_fn = nn.MSELoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        print(opt)
        x = torch.randn(8, 3)
        y = x.sum(dim=1, keepdim=True)
        for step in range(5):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            print(step, loss)
        for name, p in model.named_parameters():
            print(name, p.shape, p.requires_grad)
        print(model[0].weight)
        print(model[0].weight.grad)
        print(list(model.state_dict().keys()))
        print(sum(p.numel() for p in model.parameters()))
    """,
    "class_net_adam": """
        import torch
        from torch import nn
        import torch.nn.functional as F

        class Net(nn.Module):
            \"\"\"Two layers.\"\"\"
            scale = 2.0

            def __init__(self, hidden=5):
                super().__init__()
                self.fc1 = nn.Linear(2, hidden)
                self.fc2 = nn.Linear(hidden, 3)
                self.hidden = hidden

            def features(self, x):
                return F.relu(self.fc1(x))

            def forward(self, x):
                return self.fc2(self.features(x)) * self.scale

        torch.manual_seed(1)
        net = Net()
        print(net)
        print(type(net).__name__, isinstance(net, nn.Module), net.hidden, Net.scale, net.training)
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        x = torch.randn(6, 2)
        target = torch.tensor([0, 1, 2, 0, 1, 2])
        for i in range(4):
            out = net(x)
            loss = F.cross_entropy(out, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            print(i, f"{loss.item():.5f}")  # (log_softmax: last bits are libm's)
        print(out.grad_fn.name(), net.fc1.bias)
        net.eval()
        with torch.no_grad():
            print(net(x).argmax(dim=1), net.training)
    """,
    "subclass_of_a_script_class_and_two_argument_super": """
        import torch
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self):
                super(Base, self).__init__()
                self.lin = nn.Linear(2, 2, bias=False)

            def forward(self, x):
                return self.lin(x)

        class Doubled(Base):
            def __init__(self):
                super().__init__()
                self.extra = nn.Parameter(torch.ones(2))

            def forward(self, x):
                return super().forward(x) * 2 + self.extra

        torch.manual_seed(2)
        m = Doubled()
        print(m)
        y = m(torch.ones(1, 2)).sum()
        y.backward()
        print(y, m.extra.grad, m.lin.weight.grad)
        print([n for n, _ in m.named_parameters()])
        print(isinstance(m, Base), len(list(m.modules())), m.extra)
    """,
    "module_errors_are_torchs": """
        import torch
        import torch.nn as nn

        class NoInit(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(1, 1)

        try:
            NoInit()
        except AttributeError as e:
            print("AttributeError:", e)
        m = nn.Linear(2, 3)
        try:
            m(torch.ones(4, 5))
        except RuntimeError as e:
            print("RuntimeError:", e)
        try:
            m.load_state_dict({"weight": torch.ones(3, 2)})
        except RuntimeError as e:
            print("RuntimeError:", e)
        print(m.load_state_dict({"weight": torch.ones(3, 2), "bias": torch.zeros(3)}))
        print(m.weight, m.bias)
        try:
            torch.optim.SGD([], lr=0.1)
        except ValueError as e:
            print("ValueError:", e)
    """,
    "custom_autograd_function": """
        import torch

        class LegendrePolynomial3(torch.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input ** 3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input ** 2 - 1)

        class Scale(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                ctx.k = k
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g * ctx.k, None

        x = torch.linspace(-1, 1, 5, requires_grad=True)
        P3 = LegendrePolynomial3.apply
        y = P3(x)
        print(y, y.grad_fn.name(), type(y.grad_fn), LegendrePolynomial3)
        y.sum().backward()
        print(x.grad)
        z = Scale.apply(x, 3.0)
        print(z, z.grad_fn.k, z.grad_fn.needs_input_grad, z.grad_fn.next_functions[0][0].name())
        g, = torch.autograd.grad(P3(x).sum(), x, create_graph=True)
        g.sum().backward()
        print(g, x.grad)
        try:
            Scale.apply(x, torch.ones(2)).sum().backward()
        except RuntimeError as e:
            print(e)
    """,
    "class_property_classmethod_and_class_attributes": """
        import torch
        from torch import nn

        class Net(nn.Module):
            count = 0

            def __init__(self):
                super().__init__()
                Net.count += 1
                self.fc = nn.Linear(2, 2)

            @property
            def size(self):
                return self.fc.in_features

            @classmethod
            def make(cls):
                return cls()

            def forward(self, x):
                return self.fc(x)

        a = Net.make()
        b = Net()
        print(Net.count, a.size, type(a).__name__, isinstance(b, Net))
    """,
    "random_collections_copy_and_once_differentiable": """
        import copy
        import random
        from collections import OrderedDict, Counter, defaultdict
        import torch
        from torch import nn
        from torch.autograd.function import once_differentiable

        random.seed(0)
        print(random.randint(1, 10), random.random(), random.choice([1, 2, 3]), random.sample(range(10), 3))
        xs = list(range(5)); random.shuffle(xs); print(xs)
        model = nn.Sequential(OrderedDict([("fc1", nn.Linear(2, 3)), ("act", nn.ReLU()), ("fc2", nn.Linear(3, 1))]))
        print(model)
        best = copy.deepcopy(model)
        with torch.no_grad():
            model.fc1.weight.fill_(1.0)
        print(best.fc1.weight.equal(model.fc1.weight), isinstance(best, nn.Sequential), best is model)
        c = Counter("hello world"); print(c.most_common(2))
        d = defaultdict(list); d["a"].append(1); print(dict(d))
        class Sq(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x
            @staticmethod
            @once_differentiable
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 2 * x * g
        x = torch.tensor([3.0], requires_grad=True)
        Sq.apply(x).backward(); print(x.grad)
        h = model.register_forward_hook(lambda m, i, o: None)
        m2 = copy.deepcopy(model); print(type(m2).__name__)
    """,
    "private_names_a_script_class_owns": """
        import torch
        from torch import nn

        class GPT(nn.Module):
            _registry = []

            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)
                self._w = nn.Parameter(torch.ones(2))
                self._cache = None
                self.apply(self._init_weights)
                GPT._registry.append(1)

            def _init_weights(self, module):
                if isinstance(module, nn.Linear):
                    torch.nn.init.zeros_(module.bias)
                    torch.nn.init.ones_(module.weight)

            def forward(self, x):
                self._cache = x
                return self.fc(x) * self._w

        m = GPT()
        print(m(torch.ones(1, 2)), m._cache, len(GPT._registry), [n for n, _ in m.named_parameters()])
    """,
    "class_names_move_to_end_and_unfold": """
        import torch
        from collections import OrderedDict

        net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        X = torch.ones(1, 1, 8, 8)
        for layer in net:
            X = layer(X)
            print(layer.__class__.__name__, "output shape:\t", X.shape)
        print(X.__class__, (1).__class__.__name__)
        d = OrderedDict(a=1, b=2)
        d.move_to_end("a")
        print(d, torch.arange(6.0).unfold(0, 2, 2))
    """,
    "pad_sequence_and_area_interpolation": """
        import torch
        from torch.nn.utils.rnn import pad_sequence, unpad_sequence

        a = torch.ones(3, 2, requires_grad=True)
        b = torch.ones(1, 2) * 2
        p = pad_sequence([a, b])
        print(p.shape, p.grad_fn.name(), pad_sequence([a, b], batch_first=True, padding_value=-1.0))
        print(pad_sequence([a.detach(), b], batch_first=True, padding_side="left"))
        (p * torch.arange(12.0).reshape(3, 2, 2)).sum().backward()
        print(a.grad, [t.shape for t in unpad_sequence(p, torch.tensor([3, 1]))])
        x = torch.arange(2 * 7 * 9.0).reshape(1, 2, 7, 9)
        print(torch.nn.functional.interpolate(x, size=(3, 4), mode="area"))
    """,
    "conv3d_network_and_3d_pools": """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        torch.manual_seed(0)
        net = nn.Sequential(nn.Conv3d(1, 3, 3, padding=1, padding_mode="replicate"), nn.ReLU(),
                            nn.MaxPool3d(2, return_indices=False), nn.ConvTranspose3d(3, 2, 2, stride=2),
                            nn.AdaptiveAvgPool3d((1, 2, None)), nn.Flatten(), nn.LazyLinear(2))
        x = torch.randn(2, 1, 4, 4, 6)
        y = net(x)
        print(net)
        print(y, y.grad_fn.name())
        y.sum().backward()
        print(net[0].weight.grad.shape, net[0].bias.grad)
        v, i = F.max_pool3d(x, (2, 2, 3), stride=2, return_indices=True)
        print(i[0, 0], F.max_unpool3d(v, i, (2, 2, 3), stride=2, output_size=x.shape[2:]).count_nonzero())
        print(F.avg_pool3d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False).shape)
        print(F.lp_pool3d(x.abs(), 2, 2), nn.AvgPool3d(2, divisor_override=3), nn.LPPool3d(1, (1, 2, 2)))
        print(torch.conv3d(x, torch.ones(1, 1, 1, 2, 2)).shape, F.adaptive_max_pool3d(x, 2, True)[1].shape)
    """,
    "packed_sequences_through_lstm_and_gru": """
        import torch
        from torch import nn
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pack_sequence, unpack_sequence

        torch.manual_seed(0)
        seqs = [torch.randn(n, 2) for n in (2, 5, 3)]
        packed = pack_sequence(seqs, enforce_sorted=False)
        print(packed)
        lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True)
        out, (h, c) = lstm(packed)
        print(type(out).__name__, out.batch_sizes, out.sorted_indices, out.unsorted_indices)
        padded, lengths = pad_packed_sequence(out, batch_first=True, total_length=6)
        print(padded.shape, lengths, h[-1])
        (padded.sum() + h.pow(2).sum()).backward()
        print(lstm.weight_hh_l1_reverse.grad)
        gru = nn.GRU(2, 4, batch_first=True)
        x = nn.utils.rnn.pad_sequence(seqs, batch_first=True)
        p = pack_padded_sequence(x, torch.tensor([2, 5, 3]), batch_first=True, enforce_sorted=False)
        o, hn = gru(p)
        print(hn, [t.shape for t in unpack_sequence(o)])
        try:
            pack_padded_sequence(x, [2, 5, 3], batch_first=True)
        except RuntimeError as e:
            print("RuntimeError:", e)
    """,
    "lr_scheduler_and_param_groups": """
        import torch
        w = torch.zeros(3, requires_grad=True)
        opt = torch.optim.SGD([w], lr=1.0)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for epoch in range(5):
            (w * torch.arange(3.0)).sum().backward()
            opt.step()
            opt.zero_grad()
            sched.step()
            print(epoch, sched.get_last_lr(), opt.param_groups[0]["lr"], w)
        opt.param_groups[0]["lr"] = 0.01
        (w ** 2).sum().backward()
        opt.step()
        print(w)
    """,
    "dataset_and_loader": """
        import torch
        from torch import nn
        from torch.utils.data import Dataset, DataLoader, TensorDataset, random_split

        torch.manual_seed(0)

        class Squares(Dataset):
            def __init__(self, n):
                self.x = torch.arange(n, dtype=torch.float32).unsqueeze(1)
                self.y = self.x ** 2

            def __len__(self):
                return len(self.x)

            def __getitem__(self, i):
                return self.x[i], self.y[i]

        ds = Squares(10)
        print(len(ds), ds[3])
        train, val = random_split(ds, [8, 2])
        print(len(train), len(val), val.indices)
        loader = DataLoader(train, batch_size=3, shuffle=True)
        model = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.001)
        for epoch in range(2):
            for xb, yb in loader:
                opt.zero_grad()
                loss = nn.functional.mse_loss(model(xb), yb)
                loss.backward()
                opt.step()
            print(epoch, round(loss.item(), 4))
        print(torch.rand(2))
        td = TensorDataset(torch.ones(4, 2), torch.zeros(4))
        print([b[0].shape for b in DataLoader(td, batch_size=3)], len(loader))
        print(next(iter(DataLoader(ds, batch_size=2, collate_fn=lambda b: [len(b), b[0][1]]))))
    """,
    "generator_data_pipelines": """
        # d2l.ai's linear regression from scratch: minibatches from a generator function
        import random
        import torch
        from torch.utils.data import DataLoader, IterableDataset
        torch.manual_seed(0)
        random.seed(0)

        def synthetic_data(w, b, num_examples):
            X = torch.normal(0, 1, (num_examples, len(w)))
            y = torch.matmul(X, w) + b
            y += torch.normal(0, 0.01, y.shape)
            return X, y.reshape((-1, 1))

        def data_iter(batch_size, features, labels):
            num_examples = len(features)
            indices = list(range(num_examples))
            random.shuffle(indices)
            for i in range(0, num_examples, batch_size):
                batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
                yield features[batch_indices], labels[batch_indices]

        true_w, true_b = torch.tensor([2, -3.4]), 4.2
        features, labels = synthetic_data(true_w, true_b, 100)
        w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        for epoch in range(3):
            for X, y in data_iter(10, features, labels):
                l = ((X @ w + b - y) ** 2 / 2).sum()
                l.backward()
                with torch.no_grad():
                    for param in (w, b):
                        param -= 0.03 * param.grad / 10
                        param.grad.zero_()
            with torch.no_grad():
                print(f"epoch {epoch + 1}, loss {float(((features @ w + b - labels) ** 2 / 2).mean()):f}")
        print(w.reshape(true_w.shape), b)

        class Stream(IterableDataset):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                for i in range(self.n):
                    yield torch.tensor([float(i), i * 2.0]), i % 2

        print(list(DataLoader(Stream(5), batch_size=2)))

        def no_grad_gen():
            with torch.no_grad():
                yield (torch.ones(2, requires_grad=True) * 2).requires_grad
        print(next(no_grad_gen()), torch.is_grad_enabled())
    """,
    "iterable_dataset_docs_example": """
        # PyTorch's IterableDataset docstring example, as written there (one-argument super)
        import math
        import torch

        class MyIterableDataset(torch.utils.data.IterableDataset):
            def __init__(self, start, end):
                super(MyIterableDataset).__init__()
                assert end > start, "this example code only works with end >= start"
                self.start = start
                self.end = end

            def __iter__(self):
                worker_info = torch.utils.data.get_worker_info()
                if worker_info is None:
                    iter_start, iter_end = self.start, self.end
                else:
                    per_worker = int(math.ceil((self.end - self.start) / float(worker_info.num_workers)))
                    iter_start = self.start + worker_info.id * per_worker
                    iter_end = min(iter_start + per_worker, self.end)
                return iter(range(iter_start, iter_end))

        ds = MyIterableDataset(start=3, end=7)
        print(list(torch.utils.data.DataLoader(ds, num_workers=0)))
    """,
    "module_backward_hooks": """
        # a hooks tutorial: what flows through each layer on the way back, and clipping it there
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))

        def report(module, grad_input, grad_output):
            print(type(module).__name__, [None if g is None else tuple(g.shape) for g in grad_input],
                  round(grad_output[0].norm().item(), 4))

        def clip(module, grad_output):
            return (grad_output[0].clamp(-0.1, 0.1),)

        handles = [m.register_full_backward_hook(report) for m in model]
        model[1].register_full_backward_pre_hook(clip)
        x = torch.randn(5, 4, requires_grad=True)
        out = model(x)
        print(out.grad_fn.name())
        out.mean().backward()
        print(x.grad)
        for h in handles:
            h.remove()
        model.zero_grad()
        model(x).mean().backward()
        print(model[0].weight.grad)
    """,
    "custom_optimizer_and_scheduler": """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        torch.manual_seed(0)
        class MySGD(torch.optim.Optimizer):
            def __init__(self, params, lr=0.01, beta=0.9):
                defaults = dict(lr=lr, beta=beta)
                super().__init__(params, defaults)
            @torch.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        if len(state) == 0:
                            state["buf"] = torch.zeros_like(p)
                        buf = state["buf"]
                        buf.mul_(group["beta"]).add_(p.grad)
                        p.add_(buf, alpha=-group["lr"])
        m = nn.Linear(3, 1)
        opt = MySGD(m.parameters(), lr=0.05)
        X = torch.randn(8, 3); y = torch.randn(8, 1)
        for i in range(4):
            opt.zero_grad(); l = F.mse_loss(m(X), y); l.backward(); opt.step()
            print(f"{l.item():.5f}")
        print(opt)
        print(opt.state_dict()["param_groups"])
        from torch.optim.lr_scheduler import LRScheduler
        torch.manual_seed(0)
        class Warmup(LRScheduler):
            def __init__(self, optimizer, warmup, last_epoch=-1):
                self.warmup = warmup
                super().__init__(optimizer, last_epoch)
            def get_lr(self):
                f = min(1.0, (self.last_epoch + 1) / self.warmup)
                return [base * f for base in self.base_lrs]
        m = nn.Linear(2, 1)
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        s = Warmup(opt, 4)
        for e in range(6):
            opt.step(); s.step(); print(e, s.get_last_lr())
        s.last_epoch = 0
        print(s.get_lr())
    """,
    "subscripted_sampler_base": """
        # PyTorch's Sampler docstring writes the base subscripted, as typing generics are
        import torch
        from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

        class Reverse(Sampler[int]):
            def __init__(self, n):
                self.n = n

            def __iter__(self):
                return iter(range(self.n - 1, -1, -1))

            def __len__(self):
                return self.n

        class Squares(Dataset[int]):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return i * i

        print(list(Reverse(3)), list(DataLoader(Squares(), sampler=Reverse(4), batch_size=2)))
    """,
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_prints_what_torch_prints(name: str) -> None:
    src = PROGRAMS[name]
    want = run_torch(src)
    status, got, err = run_tsr(src)
    assert (status, err) == (0, "")
    assert got == want


def test_graph_names_module_parameters() -> None:
    status, out, err = run_tsr(
        """
        import torch
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
        loss = model(torch.ones(1, 2)).sum()
        loss.backward()
        graph(loss)
        """
    )
    assert (status, err) == (0, "")
    assert "model[0].weight" in out and "model[0].bias" in out


def test_state_dict_saves_and_loads_without_pickle(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run_tsr(
        """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        a = nn.Linear(3, 2)
        torch.save(a.state_dict(), "model.pt")
        b = nn.Linear(3, 2)
        print(b.load_state_dict(torch.load("model.pt")))
        print(torch.equal(a.weight, b.weight), torch.equal(a.bias, b.bias))
        """
    )
    assert (status, err) == (0, "")
    assert out == "<All keys matched successfully>\nTrue True\n"


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("class A:\n    def __del__(self):\n        pass\n", "method '__del__'"),
        ("class A(object):\n    def __new__(cls):\n        pass\n", "method '__new__'"),
        ("import torch\nclass A(torch.nn.Module, object):\n    pass\n", "a tsr class has exactly one base class"),
        ("class A(int):\n    pass\n", "(Exception, ValueError ...), or a class defined in the script, not 'int'"),
        ("import torch\n@print\nclass A(torch.nn.Module):\n    def __del__(self):\n        pass\n", "method '__del__'"),
        ("import torch\nclass A(torch.nn.Module, metaclass=type):\n    pass\n", "no metaclass or other keywords"),
        ("import torch\nm = torch.nn.Linear(2, 2)\nm._parameters\n", "access to attribute '_parameters'"),
        ("import torch\nclass A(torch.nn.Module):\n    pass\nA()._modules\n", "access to attribute '_modules'"),
        ("import torch\nclass A(torch.nn.Module):\n    pass\nA()._apply\n", "access to attribute '_apply'"),
        ("import torch\nclass A(torch.nn.Module):\n    pass\na = A()\na._parameters = {}\n", "'_parameters'"),
        ("import torch\nt = torch.ones(2)\nt._data += 1\n", "access to attribute '_data'"),
        ("x = [1]\nx._y = 2\n", "access to attribute '_y'"),
        ("import torch\nclass A(torch.nn.Module):\n    def __getattr__(self):\n        pass\n", "method '__getattr__'"),
        ("import torch\nclass A(torch.nn.Module):\n    import os\n", "a tsr class body holds methods"),
        ("import torch\nclass A(torch.nn.Module):\n    __getattr__ = print\n", "class attribute '__getattr__'"),
        (
            "import torch\nclass A(torch.nn.Module):\n    def f(self):\n        return self.__dict__\nA().f()\n",
            "'__dict__'",
        ),
        (
            "import torch\nclass A(torch.nn.Module):\n    def f(self):\n        return super().__doc__\nA().f()\n",
            "'__doc__'",
        ),
        ("import torch\nclass A(torch.nn.Module):\n    pass\nA.__subclasses__()\n", "'__subclasses__'"),
        ("import torch\nclass A(torch.nn.Module):\n    pass\nA().forward.__func__\n", "'__func__'"),
        ("x = [1]\nx.attr = 2\n", "attributes cannot be assigned in tsr"),
        ("super()\n", "RuntimeError: super(): no arguments"),
        ("super(type, int).mro()\n", "super() in tsr takes no arguments, or a class the script defined"),
    ],
)
def test_classes_keep_the_sandbox(src: str, message: str) -> None:
    status, out, err = run_tsr(src)
    assert status == 1 and message in err, err


def test_script_class_methods_run_in_the_interpreter_with_its_limits() -> None:
    """A method is a tsr function: recursion is bounded and errors point at the script's lines."""
    status, _, err = run_tsr(
        """
        import torch
        class Loop(torch.nn.Module):
            def forward(self, x):
                return self(x)
        Loop()(1)
        """
    )
    assert status == 1 and "RecursionError" in err and "line 5" in err.replace(":5:", "line 5")
