"""Named, documented training configurations: what `mmgan train RECIPE` runs.

Lesson: 02 (ring, grid), 03 (digits-cgan), 06 (digits-bigan); the flagship `shapes`
recipe lives in `mmgan_ref.flagship`.

A recipe knows its data, builds its family and batch source, evaluates a trained
family with the course's protocols, and draws the sample figure of a run folder.
Register a new one with `register(recipe)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from mmgan_ref.train.batches import BatchSource, SampledBatches, TensorBatches
from mmgan_ref.train.families import AdversarialGAN, BiGAN
from mmgan_ref.train.family import GANFamily
from mmgan_ref.train.trainer import TrainConfig
from mmgan_ref.utils import check_float, check_int

RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    RECIPES[recipe.name] = recipe
    return recipe


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`, or a ValueError listing the known ones."""
    _load_plugins()
    if name not in RECIPES:
        raise ValueError(f"recipe: got {name!r}; allowed: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def recipe_names() -> list[str]:
    _load_plugins()
    return sorted(RECIPES)


def _load_plugins() -> None:
    # The flagship registers itself on import; imported here, not at the top, because it
    # imports this module.
    import mmgan_ref.flagship  # noqa: F401


@dataclass
class Recipe:
    """A named configuration. Subclasses implement the four methods below.

    Attributes:
        name: what `mmgan train` takes.
        description: one line for `mmgan train --help`.
        defaults: the TrainConfig a plain `mmgan train NAME` uses.
        options: recipe-specific settings (network widths, loss, penalties).
    """

    name: str
    description: str
    defaults: TrainConfig
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, config: TrainConfig, rank: int = 0, world_size: int = 1
              ) -> tuple[GANFamily, BatchSource]:
        raise NotImplementedError

    def evaluate(self, family: GANFamily, generator: torch.nn.Module, seed: int = 0
                 ) -> dict[str, Any]:
        raise NotImplementedError

    def save_figures(self, family: GANFamily, generator: torch.nn.Module, run_dir: Path,
                     seed: int = 0) -> list[Path]:
        raise NotImplementedError

    def sample(self, family: GANFamily, generator: torch.nn.Module, n: int, seed: int,
               **condition: Any) -> torch.Tensor:
        raise NotImplementedError

    def sample_to_file(self, family: GANFamily, generator: torch.nn.Module, path: Path,
                       n: int, seed: int, **options: Any) -> list[str]:
        """What `mmgan sample` does: save n samples as an image; return lines to show."""
        unsupported = sorted(k for k in options if k not in self.sample_options)
        if unsupported:
            allowed = ", ".join(f"--{k}" for k in self.sample_options) or "none"
            raise ValueError(f"recipe {self.name!r} does not take "
                             f"{', '.join('--' + k for k in unsupported)}; it takes: {allowed}")
        samples = self.sample(family, generator, n, seed, **options).cpu()
        _save_samples(samples, path, f"{self.name}: {n} samples (seed {seed})")
        return [f"wrote {n} samples to {path}"]

    @property
    def sample_options(self) -> tuple[str, ...]:
        return ()


def _decay(options: dict[str, Any], config: TrainConfig) -> dict[str, Any]:
    """The family's lr-decay arguments: decay over the run's steps unless the option is None."""
    start = options.get("lr_decay_start")
    if start is None:
        return {}
    return {"lr_decay_steps": config.steps, "lr_decay_start": start}


def _r1_until(options: dict[str, Any], config: TrainConfig) -> int | None:
    """The D updates that carry R1: the option's fraction of the run, or None (all)."""
    fraction = options.get("r1_until")
    if fraction is None:
        return None
    fraction = check_float("r1_until", fraction, minimum=0.0, maximum=1.0)
    return round(fraction * config.steps * options.get("d_steps", 1))


