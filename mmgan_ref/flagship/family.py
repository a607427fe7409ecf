"""The flagship GAN family: E trained contrastively, D matching-aware, G with a consistency term.

Lesson: 05 Text-to-image GAN (GAN-CLS, the consistency of E(G(z, s)) with s).

One training step runs three phases on one batch of real scenes (image, caption tokens,
spectrogram, attributes):

1. "e": E learns the shared space: symmetric InfoNCE over (text, image), (text, sound)
   and (image, sound) pairs of the batch.
2. "d": D(x, s) sees real matched pairs as real; real images with a mismatched code and
   generated images G(z, s) as fake (GAN-CLS, Reed et al. 2016). Codes are detached.
3. "g": G fools D and keeps E_image(G(z, s)) close to s (cosine), E and D frozen;
   E sees G's image before its pixel noise (`CodeGenerator.render`).

The condition s is E_text of the caption, or for a share of the rows E_sound of the
scene's sound: both live in one space, so the same G draws from either.

With `e_steps` > 0 the schedule is staged instead: E alone ("e") for the first e_steps
steps, then "d" and "g" only, E frozen. E's contrastive task is learnt long before G's
(retrieval saturates within a few hundred steps), so the staged schedule saves E's
update in every later step, and G chases fixed codes and a fixed E_image to be
consistent with, not a moving target.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from mmgan_ref import objectives
from mmgan_ref.data.text import Vocabulary
from mmgan_ref.flagship.model import (
    FlagshipConfig,
    build_discriminator,
    build_encoder,
    build_generator,
)
from mmgan_ref.train.families import adam
from mmgan_ref.train.family import GANFamily, Phase, frozen
from mmgan_ref.utils import check_choice, check_float, check_int

LOSS_KINDS = ("hinge", "nonsaturating")
CONSISTENCY_KINDS = ("cosine", "contrastive")
MODE_SEEKING_EPS = 1e-5
PAIRS = (("text", "image"), ("text", "sound"), ("image", "sound"))


class Fakes(NamedTuple):
    """One step's generated rows: noise, codes, attributes, G's image before and after
    its pixel noise (the noisy one is what D sees)."""

    z: torch.Tensor
    codes: torch.Tensor
    attributes: torch.Tensor
    clean: torch.Tensor
    image: torch.Tensor


class FlagshipGAN(GANFamily):
    """G, D and E of the multimodal GAN, with phases "e", "d" and "g".

    Args:
        config: network sizes.
        vocabulary: the caption vocabulary (kept in checkpoints).
        freq_bins: frequency bins of the spectrograms.
        loss: "hinge" or "nonsaturating".
        r1_gamma: weight of the R1 penalty on real matched pairs (0: off).
        consistency: weight of the consistency of E_image(G(z, s)) with s in G's loss.
        consistency_kind: "cosine" (1 - cos(E_image(G(z, s)), s)) or "contrastive"
            (InfoNCE: E_image(G(z, s)) must be nearer to s than to the batch's other
            codes; codes of scenes with the same attributes count as positives).
        mode_seeking: weight of the mode-seeking term (Mao et al. 2019): two noise
            vectors for one code should give two different images (0: off).
        mode_seeking_pool: the images are compared after average pooling by this factor
            (1: pixel by pixel, as Mao et al.). The data varies within a caption by coarse
            jitter (place, size, brightness), which pooling keeps; pixel by pixel, the
            cheapest difference for G is texture, which blurs the shape.
        sound_share: share of rows conditioned on E_sound instead of E_text.
        e_steps: 0: E trains with D and G in every step. N > 0: E trains alone for the
            first N steps, then stays frozen while D and G train (see the module docstring).
        lr, betas: Adam settings of all three networks.
        channels_last: keep images and conv weights in NHWC (faster convolutions on CPUs
            and on GPUs under AMP).
    """

    def __init__(self, config: FlagshipConfig, vocabulary: Vocabulary, freq_bins: int, *,
                 loss: str = "hinge", r1_gamma: float = 0.0, consistency: float = 1.0,
                 consistency_kind: str = "contrastive", mode_seeking: float = 0.0,
                 mode_seeking_pool: int = 1,
                 sound_share: float = 0.25, e_steps: int = 0, lr: float = 2e-4,
                 betas: tuple[float, float] = (0.0, 0.99), channels_last: bool = True) -> None:
        super().__init__()
        self.config = config
        self.vocabulary = vocabulary
        self.encoder = self.build_encoder(config, len(vocabulary), freq_bins)
        self.generator = build_generator(config)
        self.discriminator = build_discriminator(config)
        self.loss_kind = check_choice("loss", loss, LOSS_KINDS)
        self.r1_gamma = check_float("r1_gamma", r1_gamma, minimum=0.0)
        self.consistency = check_float("consistency", consistency, minimum=0.0)
        self.consistency_kind = check_choice("consistency_kind", consistency_kind,
                                             CONSISTENCY_KINDS)
        self.mode_seeking = check_float("mode_seeking", mode_seeking, minimum=0.0)
        self.mode_seeking_pool = check_int("mode_seeking_pool", mode_seeking_pool, minimum=1,
                                           maximum=config.image_size)
        self.sound_share = check_float("sound_share", sound_share, minimum=0.0, maximum=1.0)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)
        self.optimizers = {
            name: adam(net.parameters(), lr, betas)
            for name, net in (("e", self.encoder), ("d", self.discriminator),
                              ("g", self.generator))}
        self.e_steps = check_int("e_steps", e_steps, minimum=0)
        self.e_updates = 0  # E updates so far; checkpoints keep it (`extra_state`)
        self.phases = [Phase("e", self.e_loss, "e"), Phase("d", self.d_loss, "d"),
                       Phase("g", self.g_loss, "g")]

    @property
    def phases(self) -> list[Phase]:
        """What the next training step runs: every phase, or the stage `e_steps` calls for."""
        if self.e_steps == 0:
            return self._phases
        if self.e_updates < self.e_steps:
            return [p for p in self._phases if p.name == "e"]
        return [p for p in self._phases if p.name != "e"]

    @phases.setter
    def phases(self, value: list[Phase]) -> None:
        self._phases = list(value)

    def build_encoder(self, config: FlagshipConfig, vocab_size: int,
                      freq_bins: int) -> nn.Module:
        """E (a subclass may build it without the sound tower)."""
        return build_encoder(config, vocab_size, freq_bins)

    def pair_keys(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, K) keys: rows with equal keys describe the same thing (here: attributes).

        GAN-CLS skips rolled pairs with equal keys, and the contrastive consistency counts
        them as positives.
        """
        return batch["attributes"]

    # ------------------------------------------------------------------ codes

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z (n, z_dim), from `generator` (on the CPU, so a seed means the same on any device)."""
        if generator is None:
            return torch.randn(n, self.config.z_dim, device=self.device)
        return torch.randn(n, self.config.z_dim, generator=generator).to(self.device)

    @torch.no_grad()
    def condition(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Detached codes s (B, code_dim): E_text, or E_sound for a seeded share of rows."""
        text = self.encoder.encode_text(batch["tokens"])
        if self.sound_share == 0:
            return text
        rows = torch.rand(text.shape[0], device=text.device) < self.sound_share
        sound = self.encoder.encode_sound(batch["spectrogram"][rows])
        return text.index_put((rows.nonzero().squeeze(1),), sound)

    # ------------------------------------------------------------------ phases

    def images(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The batch's real images (B, 3, S, S) in this family's memory format."""
        return batch["image"].contiguous(memory_format=self.memory_format)

    def e_loss(self, batch):
        self.e_updates += 1
        inputs = {"image": self.images(batch), "text": batch["tokens"]}
        if "sound" in self.encoder.modalities:
            inputs["sound"] = batch["spectrogram"]
        codes = self.encoder(**inputs)
        scale = self.encoder.logit_scale()
        # every pair of the modalities E holds (all three here; text-image for captions)
        losses = {f"nce_{a}_{b}": objectives.info_nce(codes[a], codes[b], logit_scale=scale)
                  for a, b in PAIRS if a in codes and b in codes}
        return sum(losses.values()) / len(losses), {"logit_scale": scale.detach()}

    def fakes(self, batch: dict[str, torch.Tensor], s: torch.Tensor | None = None) -> Fakes:
        """G's images for this step's batch, drawn once for both the D and the G step.

        The D step draws them (D sees them detached) and hands them over to the G step on
        the same batch (`GANFamily.hand_over`), saving a second pass of G and of E.
        `s`: the batch's codes, where the caller has them (default: `condition(batch)`).
        With mode seeking, rows come in pairs that share a code: (s_1..s_h, s_1..s_h).
        """
        s = self.condition(batch) if s is None else s
        attrs = self.pair_keys(batch)
        if self.mode_seeking > 0:
            half = s.shape[0] // 2
            s, attrs = s[:half].repeat(2, 1), attrs[:half].repeat(2, 1)
        z = self.noise(s.shape[0])
        clean = self.generator.render(z, s)
        return Fakes(z, s, attrs, clean, self.generator.add_noise(clean))

    def d_loss(self, batch):
        real, attrs = self.images(batch), self.pair_keys(batch)
        s = self.condition(batch)
        fakes = self.fakes(batch, s)
        self.hand_over(batch, fakes)  # the G step on this batch takes them over
        fake = fakes.image.detach()  # D's loss must not reach G
        # GAN-CLS: a real image with another scene's code is a fake pair too; rows whose
        # rolled partner happens to share every attribute are not mismatched, so drop them.
        mismatched = (attrs != attrs.roll(1, 0)).any(dim=1)
        wrong_s = s.roll(1, 0)[mismatched]
        if self.r1_gamma > 0:
            real = real.detach().requires_grad_(True)
        # The trunk does not see the code, so one pass over real and fake images serves
        # the matched, mismatched and fake pairs; only the projection head sees codes.
        features = self.discriminator.trunk(torch.cat([real, fake]))  # (B + B', feature_dim)
        real_features, fake_features = features.split([len(real), len(fake)])
        head = self.discriminator.head
        real_logits = head(real_features, s)
        fake_logits = torch.cat([head(fake_features, fakes.codes),
                                 head(real_features[mismatched], wrong_s)])
        loss = objectives.d_loss(real_logits, fake_logits, self.loss_kind)
        extras = {"d_real": real_logits.mean().detach(),
                  "d_fake": fake_logits[:len(fake)].mean().detach(),
                  "d_wrong": fake_logits[len(fake):].mean().detach()}
        if self.r1_gamma > 0:
            r1 = objectives.r1_penalty(real_logits, real)
            loss = loss + 0.5 * self.r1_gamma * r1
            extras["r1"] = r1.detach()
        return loss, extras

    def g_loss(self, batch):
        fakes = self.take_over(batch)  # drawn by the D step on this batch
        if fakes is None:
            fakes = self.fakes(batch)
        z, s, attrs, clean, fake = fakes
        with frozen(self.discriminator, self.encoder):
            adversarial = objectives.g_loss(self.discriminator(fake, s), self.loss_kind)
            # E judges the content, before the pixel noise: seen through E, noise only
            # blurs the match, so this term would otherwise drive the noise scale to zero
            # and make G's images cleaner, hence less varied, than the data. D alone
            # decides the noise scale (where it is learnt).
            fake_codes = self.encoder.encode_image(clean)  # (B, code_dim), unit norm
            scale = self.encoder.logit_scale().detach()
        agreement = (fake_codes * s).sum(dim=1).mean()
        if self.consistency_kind == "cosine":
            consistency = 1 - agreement
        else:
            consistency = _multi_positive_nce(scale * fake_codes @ s.T, attrs)
        loss = adversarial + self.consistency * consistency
        extras = {"g_adv": adversarial.detach(), "g_cos": agreement.detach()}
        if self.mode_seeking > 0:
            half = len(z) // 2
            coarse = nn.functional.avg_pool2d(clean, self.mode_seeking_pool)
            a, b = coarse.flatten(1).split(half), z.split(half)  # (pixel noise ignores z)
            ratio = (a[0] - a[1]).abs().mean() / (b[0] - b[1]).abs().mean()
            loss = loss + self.mode_seeking / (ratio + MODE_SEEKING_EPS)
            extras["g_mode_ratio"] = ratio.detach()
        return loss, extras

    # ------------------------------------------------------------------ use

    @torch.no_grad()
    def encode(self, modality: str, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Unit codes (N, code_dim) of "image" (N, 3, S, S), "text" (N, L) or "sound" (N, F, T)."""
        check_choice("modality", modality, ("image", "text", "sound"))
        parts = [self.encoder(**{modality: chunk.to(self.device)})[modality]
                 for chunk in x.split(batch_size)]
        return torch.cat(parts)

    @torch.no_grad()
    def sample(self, n: int, codes: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               network: nn.Module | None = None, z: torch.Tensor | None = None
               ) -> torch.Tensor:
        """n images (n, 3, S, S) for codes (n, code_dim).

        Args:
            generator: draws z (unless given) and the pixel noise, on the CPU, so one seed
                gives the same images on any device.
            network: the generator to use (default: the trained one; pass the EMA copy).
            z: noise (n, z_dim), e.g. one row repeated along an interpolation.
        """
        if codes is None:
            raise ValueError("codes: the flagship is conditional; give codes (n, code_dim), "
                             "e.g. family.encode('text', tokens)")
        if codes.shape[0] != n:
            raise ValueError(f"codes has {codes.shape[0]} rows, expected n = {n}")
        network = network or self.generator
        z = self.noise(n, generator) if z is None else z.to(self.device)
        side = self.config.image_size
        pixels = (torch.randn(n, 3, side, side, generator=generator) if generator is not None
                  else torch.randn(n, 3, side, side))
        # Batch norm must use its running statistics: in training mode a sample would
        # depend on the rest of its batch, and would also overwrite those statistics.
        was_training = network.training
        network.eval()
        try:
            parts = [network(z_part, c_part.to(self.device), p_part.to(self.device))
                     for z_part, c_part, p_part in zip(z.split(512), codes.split(512),
                                                       pixels.split(512), strict=True)]
        finally:
            network.train(was_training)
        return torch.cat(parts).contiguous()

    def compilable(self) -> dict[str, nn.Module]:
        """The parts a training step calls: G's conv net, D's trunk and head, E's encoders.

        The steps call these parts directly (`render`, `trunk`, `encode_text`), not the
        three networks' own forward, so compiling the whole networks would leave nearly
        every step eager. D stays eager under R1 (a double backward; see the base class).
        """
        parts: dict[str, nn.Module] = {"generator.net": self.generator.net}
        if self.r1_gamma == 0:
            parts["discriminator.trunk"] = self.discriminator.trunk
            parts["discriminator.head"] = self.discriminator.head
        for modality in self.encoder.modalities:
            parts[f"encoder.{modality}"] = self.encoder.encoders[modality]
        return parts

    def extra_state(self) -> dict:
        return {"vocabulary": self.vocabulary.to_dict(), "config": self.config.to_dict(),
                "e_updates": self.e_updates}

    def load_extra_state(self, state: dict) -> None:
        # A checkpoint from before the staged schedule trained E jointly: E is trained.
        self.e_updates = int(state.get("e_updates", self.e_steps))
        if "vocabulary" in state:
            saved = Vocabulary.from_dict(state["vocabulary"])
            if saved != self.vocabulary:
                raise ValueError("checkpoint: its caption vocabulary differs from this "
                                 "version's shapes vocabulary; retrain the run")


def _multi_positive_nce(logits: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
    """InfoNCE where every column with the row's attributes is a positive.

    Args:
        logits: (B, B) scaled similarities of generated-image codes (rows) and codes s.
        attributes: (B, K) keys of the rows (row i was drawn for code i): the scenes'
            four attributes, or the image a caption belongs to.
    Returns:
        mean over rows of -log(sum of softmax over the positive columns).
    """
    positive = (attributes[:, None, :] == attributes[None, :, :]).all(dim=2)  # (B, B)
    log_probs = logits.float().log_softmax(dim=1)
    return -log_probs.masked_fill(~positive, float("-inf")).logsumexp(dim=1).mean()
