"""The flagship multimodal GAN: networks, phases, a short run at 32 and 64 px, sampling paths."""

from __future__ import annotations

import json

import pytest
import torch

from mmgan_ref.cli import default_recipe, main
from mmgan_ref.data.shapes import sample_scenes, shapes_vocabulary
from mmgan_ref.data.sound import synthesize_sound, write_wav
from mmgan_ref.flagship import FlagshipConfig, FlagshipGAN, ShapesRecipe, slerp
from mmgan_ref.flagship.family import _multi_positive_nce
from mmgan_ref.flagship.recipe import FREQ_BINS, SHAPES_DEFAULTS, SHAPES_OPTIONS
from mmgan_ref.flagship.sampling import encode_captions
from mmgan_ref.train.recipes import get_recipe, register
from mmgan_ref.train.run import load_run, train
from mmgan_ref.train.trainer import TrainConfig, Trainer

TINY = {"code_dim": 8, "z_dim": 8, "g_width": 4, "d_width": 4, "e_width": 4, "text_dim": 8,
        "sound_width": 4}
TEST_RECIPE = "shapes-test"


def tiny_family(image_size: int = 32, **kwargs) -> FlagshipGAN:
    torch.manual_seed(0)
    return FlagshipGAN(FlagshipConfig(image_size=image_size, **TINY), shapes_vocabulary(),
                       FREQ_BINS, **kwargs)


def scenes_batch(n: int = 8, image_size: int = 32) -> dict[str, torch.Tensor]:
    scenes = sample_scenes(n, seed=1, image_size=image_size)
    return {k: scenes[k] for k in ("image", "tokens", "spectrogram", "attributes")}


@pytest.fixture(scope="module")
def tiny_recipe() -> str:
    """A tiny copy of the shapes recipe, registered for the tests."""
    options = {**SHAPES_OPTIONS, **TINY, "train_scenes": 64, "eval_scenes": 32,
               "channels_last": False, "e_steps": 1}
    register(ShapesRecipe(TEST_RECIPE, "tiny shapes recipe for tests", SHAPES_DEFAULTS, options))
    return TEST_RECIPE


@pytest.fixture(scope="module")
def run_dir(tiny_recipe, tmp_path_factory):
    """A 3-step run of the tiny recipe, evaluated, with its figures."""
    out = tmp_path_factory.mktemp("flagship") / "run"
    train(tiny_recipe, out=out, steps=3, batch_size=8, device="cpu", progress=False)
    return out


def test_shapes_is_registered_and_is_the_default_recipe():
    assert get_recipe("shapes").name == "shapes"
    assert default_recipe() == "shapes"


@pytest.mark.parametrize("image_size", [32, 64])
def test_networks_have_the_documented_shapes(image_size):
    family = tiny_family(image_size)
    batch = scenes_batch(4, image_size)
    codes = family.encoder(image=batch["image"], text=batch["tokens"],
                           sound=batch["spectrogram"])
    for name, code in codes.items():
        assert code.shape == (4, 8), name
        torch.testing.assert_close(code.norm(dim=1), torch.ones(4), msg=name)
    images = family.generator(torch.randn(4, 8), codes["text"])
    assert images.shape == (4, 3, image_size, image_size)
    assert images.min() >= -1 and images.max() <= 1
    assert family.discriminator(images, codes["text"]).shape == (4,)


def test_the_code_enters_the_input_and_every_resolution():
    family = tiny_family().eval()
    film = [m for m in family.generator.modules() if type(m).__name__ == "FiLM"]
    assert len(film) == 4  # 4x4, 8x8, 16x16 and 32x32
    z, noise = torch.randn(2, 8), torch.zeros(2, 3, 32, 32)
    a, b = torch.nn.functional.normalize(torch.randn(2, 8), dim=1)
    with torch.no_grad():
        images = family.generator(z, torch.stack([a, b]), noise)
        same = family.generator(z, torch.stack([a, a]), noise)
    assert not torch.allclose(images[0], images[1])
    assert not torch.allclose(same[1], images[1])


def test_pixel_noise_fixes_the_scale_of_g_s_pixel_noise():
    z, s = torch.randn(2, 8), torch.nn.functional.normalize(torch.randn(2, 8), dim=1)
    a, b = torch.randn(2, 2, 3, 32, 32)
    for scale in (0.0, 0.04):
        torch.manual_seed(0)
        generator = FlagshipGAN(FlagshipConfig(**TINY, pixel_noise=scale), shapes_vocabulary(),
                                FREQ_BINS).generator.eval()
        with torch.no_grad():
            spread = (generator(z, s, a) - generator(z, s, b)).std().item()
        # the difference of two noise draws has std scale * sqrt(2) (no pixel is clamped)
        assert spread == pytest.approx(scale * 2**0.5, abs=1e-3), scale
        learnt = "pixel_noise_scale" in dict(generator.named_parameters())
        assert learnt == (scale == 0), scale  # a known noise level is not learnt
    assert SHAPES_OPTIONS["pixel_noise"] > 0
    with pytest.raises(ValueError, match="pixel_noise"):
        FlagshipConfig(pixel_noise=-0.1)