def _save_samples(samples: torch.Tensor, path: Path, title: str) -> Path:
    import matplotlib.pyplot as plt

    from mmgan_ref.utils import atomic_savefig
    from mmgan_ref.viz import plot_image_grid, plot_samples_2d

    if samples.dim() == 2:
        fig = plot_samples_2d(samples, title=title)
    else:
        fig = plot_image_grid(samples, max(1, round(samples.shape[0] ** 0.5)), title)
    path = atomic_savefig(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- toy 2-D


@dataclass
class Toy2DRecipe(Recipe):
    """An MLP GAN on the ring or grid mixture (the PacGAN/VEEGAN protocol).

    Options: mixture ("ring"/"grid"), z_dim, g_hidden, d_hidden, d_activation, loss,
    r1_gamma, r1_every (lazy R1: the penalty on one D update in r1_every), r1_until (None:
    R1 all run long; else only for that fraction of the run), spectral_norm (in D),
    d_lr_scale, d_steps, lr_decay_start (None: constant rates; else both rates fall
    linearly to 0 from that fraction of the run), betas.
    `evaluate` returns {"protocol", "modes", "high_quality", "reverse_kl"} on 2,500
    samples of the plain generator (no truncation, no rejection).
    """

    def build(self, config, rank=0, world_size=1):
        from mmgan_ref.data.toy2d import sample_toy2d
        from mmgan_ref.nn.mlp import MLPDiscriminator, MLPGenerator

        o = self.options
        torch.manual_seed(config.seed)
        generator = MLPGenerator(o["z_dim"], 2, o["g_hidden"], activation="relu")
        discriminator = MLPDiscriminator(2, o["d_hidden"], activation=o["d_activation"],
                                         spectral_norm=o["spectral_norm"])
        family = AdversarialGAN(generator, discriminator, z_dim=o["z_dim"], data_key="x",
                                loss=o["loss"], r1_gamma=o["r1_gamma"],
                                r1_every=o["r1_every"], r1_until=_r1_until(o, config),
                                lr=config.lr,
                                betas=o["betas"], d_lr_scale=o["d_lr_scale"],
                                d_steps=o["d_steps"], **_decay(o, config))

        def sample(n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
            return {"x": sample_toy2d(self.options["mixture"], n, generator=gen)}

        return family, SampledBatches(sample, config.batch_size, config.seed, rank, world_size)

    def sample(self, family, generator, n, seed, **condition):
        return family.sample(n, generator=torch.Generator().manual_seed(seed), network=generator)

    def evaluate(self, family, generator, seed=0):
        from mmgan_ref.metrics.coverage import toy2d_coverage

        samples = self.sample(family, generator, 2500, seed)
        return {"protocol": "PacGAN/VEEGAN, 2,500 samples",
                **toy2d_coverage(samples.cpu(), self.options["mixture"])}

    def save_figures(self, family, generator, run_dir, seed=0):
        import matplotlib.pyplot as plt

        from mmgan_ref.data.toy2d import mixture_means, sample_toy2d
        from mmgan_ref.utils import atomic_savefig
        from mmgan_ref.viz import plot_samples_2d

        mixture = self.options["mixture"]
        samples = self.sample(family, generator, 2500, seed).cpu()
        real = sample_toy2d(mixture, 2500, seed=seed)
        fig = plot_samples_2d(samples, mixture_means(mixture), real=real,
                              title=f"{self.name}: 2,500 generated samples")
        path = atomic_savefig(fig, run_dir / "samples.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        return [path]


# Tuned to fit ~60 s of training on a 2-core laptop CPU (benchmarks/train_targets.py). A
# step of 128 is ~7 ms, under half of it the layers' matmuls and the rest per-op overhead, so
# small batches buy the most steps per second, and steps are what sharpen the modes: on
# the grid, 2,800 steps of 256 reached ~45 % high-quality samples, 5,000 steps of 128
# ~80 %, 7,000 steps of 128 ~89 %. Lazy R1 (one D update in 4, weighted x4) makes each
# step ~20 % cheaper at no loss, and so do AdversarialGAN's shared G pass, one D pass over
# real and fake, and fused Adam together (~12 ms a step down to ~8; `LeanAdam` then takes
# ~0.7 ms of Python off each step's two Adam updates). EMA of G hurts here:
# G's weights wander between equivalent solutions and their average does not draw the
# modes; a linear decay of both rates to 0 over the second half sharpens them.
TOY_OPTIONS = {"z_dim": 2, "g_hidden": (128, 128, 128), "d_hidden": (128, 128, 128),
               "d_activation": "leaky_relu", "loss": "nonsaturating", "r1_gamma": 0.1,
               "r1_every": 4, "r1_until": None, "spectral_norm": False, "d_lr_scale": 1.0,
               "d_steps": 1, "lr_decay_start": 0.5, "betas": (0.5, 0.999)}

# The ring's 8 modes take a faster start: twice the rate, decaying from 30 % of the run
# (95.0 % high quality over seeds 0-2 against 93.3 % at 7,000 steps of 128; on the grid the
# same change gives 86.7 / 85.3 / 70.6 %, so the grid keeps the settings above). Smaller
# steps pay here as on the grid: 12,000 of 48 gave 96.4 / 95.8 / 96.4 %.
register(Toy2DRecipe(
    "ring", "MLP GAN on 8 Gaussians on a circle (PacGAN protocol); lesson 02",
    TrainConfig(steps=12000, batch_size=48, lr=2e-3),
    {**TOY_OPTIONS, "mixture": "ring", "lr_decay_start": 0.3}))
# The grid's D uses ReLU: its backward is ~4x cheaper than leaky ReLU's on a CPU. Its
# steps are small, because step count sharpens the grid more than batch size does: on
# seeds 0-1, 7,500 steps of 128 gave 91.4 / 91.4 % high quality, 12,000 of 64 gave
# 94.1 / 93.0 %, 14,000 of 48 94.3 / 95.4 % and 18,000 of 32 93.2 / 93.2 %; 16,000 of 48
# reach 95.2 % on seeds 0-2. A step of 48 still costs ~4.6 ms (the per-op overhead stays).
# R1 stops halfway: it steadies D while the modes form, but in the decay it only costs
# time (~12 % of a step; seeds 0-2 gave 93.8 / 95.2 / 91.8 % at 12,000 steps against
# 93.6 / 95.2 / 92.2 % with R1 throughout; stopping it at a quarter lost modes).
# 18,000 steps: 95.4 % on seeds 0-2 (94.8 / 95.2 / 96.1) in at most 55.4 s of CPU on the
# Intel Xeon of session 10 (benchmarks/train_targets.py); 13,000 gave 93.8 % there. On the
# AMD CPU of earlier sessions a step cost ~4.3 ms, so the same run takes ~75 s there.
register(Toy2DRecipe(
    "grid", "MLP GAN on 25 Gaussians on a 5x5 grid (PacGAN protocol); lesson 02",
    TrainConfig(steps=18000, batch_size=48, lr=1e-3),
    {**TOY_OPTIONS, "mixture": "grid", "d_activation": "relu", "r1_until": 0.5}))


# ----------------------------------------------------------------------------- digits


def _digits_tensors(seed: int) -> dict[str, torch.Tensor]:
    from mmgan_ref.data.digits import load_digits_tensors

    images, labels = load_digits_tensors("all", seed=seed)
    return {"image": images, "label": labels}


def _digit_grid(images: torch.Tensor, title: str, run_dir: Path, nrow: int = 10) -> Path:
    import matplotlib.pyplot as plt

    from mmgan_ref.utils import atomic_savefig
    from mmgan_ref.viz import plot_image_grid

    fig = plot_image_grid(images, nrow, title)
    path = atomic_savefig(fig, run_dir / "samples.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _cgan_networks(o: dict[str, Any]) -> tuple[torch.nn.Module, torch.nn.Module]:
    """G(z, label) -> (B, 1, 8, 8) and a projection D(x, label) -> (B,), conv or MLP."""
    from mmgan_ref.nn.adapters import FlattenInput, ReshapeOutput
    from mmgan_ref.nn.conv import ConvDiscriminator, ConvGenerator
    from mmgan_ref.nn.mlp import MLPDiscriminator, MLPGenerator

    if o["arch"] == "conv":
        generator = ConvGenerator(o["z_dim"], channels=1, image_size=8, base_width=o["g_width"],
                                  num_classes=10, conditioning=o["conditioning"])
        discriminator = ConvDiscriminator(channels=1, image_size=8, base_width=o["d_width"],
                                          num_classes=10, projection=True,
                                          spectral_norm=o["spectral_norm"])
        return generator, discriminator
    generator = ReshapeOutput(MLPGenerator(o["z_dim"], 64, o["g_hidden"], num_classes=10,
                                           out_activation="tanh"), (1, 8, 8))
    discriminator = FlattenInput(MLPDiscriminator(64, o["d_hidden"], num_classes=10,
                                                  projection=True,
                                                  spectral_norm=o["spectral_norm"]))
    return generator, discriminator


@dataclass
class DigitsCGANRecipe(Recipe):
    """A conditional GAN on 8x8 digits: label concatenated in G, projection D.

    Options: arch ("mlp", or "conv" for `nn.conv`'s DCGAN nets), z_dim, g_hidden/d_hidden
    (MLP widths), g_width/d_width/conditioning (conv), spectral_norm, loss, r1_gamma,
    d_lr_scale, d_steps, lr_decay_start, betas, judge ("mlp" or "logreg").
    `evaluate` returns {"judge", "coherence", "ceiling", "diversity", "diversity_detail"}:
    coherence by the judge trained on real digits, its real test accuracy as the ceiling,
    and the within-class diversity ratio (1.0 = as varied as real digits).
    """

    def build(self, config, rank=0, world_size=1):
        o = self.options
        torch.manual_seed(config.seed)
        generator, discriminator = _cgan_networks(o)
        family = AdversarialGAN(generator, discriminator, z_dim=o["z_dim"], data_key="image",
                                cond_key="label", loss=o["loss"], r1_gamma=o["r1_gamma"],
                                lr=config.lr, betas=o["betas"], d_lr_scale=o["d_lr_scale"],
                                d_steps=o["d_steps"], **_decay(o, config))
        source = TensorBatches(_digits_tensors(0), config.batch_size, config.seed, rank,
                               world_size)
        return family, source

    sample_options = ("label",)

    def sample(self, family, generator, n, seed, label: int | None = None, **condition):
        if label is not None:
            check_int("label", label, minimum=0, maximum=9)
        labels = (torch.arange(n) % 10) if label is None else torch.full((n,), int(label))
        return family.sample(n, labels, torch.Generator().manual_seed(seed), network=generator)

    def evaluate(self, family, generator, seed=0):
        from mmgan_ref.metrics.coherence import coherence, fit_digits_classifier
        from mmgan_ref.metrics.diversity import within_class_diversity

        n = 1000
        labels = torch.arange(n) % 10
        fake = self.sample(family, generator, n, seed).cpu()
        real = _digits_tensors(0)
        classifier = fit_digits_classifier(self.options["judge"], seed=0)
        result = coherence(fake, labels, classifier)
        diversity = within_class_diversity(fake, labels, real["image"], real["label"])
        return {"judge": self.options["judge"], **result,
                "diversity": diversity["ratio"], "diversity_detail": diversity}

    def save_figures(self, family, generator, run_dir, seed=0):
        images = self.sample(family, generator, 100, seed)  # column k = digit k
        return [_digit_grid(images, f"{self.name}: one column per digit 0-9", run_dir)]


register(DigitsCGANRecipe(
    "digits-cgan", "conditional MLP GAN on scikit-learn's 8x8 digits; lesson 03",
    TrainConfig(steps=2500, batch_size=128, lr=1e-3),
    {"arch": "mlp", "z_dim": 32, "g_hidden": (256, 256), "d_hidden": (256, 256),
     "g_width": 32, "d_width": 32, "conditioning": "concat", "spectral_norm": False,
     "loss": "nonsaturating", "r1_gamma": 0.5, "d_lr_scale": 1.0, "d_steps": 1,
     "lr_decay_start": 0.5, "betas": (0.5, 0.999),
     "judge": "mlp"}))


@dataclass
class DigitsBiGANRecipe(Recipe):
    """BiGAN on 8x8 digits: G, an encoder E and a joint discriminator D(x, z).

    Options: z_dim, hidden, loss, spectral_norm (in D), lr_decay_start, betas. `evaluate` returns
    {"linear_probe", "knn_probe"} on E's codes of all digits, and "reconstruction_rmse",
    the RMS pixel error of G(E(x)) beside "shuffled_rmse", that of G(E(x')) for a
    random other digit x' (reconstructions that resemble their input score well below it).
    """

    def build(self, config, rank=0, world_size=1):
        from mmgan_ref.nn.adapters import FlattenInput, ReshapeOutput
        from mmgan_ref.nn.discriminators import JointDiscriminator
        from mmgan_ref.nn.encoders import MLPEncoder
        from mmgan_ref.nn.mlp import MLPGenerator

        o = self.options
        torch.manual_seed(config.seed)
        generator = ReshapeOutput(MLPGenerator(o["z_dim"], 64, o["hidden"],
                                               out_activation="tanh"), (1, 8, 8))
        encoder = FlattenInput(MLPEncoder(64, o["z_dim"], o["hidden"]))
        discriminator = JointDiscriminator((1, 8, 8), o["z_dim"], o["hidden"],
                                           spectral_norm=o["spectral_norm"])
        family = BiGAN(generator, encoder, discriminator, z_dim=o["z_dim"], loss=o["loss"],
                       lr=config.lr, betas=o["betas"], **_decay(o, config))
        source = TensorBatches(_digits_tensors(0), config.batch_size, config.seed, rank,
                               world_size)
        return family, source

    def sample(self, family, generator, n, seed, **condition):
        return family.sample(n, generator=torch.Generator().manual_seed(seed), network=generator)

    def evaluate(self, family, generator, seed=0):
        from mmgan_ref.metrics.probe import knn_probe, linear_probe

        real = _digits_tensors(0)
        features = family.encode(real["image"]).cpu()
        labels = real["label"]
        recon = family.reconstruct(real["image"]).cpu()
        shuffled = recon[torch.randperm(len(recon), generator=torch.Generator().manual_seed(seed))]
        return {"linear_probe": linear_probe(features, labels, seed=seed),
                "knn_probe": knn_probe(features, labels, k=1, seed=seed),
                "reconstruction_rmse": float((recon - real["image"]).pow(2).mean().sqrt()),
                "shuffled_rmse": float((shuffled - real["image"]).pow(2).mean().sqrt())}

    def save_figures(self, family, generator, run_dir, seed=0):
        real = _digits_tensors(0)["image"][:50]
        recon = family.reconstruct(real).cpu()
        rows = torch.cat([real.reshape(5, 10, 1, 8, 8), recon.reshape(5, 10, 1, 8, 8)], 1)
        return [_digit_grid(rows.reshape(100, 1, 8, 8),
                            f"{self.name}: real digits (rows 1, 3, ..) and G(E(x)) below each",
                            run_dir)]


register(DigitsBiGANRecipe(
    "digits-bigan", "BiGAN/ALI on 8x8 digits: generator, encoder, joint discriminator; lesson 06",
    TrainConfig(steps=2000, batch_size=128, lr=5e-4),
    {"z_dim": 16, "hidden": (256, 256), "loss": "nonsaturating", "spectral_norm": False,
     "lr_decay_start": 0.5, "betas": (0.5, 0.999)}))
