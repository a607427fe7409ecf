"""The flagship multimodal GAN: generator G, matching-aware discriminator D, cross-modal encoder E.

Lesson: 05 Text-to-image GAN (the model the course builds up to).

Importing this package registers the `shapes` recipe, the default of `mmgan train`, its
GPU version `shapes-64`, and `captions-64` (the same model on a local caption folder).
"""

from dataclasses import replace

from mmgan_ref.flagship.captions import CAPTIONS_DEFAULTS, CAPTIONS_OPTIONS, CaptionsRecipe
from mmgan_ref.flagship.family import FlagshipGAN
from mmgan_ref.flagship.model import FlagshipConfig, slerp
from mmgan_ref.flagship.recipe import SHAPES_DEFAULTS, SHAPES_OPTIONS, ShapesRecipe
from mmgan_ref.train.recipes import register

SHAPES = register(ShapesRecipe(
    "shapes", "the flagship multimodal GAN (G, matching-aware D, cross-modal E) on shapes "
              "scenes: text/sound/image; lesson 05",
    SHAPES_DEFAULTS, dict(SHAPES_OPTIONS)))

# The same model at 64x64 with wider networks and a larger batch, for one or more GPUs:
#   mmgan train shapes-64 --device cuda --amp --channels-last [--compile]
# A long run at a lower rate: E gets a longer warm-up of its own (a tenth of the run) and
# the EMA of G a longer memory than the 5-minute CPU recipe's.
SHAPES_64 = register(ShapesRecipe(
    "shapes-64", "the flagship at 64x64 with wider networks, for GPUs (--device cuda --amp); "
                 "lesson 10",
    replace(SHAPES_DEFAULTS, steps=20_000, batch_size=128, lr=2e-4, ema_decay=0.999,
            log_every=200, extra={"image_size": 64}),
    {**SHAPES_OPTIONS, "image_size": 64, "g_width": 32, "d_width": 32, "e_width": 16,
     "train_scenes": 50_000, "e_steps": 2_000}))

# Text-to-image on a local caption folder (CUB-200, Oxford-102 layout); see flagship.captions:
#   mmgan train captions-64 --data DIR --device cuda --amp --channels-last
CAPTIONS_64 = register(CaptionsRecipe(
    "captions-64", "the flagship (text, image) at 64x64 on a local caption folder given by "
                   "--data DIR (CUB-200/Oxford-102 layout); batch 64, 30,000 steps, lr 2e-4, "
                   "EMA 0.999; on a GPU add --device cuda --amp --channels-last; lesson 10",
    CAPTIONS_DEFAULTS, dict(CAPTIONS_OPTIONS)))

__all__ = ["CAPTIONS_64", "SHAPES", "SHAPES_64", "CaptionsRecipe", "FlagshipConfig",
           "FlagshipGAN", "ShapesRecipe", "slerp"]