def test_e_judges_g_s_image_before_its_pixel_noise_and_d_after(monkeypatch):
    torch.manual_seed(0)
    family = FlagshipGAN(FlagshipConfig(**TINY, pixel_noise=0.5), shapes_vocabulary(),
                         FREQ_BINS)
    seen = {}
    for name, module, method in (("render", family.generator, "render"),
                                 ("e", family.encoder, "encode_image"),
                                 ("d", family.discriminator, "forward")):
        original = getattr(module, method)

        def spy(x, *args, _name=name, _original=original):
            out = _original(x, *args)
            seen[_name] = (out if _name == "render" else x).detach()  # render: its output
            return out

        monkeypatch.setattr(module, method, spy)
    family.g_loss(scenes_batch(8))
    assert torch.equal(seen["e"], seen["render"])
    assert (seen["d"] - seen["render"]).std() > 0.3  # D sees the noisy image


def test_pooled_mode_seeking_ignores_texture(monkeypatch):
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None, :]) % 2 * 0.2 - 0.1
    base = torch.zeros(4, 3, 32, 32)
    base[2:] += checker  # rows 0/2 and 1/3 share a code and differ only by a fine texture
    ratios = {}
    for pool in (1, 2):
        family = tiny_family(mode_seeking=1.0, mode_seeking_pool=pool)
        monkeypatch.setattr(family.generator, "render", lambda z, s: base + 0 * z.sum())
        ratios[pool] = family.g_loss(scenes_batch(4))[1]["g_mode_ratio"].item()
    assert ratios[1] > 0.05 and ratios[2] < 1e-6
    with pytest.raises(ValueError, match="mode_seeking_pool"):
        tiny_family(mode_seeking_pool=0)


def test_each_phase_updates_only_its_own_network():
    family = tiny_family(mode_seeking=1.0)
    batch = scenes_batch(8)
    for phase in family.phases:
        family.zero_grad(set_to_none=True)
        loss, extras = phase.loss(batch)
        loss.backward()
        assert torch.isfinite(loss), phase.name
        owners = {"e": family.encoder, "d": family.discriminator, "g": family.generator}
        for name, network in owners.items():
            has_grad = any(p.grad is not None for p in network.parameters())
            assert has_grad == (name == phase.optimizer), (phase.name, name)
    assert {"g_adv", "g_cos", "g_mode_ratio"} <= set(extras)


def test_the_g_step_reuses_the_d_steps_images_on_the_same_batch_only():
    family = tiny_family(mode_seeking=1.0)
    renders = []
    family.generator.net.register_forward_hook(lambda *args: renders.append(1))
    batch = scenes_batch(8)
    family.d_loss(batch)
    assert len(renders) == 1
    _, extras = family.g_loss(batch)  # the same images: G is not run again
    assert len(renders) == 1 and extras["g_mode_ratio"] > 0
    family.g_loss(batch)  # the shared images serve one G step, then G draws anew
    family.g_loss(scenes_batch(8))
    assert len(renders) == 3


def test_e_steps_trains_e_alone_first_then_freezes_it():
    family = tiny_family(e_steps=2)
    batch = scenes_batch(8)
    trainer = Trainer(family, lambda step: batch, TrainConfig(steps=2, batch_size=8,
                                                              device="cpu", progress=False))
    g_before = [p.detach().clone() for p in family.generator.parameters()]
    e_before = [p.detach().clone() for p in family.encoder.parameters()]
    assert [p.name for p in family.phases] == ["e"]
    trainer.fit()
    assert family.e_updates == 2 and [p.name for p in family.phases] == ["d", "g"]
    e_warm = [p.detach().clone() for p in family.encoder.parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(e_before, e_warm, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(g_before, family.generator.parameters(),
                                                 strict=True))  # G waits for E
    trainer.fit(4)
    assert all(torch.equal(a, b) for a, b in zip(e_warm, family.encoder.parameters(),
                                                 strict=True))  # E frozen
    assert not all(torch.equal(a, b) for a, b in zip(g_before, family.generator.parameters(),
                                                     strict=True))
    assert family.e_updates == 2
    assert "e_loss" in trainer.history[0] and "e_loss" not in trainer.history[-1]


def test_e_steps_stage_survives_a_checkpoint_and_zero_keeps_every_phase():
    trained = tiny_family(e_steps=3)
    trained.e_updates = 3
    fresh = tiny_family(e_steps=3)
    assert [p.name for p in fresh.phases] == ["e"]
    fresh.load_extra_state(trained.extra_state())
    assert [p.name for p in fresh.phases] == ["d", "g"]
    older = tiny_family(e_steps=3)
    older.load_extra_state({})  # a checkpoint from before e_steps: E was trained jointly
    assert [p.name for p in older.phases] == ["d", "g"]
    assert [p.name for p in tiny_family(e_steps=0).phases] == ["e", "d", "g"]


def test_the_recipe_gives_e_alone_at_most_a_quarter_of_the_run(tiny_recipe):
    recipe = get_recipe("shapes")
    assert recipe.e_steps(SHAPES_DEFAULTS) == SHAPES_OPTIONS["e_steps"] == 400
    short = TrainConfig(steps=30)  # MMGAN_FAST's smoke run: D and G must train too
    assert recipe.e_steps(short) == 7
    run = train(tiny_recipe, out=None, evaluate=False, steps=4, batch_size=4, device="cpu",
                progress=False)
    assert run.family.e_steps == 1 and run.family.e_updates == 1
    assert [p.name for p in run.family.phases] == ["d", "g"]


@pytest.mark.parametrize("value, error", [(-1, ValueError), (1.5, TypeError)])
def test_e_steps_is_checked(value, error):
    with pytest.raises(error, match="e_steps"):
        tiny_family(e_steps=value)


def test_contrastive_consistency_counts_same_attribute_columns_as_positives():
    attrs = torch.tensor([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]])
    logits = torch.tensor([[0.0, -9, 9], [-9, 9, -9], [9, -9, 0]])
    # Row 0 points at row 2, a scene with the same attributes: nearly zero loss.
    assert _multi_positive_nce(logits, attrs) < 1e-3
    assert _multi_positive_nce(logits, torch.arange(3)[:, None].repeat(1, 4)) > 2


