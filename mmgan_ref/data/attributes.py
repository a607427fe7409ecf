"""The attributes of a shapes scene, and a deterministic reader that recovers them from pixels.

Lesson: 04 Encoding modalities into one space (the shapes data) and 05 Text-to-image GAN
(scoring generated images without a learned judge).

A scene is four integers, in the order of ``ATTRIBUTE_NAMES``: indices into ``SHAPES``,
``COLOURS``, ``SIZES`` and ``POSITIONS``. The reader uses no learned model:

* colour: hue of the object's pixels (the nearest of the palette's hues);
* size: the object's bounding-box area, measured as (largest column sum) x (largest row
  sum) of its soft coverage mask, so anti-aliased edges count in fractions of a pixel;
* position: quadrant of the coverage-weighted centroid;
* shape: vertical skewness of the mass (an upward triangle -0.57, others 0), then the fill
  ratio, area / bounding-box area (circle pi/4 ~ 0.785, square 1).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import torch

from mmgan_ref.utils import check_int, check_tensor

ATTRIBUTE_NAMES = ("shape", "colour", "size", "position")
SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow")
SIZES = ("small", "large")
POSITIONS = ("top left", "top right", "bottom left", "bottom right")
ATTRIBUTE_VALUES = {"shape": SHAPES, "colour": COLOURS, "size": SIZES, "position": POSITIONS}
NUM_VALUES = tuple(len(ATTRIBUTE_VALUES[name]) for name in ATTRIBUTE_NAMES)  # (3, 4, 2, 4)

# RGB in [0, 1] of each colour at full brightness; the renderer and the reader share it.
PALETTE = torch.tensor([[0.92, 0.16, 0.14],   # red
                        [0.20, 0.82, 0.22],   # green
                        [0.22, 0.38, 0.98],   # blue
                        [0.96, 0.86, 0.12]])  # yellow
# Half-extent of the object's bounding box, as a fraction of the image side.
HALF_EXTENT = (0.11, 0.19)  # small, large
SKEW_THRESHOLD = -0.28  # vertical skewness below this: a triangle (ideal -0.57)
FILL_THRESHOLD = 0.91  # area / box below this: a circle (ideal 0.785), above: a square (1)
# Bounding-box area / side² between small and large, by shape (geometric means of the ranges
# measured on real images; anti-aliasing makes a triangle's measured box ~15 % smaller).
BOX_THRESHOLDS = (0.074, 0.076, 0.064)
MIN_COVERAGE = 0.25  # coverage below this counts as background (noise gate)

# Held out of training by default: 10 of the 96 combinations (10.4 %), chosen so that every
# single value and every pair of values still occurs in training (checked in the tests).
_DEFAULT_HELD_OUT = (
    ("circle", "red", "large", "bottom right"),
    ("circle", "blue", "small", "top left"),
    ("circle", "yellow", "large", "top right"),
    ("square", "green", "large", "top right"),
    ("square", "yellow", "small", "bottom left"),
    ("square", "red", "small", "bottom right"),
    ("triangle", "red", "small", "top right"),
    ("triangle", "blue", "large", "bottom left"),
    ("triangle", "green", "small", "top left"),
    ("triangle", "yellow", "large", "bottom right"),
)


def all_combinations() -> list[tuple[int, int, int, int]]:
    """All 96 attribute combinations as index tuples, in lexicographic order."""
    return list(itertools.product(*(range(k) for k in NUM_VALUES)))


def to_indices(attrs: Sequence[int | str] | dict[str, int | str] | torch.Tensor) -> tuple[int, ...]:
    """Normalise one scene's attributes to a 4-tuple of indices.

    Args:
        attrs: 4 indices, 4 value names (("circle", "red", "small", "top left")), a tensor (4,),
            or a dict keyed by ``ATTRIBUTE_NAMES``.
    """
    if isinstance(attrs, dict):
        missing = [n for n in ATTRIBUTE_NAMES if n not in attrs]
        if missing:
            raise ValueError(f"attrs: missing keys {missing}; needs {list(ATTRIBUTE_NAMES)}")
        attrs = [attrs[n] for n in ATTRIBUTE_NAMES]
    if isinstance(attrs, torch.Tensor):
        attrs = attrs.tolist()
    if isinstance(attrs, str) or len(attrs) != len(ATTRIBUTE_NAMES):
        raise ValueError(f"attrs: got {attrs!r}; expected 4 values for {ATTRIBUTE_NAMES}")
    indices = []
    for name, value in zip(ATTRIBUTE_NAMES, attrs, strict=True):
        values = ATTRIBUTE_VALUES[name]
        if isinstance(value, str):
            if value not in values:
                raise ValueError(f"attrs: {name} {value!r} unknown; allowed: {', '.join(values)}")
            value = values.index(value)
        indices.append(check_int(f"attrs {name}", value, minimum=0, maximum=len(values) - 1))
    return tuple(indices)


def to_names(attrs: Sequence[int | str] | torch.Tensor) -> dict[str, str]:
    """One scene's attributes as names: {"shape": "circle", "colour": "red", ...}."""
    return {n: ATTRIBUTE_VALUES[n][i] for n, i in zip(ATTRIBUTE_NAMES, to_indices(attrs),
                                                      strict=True)}


