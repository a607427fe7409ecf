"""Smoke tests of the built-in recipes: each trains a few steps and evaluates.

The recipes' targets (grid 25/25 modes and >= 95 % high quality, digits-cgan coherence and
diversity) take a minute of training each; `benchmarks/train_targets.py` measures them.
"""

from __future__ import annotations

import math

import pytest
import torch

from mmgan_ref.train.families import AdversarialGAN, linear_decay
from mmgan_ref.train.recipes import Toy2DRecipe, get_recipe
from mmgan_ref.train.run import make_trainer, train

FAST = dict(steps=5, batch_size=32, device="cpu", progress=False, log_every=5)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_toy_recipe_trains_and_reports_mode_coverage(name):
    run = train(name, **FAST)
    assert run.trainer.step == 5
    assert {"modes", "high_quality", "reverse_kl", "protocol"} <= run.metrics.keys()
    assert 0 <= run.metrics["modes"] <= (8 if name == "ring" else 25)
    assert 0.0 <= run.metrics["high_quality"] <= 1.0
    assert run.metrics["steps"] == 5


def test_digits_cgan_reports_coherence_with_its_ceiling_and_diversity():
    run = train("digits-cgan", **FAST)
    m = run.metrics
    assert {"coherence", "ceiling", "diversity", "judge"} <= m.keys()
    assert m["judge"] == "mlp"
    assert 0.9 < m["ceiling"] <= 1.0  # the judge's accuracy on real test digits
    assert 0.0 <= m["coherence"] <= 1.0 and m["diversity"] > 0.0
    images = run.recipe.sample(run.family, run.generator, 20, seed=0, label=7)
    assert images.shape == (20, 1, 8, 8) and images.abs().max() <= 1.0


def test_digits_bigan_reports_probes_and_reconstructs(tmp_path):
    run = train("digits-bigan", out=tmp_path / "run", **FAST)
    assert {"linear_probe", "knn_probe", "reconstruction_rmse",
            "shuffled_rmse"} <= run.metrics.keys()
    assert 0.1 <= run.metrics["linear_probe"] <= 1.0
    assert (tmp_path / "run" / "samples.png").is_file()
    x = torch.zeros(4, 1, 8, 8)
    assert run.family.reconstruct(x).shape == (4, 1, 8, 8)


@pytest.mark.parametrize("name", ["ring", "grid", "digits-cgan", "digits-bigan"])
def test_recipe_samples_are_deterministic_by_seed(name):
    recipe, trainer = make_trainer(name, **FAST)
    a = recipe.sample(trainer.family, trainer.sampling_generator(), 6, seed=1)
    b = recipe.sample(trainer.family, trainer.sampling_generator(), 6, seed=1)
    c = recipe.sample(trainer.family, trainer.sampling_generator(), 6, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_toy_recipe_decays_the_learning_rate_to_zero_and_checkpoints_the_schedule():
    recipe, trainer = make_trainer("grid", **{**FAST, "steps": 8})
    assert recipe.options["lr_decay_start"] == 0.5
    trainer.fit(6)  # halfway through the decay: 2 of 4 decay steps left
    for opt in trainer.family.optimizers.values():
        base = opt.param_groups[0]["initial_lr"]
        assert math.isclose(opt.param_groups[0]["lr"], base * 2 / 4, rel_tol=1e-6)
    state = trainer.state()
    _, again = make_trainer("grid", **{**FAST, "steps": 8})
    again.load_state(state)
    assert again.family.schedulers["g"].last_epoch == 6
    again.fit()
    assert all(opt.param_groups[0]["lr"] == 0.0 for opt in again.family.optimizers.values())


def test_linear_decay_rejects_bad_settings():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="lr_decay_start"):
        linear_decay(opt, 10, start=1.5)
    with pytest.raises(ValueError, match="lr_decay_steps"):
        linear_decay(opt, 0)


def test_cgan_sample_rejects_a_label_out_of_range():
    recipe, trainer = make_trainer("digits-cgan", **FAST)
    with pytest.raises(ValueError, match="label"):
        recipe.sample(trainer.family, trainer.sampling_generator(), 4, seed=0, label=10)
    assert get_recipe("digits-cgan") is recipe


