"""The `shapes` recipe: what a plain `mmgan train` runs.

Lesson: 05 Text-to-image GAN (the flagship run) and 10 Scaling up (`--device cuda --amp
--image-size 64` runs the same recipe on a GPU).

The recipe holds a fixed training set of shapes scenes in memory (images, caption tokens,
spectrograms, attributes; the default held-out combinations are left out), builds the
`FlagshipGAN`, evaluates it (`flagship.evaluation`), draws the run folder's figures
(`flagship.figures`) and answers `mmgan sample` (`flagship.sampling`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mmgan_ref.data.shapes import NOISE_STD, sample_scenes, shapes_vocabulary
from mmgan_ref.data.sound import N_FFT
from mmgan_ref.flagship.family import FlagshipGAN
from mmgan_ref.flagship.model import IMAGE_SIZES, FlagshipConfig
from mmgan_ref.train.batches import TensorBatches
from mmgan_ref.train.recipes import Recipe
from mmgan_ref.train.trainer import TrainConfig
from mmgan_ref.utils import check_choice, check_int

TRAIN_FIELDS = ("image", "tokens", "spectrogram", "attributes")
FREQ_BINS = N_FFT // 2 + 1
NETWORK_KEYS = ("code_dim", "z_dim", "g_width", "d_width", "e_width", "text_dim",
                "sound_width", "spectral_norm", "temperature", "pixel_noise")


class LazySceneBatches:
    """Batches of a fixed, seeded set of training scenes, drawn on first use.

    Drawing the scenes takes seconds, so it waits until training asks for a batch:
    loading a run to sample from it never pays for it.

    Args:
        n: scenes in the training set (held-out combinations excluded).
        image_size: 32 or 64.
        data_seed: seeds the scenes; batch_size, seed, rank, world_size: as `TensorBatches`.
    """

    def __init__(self, n: int, image_size: int, data_seed: int, batch_size: int, seed: int,
                 rank: int = 0, world_size: int = 1) -> None:
        self.n = check_int("train_scenes", n, minimum=1)
        self.image_size = check_choice("image_size", image_size, IMAGE_SIZES)
        self.data_seed = data_seed
        self.batch_args = (batch_size, seed, rank, world_size)
        self.device = torch.device("cpu")
        self._batches: TensorBatches | None = None

    def to(self, device: torch.device | str) -> LazySceneBatches:
        """Keep the scenes on `device` once drawn (the trainer calls this)."""
        self.device = torch.device(device)
        if self._batches is not None:
            self._batches.tensors = {k: t.to(self.device) for k, t in
                                     self._batches.tensors.items()}
        return self

    def __call__(self, step: int) -> dict[str, torch.Tensor]:
        if self._batches is None:
            scenes = sample_scenes(self.n, seed=self.data_seed, image_size=self.image_size,
                                   split="train", templates="train")
            tensors = {k: scenes[k].to(self.device) for k in TRAIN_FIELDS}
            self._batches = TensorBatches(tensors, *self.batch_args)
        return self._batches(step)


@dataclass
class ShapesRecipe(Recipe):
    """The flagship multimodal GAN on shapes scenes (text, image, sound)."""

    def network_config(self, config: TrainConfig) -> FlagshipConfig:
        """Network sizes: the recipe's options, with `--image-size` from `config.extra`."""
        image_size = config.extra.get("image_size", self.options.get("image_size", 32))
        check_choice("--image-size", image_size, IMAGE_SIZES)
        return FlagshipConfig(image_size=image_size,
                              **{k: self.options[k] for k in NETWORK_KEYS if k in self.options})

    def e_steps(self, config: TrainConfig) -> int:
        """E's warm-up alone: the option, but at most a quarter of the run.

        A short run (`--steps 100`, or MMGAN_FAST's 30-step smoke test) then still trains
        D and G for most of its steps instead of spending all of them on E.
        """
        return min(self.options["e_steps"], config.steps // 4)

    def build(self, config, rank=0, world_size=1):
        o = self.options
        net = self.network_config(config)
        torch.manual_seed(config.seed)
        family = FlagshipGAN(net, shapes_vocabulary(), FREQ_BINS, loss=o["loss"],
                             r1_gamma=o["r1_gamma"], consistency=o["consistency"],
                             consistency_kind=o["consistency_kind"],
                             mode_seeking=o["mode_seeking"],
                             mode_seeking_pool=o["mode_seeking_pool"],
                             sound_share=o["sound_share"],
                             e_steps=self.e_steps(config), lr=config.lr, betas=o["betas"],
                             channels_last=o["channels_last"])
        source = LazySceneBatches(o["train_scenes"], net.image_size, o["data_seed"],
                                  config.batch_size, config.seed, rank, world_size)
        return family, source

    def evaluate(self, family, generator, seed=0):
        from mmgan_ref.flagship.evaluation import evaluate_flagship

        return evaluate_flagship(family, generator, seed=seed, n=self.options["eval_scenes"])

    def save_figures(self, family, generator, run_dir, seed=0):
        from mmgan_ref.flagship.figures import save_flagship_figures

        return save_flagship_figures(family, generator, Path(run_dir), seed=seed)

    sample_options = ("text", "sound", "image", "interpolate")

    def sample(self, family, generator, n, seed, **condition):
        from mmgan_ref.flagship.sampling import codes_for

        return family.sample(n, codes_for(family, n, **condition),
                             torch.Generator().manual_seed(seed), network=generator)

    def sample_to_file(self, family, generator, path, n, seed, **options: Any) -> list[str]:
        from mmgan_ref.flagship.sampling import sample_to_file

        unsupported = sorted(k for k in options if k not in self.sample_options)
        if unsupported:
            allowed = ", ".join(f"--{k}" for k in self.sample_options)
            raise ValueError(f"recipe {self.name!r} does not take "
                             f"{', '.join('--' + k for k in unsupported)}; it takes: {allowed}")
        return sample_to_file(family, generator, Path(path), n, seed, **options)


# Issue 3's CPU budget shapes these: E alone first, then frozen (e_steps); G's pixel noise
# fixed at the renderer's (pixel_noise); a light mode-seeking term on 4x4-pooled images
# brings back the within-caption jitter that the consistency term squeezes out. D's width
# (16) decides how sharp G's shapes are: at 8, a third of the small triangles and a quarter
# of the squares came out rounded enough to be read as circles. A stronger D also narrows
# G's variety, which the doubled mode-seeking weight gives back.
SHAPES_OPTIONS: dict[str, Any] = {
    "image_size": 32, "code_dim": 32, "z_dim": 32, "g_width": 16, "d_width": 16,
    "e_width": 8, "text_dim": 64, "sound_width": 32, "spectral_norm": True,
    "temperature": 0.1, "pixel_noise": 2 * NOISE_STD, "loss": "hinge", "r1_gamma": 0.0,
    "consistency": 1.0, "consistency_kind": "contrastive", "mode_seeking": 0.003,
    "mode_seeking_pool": 4, "sound_share": 0.25, "e_steps": 400, "betas": (0.0, 0.99),
    "channels_last": True, "train_scenes": 10_000, "data_seed": 0, "eval_scenes": 1024,
}
# 400 steps of E alone (`e_steps`), then 1,400 of D and G with E frozen: about 4 minutes
# on a 2-core CPU at torch's default two threads, evaluation included (issue 3's budget:
# 5 minutes; D's convolutions are wide enough now for the second thread to pay). The EMA
# of G averages over ~200 steps: at 0.999 a run this short would still carry much of the
# early, untrained G in its average.
SHAPES_DEFAULTS = TrainConfig(steps=1800, batch_size=32, lr=1e-3, ema_decay=0.995,
                              log_every=50, extra={"image_size": 32})
