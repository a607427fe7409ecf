"""A BiGAN-based anomaly score for the digits protocol (``metrics.anomaly``).

Lesson: 07 Applications (anomaly detection) and 06 BiGAN / ALI.

A BiGAN trained on normal digits only learns an encoder E and a generator G. An image
unlike the training data should be (a) badly reconstructed by G(E(x)) and (b) encoded
far from where the normal images land. The scores (higher = more anomalous):

- ``reconstruction``: ||x - G(E(x))||² (Zenati et al. 2018's L_G);
- ``feature``: ||f_D(x, E(x)) - f_D(G(E(x)), E(x))||_1, the feature-matching loss through
  the joint discriminator's last hidden layer (their L_D);
- ``zenati``: 0.9 ||x - G(E(x))||_1 + 0.1 feature, their mix (alpha = 0.9);
- ``latent_knn``: mean distance from E(x) to its k nearest training codes E(x_train);
- ``combined``: reconstruction + latent_knn, each standardised by its mean and standard
  deviation on the *training* images (leave-one-out for the k-NN part), so neither term
  dominates by its units.

A plain BiGAN's G(E(x)) is a loose "semantic" reconstruction (Donahue et al. 2017), too
loose for the reconstruction score (AUROC near or below chance on several digits). As in
ALICE (Li et al. 2017, "ALICE: Towards Understanding Adversarial Learning for Joint
Distribution Matching"), which adds a cycle-consistency term to ALI, G and E here also
minimise ``recon_weight`` x ||x - G(E(x))||². The joint discriminator sees flat digits
(an MLP, not the recipe's conv trunk): ~5x faster on a CPU, so the ten rounds fit the
results page's time budget.

The default score was chosen on the protocol's seed-1 splits and is reported on seed 0
(see ``docs/results.md``); the test splits of seed 0 never steered a choice.

References:
    Zenati, Foo, Lecouat, Manek, Chandrasekhar (2018), "Efficient GAN-Based Anomaly
    Detection". Donahue, Krähenbühl, Darrell (2017), "Adversarial Feature Learning".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mmgan_ref.metrics.anomaly import evaluate_anomaly_detector
from mmgan_ref.train.families import BiGAN
from mmgan_ref.utils import check_choice, check_float, check_int

SCORES = ("reconstruction", "feature", "zenati", "latent_knn", "combined")
ZENATI_ALPHA = 0.9


@dataclass(frozen=True)
class AnomalyBiGANConfig:
    """Networks, training and score of the detector (defaults chosen on seed-1 splits)."""

    z_dim: int = 16
    hidden: tuple[int, ...] = (128, 128)
    steps: int = 800
    batch_size: int = 64
    lr: float = 5e-4
    recon_weight: float = 1.0  # ALICE-style cycle term; 0 gives a plain BiGAN
    k: int = 5  # neighbours of the latent k-NN score
    score: str = "combined"
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("z_dim", self.z_dim, minimum=1)
        check_int("steps", self.steps, minimum=1)
        check_int("batch_size", self.batch_size, minimum=2)
        check_float("lr", self.lr, minimum=0.0, exclusive_min=True)
        check_float("recon_weight", self.recon_weight, minimum=0.0)
        check_int("k", self.k, minimum=1)
        check_choice("score", self.score, SCORES)
        check_int("seed", self.seed, minimum=0)


class CycleBiGAN(BiGAN):
    """BiGAN whose G and E also minimise recon_weight x ||x - G(E(x))||² (ALICE's cycle term)."""

    def __init__(self, *args: Any, recon_weight: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recon_weight = check_float("recon_weight", recon_weight, minimum=0.0)

    def ge_loss(self, batch):
        loss, extras = super().ge_loss(batch)
        real = batch[self.data_key]
        rebuilt = self.generator(self.encoder(real), None)
        recon = (real - rebuilt).pow(2).flatten(1).sum(1).mean()
        return loss + self.recon_weight * recon, {**extras, "recon": recon}


def _build_family(config: AnomalyBiGANConfig) -> CycleBiGAN:
    from mmgan_ref.nn.adapters import FlattenInput, ReshapeOutput
    from mmgan_ref.nn.discriminators import JointDiscriminator
    from mmgan_ref.nn.encoders import MLPEncoder
    from mmgan_ref.nn.mlp import MLPGenerator

    generator = ReshapeOutput(MLPGenerator(config.z_dim, 64, config.hidden,
                                           out_activation="tanh"), (1, 8, 8))
    encoder = FlattenInput(MLPEncoder(64, config.z_dim, config.hidden))
    discriminator = FlattenInput(JointDiscriminator(64, config.z_dim, config.hidden))
    return CycleBiGAN(generator, encoder, discriminator, z_dim=config.z_dim, lr=config.lr,
                      betas=(0.5, 0.999), recon_weight=config.recon_weight)


@dataclass
class BiGANDetector:
    """A BiGAN trained on normal digits, with the training statistics its scores need."""

    family: CycleBiGAN
    config: AnomalyBiGANConfig
    train_codes: np.ndarray  # (N_train, z_dim)
    train_stats: dict[str, tuple[float, float]]  # score -> (mean, std) on training images

    @torch.no_grad()
    def _parts(self, images: torch.Tensor, leave_one_out: bool = False) -> dict[str, np.ndarray]:
        from sklearn.neighbors import NearestNeighbors

        family = self.family
        x = images.float().to(family.device)
        codes = family.encoder(x)
        rebuilt = family.generator(codes, None)
        joint = family.discriminator.network.joint  # D's hidden layers on [x, z]
        feats_x = joint(torch.cat([x.flatten(1), codes], 1))
        feats_rebuilt = joint(torch.cat([rebuilt.flatten(1), codes], 1))
        k, skip = self.config.k, int(leave_one_out)
        nn = NearestNeighbors(n_neighbors=k + skip).fit(self.train_codes)
        distances = nn.kneighbors(codes.cpu().numpy().astype(np.float64))[0][:, skip:]
        diff = (x - rebuilt).flatten(1)
        return {"reconstruction": diff.pow(2).sum(1).cpu().numpy(),
                "l1": diff.abs().sum(1).cpu().numpy(),
                "feature": (feats_x - feats_rebuilt).abs().sum(1).cpu().numpy(),
                "latent_knn": distances.mean(1)}

    def scores(self, images: torch.Tensor, score: str | None = None) -> np.ndarray:
        """Anomaly scores (N,) of digit images (N, 1, 8, 8) in [-1, 1]; higher = more anomalous.

        Args:
            score: one of ``SCORES`` (default: the config's).
        """
        score = check_choice("score", score or self.config.score, SCORES)
        parts = self._parts(images)
        if score == "zenati":
            return ZENATI_ALPHA * parts["l1"] + (1 - ZENATI_ALPHA) * parts["feature"]
        if score == "combined":
            return sum((parts[name] - self.train_stats[name][0]) / self.train_stats[name][1]
                       for name in ("reconstruction", "latent_knn"))
        return parts[score]


def fit_bigan_detector(train_normal: torch.Tensor,
                       config: AnomalyBiGANConfig | None = None) -> BiGANDetector:
    """Train the detector's BiGAN on normal images (N, 1, 8, 8) with the course's Trainer.

    Seeded by ``config.seed``; the caller's global RNG is left as it was.
    """
    from mmgan_ref.train.batches import TensorBatches
    from mmgan_ref.train.trainer import TrainConfig, Trainer
    from mmgan_ref.utils import check_tensor

    config = config or AnomalyBiGANConfig()
    check_tensor("train_normal", train_normal, ("N", 1, 8, 8))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        family = _build_family(config)
        source = TensorBatches({"image": train_normal.float()}, config.batch_size, config.seed)
        loop = TrainConfig(steps=config.steps, batch_size=config.batch_size, lr=config.lr,
                           seed=config.seed, device="cpu", progress=False)
        Trainer(family, source, loop).fit()
    family.eval()
    codes = family.encode(train_normal).cpu().numpy().astype(np.float64)
    detector = BiGANDetector(family, config, codes, {})
    parts = detector._parts(train_normal, leave_one_out=True)
    detector.train_stats = {name: (float(v.mean()), float(v.std()) or 1.0)
                            for name, v in parts.items()}
    return detector


def bigan_anomaly_protocol(config: AnomalyBiGANConfig | None = None, seed: int = 0,
                           digits: Iterable[int] = range(10)) -> dict[str, Any]:
    """Run the digits anomaly protocol with the BiGAN detector (one BiGAN per held-out digit).

    Returns:
        as ``anomaly.evaluate_anomaly_detector``: per digit AUROC/AUPRC and their means.
    """
    config = config or AnomalyBiGANConfig()
    return evaluate_anomaly_detector(lambda train: fit_bigan_detector(train, config),
                                     lambda detector, images: detector.scores(images),
                                     seed=seed, digits=digits)


def bigan_score_table(config: AnomalyBiGANConfig | None = None, seed: int = 0,
                      digits: Iterable[int] = range(10)) -> dict[str, dict[str, Any]]:
    """Every score of ``SCORES`` from the same trained BiGANs: {score: protocol result}."""
    from mmgan_ref.metrics.anomaly import anomaly_scores_auc, anomaly_splits

    config = config or AnomalyBiGANConfig()
    per_score: dict[str, dict[int, dict[str, float]]] = {s: {} for s in SCORES}
    for digit in digits:
        train, test, is_anomaly = anomaly_splits(digit, seed)
        detector = fit_bigan_detector(train, config)
        for score in SCORES:
            per_score[score][int(digit)] = anomaly_scores_auc(detector.scores(test, score),
                                                              is_anomaly)
    return {score: {"per_digit": rows,
                    "mean_auroc": float(np.mean([r["auroc"] for r in rows.values()])),
                    "mean_auprc": float(np.mean([r["auprc"] for r in rows.values()]))}
            for score, rows in per_score.items()}
