"""The GPU code paths, exercised on the CPU: compile, channels-last, bf16 autocast."""

from __future__ import annotations

import pytest
import torch

from mmgan_ref.nn.conv import ConvDiscriminator, ConvGenerator
from mmgan_ref.train import TensorBatches, TrainConfig, Trainer
from mmgan_ref.train.families import AdversarialGAN
from mmgan_ref.train.run import make_trainer


def _conv_family() -> AdversarialGAN:
    torch.manual_seed(0)
    generator = ConvGenerator(8, channels=3, image_size=16, base_width=8, num_classes=4,
                              conditioning="film")
    discriminator = ConvDiscriminator(channels=3, image_size=16, base_width=8, num_classes=4,
                                      projection=True)
    return AdversarialGAN(generator, discriminator, z_dim=8, data_key="image",
                          cond_key="label", r1_gamma=1.0)


def _conv_source() -> TensorBatches:
    g = torch.Generator().manual_seed(0)
    data = {"image": torch.rand(32, 3, 16, 16, generator=g) * 2 - 1,
            "label": torch.randint(0, 4, (32,), generator=g)}
    return TensorBatches(data, batch_size=8, seed=0)


def test_channels_last_trains_with_nhwc_weights_and_matches_the_default_layout():
    runs = {}
    for channels_last in (False, True):
        config = TrainConfig(steps=3, batch_size=8, device="cpu", progress=False,
                             channels_last=channels_last)
        trainer = Trainer(_conv_family(), _conv_source(), config)
        trainer.fit()
        runs[channels_last] = trainer
    conv = next(m for m in runs[True].family.discriminator.modules()
                if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    for a, b in zip(runs[False].family.parameters(), runs[True].family.parameters(),
                    strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


def test_bf16_autocast_on_cpu_with_r1_keeps_losses_finite():
    config = TrainConfig(steps=3, batch_size=8, device="cpu", progress=False, amp=True,
                         log_every=1)
    trainer = Trainer(_conv_family(), _conv_source(), config)
    history = trainer.fit()
    assert trainer.amp_dtype == torch.bfloat16
    assert all(torch.isfinite(torch.tensor(v)) for h in history for v in h.values())


@pytest.mark.slow
def test_compile_on_cpu_trains_and_gives_the_eager_result():
    settings = dict(steps=2, batch_size=16, device="cpu", progress=False, seed=0)
    _, eager = make_trainer("ring", **settings)
    eager.fit()
    _, compiled = make_trainer("ring", compile=True, **settings)
    compiled.fit()
    for a, b in zip(eager.family.parameters(), compiled.family.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_r1_is_recomputed_in_float32_under_fp16_autocast_only():
    family = _conv_family()
    real = torch.rand(4, 3, 16, 16).requires_grad_(True)
    labels = torch.arange(4)
    with torch.autocast("cpu", dtype=torch.float16):
        fp16_logits = family.discriminator(real, labels)
        r1_logits = family._r1_logits(real, labels, fp16_logits)
    assert r1_logits is not fp16_logits and r1_logits.dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16_logits = family.discriminator(real, labels)
        assert family._r1_logits(real, labels, bf16_logits) is bf16_logits


@pytest.mark.slow
def test_sound_encoder_compiled_under_bf16_autocast_has_the_eager_gradients():
    # Max-pooling over time once used amax, whose compiled backward under bf16 autocast
    # divided by a tie count of zero: every weight below the pooling got NaN gradients.
    from mmgan_ref.nn.encoders import SoundEncoder

    torch.manual_seed(0)
    encoder = SoundEncoder(65, 16, width=8)
    spec = torch.randn(8, 65, 32)
    grads = {}
    for compiled in (False, True):
        encoder.zero_grad()
        run = torch.compile(encoder) if compiled else encoder
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = run(spec)
        out.float().square().sum().backward()
        grads[compiled] = [p.grad.clone() for p in encoder.parameters()]
    for eager, compiled in zip(grads[False], grads[True], strict=True):
        assert torch.isfinite(compiled).all()
        torch.testing.assert_close(compiled, eager, rtol=0.05, atol=0.05)


@pytest.mark.slow
def test_flagship_trains_compiled_under_bf16_autocast_with_finite_losses():
    _, trainer = make_trainer("shapes", steps=3, batch_size=8, device="cpu", progress=False,
                              amp=True, compile=True, log_every=1)
    history = trainer.fit()
    assert trainer.step == 3 and {"e_loss", "d_loss", "g_loss"} <= set().union(*history)
    assert all(torch.isfinite(torch.tensor(v)) for h in history for v in h.values())


def _conv_call_stacks(step) -> list[list[torch.nn.Module]]:
    """For each convolution `step()` runs: the modules whose forward it runs inside."""
    stack, stacks = [], []
    convs = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.ConvTranspose2d)

    def before(module, args):
        stack.append(module)
        if isinstance(module, convs):
            stacks.append(list(stack))

    def after(module, args, output):
        stack.pop()

    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(before),
             torch.nn.modules.module.register_module_forward_hook(after)]
    try:
        step()
    finally:
        for hook in hooks:
            hook.remove()
    return stacks


def test_flagship_compile_covers_every_convolution_its_steps_run():
    # `module.compile()` compiles calls of that module only. The steps call parts (G's
    # render, D's trunk, E's per-modality encoders) rather than the networks' forward, so
    # compiling the three networks once left nearly every convolution eager.
    _, trainer = make_trainer("shapes", steps=8, batch_size=8, device="cpu", progress=False)
    trainer.fit(2)  # past E's warm-up (a quarter of the run): the D and G steps from here
    stacks = _conv_call_stacks(lambda: trainer.fit(3))
    compiled = {id(m) for m in trainer.family.compilable().values()}
    ran = {id(stack[-1]) for stack in stacks}
    assert len(ran) >= 10  # G's, D's and E's image encoder's layers at least
    eager = [stack for stack in stacks if not any(id(m) in compiled for m in stack)]
    assert not eager, ("convolutions run eager under --compile, called through: "
                       + " > ".join(type(m).__name__ for m in eager[0]))
