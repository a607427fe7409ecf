"""The `captions-64` recipe: the flagship text-to-image GAN on a local caption folder.

Lesson: 10 Scaling up (training on real data), with the model of 05 Text-to-image GAN.

Nothing is downloaded: the user points `--data DIR` at a folder in the layout CUB-200
and Oxford-102 captions ship in (Reed et al. 2016; see `mmgan_ref.data.local`)::

    DIR/images/<any/path>/NAME.jpg|.png     DIR/text/<same/path>/NAME.txt (or text_c10/)

The model is the flagship (G, matching-aware D, cross-modal E) with text and image only:
no sound, and no attributes. Two captions of one image are the same condition, so the
image a caption belongs to plays the attributes' part: GAN-CLS skips a rolled pair from
the same image, and the contrastive consistency counts same-image codes as positives.
The vocabulary is built from the folder's captions and saved in the checkpoint, so a
run folder samples without its data (`mmgan sample RUN --text "..."`).

Settings (`mmgan train captions-64 --help` lists them): 64x64 images, batch 64,
30,000 steps, Adam lr 2e-4 betas (0.0, 0.99), EMA of G 0.999, widths G 32 / D 32 / E 16,
codes of width 64. On a GPU add `--device cuda --amp --channels-last`:

    mmgan train captions-64 --data ~/data/cub --device cuda --amp --channels-last

These settings follow the shapes-64 recipe and GAN-CLS's batch and rate; they have not
yet been measured on a GPU here, so treat the step count as a starting point.

Evaluation. Real photos have no attribute reader, so the run reports what needs none,
on images held out of training (10%, seeded): caption->image retrieval R@1/5/10 and mAP
of E beside the exact chance level and beside the same figures on as many training
images (the gap shows memorisation), and generated->caption R@1: whether E recognises
G(z, s) as the image of its own caption. E was trained with G's consistency term, so
that last figure flatters G. samples.png shows held-out captions, the real image first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgan_ref.data.local import CaptionFolder, LocalDataError, _caption_pairs, _folder
from mmgan_ref.data.text import Vocabulary, clip_caption, tokenize
from mmgan_ref.flagship.family import FlagshipGAN
from mmgan_ref.flagship.model import IMAGE_SIZES, FlagshipConfig, TextTower, slerp
from mmgan_ref.flagship.recipe import NETWORK_KEYS
from mmgan_ref.nn.encoders import CrossModalEncoder, ImageEncoder
from mmgan_ref.train.batches import TensorBatches
from mmgan_ref.train.recipes import Recipe
from mmgan_ref.train.trainer import TrainConfig
from mmgan_ref.utils import check_choice

log = logging.getLogger(__name__)

RETRIEVAL_KS = (1, 5, 10)
SAMPLE_ROWS = 8
INTERPOLATION_STEPS = 8


class CaptionGAN(FlagshipGAN):
    """The flagship on (image, caption) pairs: E aligns text and image only.

    Batches hold "image" (B, 3, S, S), "tokens" (B, L) and "image_index" (B,), the index of
    the image each caption belongs to. `sample_captions` are shown in samples.png and
    drawn by `mmgan sample` without --text; they are saved with the vocabulary.
    """

    def __init__(self, config: FlagshipConfig, vocabulary: Vocabulary,
                 sample_captions: list[str], **kwargs: Any) -> None:
        super().__init__(config, vocabulary, freq_bins=1, sound_share=0.0, **kwargs)
        self.sample_captions = list(sample_captions)
        self.caption_data: CaptionData | None = None  # set by the recipe; not saved

    def build_encoder(self, config, vocab_size, freq_bins):
        hidden = 2 * config.code_dim
        return CrossModalEncoder(
            image=ImageEncoder(channels=3, image_size=config.image_size, out_dim=hidden,
                               base_width=config.e_width),
            text=TextTower(vocab_size, hidden, embed_dim=config.text_dim),
            dim=config.code_dim, temperature=config.temperature)

    def pair_keys(self, batch):
        return batch["image_index"][:, None]  # (B, 1): same image, same condition

    def encode_captions(self, captions: list[str], what: str = "--text") -> torch.Tensor:
        """Unit codes (N, code_dim); unknown words are an error that names them."""
        for caption in captions:
            if not isinstance(caption, str) or not tokenize(caption):
                raise ValueError(f"{what}: got {caption!r}; give a caption in the words of "
                                 f"the training captions, e.g. {self.sample_captions[0]!r}")
            unknown = self.vocabulary.unknown_words(caption)
            if unknown:
                raise ValueError(
                    f"{what} {caption!r}: unknown words: {', '.join(map(repr, unknown))}. "
                    f"This run knows the {len(self.vocabulary) - 2} words of its training "
                    f"captions, e.g. {self.sample_captions[0]!r} (in Python: "
                    "load_run(RUN).family.vocabulary.words)")
        cut = [clip_caption(c, self.vocabulary.max_len) for c in captions]
        return self.encode("text", self.vocabulary.encode_batch(cut))

    def extra_state(self) -> dict:
        return {**super().extra_state(), "sample_captions": self.sample_captions}

    def load_extra_state(self, state: dict) -> None:
        if "vocabulary" in state and Vocabulary.from_dict(state["vocabulary"]) != self.vocabulary:
            raise ValueError("checkpoint: its vocabulary differs from the captions under --data; "
                             "resume with the caption folder the run was trained on")
        self.sample_captions = list(state.get("sample_captions", self.sample_captions))


def read_captions(root: str | Path) -> list[tuple[Path, list[str]]]:
    """(image path, caption lines) of a caption folder; layout errors name `--data`."""
    folder = _folder("--data", root)
    try:
        return _caption_pairs(folder)
    except LocalDataError as err:
        raise LocalDataError(f"--data: {str(err).removeprefix('data_dir: ')}") from None


class CaptionData:
    """A caption folder split by image into training and held-out sets; images load lazily.

    Args:
        root: the folder; pairs: its `read_captions`; image_size, max_len: as CaptionFolder.
        held_out_share: share of images held out (at least 2); data_seed: seeds the split.
    """

    def __init__(self, root: Path, pairs: list[tuple[Path, list[str]]], image_size: int,
                 max_len: int, held_out_share: float, data_seed: int) -> None:
        self.root, self.image_size, self.max_len = root, image_size, max_len
        n = len(pairs)
        n_held = max(2, round(held_out_share * n))
        if n - n_held < 2:
            raise LocalDataError(f"--data {str(root)!r}: {n} images are too few; "
                                 f"{n_held} are held out for evaluation, give at least "
                                 f"{n_held + 2}")
        order = np.random.default_rng(data_seed).permutation(n)
        self.held_out = torch.from_numpy(np.sort(order[:n_held]))
        self.train = torch.from_numpy(np.sort(order[n_held:]))
        self.held_out_captions = [pairs[int(i)][1][0] for i in self.held_out]
        self._folder: CaptionFolder | None = None

    def folder(self) -> CaptionFolder:
        """The decoded images and tokens (loaded on first use: seconds to minutes)."""
        if self._folder is None:
            log.info("loading the caption folder %s", self.root)
            self._folder = CaptionFolder(self.root, self.image_size, self.max_len)
        return self._folder

    def rows(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tokens (Q, L) and image_index (Q,) of every caption of `images` (indices)."""
        index = torch.tensor([i for i, _ in self.folder().captions])
        keep = torch.isin(index, images)
        return {"tokens": self.folder().tokens[keep], "image_index": index[keep]}