def default_held_out() -> list[tuple[int, int, int, int]]:
    """The combinations held out of training by default (10 of 96), as index tuples."""
    return [to_indices(c) for c in _DEFAULT_HELD_OUT]


def resolve_held_out(held_out: Iterable | None) -> list[tuple[int, ...]]:
    """`held_out` as sorted unique index tuples; None means ``default_held_out()``."""
    if held_out is None:
        return default_held_out()
    if isinstance(held_out, torch.Tensor):
        held_out = held_out.tolist()
    return sorted({to_indices(c) for c in held_out})


# ----------------------------------------------------------------------------- the reader


def _hue(rgb: torch.Tensor) -> torch.Tensor:
    """HSV hue in [0, 1) of RGB rows (..., 3)."""
    r, g, b = rgb.unbind(-1)
    top, arg = rgb.max(dim=-1)
    span = (top - rgb.min(dim=-1).values).clamp(min=1e-6)
    hue = torch.where(arg == 0, ((g - b) / span) % 6,
                      torch.where(arg == 1, (b - r) / span + 2, (r - g) / span + 4))
    return hue / 6


def coverage_mask(images: torch.Tensor) -> torch.Tensor:
    """Soft object coverage in [0, 1] per pixel, (B, S, S), from images (B, 3, S, S) in [-1, 1].

    Brightness (max over channels) is rescaled between the background (the median) and the
    object (mean of the brightest pixels); values under ``MIN_COVERAGE`` are set to 0.
    """
    value = ((images.float() + 1) / 2).clamp(0, 1).amax(dim=1).flatten(1)  # (B, S*S)
    top_k = max(2, value.shape[1] // 256)
    background = value.median(dim=1, keepdim=True).values
    foreground = value.topk(top_k, dim=1).values.mean(dim=1, keepdim=True)
    cover = ((value - background) / (foreground - background).clamp(min=1e-3)).clamp(0, 1)
    cover = torch.where(cover < MIN_COVERAGE, torch.zeros_like(cover), cover)
    return cover.view(images.shape[0], images.shape[2], images.shape[3])


@torch.no_grad()
def read_attributes(images: torch.Tensor) -> torch.Tensor:
    """Read shape, colour, size and position from images of one-object scenes.

    Args:
        images: (B, 3, S, S) float in [-1, 1], any S >= 8 (32 and 64 are tested).
    Returns:
        LongTensor (B, 4): indices in the order of ``ATTRIBUTE_NAMES``.
    """
    check_tensor("images", images, ("B", 3, "S", "S"))
    side = check_int("image side", images.shape[-1], minimum=8)
    cover = coverage_mask(images)  # (B, S, S)
    area = cover.sum(dim=(1, 2)).clamp(min=1e-6)
    height = cover.sum(dim=1).amax(dim=1)  # largest column sum
    width = cover.sum(dim=2).amax(dim=1)  # largest row sum
    box = (height * width).clamp(min=1e-6)

    coords = torch.arange(side, dtype=torch.float32, device=images.device) + 0.5
    rows = cover.sum(dim=2)  # (B, S): mass per row
    cx = (cover.sum(dim=1) * coords).sum(dim=1) / area
    cy = (rows * coords).sum(dim=1) / area
    position = 2 * (cy >= side / 2).long() + (cx >= side / 2).long()

    # An upward triangle has most of its mass low down: its vertical skewness is -0.57,
    # a circle's or square's 0. Fill ratio then tells the circle from the square.
    dy = coords[None, :] - cy[:, None]
    var = ((rows * dy**2).sum(dim=1) / area).clamp(min=1e-6)
    skew = (rows * dy**3).sum(dim=1) / area / var**1.5
    fill = area / box
    shape = torch.where(skew < SKEW_THRESHOLD, 2, torch.where(fill < FILL_THRESHOLD, 0, 1))
    size = (box > torch.tensor(BOX_THRESHOLDS, device=box.device)[shape] * side**2).long()

    rgb = ((images.float() + 1) / 2).clamp(0, 1)  # (B, 3, S, S)
    weight = (cover > 0.5).float()
    weight = torch.where(weight.sum(dim=(1, 2), keepdim=True) > 0, weight, cover)
    mean_rgb = (rgb * weight[:, None]).sum(dim=(2, 3)) / weight.sum(dim=(1, 2))[:, None].clamp(
        min=1e-6)
    gap = (_hue(mean_rgb)[:, None] - _hue(PALETTE.to(images.device))[None, :]).abs()  # (B, K)
    colour = torch.minimum(gap, 1 - gap).argmin(dim=1)
    return torch.stack([shape.long(), colour, size, position], dim=1)
