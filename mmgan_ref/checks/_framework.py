"""The small toolkit every exercise check is written with.

Lesson: 00 Setup and tour (how a check tells you what is wrong).

A check compares a student's function with the reference on seeded inputs and edge
cases: values, shapes, dtypes, gradients, inputs left untouched, invariances; never the
text of the code. On failure it raises ``AssertionError`` saying what was expected, what
came back and, when the answer matches a foreseen mistake, which mistake that is. On
success it prints exactly one stable line (nbval compares it), via :meth:`Check.passed`,
the one place in the package that prints: that line *is* the check's output.

A typical check::

    def check_double(double, seed=0, quiet=False):
        c = Check("0.9", "double", quiet=quiet)
        x = seeded_randn(seed, 4, 3)
        out = c.call_no_inplace(double, x)
        c.assert_close(out, 2 * x, "double(x)", mistakes={"returned x + 1": x + 1})
        c.passed("double matches the reference")
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import torch

PASS_MARK = "\u2713"  # ✓
Mistake = torch.Tensor | Callable[[], torch.Tensor]  # what a mistake returns, or a maker


@dataclass
class Variants:
    """Solutions a check must judge correctly; the meta-tests run every one.

    Attributes:
        wrong: (function, text) pairs: a plausible mistake and a fragment its failure
            message must contain (the name of the mistake).
        right: correct functions written differently from the solution.
    """

    wrong: list[tuple[Callable[..., Any], str]] = field(default_factory=list)
    right: list[Callable[..., Any]] = field(default_factory=list)


def seeded_randn(seed: int, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal tensor drawn from its own generator (the global RNG is untouched)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=dtype)


def describe(value: Any) -> str:
    """A short description of a value for messages: "tensor (8, 5) float32", "list", ..."""
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}, {str(value.dtype).replace('torch.', '')}"
    cls = type(value)
    if cls.__module__ == "builtins":
        return "None" if value is None else cls.__name__
    return f"{cls.__module__.split('.')[0]}.{cls.__name__}"


def preview(tensor: torch.Tensor, count: int = 5) -> str:
    """The first few values of a tensor, rounded, for messages."""
    values = tensor.detach().flatten()[:count].tolist()
    more = ", ..." if tensor.numel() > count else ""
    return "[" + ", ".join(f"{v:.4g}" for v in values) + more + "]"


def grads_reaching(params: torch.nn.Module | Mapping[str, torch.Tensor],
                   loss: torch.Tensor) -> dict[str, bool]:
    """Which parameters ``loss`` sends a non-zero gradient to (the graph is kept).

    Args:
        params: a module (its named parameters) or a name -> tensor mapping.
        loss: a scalar tensor.

    Returns:
        name -> True when the gradient exists and is not all zero.
    """
    named = dict(params.named_parameters()) if isinstance(params, torch.nn.Module) else dict(params)
    names = [name for name, p in named.items() if p.requires_grad]
    if not loss.requires_grad:
        return {name: False for name in named}
    grads = torch.autograd.grad(loss, [named[n] for n in names], retain_graph=True,
                                allow_unused=True)
    reached = {name: False for name in named}
    for name, grad in zip(names, grads, strict=True):
        reached[name] = grad is not None and bool(grad.abs().sum() > 0)
    return reached


class Check:
    """One exercise's check: calls the student's code and raises teaching messages.

    Args:
        exercise: the exercise number, e.g. "0.1".
        name: the function or module under test, e.g. "standardize".
        quiet: print nothing on success (for hidden tests).
    """

    def __init__(self, exercise: str, name: str, quiet: bool = False) -> None:
        self.exercise, self.name, self.quiet = exercise, name, quiet

    # --------------------------------------------------------------------- failing

    def fail(self, problem: str, expected: str | None = None, got: str | None = None,
             hint: str | None = None) -> NoReturn:
        """Raise the AssertionError every check failure goes through."""
        lines = [f"Exercise {self.exercise} ({self.name}): {problem}"]
        if expected is not None:
            lines.append(f"  expected: {expected}")
        if got is not None:
            lines.append(f"  got:      {got}")
        if hint:
            lines.append(f"  Hint: {hint}")
        raise AssertionError("\n".join(lines))

    # --------------------------------------------------------------------- calling

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the student's ``fn`` with its prints and warnings silenced.

        A stub still in place becomes "Exercise N is not done yet"; any other exception
        becomes an AssertionError naming the call, chained to the original traceback.
        """
        if not callable(fn):
            self.fail(f"expected a function named {self.name}, got {describe(fn)}",
                      hint="run the cell that defines it, and do not reuse its name")
        shown = ", ".join([describe(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn(*args, **kwargs)
        except NotImplementedError as err:
            raise AssertionError(
                f"Exercise {self.exercise} is not done yet: {self.name} still raises "
                f"NotImplementedError({str(err)!r}). Replace the stub with your code, run "
                "that cell, then run this check again.") from None
        except Exception as err:  # the student's bug, reported as a failed check
            raise AssertionError(
                f"Exercise {self.exercise} ({self.name}): calling {self.name}({shown}) raised "
                f"{type(err).__name__}: {err}\n  (the traceback above shows where)") from err

    def call_no_inplace(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`call`, then fail if ``fn`` changed any tensor argument in place."""
        before = [a.detach().clone() if isinstance(a, torch.Tensor) else None for a in args]
        versions = [a._version if isinstance(a, torch.Tensor) else None for a in args]
        result = self.call(fn, *args, **kwargs)
        for position, (arg, old, version) in enumerate(zip(args, before, versions, strict=True)):
            if old is None:
                continue
            if arg._version != version or not torch.equal(arg.detach(), old):
                self.fail(f"{self.name} changed its argument {position + 1} in place",
                          expected="the input left as it was", got="an input modified in place",
                          hint="avoid `x -= ...`, `x[...] = ...` and methods ending in `_` "
                               "on inputs; compute a new tensor, the caller still needs x")
        return result

    # --------------------------------------------------------------------- comparing

    def expect_tensor(self, value: Any, what: str) -> torch.Tensor:
        """Fail unless ``value`` is a tensor; return it."""
        if not isinstance(value, torch.Tensor):
            self.fail(f"{what} should return a torch.Tensor", got=describe(value),
                      hint="convert with torch.as_tensor(...) or keep working in torch")
        return value

    def expect_shape(self, tensor: torch.Tensor, shape: Iterable[int], what: str,
                     hint: str | None = None) -> None:
        """Fail unless ``tensor.shape == shape``; a transposed shape gets its own hint."""
        shape = tuple(shape)
        if tuple(tensor.shape) == shape:
            return
        if hint is None and tuple(tensor.shape) == shape[::-1]:
            hint = "the dimensions are swapped"
        self.fail(f"wrong shape from {what}", expected=str(shape),
                  got=str(tuple(tensor.shape)), hint=hint)

    def expect_dtype(self, tensor: torch.Tensor, dtype: torch.dtype, what: str,
                     hint: str | None = None) -> None:
        """Fail unless the tensor has ``dtype``."""
        if tensor.dtype != dtype:
            self.fail(f"wrong dtype from {what}", expected=str(dtype), got=str(tensor.dtype),
                      hint=hint)

    def assert_close(self, actual: torch.Tensor, expected: torch.Tensor, what: str,
                     hint: str | None = None,
                     mistakes: Mapping[str, Mistake] | None = None,
                     rtol: float = 1e-4, atol: float = 1e-5) -> None:
        """Fail unless ``actual`` matches ``expected`` (shape and values, NaN never equal).

        Args:
            mistakes: description -> what that mistake would return (a tensor, or a
                function making it). When ``actual`` matches one, the message names it.
        """
        actual = self.expect_tensor(actual, what)
        self.expect_shape(actual, expected.shape, what)
        actual_d, expected_d = actual.detach().double(), expected.detach().double()
        if torch.allclose(actual_d, expected_d, rtol=rtol, atol=atol):
            return
        mistake = _matching_mistake(actual_d, mistakes or {}, rtol, atol)
        if not torch.isfinite(actual_d).all() and torch.isfinite(expected_d).all():
            problem = f"{what} contains NaN or inf where finite values were expected"
        else:
            gap = (actual_d - expected_d).abs().nan_to_num(float("inf"))
            index = tuple(int(i) for i in torch.unravel_index(gap.argmax(), gap.shape))
            problem = (f"wrong values from {what}: largest difference "
                       f"{gap.max().item():.3g} at index {index} (rtol={rtol:g}, atol={atol:g})")
        hints = [f"this looks like a common mistake: {mistake}"] if mistake else []
        hints += [hint] if hint else []
        self.fail(problem, expected=preview(expected), got=preview(actual),
                  hint="; ".join(hints) or None)

    # --------------------------------------------------------------------- passing

    def passed(self, summary: str) -> None:
        """Print the one stable pass line (no run-dependent numbers in ``summary``)."""
        if not self.quiet:
            print(f"{PASS_MARK} Exercise {self.exercise} passed: {summary}")


def _matching_mistake(actual: torch.Tensor,
                      mistakes: Mapping[str, Mistake],
                      rtol: float, atol: float) -> str | None:
    for description, made in mistakes.items():
        wrong = made() if callable(made) else made
        wrong = wrong.detach().double()
        if wrong.shape == actual.shape and torch.allclose(actual, wrong, rtol=rtol, atol=atol,
                                                          equal_nan=True):
            return description
    return None
