"""Networks of the course: building blocks, generators, discriminators and encoders.

Lesson: 02 A first GAN on 2D data through 06 BiGAN/ALI; each module names its lesson.
Discriminators return raw logits (B,); images are (B, C, H, W) in [-1, 1].

`mmgan_ref.nn.mlp` is the module of MLP networks; the `mlp(sizes, ...)` builder lives in
`mmgan_ref.nn.blocks` and is not re-exported here, so the two names never shadow each other.
"""

from mmgan_ref.nn.blocks import (
    ConditionalBatchNorm2d,
    ConditionInput,
    FiLM,
    ProjectionHead,
    maybe_spectral_norm,
)
from mmgan_ref.nn.conv import IMAGE_SIZES, ConvDiscriminator, ConvGenerator, ConvTrunk
from mmgan_ref.nn.discriminators import JointDiscriminator, MatchingAwareDiscriminator
from mmgan_ref.nn.encoders import (
    PAD,
    CrossModalEncoder,
    ImageEncoder,
    MLPEncoder,
    SoundEncoder,
    TextEncoder,
)
from mmgan_ref.nn.mlp import AuxClassifierDiscriminator, MLPDiscriminator, MLPGenerator
from mmgan_ref.nn.modality_discriminator import ModalityDiscriminator

__all__ = [
    "IMAGE_SIZES",
    "PAD",
    "AuxClassifierDiscriminator",
    "ConditionInput",
    "ConditionalBatchNorm2d",
    "ConvDiscriminator",
    "ConvGenerator",
    "ConvTrunk",
    "CrossModalEncoder",
    "FiLM",
    "ImageEncoder",
    "JointDiscriminator",
    "MLPDiscriminator",
    "MLPEncoder",
    "MLPGenerator",
    "MatchingAwareDiscriminator",
    "ModalityDiscriminator",
    "ProjectionHead",
    "SoundEncoder",
    "TextEncoder",
    "maybe_spectral_norm",
]
