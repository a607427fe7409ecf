"""Checks for the warm-up exercises (``exercises/00_warmup.ipynb``).

Lesson: 00 Setup and tour (exercise 0.1 ``standardize``, exercise 0.2 ``sample_noise``).

The references are written out here because the warm-up teaches the grading itself;
later lessons' checks compare with the functions of ``mmgan_ref`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mmgan_ref.checks._framework import Check, Variants, seeded_randn

EPS = 1e-5
_CASES = ((8, 5, torch.float32), (3, 2, torch.float64), (64, 1, torch.float32))


def reference_standardize(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Zero mean, unit (population) variance per feature: (x - mean) / sqrt(var + eps).

    Args:
        x: (B, D) batch of feature vectors.
    Returns:
        (B, D), same dtype as x.
    """
    mean = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def _standardize_mistakes(x: torch.Tensor) -> dict[str, Callable[[], torch.Tensor]]:
    mean = x.mean(0, keepdim=True)
    return {
        "the statistics were taken along dim 1 (each row) instead of dim 0 (each feature "
        "across the batch)": lambda: reference_standardize(x.T).T,
        "divided by the unbiased standard deviation (x.std(0) divides by B - 1); use "
        "unbiased=False (correction=0)": lambda: (x - mean) / (x.std(0, keepdim=True) + EPS),
        "subtracted the mean but did not divide by the standard deviation": lambda: x - mean,
        "divided by the variance instead of the standard deviation":
            lambda: (x - mean) / (x.var(0, unbiased=False, keepdim=True) + EPS),
        "used one mean and std for the whole tensor instead of one per feature":
            lambda: (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + EPS),
    }


def check_standardize(standardize: Callable[..., torch.Tensor], seed: int = 0,
                      quiet: bool = False) -> None:
    """Exercise 0.1: ``standardize(x)`` gives each feature zero mean and unit variance.

    Compares with :func:`reference_standardize` on seeded (B, D) batches of two dtypes,
    a constant feature, gradients, scale-and-shift invariance, and inputs left unchanged.
    """
    c = Check("0.1", "standardize", quiet=quiet)
    for index, (batch, dim, dtype) in enumerate(_CASES):
        x = 3.0 * seeded_randn(seed + index, batch, dim, dtype=dtype) + 2.0
        what = f"standardize(x) for x of shape {(batch, dim)}, {str(dtype)[6:]}"
        out = c.expect_tensor(c.call_no_inplace(standardize, x), what)
        c.expect_dtype(out, dtype, what, hint="keep x's dtype: no .float(), no torch.tensor(...)")
        c.assert_close(out, reference_standardize(x), what, mistakes=_standardize_mistakes(x))

    x = seeded_randn(seed, 6, 3)
    x[:, 1] = 4.0  # a constant feature: variance 0
    c.assert_close(c.call(standardize, x), reference_standardize(x),
                   "standardize(x) when one feature is constant", atol=1e-3,
                   hint="a constant feature has variance 0: add eps (default 1e-5) inside the "
                        "square root, or to the std, so you never divide by zero")

    x = seeded_randn(seed + 7, 10, 4)
    shifted = c.call(standardize, 5.0 * x - 3.0)
    c.assert_close(shifted, c.call(standardize, x), "standardize(5 * x - 3) vs standardize(x)",
                   rtol=1e-3, atol=1e-4,
                   hint="standardizing must undo any positive scale and any shift")

    x = seeded_randn(seed + 8, 7, 3).requires_grad_(True)
    weights = seeded_randn(seed + 9, 7, 3)
    out = c.expect_tensor(c.call(standardize, x), "standardize(x)")
    if not out.requires_grad:
        c.fail("the result is cut from the autograd graph, so no gradient reaches x",
               expected="an output with requires_grad=True for an input that requires grad",
               hint="avoid .detach(), .numpy(), .item(), torch.tensor(...) and torch.no_grad() "
                    "inside standardize")
    (grad,) = torch.autograd.grad((out * weights).sum(), x)
    (ref_grad,) = torch.autograd.grad((reference_standardize(x) * weights).sum(), x)
    c.assert_close(grad, ref_grad, "the gradient of sum(w * standardize(x)) with respect to x",
                   rtol=1e-3, atol=1e-4,
                   hint="the mean or the std seems detached: gradients must flow through the "
                        "batch statistics too, as in batch norm")
    c.passed("standardize matches the reference (values, dtype, constant features, "
             "gradients, invariance, input left unchanged)")


