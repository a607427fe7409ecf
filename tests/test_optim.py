"""LeanAdam takes torch's fused Adam steps with less Python: the same numbers, bit for bit."""

import pytest
import torch
from torch import nn

from mmgan_ref.train.optim import LeanAdam


def _net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 1))


def _train(make_optimizer, steps: int = 6) -> tuple[nn.Module, torch.optim.Optimizer]:
    net = _net()
    opt = make_optimizer(net.parameters())
    gen = torch.Generator().manual_seed(1)
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        x = torch.randn(32, 2, generator=gen)
        loss = net(x).pow(2).mean()
        if step == 3:  # a step where the first layer gets no gradient
            loss = net[2:](torch.randn(32, 16, generator=gen)).pow(2).mean()
        loss.backward()
        opt.step()
    return net, opt


def _reference(params):
    return torch.optim.Adam(params, lr=3e-3, betas=(0.5, 0.999), fused=True)


def _lean(params):
    return LeanAdam(params, lr=3e-3, betas=(0.5, 0.999))


def test_lean_steps_match_torch_fused_adam_bit_for_bit():
    ref_net, ref_opt = _train(_reference)
    net, opt = _train(_lean)
    for a, b in zip(ref_net.parameters(), net.parameters(), strict=True):
        assert torch.equal(a, b)
    ref_state, state = ref_opt.state_dict()["state"], opt.state_dict()["state"]
    assert ref_state.keys() == state.keys()
    for key in state:
        for name in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(ref_state[key][name], state[key][name]), (key, name)


def test_lean_steps_skip_the_wrapper():
    net, opt = _train(_lean, steps=2)
    calls = []
    original = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    torch.optim.Adam.step = spy
    try:
        net(torch.randn(4, 2)).sum().backward()
        opt.step()
    finally:
        torch.optim.Adam.step = original
    assert calls == []  # states exist, nothing unusual: the lean path ran
    # and Optimizer.__init__ did not wrap it in the per-call profiler and hook wrapper
    assert not type(opt).step.__code__.co_filename.endswith("optimizer.py")


def test_state_dicts_load_either_way():
    _, lean_opt = _train(_lean)
    net = _net()
    ref = _reference(net.parameters())
    ref.load_state_dict(lean_opt.state_dict())
    back = _lean(_net().parameters())
    back.load_state_dict(ref.state_dict())
    assert back.state_dict()["state"][0]["step"] == lean_opt.state_dict()["state"][0]["step"]


def test_closure_and_hooks_go_through_torch():
    net, opt = _train(_lean, steps=1)
    seen = []
    handle = opt.register_step_post_hook(lambda *args: seen.append("post"))

    def closure():
        opt.zero_grad()
        loss = net(torch.ones(2, 2)).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    opt.step()
    handle.remove()
    assert isinstance(loss, torch.Tensor)
    assert seen == ["post", "post"]


@pytest.mark.parametrize("option", [{"amsgrad": True}, {"weight_decay": 0.1},
                                    {"maximize": True}])
def test_unusual_settings_match_torch(option):
    def ref(params):
        return torch.optim.Adam(params, lr=3e-3, betas=(0.5, 0.999), fused=True, **option)

    def lean(params):
        opt = LeanAdam(params, lr=3e-3, betas=(0.5, 0.999))
        for group in opt.param_groups:
            group.update(option)
        return opt

    ref_net, _ = _train(ref)
    net, _ = _train(lean)
    for a, b in zip(ref_net.parameters(), net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_zero_grad_clears_or_zeroes():
    net, opt = _train(_lean, steps=1)
    net(torch.randn(4, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_gradient_scaler_attributes_go_through_torch():
    """GradScaler hands fp16 AMP's scale and inf flag to a fused Adam as attributes."""
    def with_scale(make):
        def build(params):
            opt = make(params)
            opt.grad_scale, opt.found_inf = torch.tensor(4.0), torch.tensor(0.0)
            return opt
        return build

    ref_net, _ = _train(with_scale(_reference))
    net, _ = _train(with_scale(_lean))
    plain_net, _ = _train(_lean)
    for a, b in zip(ref_net.parameters(), net.parameters(), strict=True):
        assert torch.equal(a, b)
    pairs = zip(net.parameters(), plain_net.parameters(), strict=True)
    assert not all(torch.equal(a, b) for a, b in pairs)  # the scale did reach the kernel
