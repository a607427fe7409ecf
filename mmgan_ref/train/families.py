"""The GAN families of lessons 02, 03 and 06: each a set of networks and phase losses.

Lesson: 02 A first GAN (unconditional), 03 Conditional GANs, 06 BiGAN / ALI.

Networks follow one calling convention: `generator(z, cond)` and
`discriminator(x, cond)` where `cond` is None (unconditional), int labels (B,) or a
float code (B, d); discriminators return logits (B,).
"""

from __future__ import annotations

import torch
from torch import nn

from mmgan_ref import objectives
from mmgan_ref.train.family import GANFamily, Phase, frozen
from mmgan_ref.train.optim import LeanAdam
from mmgan_ref.utils import check_choice, check_float, check_int

LOSS_KINDS = ("minimax", "nonsaturating", "hinge", "wasserstein")


def adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with its fused kernel: one call per step instead of ~10 ops per tensor, which
    is most of the update's cost for small networks, stepped without `Optimizer.step`'s
    per-call Python (`LeanAdam`; the same results). torch < 2.4 has no fused CPU kernel:
    then the plain Adam."""
    params = list(params)
    try:
        return LeanAdam(params, lr=lr, betas=betas)
    except RuntimeError:
        return torch.optim.Adam(params, lr=lr, betas=betas)


def linear_decay(optimizer: torch.optim.Optimizer, steps: int, start: float = 0.5
                 ) -> torch.optim.lr_scheduler.LambdaLR:
    """Keep the learning rate for the first `start` x `steps` steps, then take it linearly
    to 0 at step `steps` (stepped once per training step by the trainer).

    Letting the rate go to 0 lets G settle on the modes instead of orbiting them.
    """
    steps = check_int("lr_decay_steps", steps, minimum=1)
    begin = round(check_float("lr_decay_start", start, minimum=0.0, maximum=1.0) * steps)

    def factor(step: int) -> float:  # a closure, so a resumed run may extend `steps`
        return min(1.0, max(0.0, (steps - step) / max(1, steps - begin)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def decay_schedulers(optimizers: dict[str, torch.optim.Optimizer], steps: int,
                     start: float) -> dict[str, torch.optim.lr_scheduler.LambdaLR]:
    """`linear_decay` for every optimiser, or {} when `steps` is 0 (constant rates)."""
    if check_int("lr_decay_steps", steps, minimum=0) == 0:
        return {}
    return {name: linear_decay(opt, steps, start) for name, opt in optimizers.items()}


class AdversarialGAN(GANFamily):
    """A GAN with optional conditioning: D step, then G step.

    One step draws G's images once: the D step scores them detached (one pass of D over
    real and fake rows together, unless D has batch norm), and the G step back-propagates
    through the same images into G, with D's weights frozen (gradients reach G through D,
    but D's own weight gradients would be thrown away, so they are not computed).

    Args:
        generator: `generator(z, cond) -> sample`.
        discriminator: `discriminator(x, cond) -> logits (B,)`.
        z_dim: noise size.
        data_key: the batch field holding real samples ("x" for toy2d, "image" for digits).
        cond_key: the batch field holding the condition, or None.
        loss: "minimax", "nonsaturating", "hinge" or "wasserstein" (see `objectives`).
        r1_gamma: weight of the R1 penalty on real data (0 disables it).
        r1_every: lazy R1 (Karras et al. 2020, StyleGAN2): the penalty, weighted by
            r1_every x r1_gamma, on one D update in r1_every; its double backward is
            the dearest part of a small D's step.
        r1_until: R1 on the first r1_until D updates only (None: on all of them). R1
            steadies D while the modes form; once the rates decay, dropping it saves its
            cost (the `grid` recipe stops it halfway, at no loss of quality).
        lr, betas: Adam settings for both networks; `d_lr_scale` multiplies D's rate.
        d_steps: D updates per training step (on the same real batch).
        lr_decay_steps, lr_decay_start: with lr_decay_steps > 0, both rates stay constant
            for the first lr_decay_start x lr_decay_steps steps, then fall linearly to 0 at
            lr_decay_steps (see `linear_decay`); 0 keeps them constant.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, *, z_dim: int,
                 data_key: str = "x", cond_key: str | None = None,
                 loss: str = "nonsaturating", r1_gamma: float = 0.0, r1_every: int = 1,
                 r1_until: int | None = None, lr: float = 2e-4,
                 betas: tuple[float, float] = (0.5, 0.999), d_lr_scale: float = 1.0,
                 d_steps: int = 1, lr_decay_steps: int = 0,
                 lr_decay_start: float = 0.5) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.data_key, self.cond_key = data_key, cond_key
        self.loss_kind = check_choice("loss", loss, LOSS_KINDS)
        self.r1_gamma = check_float("r1_gamma", r1_gamma, minimum=0.0)
        self.r1_every = check_int("r1_every", r1_every, minimum=1)
        self.r1_until = None if r1_until is None else check_int("r1_until", r1_until, minimum=0)
        self.optimizers = {
            "d": adam(discriminator.parameters(), lr * d_lr_scale, betas),
            "g": adam(generator.parameters(), lr, betas),
        }
        self.schedulers = decay_schedulers(self.optimizers, lr_decay_steps, lr_decay_start)
        d_steps = check_int("d_steps", d_steps, minimum=1)
        self.phases = [Phase("d", self.d_loss, "d", d_steps), Phase("g", self.g_loss, "g")]
        self._d_batch_stats = any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                  for m in discriminator.modules())
        self.step_state["d_updates"] = None  # see `_r1_due`

    def compilable(self) -> dict[str, nn.Module]:
        networks = self.networks()
        if self.r1_gamma > 0:  # R1 is a double backward through D: keep D eager
            networks.pop("discriminator")
        return networks

    def noise(self, n: int, generator: torch.Generator | None = None,
              device: torch.device | None = None) -> torch.Tensor:
        """n rows of N(0, I) noise on `device` (default: the family's; a training step
        passes its batch's device, which is cheaper to read than the parameters')."""
        device = self.device if device is None else device
        if generator is None:
            return torch.randn(n, self.z_dim, device=device)
        return torch.randn(n, self.z_dim, generator=generator).to(device)

    def _cond(self, batch):
        return batch[self.cond_key] if self.cond_key else None

    def _r1_due(self) -> bool:
        """Whether this D update carries R1: one in `r1_every`, among the first `r1_until`.

        D updates are counted in a Python int (reading D's optimiser's step tensor every
        step costs ~2 % of a toy step); it starts from that optimiser's step count, which
        every checkpoint holds, so a resumed run keeps the rhythm.
        """
        if self.r1_gamma == 0:
            return False
        if self.r1_every == 1 and self.r1_until is None:
            return True
        count = self.step_state["d_updates"]
        if count is None:
            first = self.optimizers["d"].param_groups[0]["params"][0]
            count = int(self.optimizers["d"].state.get(first, {}).get("step", 0))
        self.step_state["d_updates"] = count + 1
        return count % self.r1_every == 0 and (self.r1_until is None or count < self.r1_until)

    def load_extra_state(self, state: dict) -> None:
        super().load_extra_state(state)
        self.step_state["d_updates"] = None  # recounted from the restored optimiser

    def d_loss(self, batch):
        real = batch[self.data_key]
        cond = self._cond(batch)
        # G's images are drawn once per step, with their graph, for both phases: D's loss
        # sees them detached, and the G step on this batch takes them over (`hand_over`).
        fake = self.generator(self.noise(real.shape[0], device=real.device), cond)
        self.hand_over(batch, fake)
        with_r1 = self._r1_due()
        if with_r1:
            real = real.detach().requires_grad_(True)
        real_logits, fake_logits = self._d_logits(real, fake.detach(), cond)
        loss = objectives.d_loss(real_logits, fake_logits, self.loss_kind)
        # Logged as they are: the trainer detaches what a phase logs and averages it over
        # the log window, so D's mean logits on real and fake rows cost no op here.
        extras = {"d_real": real_logits, "d_fake": fake_logits}
        if with_r1:
            r1 = objectives.r1_penalty(self._r1_logits(real, cond, real_logits), real)
            loss = loss + 0.5 * self.r1_gamma * self.r1_every * r1
            extras["r1"] = r1
        return loss, extras

    def _d_logits(self, real, fake, cond):
        """D's logits on real and fake rows: one pass over both, unless D normalises by
        batch statistics (then a joint batch would let each half shape the other's)."""
        if self._d_batch_stats:
            return self.discriminator(real, cond), self.discriminator(fake, cond)
        both_cond = None if cond is None else torch.cat([cond, cond])
        logits = self.discriminator(torch.cat([real, fake]), both_cond)
        return logits.split(real.shape[0])

    def _r1_logits(self, real, cond, real_logits):
        """Logits to differentiate for R1: recomputed in float32 under fp16 autocast.

        fp16's narrow range underflows the small input gradients of a flat D, and R1 is
        then silently lost (lesson 10 measures it); bf16 keeps fp32's range.
        """
        device_type = real.device.type
        if not (torch.is_autocast_enabled(device_type)
                and torch.get_autocast_dtype(device_type) == torch.float16):
            return real_logits
        with torch.autocast(device_type, enabled=False):
            return self.discriminator(real.float(), cond)

    def g_loss(self, batch):
        cond = self._cond(batch)
        fake = self.take_over(batch)  # drawn by the D step on this batch
        if fake is None:
            real = batch[self.data_key]
            fake = self.generator(self.noise(real.shape[0], device=real.device), cond)
        with frozen(self.discriminator):  # gradients flow through D to G, not into D's weights
            logits = self.discriminator(fake, cond)
        return objectives.g_loss(logits, self.loss_kind), {}

    @torch.no_grad()
    def sample(self, n: int, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               network: nn.Module | None = None) -> torch.Tensor:
        """n samples (for a condition, `cond` holds n labels or codes)."""
        network = network or self.generator
        cond = cond.to(self.device) if cond is not None else None
        return network(self.noise(n, generator), cond)


