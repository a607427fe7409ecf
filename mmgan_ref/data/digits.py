"""scikit-learn's 8x8 handwritten digits, with captions measured from each image.

Lesson: 03 Conditional GANs (labels and captions as conditions).

The 1,797 images ship inside scikit-learn (no download). Each caption names the digit and
two style properties measured from the pixels:

* ink mass (sum of pixel values) -> "thin" (lowest third of its class) or "bold"
  (highest third); the middle third gets no word;
* slant, the shear mu11 / mu02 of the second-order central moments (x to the right,
  y downwards) -> "leaning right" (lowest third of its class: the top leans right),
  "leaning left" (highest third) or "upright".

Thirds are per class (terciles over all 1,797 images of that digit), because a "1" is
naturally thinner than an "8" and a "7" naturally sheared: "bold" means bold for that digit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import Dataset

from mmgan_ref.data.text import Vocabulary
from mmgan_ref.utils import check_choice, check_int, check_tensor

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPLITS = ("all", "train", "test")
INK_WORDS = ("thin", None, "bold")  # class 0, 1, 2 of ink mass
SLANT_WORDS = ("leaning right", "upright", "leaning left")  # class 0, 1, 2 of the shear
PIXEL_MAX = 16.0
_EXTRA_WORDS = ("a", "an", "the", "digit", "handwritten", "drawn", "with", "strokes", "is", "and")
NUM_TEMPLATES = 4


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images.astype(np.float32), data.target.astype(np.int64)


def measure_style(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ink mass and slant of digit images.

    Args:
        images: (N, 1, 8, 8) in [-1, 1] (or (N, 8, 8)).
    Returns:
        ink (N,): summed intensity in [0, 1] units; slant (N,): mu11 / mu02, negative when
        the top of the digit leans right.
    """
    if images.dim() == 4:
        images = images[:, 0]
    check_tensor("images", images, ("N", 8, 8))
    ink = ((images.float() + 1) / 2).clamp(min=0)  # (N, 8, 8), background 0
    coords = torch.arange(8, dtype=torch.float32)
    mass = ink.sum(dim=(1, 2)).clamp(min=1e-6)
    cx = (ink * coords).sum(dim=(1, 2)) / mass
    cy = (ink * coords[:, None]).sum(dim=(1, 2)) / mass
    dx = coords[None, None, :] - cx[:, None, None]
    dy = coords[None, :, None] - cy[:, None, None]
    mu11 = (ink * dx * dy).sum(dim=(1, 2)) / mass
    mu02 = (ink * dy * dy).sum(dim=(1, 2)) / mass
    return mass, mu11 / mu02.clamp(min=1e-6)


@lru_cache(maxsize=1)
def style_thresholds() -> dict[str, torch.Tensor]:
    """Per-class tercile edges measured on all 1,797 images: {"ink": (10, 2), "slant": (10, 2)}."""
    images, labels = load_digits_tensors("all")
    ink, slant = measure_style(images)
    edges = {"ink": torch.zeros(10, 2), "slant": torch.zeros(10, 2)}
    q = torch.tensor([1 / 3, 2 / 3])
    for digit in range(10):
        edges["ink"][digit] = torch.quantile(ink[labels == digit], q)
        edges["slant"][digit] = torch.quantile(slant[labels == digit], q)
    return edges


def style_classes(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Style class of each image: ink 0 thin / 1 regular / 2 bold; slant 0 right / 1 upright /
    2 left, against the terciles of its digit class.

    Args:
        images: (N, 1, 8, 8) in [-1, 1]; labels: (N,) int64 in 0..9.
    Returns:
        ink_class (N,), slant_class (N,), both int64.
    """
    ink, slant = measure_style(images)
    edges = style_thresholds()
    labels = torch.as_tensor(labels, dtype=torch.long)
    ink_class = (ink[:, None] > edges["ink"][labels]).sum(dim=1)
    slant_class = (slant[:, None] > edges["slant"][labels]).sum(dim=1)
    return ink_class, slant_class


def load_digits_tensors(split: str = "all", seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits as tensors.

    Args:
        split: "all", or "train"/"test", the halves of a stratified 50/50 split by `seed`.
        seed: the split's seed.
    Returns:
        images (N, 1, 8, 8) float32 in [-1, 1]; labels (N,) int64.
    """
    check_choice("split", split, SPLITS)
    seed = check_int("seed", seed, minimum=0)
    images, labels = _load()
    index = np.arange(len(labels))
    if split != "all":
        from sklearn.model_selection import train_test_split

        train, test = train_test_split(index, test_size=0.5, stratify=labels, random_state=seed)
        index = np.sort(train if split == "train" else test)
    x = torch.from_numpy(images[index]).unsqueeze(1) / (PIXEL_MAX / 2) - 1
    return x, torch.from_numpy(labels[index])


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def make_caption(digit: int, ink_class: int, slant_class: int, template: int) -> str:
    """One caption from a digit, its style classes and a template number (0..3)."""
    name, ink, slant = DIGIT_NAMES[digit], INK_WORDS[ink_class], SLANT_WORDS[slant_class]
    if template == 0:  # "a bold seven leaning right"
        words = [w for w in (ink, name, slant) if w]
        return f"{_article(words[0])} {' '.join(words)}"
    if template == 1:  # "the digit seven, thin, upright"
        return ", ".join(w for w in (f"the digit {name}", ink, slant) if w)
    if template == 2:  # "a handwritten seven drawn with bold strokes, leaning left"
        strokes = f" drawn with {ink} strokes" if ink else ""
        return f"a handwritten {name}{strokes}, {slant}"
    # "the seven is bold and upright", "the seven is leaning left"
    return f"the {name} is " + " and ".join(w for w in (ink, slant) if w)


@lru_cache(maxsize=1)
def digits_vocabulary() -> Vocabulary:
    """The shared, fixed vocabulary of every digits caption (padded to 10 tokens)."""
    words = [*DIGIT_NAMES, *_EXTRA_WORDS, "thin", "bold", "leaning", "left", "right", "upright"]
    return Vocabulary(words, max_len=10)


class CaptionedDigits(Dataset):
    """Digits with captions: items {"image", "label", "caption", "tokens"}.

    Args:
        split: "all", "train" or "test" (stratified 50/50 split by `seed`).
        seed: seeds the split and the choice of caption template per image.
    """

    def __init__(self, split: str = "all", seed: int = 0) -> None:
        self.images, self.labels = load_digits_tensors(split, seed)  # (N, 1, 8, 8), (N,)
        self.vocabulary = digits_vocabulary()
        ink_class, slant_class = style_classes(self.images, self.labels)
        rng = torch.Generator().manual_seed(seed)
        templates = torch.randint(NUM_TEMPLATES, (len(self.labels),), generator=rng)
        self.captions = [
            make_caption(int(d), int(i), int(s), int(t))
            for d, i, s, t in zip(self.labels, ink_class, slant_class, templates, strict=True)
        ]
        self.tokens = self.vocabulary.encode_batch(self.captions)  # (N, L)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, object]:
        return {"image": self.images[index], "label": self.labels[index],
                "caption": self.captions[index], "tokens": self.tokens[index]}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor field stacked: image (N, 1, 8, 8), label (N,), tokens (N, L)."""
        return {"image": self.images, "label": self.labels, "tokens": self.tokens}