def _toy_family(**kwargs):
    from mmgan_ref.nn.mlp import MLPDiscriminator, MLPGenerator
    from mmgan_ref.train.families import AdversarialGAN

    torch.manual_seed(0)
    return AdversarialGAN(MLPGenerator(2, 2, (16,)), MLPDiscriminator(2, (16,)), z_dim=2,
                          r1_gamma=0.5, **kwargs)


def test_lazy_r1_applies_the_scaled_penalty_on_one_d_update_in_r1_every():
    family = _toy_family(r1_every=3)
    eager = _toy_family()
    batch = {"x": torch.randn(16, 2)}
    carried = []
    for _ in range(7):
        torch.manual_seed(1)
        loss, extras = family.d_loss(batch)
        carried.append("r1" in extras)
        if "r1" in extras:  # the penalty is r1_every times the eager family's
            torch.manual_seed(1)
            eager.discriminator.load_state_dict(family.discriminator.state_dict())
            eager_loss, eager_extras = eager.d_loss(batch)
            plain = eager_loss - 0.5 * 0.5 * eager_extras["r1"]
            assert torch.allclose(loss, plain + 0.5 * 0.5 * 3 * extras["r1"])
        family.optimizers["d"].zero_grad()
        loss.backward()
        family.optimizers["d"].step()
    assert carried == [True, False, False, True, False, False, True]


def test_lazy_r1_rejects_a_period_below_one():
    with pytest.raises(ValueError, match="r1_every"):
        _toy_family(r1_every=0)


def test_r1_until_stops_the_penalty_after_that_many_d_updates():
    family = _toy_family(r1_every=2, r1_until=5)
    batch = {"x": torch.randn(16, 2)}
    carried = []
    for _ in range(9):
        loss, extras = family.d_loss(batch)
        carried.append("r1" in extras)
        family.optimizers["d"].zero_grad()
        loss.backward()
        family.optimizers["d"].step()
    assert carried == [True, False, True, False, True, False, False, False, False]
    with pytest.raises(ValueError, match="r1_until"):
        _toy_family(r1_until=-1)


def test_toy_recipe_r1_until_is_a_fraction_of_the_run():
    recipe, trainer = make_trainer("grid", **{**FAST, "steps": 40})
    assert recipe.options["r1_until"] == 0.5 and trainer.family.r1_until == 20
    trainer.fit()
    logged = [entry for entry in trainer.history if "r1" in entry]
    assert logged and all(entry["step"] <= 20 for entry in logged)
    bad = Toy2DRecipe("bad-r1", "r1_until out of range", trainer.config,
                      {**recipe.options, "r1_until": 1.5})
    with pytest.raises(ValueError, match="r1_until"):
        bad.build(trainer.config)


def test_g_step_reuses_the_d_steps_images_on_the_same_batch_only():
    family = _toy_family()
    calls = []
    family.generator.register_forward_hook(lambda *args: calls.append(1))
    batch = {"x": torch.randn(16, 2)}
    d_loss, _ = family.d_loss(batch)
    d_loss.backward()
    assert all(p.grad is None for p in family.generator.parameters())  # D's loss spares G
    family.discriminator.zero_grad(set_to_none=True)
    g_loss, _ = family.g_loss(batch)
    assert len(calls) == 1  # one G forward serves both phases
    g_loss.backward()
    assert all(p.grad is not None for p in family.generator.parameters())
    assert all(p.grad is None for p in family.discriminator.parameters())  # D is frozen
    family.g_loss({"x": torch.randn(16, 2)})  # another batch: fresh images
    family.g_loss(batch)  # the shared images are used once
    assert len(calls) == 3


@pytest.mark.parametrize("batch_norm", [False, True])
def test_d_scores_real_and_fake_as_two_separate_batches_would(batch_norm):
    family = _toy_family()
    if batch_norm:  # batch statistics: real and fake must not share a batch
        family.discriminator.body.insert(1, torch.nn.BatchNorm1d(16))
        family = AdversarialGAN(family.generator, family.discriminator, z_dim=2)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    together = family._d_logits(real, fake, None)
    apart = family.discriminator(real, None), family.discriminator(fake, None)
    for a, b in zip(together, apart, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