class BiGAN(GANFamily):
    """BiGAN / ALI: D tells (x, E(x)) from (G(z), z); G and E learn together to fool it.

    Donahue, Krähenbühl and Darrell (2017), Adversarial feature learning; Dumoulin et al.
    (2017), Adversarially learned inference. At the optimum E inverts G.

    Args:
        generator: `generator(z, None) -> x`.
        encoder: `encoder(x) -> z` (B, z_dim).
        discriminator: `discriminator(x, z) -> logits (B,)`.
        lr_decay_steps, lr_decay_start: as for `AdversarialGAN`.
    """

    def __init__(self, generator: nn.Module, encoder: nn.Module, discriminator: nn.Module, *,
                 z_dim: int, data_key: str = "image", loss: str = "nonsaturating",
                 lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                 lr_decay_steps: int = 0, lr_decay_start: float = 0.5) -> None:
        super().__init__()
        self.generator, self.encoder, self.discriminator = generator, encoder, discriminator
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.data_key = data_key
        self.loss_kind = check_choice("loss", loss, LOSS_KINDS)
        self.optimizers = {
            "d": adam(discriminator.parameters(), lr, betas),
            "ge": adam(list(generator.parameters()) + list(encoder.parameters()), lr, betas),
        }
        self.schedulers = decay_schedulers(self.optimizers, lr_decay_steps, lr_decay_start)
        self.phases = [Phase("d", self.d_loss, "d"), Phase("ge", self.ge_loss, "ge")]

    noise = AdversarialGAN.noise

    def _pairs(self, real):
        z = self.noise(real.shape[0])
        return self.discriminator(real, self.encoder(real)), self.discriminator(
            self.generator(z, None), z)

    def d_loss(self, batch):
        real = batch[self.data_key]
        with torch.no_grad():
            z = self.noise(real.shape[0])
            fake, code = self.generator(z, None), self.encoder(real)
        real_logits = self.discriminator(real, code)
        fake_logits = self.discriminator(fake, z)
        return objectives.d_loss(real_logits, fake_logits, self.loss_kind), {}

    def ge_loss(self, batch):
        real_logits, fake_logits = self._pairs(batch[self.data_key])
        # G and E swap the labels: make D call the encoder's pairs fake and G's pairs real.
        loss = objectives.d_loss(fake_logits, real_logits, self.loss_kind)
        return loss, {}

    @torch.no_grad()
    def sample(self, n: int, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               network: nn.Module | None = None) -> torch.Tensor:
        network = network or self.generator
        return network(self.noise(n, generator), None)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.to(self.device))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.generator(self.encode(x), None)
