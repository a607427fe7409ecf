"""Training: one trainer for every GAN family, recipes, runs. Lesson: 02 and 10."""

from mmgan_ref.train.batches import SampledBatches, TensorBatches
from mmgan_ref.train.family import GANFamily, Phase
from mmgan_ref.train.trainer import NonFiniteLossError, TrainConfig, Trainer

__all__ = ["GANFamily", "NonFiniteLossError", "Phase", "SampledBatches", "TensorBatches",
           "TrainConfig", "Trainer"]
