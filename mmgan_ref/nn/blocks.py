"""Building blocks shared by every network: MLPs, spectral norm, FiLM, projection heads.

Lesson: 02 A first GAN on 2D data (`mlp`, spectral norm as a stabiliser) and
03 Conditional GANs (conditioning inputs, FiLM, conditional batch norm, projection).

References:
    Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks".
    Miyato and Koyama 2018, "cGANs with Projection Discriminator".
    Perez et al. 2018, "FiLM: Visual Reasoning with a General Conditioning Layer".
    de Vries et al. 2017, "Modulating early visual processing by language" (conditional BN).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as _module
from torch.nn.utils import parametrizations

from mmgan_ref.utils import check_choice, check_int, check_tensor

LEAKY_SLOPE = 0.2  # DCGAN's slope for LeakyReLU in discriminators
ACTIVATIONS = ("leaky_relu", "relu", "tanh", "sigmoid")

# ----------------------------------------------------------------------------- helpers


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module by name (one of `ACTIVATIONS`)."""
    check_choice("activation", name, ACTIVATIONS)
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_SLOPE)
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[name]()


def maybe_spectral_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap `module`'s weight in spectral normalisation when `enabled` (else return it as is).

    Uses `torch.nn.utils.parametrizations.spectral_norm`, so the wrapped layer reports
    `torch.nn.utils.parametrize.is_parametrized(module, "weight") == True`.
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"spectral_norm must be True or False, got {enabled!r}")
    return parametrizations.spectral_norm(module) if enabled else module


class MLP(nn.Sequential):
    """The `nn.Sequential` that `mlp` builds: the same layers, state-dict keys and maths,
    with a forward that calls each layer's own `forward` when no hook watches any of them.

    `Module.__call__` costs ~5 µs a layer on the course's 2-core test VM (hook checks,
    tracing state), and a toy GAN step runs ~25 layers: ~0.1 ms of a ~4 ms step (~3 %).
    With a hook on any layer, a global module hook, or under `torch.jit.trace`, it runs
    as a plain `nn.Sequential`, so hooks and the tools built on them see every call.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._watched():
            return super().forward(x)
        for layer in self._modules.values():
            x = layer.forward(x)
        return x

    def _watched(self) -> bool:
        if (_module._global_forward_hooks or _module._global_forward_pre_hooks
                or _module._global_backward_hooks or _module._global_backward_pre_hooks
                or torch._C._get_tracing_state() is not None):
            return True
        return any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                   or m._backward_pre_hooks for m in self._modules.values())


def mlp(sizes: Sequence[int], activation: str = "leaky_relu", spectral_norm: bool = False,
        final_activation: str | None = None) -> MLP:
    """A multilayer perceptron: Linear layers of `sizes`, `activation` between them.

    Args:
        sizes: layer widths, input first, e.g. (2, 128, 128, 1); at least two entries.
        activation: hidden activation, one of `ACTIVATIONS`.
        spectral_norm: wrap every Linear in spectral normalisation.
        final_activation: activation after the last Linear, or None for raw outputs.

    Returns:
        an `MLP` (an `nn.Sequential`) mapping (B, sizes[0]) -> (B, sizes[-1]).
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    for i, size in enumerate(sizes):
        check_int(f"sizes[{i}]", size, minimum=1)
    check_choice("activation", activation, ACTIVATIONS)
    if final_activation is not None:
        check_choice("final_activation", final_activation, ACTIVATIONS)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(maybe_spectral_norm(nn.Linear(n_in, n_out), spectral_norm))
        last = i == len(sizes) - 2
        if not last:
            layers.append(make_activation(activation))
        elif final_activation is not None:
            layers.append(make_activation(final_activation))
    return MLP(*layers)


# ----------------------------------------------------------------------------- conditioning


