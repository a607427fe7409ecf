"""Data sets of the course, all offline and small by default.

Lesson: 02 (toy2d), 03 (digits), 04 and 05 (text, shapes, sound, attributes).

Every dataset is a ``torch.utils.data.Dataset`` of dict items and offers ``tensors()``
with every tensor field stacked. Images are float32 in [-1, 1], shape (C, H, W).
"""

from mmgan_ref.data.attributes import (
    ATTRIBUTE_NAMES,
    ATTRIBUTE_VALUES,
    COLOURS,
    POSITIONS,
    SHAPES,
    SIZES,
    default_held_out,
    read_attributes,
)
from mmgan_ref.data.digits import (
    DIGIT_NAMES,
    CaptionedDigits,
    digits_vocabulary,
    load_digits_tensors,
)
from mmgan_ref.data.shapes import (
    Shapes,
    canonical_caption,
    parse_caption,
    render_images,
    sample_scenes,
    shapes_vocabulary,
)
from mmgan_ref.data.sound import log_spectrogram, read_wav, synthesize_sound, write_wav
from mmgan_ref.data.text import PAD, UNK, Vocabulary, tokenize
from mmgan_ref.data.toy2d import Toy2D, mixture_means, mixture_std, sample_toy2d

__all__ = [
    "ATTRIBUTE_NAMES", "ATTRIBUTE_VALUES", "COLOURS", "DIGIT_NAMES", "PAD", "POSITIONS",
    "SHAPES", "SIZES", "UNK", "CaptionedDigits", "Shapes", "Toy2D", "Vocabulary",
    "canonical_caption", "default_held_out", "digits_vocabulary", "load_digits_tensors",
    "log_spectrogram", "mixture_means", "mixture_std", "parse_caption", "read_attributes",
    "read_wav", "render_images", "sample_scenes", "sample_toy2d", "shapes_vocabulary",
    "synthesize_sound", "tokenize", "write_wav",
]