def check_sample_noise(sample_noise: Callable[..., torch.Tensor], seed: int = 0,
                       quiet: bool = False) -> None:
    """Exercise 0.2: ``sample_noise(batch_size, z_dim, generator)`` draws N(0, 1) noise.

    Checks shape, dtype, that the given generator (and only it) is used, reproducibility
    by seed, and the distribution's mean, spread and shape on a large sample.
    """
    c = Check("0.2", "sample_noise", quiet=quiet)
    for batch, z_dim in ((16, 3), (1, 5)):
        what = f"sample_noise({batch}, {z_dim}, generator)"
        out = c.expect_tensor(c.call(sample_noise, batch, z_dim,
                                     torch.Generator().manual_seed(seed)), what)
        c.expect_shape(out, (batch, z_dim), what,
                       hint="batch_size and z_dim are swapped" if out.shape == (z_dim, batch)
                       else "the shape is (batch_size, z_dim)")
        c.expect_dtype(out, torch.float32, what, hint="torch.randn's default dtype is float32")

    global_state = torch.get_rng_state()
    first = c.call(sample_noise, 32, 4, torch.Generator().manual_seed(seed))
    if not torch.equal(torch.get_rng_state(), global_state):
        c.fail("sample_noise used the global random generator",
               expected="noise drawn only from the generator passed in",
               hint="pass generator=generator to torch.randn; never call torch.manual_seed or "
                    "draw from the global generator inside sample_noise")
    again = c.call(sample_noise, 32, 4, torch.Generator().manual_seed(seed))
    if not torch.equal(first, again):
        c.fail("two generators with the same seed gave different noise",
               expected="the same noise for the same seed",
               hint="draw from the generator passed in: torch.randn(..., generator=generator)")
    other = c.call(sample_noise, 32, 4, torch.Generator().manual_seed(seed + 1))
    if torch.equal(first, other):
        c.fail("two generators with different seeds gave the same noise",
               expected="different noise for different seeds",
               hint="do not create your own generator with a fixed seed; use the one passed in")

    big = c.call(sample_noise, 4096, 8, torch.Generator().manual_seed(seed))
    mean, std = big.mean().item(), big.std().item()
    inside = (big.abs() < 1).double().mean().item()
    if abs(mean) > 0.05 or abs(std - 1) > 0.05 or abs(inside - 0.6827) > 0.02:
        uniform = bool((big >= 0).all() and (big < 1).all())
        c.fail("the noise is not standard normal",
               expected="mean 0, std 1, 68% of values within (-1, 1)",
               got=f"mean {mean:.3f}, std {std:.3f}, {100 * inside:.1f}% within (-1, 1)",
               hint="torch.rand draws uniform values in [0, 1); use torch.randn" if uniform
               else "draw from a standard normal, torch.randn")
    c.passed("sample_noise draws reproducible standard normal noise from the given generator")


# ----------------------------------------------------------------------------- meta-test variants


def _standardize_std(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return (x - x.mean(0)) / (x.std(0, unbiased=False) + eps)


def _standardize_batch_norm(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return F.batch_norm(x, None, None, training=True, eps=eps)


def _standardize_sums(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    centred = x - x.sum(dim=0) / x.shape[0]
    return centred * torch.rsqrt((centred**2).mean(dim=0) + eps)


def _standardize_unbiased(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return (x - x.mean(0)) / (x.std(0) + eps)


def _standardize_rows(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps)


def _standardize_inplace(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    x -= x.mean(0)
    return x / torch.sqrt((x**2).mean(0) + eps)


def _standardize_no_eps(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return (x - x.mean(0)) / x.std(0, unbiased=False)


def _standardize_float32(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return reference_standardize(x.float(), eps)


def _standardize_detached(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return reference_standardize(x, eps).detach()


def _standardize_detached_stats(x: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    return (x - x.mean(0).detach()) / torch.sqrt(x.var(0, unbiased=False).detach() + eps)


def _noise_randn(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(batch_size, z_dim, generator=generator)


def _noise_normal_(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.empty(batch_size, z_dim).normal_(mean=0.0, std=1.0, generator=generator)


def _noise_box_muller(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    u1 = 1.0 - torch.rand(batch_size, z_dim, generator=generator)  # in (0, 1]: log is finite
    u2 = torch.rand(batch_size, z_dim, generator=generator)
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * torch.pi * u2)


def _noise_global(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(batch_size, z_dim)


def _noise_uniform(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(batch_size, z_dim, generator=generator)


def _noise_swapped(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(z_dim, batch_size, generator=generator)


def _noise_fixed_seed(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(batch_size, z_dim, generator=torch.Generator().manual_seed(0))


def _noise_float64(batch_size: int, z_dim: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(batch_size, z_dim, generator=generator, dtype=torch.float64)


VARIANTS = {
    "check_standardize": Variants(
        wrong=[(_standardize_unbiased, "unbiased"), (_standardize_rows, "dim 1"),
               (_standardize_inplace, "in place"), (_standardize_no_eps, "eps"),
               (_standardize_float32, "dtype"), (_standardize_detached, "autograd graph"),
               (_standardize_detached_stats, "detached")],
        right=[reference_standardize, _standardize_std, _standardize_batch_norm,
               _standardize_sums]),
    "check_sample_noise": Variants(
        wrong=[(_noise_global, "global random generator"), (_noise_uniform, "torch.rand"),
               (_noise_swapped, "swapped"), (_noise_fixed_seed, "different seeds"),
               (_noise_float64, "dtype")],
        right=[_noise_randn, _noise_normal_, _noise_box_muller]),
}