class ConditionInput(nn.Module):
    """Turns a condition into a float vector: one-hot labels, or a code passed through.

    Exactly one of `num_classes` (labels, int64 (B,)) and `cond_dim` (codes, float
    (B, cond_dim)) may be non-zero; both zero means unconditional (`dim == 0`).
    """

    def __init__(self, cond_dim: int = 0, num_classes: int = 0) -> None:
        super().__init__()
        self.cond_dim = check_int("cond_dim", cond_dim, minimum=0)
        self.num_classes = check_int("num_classes", num_classes, minimum=0)
        if cond_dim and num_classes:
            raise ValueError(f"give cond_dim (a code) or num_classes (labels), not both; "
                             f"got cond_dim={cond_dim}, num_classes={num_classes}")

    @property
    def dim(self) -> int:
        """Width of the vector `forward` returns (0 when unconditional)."""
        return self.cond_dim or self.num_classes

    def check(self, cond: torch.Tensor | None, batch: int, name: str = "cond") -> None:
        """Raise a clear error when `cond` does not fit this configuration and batch."""
        if self.dim == 0:
            if cond is not None:
                raise ValueError(f"{name}: this network is unconditional "
                                 "(cond_dim=0, num_classes=0); pass None")
            return
        if cond is None:
            what = "labels (B,) int64" if self.num_classes else f"a code (B, {self.cond_dim})"
            raise ValueError(f"{name}: this network is conditional; pass {what}")
        if self.num_classes:
            check_tensor(name, cond, ("B",), dtype_kind="int")
        else:
            check_tensor(name, cond, ("B", self.cond_dim))
        if cond.shape[0] != batch:
            raise ValueError(f"{name} has batch size {cond.shape[0]} but the input has {batch}")

    def forward(self, cond: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        """Return the condition as floats (B, dim), or None when unconditional."""
        self.check(cond, batch)
        if cond is None:
            return None
        if self.num_classes:
            return F.one_hot(cond, self.num_classes).float()  # (B, K)
        return cond  # (B, cond_dim)


class ProjectionHead(nn.Module):
    """logit = psi(h) + <embed(y), h>  (Miyato and Koyama 2018).

    With no conditioning it is just psi(h). `embed` is an Embedding for labels or a
    bias-free Linear (W s) for codes.

    Args:
        feature_dim: width of the features h.
        cond_dim, num_classes: the condition (see `ConditionInput`).
        spectral_norm: wrap psi and the embedding in spectral normalisation.
    """

    def __init__(self, feature_dim: int, *, cond_dim: int = 0, num_classes: int = 0,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        check_int("feature_dim", feature_dim, minimum=1)
        self.condition = ConditionInput(cond_dim, num_classes)
        self.psi = maybe_spectral_norm(nn.Linear(feature_dim, 1), spectral_norm)
        self.embed: nn.Module | None = None
        if num_classes:
            embedding = nn.Embedding(num_classes, feature_dim)
            nn.init.xavier_uniform_(embedding.weight)
            self.embed = maybe_spectral_norm(embedding, spectral_norm)
        elif cond_dim:
            self.embed = maybe_spectral_norm(nn.Linear(cond_dim, feature_dim, bias=False),
                                             spectral_norm)

    def forward(self, h: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """h (B, feature_dim), cond labels (B,) or code (B, cond_dim) -> logits (B,)."""
        self.condition.check(cond, h.shape[0])
        logit = self.psi(h).squeeze(1)  # (B,)
        if self.embed is not None:
            logit = logit + (self.embed(cond) * h).sum(dim=1)  # (B,)
        return logit


class FiLM(nn.Module):
    """Feature-wise linear modulation: x * gamma(s) + beta(s), per channel.

    gamma = 1 + W_g s and beta = W_b s with W initialised to zero, so a fresh FiLM is
    the identity whatever the code.

    Args:
        cond_dim: width of the code s.
        num_features: channels C of the modulated input (B, C, ...).
    """

    def __init__(self, cond_dim: int, num_features: int) -> None:
        super().__init__()
        self.cond_dim = check_int("cond_dim", cond_dim, minimum=1)
        self.num_features = check_int("num_features", num_features, minimum=1)
        self.to_gamma_beta = nn.Linear(cond_dim, 2 * num_features)
        nn.init.zeros_(self.to_gamma_beta.weight)
        nn.init.zeros_(self.to_gamma_beta.bias)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """x (B, C, ...) and code (B, cond_dim) -> (B, C, ...)."""
        if x.dim() < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"x must have shape (B, {self.num_features}, ...), "
                             f"got {tuple(x.shape)}")
        check_tensor("code", code, (x.shape[0], self.cond_dim))
        delta_gamma, beta = self.to_gamma_beta(code).chunk(2, dim=1)  # (B, C) each
        shape = (x.shape[0], self.num_features) + (1,) * (x.dim() - 2)
        return x * (1 + delta_gamma.reshape(shape)) + beta.reshape(shape)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm without its own affine, followed by FiLM from a code (de Vries et al. 2017).

    Args:
        num_features: channels C.
        cond_dim: width of the code.
    """

    def __init__(self, num_features: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False)
        self.film = FiLM(cond_dim, num_features)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W), code (B, cond_dim) -> (B, C, H, W)."""
        check_tensor("x", x, ("B", self.film.num_features, "H", "W"))
        return self.film(self.norm(x), code)