def test_slerp_stays_on_the_sphere_and_hits_both_ends():
    a, b = torch.nn.functional.normalize(torch.randn(2, 16), dim=1)
    path = slerp(a, b, torch.linspace(0, 1, 5))
    torch.testing.assert_close(path.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)


def test_unknown_words_are_listed_with_the_vocabulary():
    family = tiny_family()
    with pytest.raises(ValueError) as err:
        encode_captions(family, ["a small purple hexagon at the top left"])
    message = str(err.value)
    assert "'purple'" in message and "'hexagon'" in message
    assert "vocabulary" in message and "crimson" in message
    with pytest.raises(ValueError, match="give a caption"):
        encode_captions(family, ["   "])


def test_a_short_run_writes_figures_and_metrics(run_dir):
    for name in ("checkpoint.pt", "samples.png", "interpolation.png", "retrieval.png",
                 "metrics.json", "curves.png"):
        assert (run_dir / name).is_file(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    accuracy = metrics["attribute_accuracy"]
    for condition in ("held_in", "held_out", "sound_to_image"):
        assert set(accuracy[condition]) == {"shape", "colour", "size", "position", "all"}
    assert accuracy["real_ceiling"]["all"] == 1.0  # the reader reads real scenes right
    directions = {k for k in metrics["retrieval"] if "->" in k}
    assert len(directions) == 6 and "text->image" in directions
    assert 0 < metrics["retrieval"]["chance"]["R@1"] < 0.2
    assert metrics["diversity"]["ratio"] > 0


def test_checkpoint_round_trip_gives_the_same_samples(run_dir):
    first, second = load_run(run_dir), load_run(run_dir)
    assert first.family.vocabulary == shapes_vocabulary()
    recipe = first.recipe
    a = recipe.sample(first.family, first.generator, 4, 7, text="a big lime box at the top right")
    b = recipe.sample(second.family, second.generator, 4, 7, text="a big lime box at the top right")
    torch.testing.assert_close(a, b)
    assert a.shape == (4, 3, 32, 32)
    with pytest.raises(ValueError, match="differs"):
        first.family.load_extra_state({"vocabulary": {"words": ["circle"], "max_len": 12}})


def test_sample_command_takes_text_sound_image_and_interpolate(run_dir, tmp_path, capsys):
    import matplotlib.pyplot as plt

    wav = write_wav(tmp_path / "scene.wav", synthesize_sound(torch.tensor([2, 3, 1, 0]), seed=0))
    png = tmp_path / "scene.png"
    image = sample_scenes(1, seed=3)["image"][0]
    plt.imsave(png, ((image.permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy())
    cases = {"text": ["--text", "a small red circle at the top left"],
             "sound": ["--sound", str(wav)], "image": ["--image", str(png)],
             "interpolate": ["--interpolate", "a red disc, small, in the top left",
                             "a big blue box at the lower right"]}
    for name, flags in cases.items():
        out = tmp_path / f"{name}.png"
        assert main(["sample", str(run_dir), "-o", str(out), "-n", "8", *flags]) == 0, name
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    printed = capsys.readouterr().out
    assert printed.count("nearest captions") == 1 and "the sound is nearest to" in printed
    assert (tmp_path / "image.wav").is_file()  # image -> sound by retrieval


def test_sample_command_rejects_unknown_words(run_dir, tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["sample", str(run_dir), "-o", str(out), "--text", "a purple circle"]) == 2
    err = capsys.readouterr().err
    assert "unknown words: 'purple'" in err and "vocabulary" in err
    assert not out.exists()


def test_the_64_pixel_path_trains_and_samples_on_cpu(tiny_recipe):
    run = train(tiny_recipe, out=None, evaluate=False, steps=2, batch_size=4, device="cpu",
                progress=False, extra={"image_size": 64})
    images = run.recipe.sample(run.family, run.generator, 2, 0, text="a tiny golden ball, top left")
    assert images.shape == (2, 3, 64, 64)
    assert run.trainer.history[-1]["step"] == 2.0

