"""Encoders for images, text and sound, and the cross-modal encoder holding them.

Lesson: 04 Encoding modalities into one space (image, text, sound encoders and
`CrossModalEncoder`, trained with InfoNCE) and 06 BiGAN/ALI (`MLPEncoder`).

Text comes as token ids (B, L), int64, padded with PAD = 0 at the end; sound as a
log-spectrogram (B, F, T); images as (B, C, S, S) in [-1, 1].

References:
    Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
    Supervision" (CLIP: normalised codes, learnable logit scale clamped at 100).
    Donahue et al. 2017, "Adversarial Feature Learning" (BiGAN encoder).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from mmgan_ref.nn.blocks import LEAKY_SLOPE, mlp
from mmgan_ref.nn.conv import ConvTrunk
from mmgan_ref.utils import check_choice, check_float, check_int, check_tensor

PAD = 0
TEXT_MODES = ("mean", "gru")
MODALITIES = ("image", "text", "sound")
MAX_LOGIT_SCALE = 100.0  # CLIP clamps exp(logit_scale) at 100


class MLPEncoder(nn.Module):
    """E(x) -> code (B, out_dim) for flat inputs (BiGAN on flat digits).

    Args:
        in_dim: input width.
        out_dim: code width.
        hidden: hidden widths.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, minimum=1)
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        self.net = mlp([in_dim, *hidden, out_dim], activation="leaky_relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, in_dim) -> (B, out_dim)."""
        check_tensor("x", x, ("B", self.in_dim))
        return self.net(x)


class ImageEncoder(nn.Module):
    """A small CNN: images (B, C, S, S) -> codes (B, out_dim)."""

    def __init__(self, *, channels: int = 3, image_size: int = 32, out_dim: int = 64,
                 base_width: int = 16) -> None:
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        self.image_size = image_size
        self.trunk = ConvTrunk(channels, image_size, base_width)
        self.proj = nn.Linear(self.trunk.feature_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, S, S) -> (B, out_dim)."""
        check_tensor("x", x, ("B", self.channels, self.image_size, self.image_size))
        return self.proj(self.trunk(x))


class TextEncoder(nn.Module):
    """Token ids (B, L) -> codes (B, out_dim); PAD positions never change the code.

    "mean" averages word embeddings over the non-PAD positions; "gru" runs a GRU over
    the packed sequence (true lengths) and uses its last hidden state. A caption made
    only of PAD gets the code of an empty sentence.

    Args:
        vocab_size: number of token ids (PAD = 0 included).
        out_dim: code width.
        embed_dim: word-embedding width (also the GRU's hidden width).
        mode: "mean" or "gru".
    """

    def __init__(self, vocab_size: int, out_dim: int = 64, *, embed_dim: int = 32,
                 mode: str = "mean") -> None:
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        check_int("embed_dim", embed_dim, minimum=1)
        self.mode = check_choice("mode", mode, TEXT_MODES)
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.gru = nn.GRU(embed_dim, embed_dim, batch_first=True) if mode == "gru" else None
        self.proj = nn.Linear(embed_dim, out_dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, L) int64, PAD = 0 -> (B, out_dim)."""
        check_tensor("tokens", tokens, ("B", "L"), dtype_kind="int")
        mask = tokens != PAD  # (B, L)
        lengths = mask.sum(dim=1)  # (B,)
        e = self.embed(tokens)  # (B, L, E); PAD rows are zero
        if self.gru is None:
            pooled = (e * mask[..., None]).sum(1) / lengths.clamp(min=1)[:, None]  # (B, E)
        else:
            if (mask[:, 1:] & ~mask[:, :-1]).any():
                raise ValueError("tokens: mode='gru' needs PAD (0) only at the end of each row")
            packed = pack_padded_sequence(e, lengths.clamp(min=1).cpu(), batch_first=True,
                                          enforce_sorted=False)
            _, last = self.gru(packed)  # (1, B, E)
            pooled = last[0]
        return self.proj(pooled)


class SoundEncoder(nn.Module):
    """Log-spectrograms (B, F, T) -> codes (B, out_dim).

    A 1-D CNN over time with the frequency bins as channels, then mean and max pooling
    over time, so any length T >= 4 works.

    Args:
        freq_bins: F, the number of frequency bins.
        out_dim: code width.
        width: channels of the first convolution (doubled once).
    """

    MIN_FRAMES = 4

    def __init__(self, freq_bins: int, out_dim: int = 64, *, width: int = 32) -> None:
        super().__init__()
        self.freq_bins = check_int("freq_bins", freq_bins, minimum=1)
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        check_int("width", width, minimum=1)
        self.net = nn.Sequential(
            nn.Conv1d(freq_bins, width, 3, padding=1), nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv1d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv1d(2 * width, 2 * width, 3, padding=1), nn.LeakyReLU(LEAKY_SLOPE),
        )
        self.proj = nn.Linear(4 * width, out_dim)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """spec (B, F, T) -> (B, out_dim)."""
        check_tensor("spec", spec, ("B", self.freq_bins, "T"))
        if spec.shape[2] < self.MIN_FRAMES:
            raise ValueError(f"spec needs at least {self.MIN_FRAMES} frames, "
                             f"got shape {tuple(spec.shape)}")
        h = self.net(spec)  # (B, 2W, T/2)
        pooled = torch.cat([h.mean(dim=2), h.max(dim=2).values], dim=1)  # (B, 4W)
        return self.proj(pooled)


class CrossModalEncoder(nn.Module):
    """Maps images, text and sound into one space of L2-normalised codes (B, dim).

    Each given encoder must have an `out_dim` attribute; a Linear head maps it to `dim`
    (identity when equal). Modalities left as None are absent, so a model with 1, 2 or 3
    modalities is the same class. The temperature is learnable: `log_scale` stores the
    log of CLIP's logit scale, and `logit_scale()` returns exp(log_scale) clamped at 100.

    Args:
        image, text, sound: the encoders, or None.
        dim: width of the shared space.
        temperature: initial temperature (CLIP: 0.07, i.e. logit scale ~14.3).
    """

    def __init__(self, *, image: nn.Module | None = None, text: nn.Module | None = None,
                 sound: nn.Module | None = None, dim: int = 64,
                 temperature: float = 0.07) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, minimum=1)
        check_float("temperature", temperature, minimum=1 / MAX_LOGIT_SCALE)
        self.encoders = nn.ModuleDict()
        self.heads = nn.ModuleDict()
        for name, encoder in (("image", image), ("text", text), ("sound", sound)):
            if encoder is None:
                continue
            if not isinstance(encoder, nn.Module) or not hasattr(encoder, "out_dim"):
                raise TypeError(f"{name} must be an nn.Module with an out_dim attribute, "
                                f"got {type(encoder).__name__}")
            self.encoders[name] = encoder
            self.heads[name] = (nn.Identity() if encoder.out_dim == dim
                                else nn.Linear(encoder.out_dim, dim))
        if not self.encoders:
            raise ValueError("give at least one of image=, text=, sound=")
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities this encoder holds, in the order image, text, sound."""
        return tuple(m for m in MODALITIES if m in self.encoders)

    def logit_scale(self) -> torch.Tensor:
        """exp(log_scale) clamped to at most 100: the multiplier of cosine similarities."""
        return self.log_scale.clamp(max=math.log(MAX_LOGIT_SCALE)).exp()

    def _encode(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        if modality not in self.encoders:
            raise ValueError(f"this CrossModalEncoder has no {modality} encoder; "
                             f"it holds: {', '.join(self.modalities)}")
        code = self.heads[modality](self.encoders[modality](x))  # (B, dim)
        return F.normalize(code, dim=1)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, C, S, S) -> unit-norm codes (B, dim)."""
        return self._encode("image", images)

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, L) int64 -> unit-norm codes (B, dim)."""
        return self._encode("text", tokens)

    def encode_sound(self, spec: torch.Tensor) -> torch.Tensor:
        """log-spectrograms (B, F, T) -> unit-norm codes (B, dim)."""
        return self._encode("sound", spec)

    def forward(self, **inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Encode any of image=, text=, sound=; returns {modality: codes (B, dim)}."""
        for name in inputs:
            check_choice("modality", name, MODALITIES)
        return {name: self._encode(name, x) for name, x in inputs.items()}
