"""The flagship's three networks: cross-modal encoder E, generator G(z, s), discriminator D(x, s).

Lesson: 05 Text-to-image GAN (the flagship model), built on 04 Encoding modalities into
one space (E) and 03 Conditional GANs (FiLM, projection).

E maps captions, images and sounds into one space of unit-norm codes of width
`code_dim`; G draws an image from noise z and a code s, the code modulating the batch
norm at every resolution (FiLM); D scores (image, code) pairs with a projection head, so
a real image with the wrong code can be called fake (matching-aware, GAN-CLS).

References:
    Reed et al. 2016, "Generative Adversarial Text to Image Synthesis" (GAN-CLS).
    Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
    Supervision" (CLIP: a shared space trained contrastively).
    Perez et al. 2018, "FiLM"; Miyato and Koyama 2018, "cGANs with Projection Discriminator".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from mmgan_ref.nn.blocks import LEAKY_SLOPE
from mmgan_ref.nn.conv import ConvGenerator
from mmgan_ref.nn.discriminators import MatchingAwareDiscriminator
from mmgan_ref.nn.encoders import CrossModalEncoder, ImageEncoder, SoundEncoder, TextEncoder
from mmgan_ref.utils import check_choice, check_float, check_int, check_tensor

IMAGE_SIZES = (32, 64)
# Log-power spectrograms of the shapes sounds lie roughly in [-9.2, 4]: a fixed affine map
# brings them near zero mean and unit spread without hiding loudness (which encodes size).
SPECTROGRAM_SHIFT = 6.0
SPECTROGRAM_SCALE = 3.0


@dataclass(frozen=True)
class FlagshipConfig:
    """Sizes of the three networks.

    Attributes:
        image_size: 32 (CPU default) or 64.
        code_dim: width of the shared space (unit-norm codes).
        z_dim: noise width.
        g_width, d_width, e_width: base widths of G, D and the image encoder.
        text_dim: word-embedding width of the text encoder.
        sound_width: channels of the sound encoder's first convolution.
        spectral_norm: spectral norm on D's layers.
        temperature: initial InfoNCE temperature of E.
        pixel_noise: std of G's pixel noise in [-1, 1] image units, fixed (the data's
            sensor noise, where it is known); 0: a scale per channel learnt from zero.
    """

    image_size: int = 32
    code_dim: int = 32
    z_dim: int = 32
    g_width: int = 16
    d_width: int = 16
    e_width: int = 16
    text_dim: int = 64
    sound_width: int = 32
    spectral_norm: bool = True
    temperature: float = 0.1
    pixel_noise: float = 0.0

    def __post_init__(self) -> None:
        check_choice("image_size", self.image_size, IMAGE_SIZES)
        for name in ("code_dim", "z_dim", "g_width", "d_width", "e_width", "text_dim",
                     "sound_width"):
            check_int(name, getattr(self, name), minimum=1)
        if not isinstance(self.spectral_norm, bool):
            raise TypeError(f"spectral_norm must be True or False, got {self.spectral_norm!r}")
        check_float("temperature", self.temperature, minimum=0.01, maximum=1.0)
        check_float("pixel_noise", self.pixel_noise, minimum=0.0, maximum=1.0)

    def to_dict(self) -> dict:
        return asdict(self)


class TextTower(nn.Module):
    """Token ids (B, L) -> features (B, out_dim): mean word embedding, then a small MLP.

    The MLP lets the tower ignore function words ("a", "the", "corner") whose count
    changes with the template, which a purely linear map of the mean cannot do as well.
    """

    def __init__(self, vocab_size: int, out_dim: int, *, embed_dim: int = 64) -> None:
        super().__init__()
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        self.words = TextEncoder(vocab_size, embed_dim, embed_dim=embed_dim, mode="mean")
        self.mlp = nn.Sequential(nn.LeakyReLU(LEAKY_SLOPE), nn.Linear(embed_dim, out_dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, L) int64 -> (B, out_dim)."""
        return self.mlp(self.words(tokens))


class SoundTower(nn.Module):
    """Log-spectrograms (B, F, T) -> features (B, out_dim), after a fixed rescaling."""

    def __init__(self, freq_bins: int, out_dim: int, *, width: int = 32) -> None:
        super().__init__()
        self.out_dim = check_int("out_dim", out_dim, minimum=1)
        self.net = SoundEncoder(freq_bins, out_dim, width=width)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """spec (B, F, T) -> (B, out_dim)."""
        return self.net((spec - (-SPECTROGRAM_SHIFT)) / SPECTROGRAM_SCALE)


