"""Shapes: procedural one-object scenes seen three ways, as an image, a caption and a sound.

Lesson: 04 Encoding modalities into one space, and 05 Text-to-image GAN (compositional
generalisation on held-out attribute combinations).

A scene is (shape, colour, size, position); see ``attributes`` for the values. Scenes are
unlimited and seeded: ``sample_scenes(n, seed)`` draws any number of them. Within one
attribute combination, images still vary (seeded jitter of position, size, brightness,
colour and background), so the diversity of generated images can be compared with the
real variation of one caption. Captions come from varied templates and synonyms over a
fixed vocabulary; ``canonical_caption`` and ``parse_caption`` go from attributes to text
and back. Some templates are held out (``templates="heldout"``) for the lesson on unseen
phrasings, and some combinations (``default_held_out()``) for compositional generalisation.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import torch
from torch.utils.data import Dataset

from mmgan_ref.data.attributes import (
    ATTRIBUTE_NAMES,
    HALF_EXTENT,
    NUM_VALUES,
    PALETTE,
    all_combinations,
    default_held_out,
    resolve_held_out,
    to_indices,
)
from mmgan_ref.data.sound import log_spectrogram, synthesize_sound
from mmgan_ref.data.text import Vocabulary, tokenize
from mmgan_ref.data.toy2d import make_generator
from mmgan_ref.utils import check_choice, check_int, check_tensor

IMAGE_SIZES = (32, 64)
SPLITS = ("train", "heldout")
TEMPLATE_SETS = ("train", "heldout", "all")

# Jitter within one attribute combination (fractions of the image side or of the value).
POSITION_JITTER = 0.04
SIZE_JITTER = 0.08
BRIGHTNESS_RANGE = (0.8, 1.0)
COLOUR_JITTER = 0.03
BACKGROUND_RANGE = (0.04, 0.12)
NOISE_STD = 0.02

# Synonyms, first one canonical. Index order follows attributes.SHAPES, COLOURS, SIZES.
SYNONYMS = {
    "shape": (("circle", "disc", "ball"), ("square", "box", "block"), ("triangle", "pyramid")),
    "colour": (("red", "crimson", "scarlet"), ("green", "emerald", "lime"),
               ("blue", "azure", "cobalt"), ("yellow", "golden", "lemon")),
    "size": (("small", "tiny", "little"), ("large", "big", "huge")),
    "vertical": (("top", "upper"), ("bottom", "lower")),
    "horizontal": (("left",), ("right",)),
}
TRAIN_TEMPLATES = (
    "a {size} {colour} {shape} at the {v} {h}",  # the canonical template
    "{v}-{h}: a {size} {colour} {shape}",
    "there is a {size} {colour} {shape} in the {v} {h} corner",
    "a {colour} {shape}, {size}, in the {v} {h}",
    "{size} {colour} {shape}, {v} {h}",
    "the {v} {h} corner holds a {size} {colour} {shape}",
)
HELDOUT_TEMPLATES = (
    "in the {v} {h} corner there is a {size} {colour} {shape}",
    "the {shape} is {colour} and {size} and sits at the {v} {h}",
)
TEMPLATES = TRAIN_TEMPLATES + HELDOUT_TEMPLATES
CAPTION_MAX_LEN = 12
_FUNCTION_WORDS = ("a", "an", "and", "at", "corner", "holds", "in", "is", "sits", "the", "there")


def _word_table() -> dict[str, tuple[str, int]]:
    """word -> (attribute or "vertical"/"horizontal", value index)."""
    return {word: (slot, value) for slot, groups in SYNONYMS.items()
            for value, words in enumerate(groups) for word in words}


@lru_cache(maxsize=1)
def shapes_vocabulary() -> Vocabulary:
    """The fixed vocabulary of every shapes caption, padded to ``CAPTION_MAX_LEN`` tokens."""
    return Vocabulary([*_word_table(), *_FUNCTION_WORDS], max_len=CAPTION_MAX_LEN)


def _template_indices(templates: str) -> list[int]:
    check_choice("templates", templates, TEMPLATE_SETS)
    n_train = len(TRAIN_TEMPLATES)
    return {"train": list(range(n_train)), "all": list(range(len(TEMPLATES))),
            "heldout": list(range(n_train, len(TEMPLATES)))}[templates]


def _fill(template: int, scene: tuple[int, ...], choice: tuple[int, ...]) -> str:
    """Fill one template; `choice` picks a synonym per slot (reduced modulo its count)."""
    shape, colour, size, position = scene
    slots = {"shape": shape, "colour": colour, "size": size,
             "v": position // 2, "h": position % 2}
    groups = {"shape": "shape", "colour": "colour", "size": "size",
              "v": "vertical", "h": "horizontal"}
    words = {}
    for (slot, value), pick in zip(slots.items(), choice, strict=True):
        options = SYNONYMS[groups[slot]][value]
        words[slot] = options[pick % len(options)]
    text = TEMPLATES[template].format(**words)
    return re.sub(r"\ba (?=[aeiou])", "an ", text)


def canonical_caption(attrs) -> str:
    """The canonical caption of one scene, e.g. "a small red circle at the top left".

    Args:
        attrs: 4 indices, 4 names, a tensor (4,) or a dict keyed by ATTRIBUTE_NAMES.
    """
    return _fill(0, to_indices(attrs), (0, 0, 0, 0, 0))


def parse_caption(text: str) -> torch.Tensor:
    """Read a scene's attributes back from any caption over the shapes vocabulary.

    Word order does not matter: each attribute must be named exactly once (synonyms allowed).

    Returns:
        LongTensor (4,) of attribute indices.
    Raises:
        ValueError: unknown words (all listed), or an attribute missing or named twice.
    """
    vocabulary = shapes_vocabulary()
    unknown = vocabulary.unknown_words(text)
    if unknown:
        raise ValueError(f"caption {text!r}: unknown words: {', '.join(map(repr, unknown))}; "
                         f"the vocabulary has {len(vocabulary) - 2} words: see "
                         "shapes_vocabulary().words")
    table, found = _word_table(), {slot: set() for slot in SYNONYMS}
    for word in tokenize(text):
        if word in table:
            slot, value = table[word]
            found[slot].add(value)
    problems = [f"names no {slot}" if not values else f"names several {slot} values"
                for slot, values in found.items() if len(values) != 1]
    if problems:
        raise ValueError(f"caption {text!r}: {'; '.join(problems)}; a caption must name one "
                         "shape, colour, size and position (e.g. 'a small red circle at the "
                         "top left')")
    v, h = found["vertical"].pop(), found["horizontal"].pop()
    return torch.tensor([found["shape"].pop(), found["colour"].pop(), found["size"].pop(),
                         2 * v + h], dtype=torch.long)


def make_captions(attributes: torch.Tensor, generator: torch.Generator | None = None,
                  templates: str = "all") -> list[str]:
    """Captions for scenes (B, 4): a random template of the set and random synonyms each."""
    choices = _template_indices(templates)
    rng = make_generator(None, generator)
    picks = torch.randint(len(choices), (len(attributes),), generator=rng).tolist()
    synonyms = torch.randint(6, (len(attributes), 5), generator=rng).tolist()
    return [_fill(choices[p], tuple(a), tuple(s))
            for a, p, s in zip(attributes.tolist(), picks, synonyms, strict=True)]


def _outline_distance(kind: int, dx: torch.Tensor, dy: torch.Tensor,
                      half: torch.Tensor) -> torch.Tensor:
    """Signed distance (B, S, S) to a circle (0), square (1) or upward triangle (2)."""
    if kind == 0:
        return torch.sqrt(dx**2 + dy**2) - half
    if kind == 1:
        return torch.maximum(dx.abs(), dy.abs()) - half
    slope = (dy + half) / math.sqrt(5)  # the two slanted sides, then the base
    sides = torch.maximum(-2 * dx / math.sqrt(5) - slope, 2 * dx / math.sqrt(5) - slope)
    return torch.maximum(dy - half, sides)


def render_images(attributes: torch.Tensor, generator: torch.Generator | None = None,
                  image_size: int = 32) -> torch.Tensor:
    """Draw scenes: a dark noisy background and one anti-aliased object.

    Args:
        attributes: LongTensor (B, 4).
        generator: randomness of the jitter (None means seed 0).
        image_size: 32 or 64.
    Returns:
        float32 (B, 3, S, S) in [-1, 1].
    """
    check_tensor("attributes", attributes, ("B", 4), "int")
    side = check_choice("image_size", image_size, IMAGE_SIZES)
    rng = make_generator(None, generator)
    batch = len(attributes)
    shape, colour, size, position = attributes.long().unbind(1)

    def uniform(low: float, high: float, *dims: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, *dims, generator=rng)

    half = torch.tensor(HALF_EXTENT)[size] * side * uniform(1 - SIZE_JITTER, 1 + SIZE_JITTER)
    cx = (0.25 + 0.5 * (position % 2) + uniform(-POSITION_JITTER, POSITION_JITTER)) * side
    cy = (0.25 + 0.5 * (position // 2) + uniform(-POSITION_JITTER, POSITION_JITTER)) * side
    coords = torch.arange(side, dtype=torch.float32) + 0.5  # pixel centres
    dx = coords[None, None, :] - cx[:, None, None]  # (B, 1, S)
    dy = coords[None, :, None] - cy[:, None, None]  # (B, S, 1)
    half = half[:, None, None]

    # Signed distance to the outline (negative inside), computed per shape group.
    distance = torch.empty(batch, side, side)
    for kind in range(NUM_VALUES[0]):
        group = (shape == kind).nonzero().squeeze(1)
        if len(group):
            distance[group] = _outline_distance(kind, dx[group], dy[group], half[group])
    cover = (0.5 - distance).clamp(0, 1)[:, None]  # (B, 1, S, S), one-pixel anti-aliasing

    paint = PALETTE[colour] * uniform(*BRIGHTNESS_RANGE, 1)
    paint = (paint + uniform(-COLOUR_JITTER, COLOUR_JITTER, 3)).clamp(0, 1)  # (B, 3)
    background = uniform(*BACKGROUND_RANGE)[:, None, None, None]  # (B, 1, 1, 1)
    images = background + cover * (paint[:, :, None, None] - background)
    images = images + NOISE_STD * torch.randn(batch, 3, side, side, generator=rng)
    return images.clamp(0, 1) * 2 - 1


def sample_scenes(n: int, seed: int | None = None, generator: torch.Generator | None = None,
                  image_size: int = 32, held_out=None, split: str = "train",
                  templates: str = "all", with_sound: bool = True) -> dict:
    """Draw `n` random scenes in all modalities.

    Args:
        n: number of scenes.
        seed, generator: the randomness (at most one; neither means seed 0).
        image_size: 32 or 64.
        held_out: attribute combinations kept out of the "train" split (None: the default
            ~10 %; [] keeps none out).
        split: "train" draws the other combinations, "heldout" only the held-out ones.
        templates: "train", "heldout" or "all" caption templates.
        with_sound: also make "sound" (n, 2000) and "spectrogram" (n, 65, 32).
    Returns:
        {"image": (n, 3, S, S), "attributes": (n, 4), "caption": list of n str,
        "tokens": (n, L), and with sound "sound", "spectrogram"}.
    """
    n = check_int("n", n, minimum=1)
    check_choice("image_size", image_size, IMAGE_SIZES)
    check_choice("split", split, SPLITS)
    _template_indices(templates)
    excluded = set(resolve_held_out(held_out))
    allowed = sorted(excluded) if split == "heldout" else [
        c for c in all_combinations() if c not in excluded]
    if not allowed:
        raise ValueError(f"split={split!r} leaves no attribute combinations; with "
                         "split='heldout' give a non-empty held_out")
    rng = make_generator(seed, generator)
    # One sub-generator per part: adding sound does not change the images of a seed.
    parts = [torch.Generator().manual_seed(int(s))
             for s in torch.randint(2**62, (4,), generator=rng)]
    attributes = torch.tensor(allowed)[torch.randint(len(allowed), (n,), generator=parts[0])]
    captions = make_captions(attributes, parts[1], templates)
    scenes = {"image": render_images(attributes, parts[2], image_size),
              "attributes": attributes, "caption": captions,
              "tokens": shapes_vocabulary().encode_batch(captions)}
    if with_sound:
        scenes["sound"] = synthesize_sound(attributes, parts[3])
        scenes["spectrogram"] = log_spectrogram(scenes["sound"])
    return scenes


class Shapes(Dataset):
    """A fixed, seeded sample of shapes scenes.

    Items: {"image" (3, S, S), "caption" str, "tokens" (L,), "sound" (T,),
    "spectrogram" (F, Tf), "attributes" (4,)}. Arguments as in ``sample_scenes``.
    """

    def __init__(self, n: int = 5000, seed: int = 0, image_size: int = 32, held_out=None,
                 split: str = "train", templates: str = "all") -> None:
        self.image_size, self.split, self.templates = image_size, split, templates
        self.held_out = resolve_held_out(held_out)
        self.vocabulary = shapes_vocabulary()
        self._scenes = sample_scenes(n, seed=seed, image_size=image_size,
                                     held_out=self.held_out, split=split, templates=templates)
        self.captions: list[str] = self._scenes["caption"]

    def __len__(self) -> int:
        return len(self.captions)

    def __getitem__(self, index: int) -> dict:
        return {key: value[index] for key, value in self._scenes.items()}

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor field stacked (all keys of an item except "caption")."""
        return {k: v for k, v in self._scenes.items() if isinstance(v, torch.Tensor)}


__all__ = ["ATTRIBUTE_NAMES", "NUM_VALUES", "Shapes", "canonical_caption", "default_held_out",
           "make_captions", "parse_caption", "render_images", "sample_scenes",
           "shapes_vocabulary"]
