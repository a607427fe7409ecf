"""The flagship multimodal GAN: generator G, matching-aware discriminator D, cross-modal encoder E.

Lesson: 05 Text-to-image GAN (the model the course builds up to).

Importing this package registers the `shapes` recipe, the default of `mmgan train`.
"""

from mmgan_ref.flagship.family import FlagshipGAN
from mmgan_ref.flagship.model import FlagshipConfig, slerp
from mmgan_ref.flagship.recipe import SHAPES_DEFAULTS, SHAPES_OPTIONS, ShapesRecipe
from mmgan_ref.train.recipes import register

SHAPES = register(ShapesRecipe(
    "shapes", "the flagship multimodal GAN (G, matching-aware D, cross-modal E) on shapes "
              "scenes: text/sound/image; lesson 05",
    SHAPES_DEFAULTS, dict(SHAPES_OPTIONS)))

__all__ = ["SHAPES", "FlagshipConfig", "FlagshipGAN", "ShapesRecipe", "slerp"]