class CaptionBatches:
    """Training batches: shuffled caption rows; images gathered by index (stored once)."""

    def __init__(self, data: CaptionData, batch_size: int, seed: int, rank: int = 0,
                 world_size: int = 1) -> None:
        self.data, self.args = data, (batch_size, seed, rank, world_size)
        self.device = torch.device("cpu")
        self._rows: TensorBatches | None = None
        self._images: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> CaptionBatches:
        self.device = torch.device(device)
        if self._rows is not None:
            self._rows.to(self.device)
            self._images = self._images.to(self.device)
        return self

    def __call__(self, step: int) -> dict[str, torch.Tensor]:
        if self._rows is None:
            rows = self.data.rows(self.data.train)
            self._rows = TensorBatches(rows, *self.args).to(self.device)
            self._images = self.data.folder().images.to(self.device)
        batch = self._rows(step)
        return {**batch, "image": self._images[batch["image_index"]]}


class CaptionsRecipe(Recipe):
    """The flagship on a local caption folder, given by `--data DIR` (config.extra["data_dir"])."""

    takes_data = True  # `mmgan train` requires --data for this recipe and passes it on
    domain = "other"  # no shapes or digits features apply to photos
    sample_options = ("text", "interpolate")

    def network_config(self, config: TrainConfig) -> FlagshipConfig:
        image_size = config.extra.get("image_size", self.options["image_size"])
        check_choice("--image-size", image_size, IMAGE_SIZES)
        return FlagshipConfig(image_size=image_size,
                              **{k: self.options[k] for k in NETWORK_KEYS if k in self.options})

    def _vocabulary(self, config: TrainConfig) -> tuple[Vocabulary, list[str], CaptionData | None]:
        """From the checkpoint when loading a run, else from the caption folder."""
        o, extra = self.options, config.extra
        saved = extra.get("checkpoint_extra", {})
        data_dir = extra.get("data_dir")
        if data_dir is None and "vocabulary" not in saved:
            raise ValueError(f"--data: recipe {self.name!r} trains on a local caption folder "
                             "(DIR/images/.../NAME.jpg and DIR/text/.../NAME.txt, as CUB-200 "
                             "and Oxford-102 captions ship); give --data DIR (also when "
                             "resuming)")
        data = None
        if data_dir is not None:
            try:
                pairs = read_captions(data_dir)
                data = CaptionData(Path(data_dir), pairs,
                                   self.network_config(config).image_size, o["max_len"],
                                   o["held_out_share"], o["data_seed"])
            except LocalDataError:
                if "vocabulary" not in saved:
                    raise  # training needs the folder; sampling a saved run does not
        if "vocabulary" in saved:
            return (Vocabulary.from_dict(saved["vocabulary"]), saved["sample_captions"], data)
        vocabulary = Vocabulary.from_captions([c for _, lines in pairs for c in lines],
                                              max_len=o["max_len"])
        return vocabulary, data.held_out_captions[:SAMPLE_ROWS], data

    def build(self, config, rank=0, world_size=1):
        o = self.options
        vocabulary, sample_captions, data = self._vocabulary(config)
        torch.manual_seed(config.seed)
        family = CaptionGAN(self.network_config(config), vocabulary, sample_captions,
                            loss=o["loss"], r1_gamma=o["r1_gamma"], consistency=o["consistency"],
                            consistency_kind=o["consistency_kind"],
                            mode_seeking=o["mode_seeking"], lr=config.lr, betas=o["betas"],
                            channels_last=o["channels_last"])
        family.caption_data = data
        if data is None:  # a loaded run whose folder is gone: it samples, it cannot train
            def source(step: int) -> dict[str, torch.Tensor]:
                raise ValueError(f"--data: recipe {self.name!r} needs its caption folder "
                                 "to train; give --data DIR")
            return family, source
        return family, CaptionBatches(data, config.batch_size, config.seed, rank, world_size)

    def evaluate(self, family, generator, seed=0):
        from mmgan_ref.metrics.retrieval import chance_level, retrieval_metrics

        data = _data_of(family)
        images = data.folder().images
        held = data.rows(data.held_out)
        result: dict[str, Any] = {"protocol": f"{len(data.held_out)} held-out images, "
                                              f"{len(held['tokens'])} captions"}
        pick = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(seed))
        for split, chosen in (("held_out", data.held_out),
                              ("train", data.train[pick[:len(data.held_out)]].sort().values)):
            rows = held if split == "held_out" else data.rows(chosen)
            labels = torch.searchsorted(chosen, rows["image_index"])  # gallery positions
            text = family.encode("text", rows["tokens"]).cpu()
            gallery = family.encode("image", images[chosen]).cpu()
            result[f"caption->image ({split})"] = retrieval_metrics(
                text, gallery, labels, torch.arange(len(chosen)), RETRIEVAL_KS)
            if split == "held_out":
                result["chance"] = chance_level(labels, RETRIEVAL_KS, torch.arange(len(chosen)))
        first = family.encode_captions(data.held_out_captions)  # one caption per image
        fake = family.sample(len(first), first, torch.Generator().manual_seed(seed),
                             network=generator)
        result["generated->caption (held_out)"] = retrieval_metrics(
            family.encode("image", fake).cpu(), first.cpu(), torch.arange(len(first)),
            torch.arange(len(first)), (1,))
        return result

    def save_figures(self, family, generator, run_dir, seed=0):
        from mmgan_ref.flagship.figures import _strips

        captions = family.sample_captions
        codes = family.encode_captions(captions).repeat_interleave(SAMPLE_ROWS, dim=0)
        images = family.sample(len(codes), codes, torch.Generator().manual_seed(seed),
                               network=generator).cpu()
        rows = list(images.split(SAMPLE_ROWS))
        data = family.caption_data
        if data is not None:  # the real image first
            real = data.folder().images[data.held_out[:len(captions)]]
            rows = [torch.cat([r[None], row]) for r, row in zip(real, rows, strict=True)]
        titles = [c if len(c) < 90 else c[:87] + "..." for c in captions]
        return [_strips(rows, titles, "held-out captions: the real image, then samples",
                        Path(run_dir) / "samples.png")]

    def sample(self, family, generator, n, seed, text=None, **condition):
        captions = [text] if text is not None else family.sample_captions
        codes = family.encode_captions([captions[i % len(captions)] for i in range(n)])
        return family.sample(n, codes, torch.Generator().manual_seed(seed), network=generator)

    def sample_to_file(self, family, generator, path, n, seed, **options):
        from mmgan_ref.flagship.sampling import _save

        unsupported = sorted(k for k in options if k not in self.sample_options)
        if unsupported:
            raise ValueError(f"recipe {self.name!r} does not take "
                             f"{', '.join('--' + k for k in unsupported)}; it takes: --text, "
                             "--interpolate")
        if options.get("interpolate") is not None:
            if "text" in options:
                raise ValueError("--interpolate takes no --text")
            a, b = family.encode_captions(list(options["interpolate"]), what="--interpolate")
            codes = slerp(a, b, torch.linspace(0, 1, INTERPOLATION_STEPS, device=a.device))
            noise = torch.Generator().manual_seed(seed)
            z = family.noise(1, noise).expand(INTERPOLATION_STEPS, -1)
            images = family.sample(len(codes), codes, noise, network=generator, z=z)
            _save(images, 1, " -> ".join(map(repr, options["interpolate"])), Path(path))
            return [f"wrote an interpolation of {INTERPOLATION_STEPS} steps to {path}"]
        images = self.sample(family, generator, n, seed, text=options.get("text"))
        title = repr(options["text"]) if "text" in options else "the run's held-out captions"
        _save(images, max(1, round(n ** 0.5)), f"{title} ({n} samples, seed {seed})", Path(path))
        return [f"wrote {n} samples to {path}"]


def _data_of(family: CaptionGAN) -> CaptionData:
    if family.caption_data is None:
        raise ValueError("--data: evaluating a captions run needs its caption folder; "
                         "give --data DIR")
    return family.caption_data


CAPTIONS_OPTIONS: dict[str, Any] = {
    "image_size": 64, "code_dim": 64, "z_dim": 64, "g_width": 32, "d_width": 32,
    "e_width": 16, "text_dim": 128, "spectral_norm": True, "temperature": 0.1,
    "loss": "hinge", "r1_gamma": 0.0, "consistency": 1.0, "consistency_kind": "contrastive",
    "mode_seeking": 0.0, "betas": (0.0, 0.99), "channels_last": True, "max_len": 24,
    "held_out_share": 0.1, "data_seed": 0,
}
CAPTIONS_DEFAULTS = TrainConfig(steps=30_000, batch_size=64, lr=2e-4, ema_decay=0.999,
                                log_every=200, extra={"image_size": 64})