def build_encoder(config: FlagshipConfig, vocab_size: int, freq_bins: int) -> CrossModalEncoder:
    """E: image, text and sound encoders into one space of width `config.code_dim`."""
    hidden = 2 * config.code_dim
    return CrossModalEncoder(
        image=ImageEncoder(channels=3, image_size=config.image_size, out_dim=hidden,
                           base_width=config.e_width),
        text=TextTower(vocab_size, hidden, embed_dim=config.text_dim),
        sound=SoundTower(freq_bins, hidden, width=config.sound_width),
        dim=config.code_dim, temperature=config.temperature)


class CodeGenerator(nn.Module):
    """G(z, s) -> images (B, 3, S, S) in [-1, 1]; the code s enters at every resolution.

    s is concatenated to z at the input (so the first 4x4 map, where the object's
    position is laid out, sees it) and modulates the batch norm of every resolution
    through FiLM (conditional batch norm). Like the renderer, G ends by adding pixel
    noise, so that it need not spend capacity imitating sensor noise with convolutions.
    Its scale is `pixel_noise` where the data's noise is known, else learnt per channel
    from zero. Learnt, it stays near zero in short runs (D's gradient on it is faint, and
    a small D can prefer clean fakes): G's images then come out cleaner, hence less
    varied, than the data.

    Args:
        z_dim: noise width; code_dim: shared-space width.
        image_size: 32 or 64; base_width: width at full resolution.
        pixel_noise: fixed noise std (the data's, in [-1, 1] units); 0: learnt.
    """

    def __init__(self, z_dim: int, code_dim: int, *, image_size: int = 32,
                 base_width: int = 16, pixel_noise: float = 0.0) -> None:
        super().__init__()
        self.z_dim = check_int("z_dim", z_dim, minimum=1)
        self.code_dim = check_int("code_dim", code_dim, minimum=1)
        self.image_size = image_size
        self.net = ConvGenerator(z_dim + code_dim, channels=3, image_size=image_size,
                                 base_width=base_width, cond_dim=code_dim, conditioning="film")
        check_float("pixel_noise", pixel_noise, minimum=0.0, maximum=1.0)
        if pixel_noise > 0:  # a buffer: same checkpoint key as the learnt parameter
            self.register_buffer("pixel_noise_scale", torch.full((3,), float(pixel_noise)))
        else:
            self.pixel_noise_scale = nn.Parameter(torch.zeros(3))

    def forward(self, z: torch.Tensor, s: torch.Tensor,
                pixel_noise: torch.Tensor | None = None) -> torch.Tensor:
        """z (B, z_dim), s (B, code_dim), pixel_noise (B, 3, S, S) -> (B, 3, S, S).

        pixel_noise defaults to fresh standard normal noise (torch's global generator);
        pass it to make samples a function of a seed.
        """
        return self.add_noise(self.render(z, s), pixel_noise)

    def render(self, z: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The image before the pixel noise: (B, 3, S, S) in (-1, 1)."""
        check_tensor("z", z, ("B", self.z_dim))
        check_tensor("s", s, (z.shape[0], self.code_dim))
        return self.net(torch.cat([z, s.to(z.dtype)], dim=1), s)

    def add_noise(self, images: torch.Tensor,
                  pixel_noise: torch.Tensor | None = None) -> torch.Tensor:
        """`render`'s images plus scaled pixel noise (fresh if None), clamped to [-1, 1]."""
        if pixel_noise is None:
            pixel_noise = torch.randn_like(images)
        noise = self.pixel_noise_scale[:, None, None] * pixel_noise.to(images.dtype)
        return (images + noise).clamp(-1, 1)


def build_generator(config: FlagshipConfig) -> CodeGenerator:
    """G(z, s) -> images (B, 3, S, S) in [-1, 1]; s enters at every resolution."""
    return CodeGenerator(config.z_dim, config.code_dim, image_size=config.image_size,
                         base_width=config.g_width, pixel_noise=config.pixel_noise)


def build_discriminator(config: FlagshipConfig) -> MatchingAwareDiscriminator:
    """D(x, s) -> logits (B,): real-looking and matching the code (projection head)."""
    return MatchingAwareDiscriminator(channels=3, image_size=config.image_size,
                                      code_dim=config.code_dim, base_width=config.d_width,
                                      spectral_norm=config.spectral_norm)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between unit codes a and b (D,) at fractions t (K,) -> (K, D).

    Codes live on the unit sphere, so the path follows the sphere instead of cutting
    through its inside (where no caption's code ever lies).
    """
    check_tensor("a", a, ("D",))
    check_tensor("b", b, (a.shape[0],))
    check_tensor("t", t, ("K",))
    a, b = a / a.norm(), b / b.norm()
    omega = torch.arccos((a * b).sum().clamp(-1 + 1e-6, 1 - 1e-6))
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
