"""How well the flagship does: attribute accuracy, cross-modal retrieval, diversity.

Lesson: 05 Text-to-image GAN (compositional generalisation) and 08 Evaluating GANs honestly.

- Attribute accuracy: the deterministic attribute reader (`data.attributes`) reads shape,
  colour, size and position back from generated images; each attribute and all four at
  once are compared with the caption's. Three conditions: captions of held-in
  combinations, captions of held-out combinations (never seen in training: compositional
  generalisation), and sounds of held-in scenes (sound -> image). The reader's accuracy
  on the real images of the same scenes is the ceiling.
- Retrieval: R@1, R@5 and mAP in all six directions between text, image and sound codes
  of held-in scenes (relevant = same four attributes), beside the exact chance level.
- Diversity: mean pairwise distance between samples of one caption, divided by that of
  real images of the same attributes (1.0 = as varied as real data).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mmgan_ref.data.attributes import (
    ATTRIBUTE_NAMES,
    all_combinations,
    default_held_out,
    read_attributes,
)
from mmgan_ref.data.shapes import canonical_caption, render_images, sample_scenes
from mmgan_ref.metrics.coherence import attribute_accuracy
from mmgan_ref.metrics.diversity import within_class_diversity
from mmgan_ref.metrics.retrieval import chance_level, cross_modal_retrieval
from mmgan_ref.utils import check_int

# Seeds of the evaluation scenes, far from the training set's seed.
EVAL_SEED = 9_001
HELDOUT_SEED = 9_002
DIVERSITY_SEED = 9_003


def _scenes(n: int, split: str, seed: int, image_size: int) -> dict[str, Any]:
    return sample_scenes(n, seed=seed, image_size=image_size, split=split, templates="train")


@torch.no_grad()
def generate(family, generator: nn.Module, codes: torch.Tensor, seed: int) -> torch.Tensor:
    """Images (N, 3, S, S) on the CPU for codes (N, code_dim), noise seeded by `seed`."""
    noise_rng = torch.Generator().manual_seed(seed)
    return family.sample(len(codes), codes, noise_rng, network=generator).float().cpu()


def accuracy_of(images: torch.Tensor, attributes: torch.Tensor) -> dict[str, float]:
    """Per-attribute and all-four accuracy of the attribute reader on `images`."""
    return attribute_accuracy(read_attributes(images), attributes, ATTRIBUTE_NAMES)


def attribute_report(family, generator: nn.Module, n: int = 1024, seed: int = 0
                     ) -> dict[str, dict[str, float]]:
    """Attribute accuracy of generated images: held-in text, held-out text, held-in sound.

    Args:
        family: a `FlagshipGAN` (in eval mode).
        generator: the network to sample from (the EMA copy after training).
        n: scenes per condition.
        seed: seeds the noise.
    Returns:
        {"held_in": {...}, "held_out": {...}, "sound_to_image": {...},
        "real_ceiling": {...}}, each {"shape", "colour", "size", "position", "all"}.
    """
    check_int("n", n, minimum=1)
    size = family.config.image_size
    held_in = _scenes(n, "train", EVAL_SEED, size)
    held_out = _scenes(n, "heldout", HELDOUT_SEED, size)
    report = {}
    for name, scenes, modality, key in (("held_in", held_in, "text", "tokens"),
                                        ("held_out", held_out, "text", "tokens"),
                                        ("sound_to_image", held_in, "sound", "spectrogram")):
        codes = family.encode(modality, scenes[key])
        report[name] = accuracy_of(generate(family, generator, codes, seed), scenes["attributes"])
    report["real_ceiling"] = accuracy_of(held_in["image"], held_in["attributes"])
    return report


def retrieval_report(family, n: int = 1024) -> dict[str, Any]:
    """Retrieval in all six directions between text, image and sound of held-in scenes.

    Returns:
        {"text->image": {"R@1", "R@5", "mAP", "queries"}, ... (6 directions),
        "chance": {"R@1", "R@5", "mAP"}, "scenes": n}
    """
    scenes = _scenes(check_int("n", n, minimum=2), "train", EVAL_SEED, family.config.image_size)
    codes = {"text": family.encode("text", scenes["tokens"]).cpu(),
             "image": family.encode("image", scenes["image"]).cpu(),
             "sound": family.encode("sound", scenes["spectrogram"]).cpu()}
    result: dict[str, Any] = cross_modal_retrieval(codes, scenes["attributes"], ks=(1, 5))
    result["chance"] = chance_level(scenes["attributes"], ks=(1, 5))
    result["scenes"] = n
    return result


def diversity_report(family, generator: nn.Module, combinations: int = 24,
                     per_caption: int = 16, seed: int = 0) -> dict[str, float]:
    """Within-caption diversity of generated images against real images of the same scene.

    For `combinations` held-in attribute combinations, `per_caption` samples of the
    canonical caption and as many real images are compared by mean pairwise distance.

    Returns:
        {"ratio": generated / real (1.0 = as varied as real), "generated", "real",
        "conditions"}
    """
    check_int("combinations", combinations, minimum=1, maximum=86)
    check_int("per_caption", per_caption, minimum=2)
    rng = torch.Generator().manual_seed(DIVERSITY_SEED)
    excluded = set(default_held_out())
    held_in = torch.tensor([c for c in all_combinations() if c not in excluded])
    picked = held_in[torch.randperm(len(held_in), generator=rng)[:combinations]]
    attrs = picked.repeat_interleave(per_caption, dim=0)  # (C * K, 4)
    captions = [canonical_caption(a) for a in picked]
    tokens = family.vocabulary.encode_batch(captions).repeat_interleave(per_caption, dim=0)
    fake = generate(family, generator, family.encode("text", tokens), seed)
    real = render_images(attrs, rng, family.config.image_size)
    return within_class_diversity(fake, attrs, real, attrs)


def evaluate_flagship(family, generator: nn.Module, seed: int = 0, n: int = 1024
                      ) -> dict[str, Any]:
    """Everything metrics.json holds for a flagship run (see the module docstring)."""
    family.eval()
    attributes = attribute_report(family, generator, n=n, seed=seed)
    return {"protocol": f"attribute reader on {n} scenes per condition; retrieval on {n} "
                        "held-in scenes (relevant = same 4 attributes)",
            "attribute_accuracy": attributes,
            "retrieval": retrieval_report(family, n=n),
            "diversity": diversity_report(family, generator, seed=seed)}
