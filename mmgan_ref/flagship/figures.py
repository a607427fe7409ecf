"""The figures of a flagship run folder: samples by caption, interpolations, retrieval.

Lesson: 05 Text-to-image GAN (what the run folder shows).

- samples.png: one row per caption (its text above the row), held-out combinations marked;
- interpolation.png: codes sliding along the sphere from one caption to another, one
  noise vector per strip;
- retrieval.png: text->image (a caption, then its nearest real images) and image->text
  (a real image, then its nearest captions) in the shared space.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mmgan_ref.data.attributes import default_held_out
from mmgan_ref.data.shapes import canonical_caption, sample_scenes
from mmgan_ref.flagship.sampling import (
    INTERPOLATION_STEPS,
    encode_captions,
    interpolation_codes,
    nearest_captions,
)
from mmgan_ref.utils import atomic_savefig
from mmgan_ref.viz import image_grid

SAMPLE_CAPTIONS = (
    "a small red circle at the top left",
    "a large blue square at the bottom right",
    "a large green triangle at the top right",
    "a small yellow square at the bottom left",
    "a large red triangle at the top left",
    "a small blue circle at the bottom right",
)
INTERPOLATION_PAIRS = (
    ("a small red circle at the top left", "a large blue square at the bottom right"),
    ("a large green triangle at the top right", "a small yellow circle at the bottom left"),
)
SAMPLES_PER_ROW = 8
RETRIEVAL_QUERIES = 3
RETRIEVAL_GALLERY = 256
RETRIEVAL_SEED = 9_004


def _strips(rows: list[torch.Tensor], titles: list[str], suptitle: str, path: Path) -> Path:
    """One image strip per row, its title above it; saved atomically to `path`."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 1, figsize=(1.1 * rows[0].shape[0], 1.45 * len(rows)),
                             squeeze=False)
    for ax, row, title in zip(axes[:, 0], rows, titles, strict=True):
        ax.imshow(image_grid(row, nrow=1))
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(suptitle)
    fig.tight_layout()
    path = atomic_savefig(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def save_samples(family, generator: nn.Module, path: Path, seed: int = 0) -> Path:
    """samples.png: SAMPLES_PER_ROW samples of each caption, two held-out ones included."""
    held_out = [canonical_caption(c) for c in default_held_out()[:2]]
    captions = list(SAMPLE_CAPTIONS) + held_out
    codes = encode_captions(family, captions).repeat_interleave(SAMPLES_PER_ROW, dim=0)
    images = family.sample(len(codes), codes, torch.Generator().manual_seed(seed),
                           network=generator).cpu()
    titles = [f"{c}  (held out of training)" if c in held_out else c for c in captions]
    return _strips(list(images.split(SAMPLES_PER_ROW)), titles,
                   "text -> image: samples of each caption", path)


def save_interpolation(family, generator: nn.Module, path: Path, seed: int = 0) -> Path:
    """interpolation.png: for each caption pair, a strip sliding from one to the other."""
    noise = torch.Generator().manual_seed(seed)
    rows, titles = [], []
    for a, b in INTERPOLATION_PAIRS:
        codes = interpolation_codes(family, a, b)
        z = family.noise(1, noise).expand(INTERPOLATION_STEPS, -1)
        rows.append(family.sample(len(codes), codes, noise, network=generator, z=z).cpu())
        titles.append(f"{a!r}  ->  {b!r}")
    return _strips(rows, titles, "interpolation between captions (one noise vector a row)",
                   path)


def save_retrieval(family, path: Path) -> Path:
    """retrieval.png: text->image top images, and image->text top captions."""
    import matplotlib.pyplot as plt

    scenes = sample_scenes(RETRIEVAL_GALLERY, seed=RETRIEVAL_SEED, split="train",
                           image_size=family.config.image_size, with_sound=False)
    gallery = family.encode("image", scenes["image"])
    queries = list(SAMPLE_CAPTIONS[:RETRIEVAL_QUERIES])
    top = (encode_captions(family, queries) @ gallery.T).topk(SAMPLES_PER_ROW, dim=1).indices
    image_queries = scenes["image"][:RETRIEVAL_QUERIES]
    ranked = nearest_captions(family, family.encode("image", image_queries), k=3)

    fig, axes = plt.subplots(2 * RETRIEVAL_QUERIES, 1, squeeze=False,
                             figsize=(1.1 * SAMPLES_PER_ROW, 1.45 * 2 * RETRIEVAL_QUERIES))
    for ax, caption, rows in zip(axes[:RETRIEVAL_QUERIES, 0], queries, top.cpu(), strict=True):
        ax.imshow(image_grid(scenes["image"][rows], nrow=1))
        ax.set_title(f"text -> image: {caption!r}", fontsize=9)
    for ax, image, hits in zip(axes[RETRIEVAL_QUERIES:, 0], image_queries, ranked, strict=True):
        ax.imshow(image_grid(image[None], nrow=1), extent=(0, 1, 0, 1))
        ax.set_xlim(0, SAMPLES_PER_ROW)
        lines = [f"{i}. {c}  ({sim:.2f})" for i, (c, sim) in enumerate(hits, start=1)]
        ax.text(1.2, 0.5, "\n".join(lines), va="center", fontsize=8)
        ax.set_title("image -> text: nearest captions", fontsize=9)
    for ax in axes[:, 0]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("retrieval in the shared space")
    fig.tight_layout()
    path = atomic_savefig(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def save_flagship_figures(family, generator: nn.Module, run_dir: Path, seed: int = 0
                          ) -> list[Path]:
    """Write samples.png, interpolation.png and retrieval.png into `run_dir`."""
    run_dir = Path(run_dir)
    return [save_samples(family, generator, run_dir / "samples.png", seed),
            save_interpolation(family, generator, run_dir / "interpolation.png", seed),
            save_retrieval(family, run_dir / "retrieval.png")]
