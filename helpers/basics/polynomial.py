"""The running problem of notebook 01: fit y = sin(x) on [-pi, pi] with a polynomial.

The loss is always the *sum* of squared errors over the data, as in the tutorial the notebook
follows; that choice fixes the scale of every learning rate quoted in the notebook (a mean
would divide the gradient by the number of points).

Besides the data and the models, this module knows the two numbers against which every run
is judged: the least-squares optimum, computed in closed form, and the largest learning rate
for which plain gradient descent on the cubic still converges.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

POINTS = 2000
Coefficients = tuple[float, ...]


# --------------------------------------------------------------------------------------
# Data and starting point
# --------------------------------------------------------------------------------------


def sine_data(
    points: int = POINTS,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``points`` evenly spaced x in [-pi, pi] and y = sin(x), as tensors on ``device``."""
    x = torch.linspace(-math.pi, math.pi, points, device=device, dtype=dtype)
    return x, torch.sin(x)


def sine_data_numpy(points: int = POINTS) -> tuple[np.ndarray, np.ndarray]:
    """The same data as numpy arrays in double precision (section 1 uses numpy only)."""
    x = np.linspace(-math.pi, math.pi, points)
    return x, np.sin(x)


def initial_coefficients(seed: int, count: int = 4) -> Coefficients:
    """``count`` standard-normal starting coefficients, the same for every method of a run."""
    return tuple(float(value) for value in np.random.default_rng(seed).standard_normal(count))


# --------------------------------------------------------------------------------------
# What the best cubic achieves, and how large a step gradient descent can take
# --------------------------------------------------------------------------------------


def vandermonde(x: np.ndarray | torch.Tensor, degree: int = 3) -> np.ndarray:
    """The matrix with columns 1, x, ..., x^degree, in double precision."""
    x64 = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
    return np.stack([x64**power for power in range(degree + 1)], axis=1)


def least_squares(
    x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, degree: int = 3
) -> tuple[np.ndarray, float]:
    """The coefficients that minimise the summed squared error, and that minimum.

    The loss is quadratic in the coefficients, so its minimum solves a linear system; no
    iteration is needed. This is what every gradient method in the notebook is chasing.
    """
    design = vandermonde(x, degree)
    target = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y, np.float64)
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    loss = float(np.sum((design @ coefficients - target) ** 2))
    return coefficients, loss


def largest_stable_lr(x: np.ndarray | torch.Tensor, degree: int = 3) -> float:
    """The learning rate above which gradient descent on the summed squared error diverges.

    The Hessian of the loss is H = 2 V^T V (V the Vandermonde matrix). Gradient descent
    multiplies the error along each eigenvector of H by (1 - lr * lambda) per step, so it
    converges exactly when lr < 2 / lambda_max.
    """
    design = vandermonde(x, degree)
    hessian = 2.0 * design.T @ design
    return float(2.0 / np.linalg.eigvalsh(hessian)[-1])


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


def _parameter(value: float | None) -> nn.Parameter:
    return nn.Parameter(torch.randn(()) if value is None else torch.tensor(float(value)))


def _term(coefficient: float, power: int) -> str:
    return f"{coefficient:+.4g}" + ("" if power == 0 else " x" if power == 1 else f" x^{power}")


class Polynomial3(nn.Module):
    """y = a + b x + c x^2 + d x^3, with the four coefficients as parameters.

    Without ``coefficients`` they are drawn from a standard normal, as in the tutorial.
    """

    def __init__(self, coefficients: Sequence[float] | None = None) -> None:
        super().__init__()
        a, b, c, d = coefficients if coefficients is not None else (None,) * 4
        self.a, self.b, self.c, self.d = map(_parameter, (a, b, c, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a + self.b * x + self.c * x**2 + self.d * x**3

    def coefficients(self) -> Coefficients:
        return tuple(p.item() for p in (self.a, self.b, self.c, self.d))

    def string(self) -> str:
        """The fitted polynomial, readable: ``y = +0.0012 +0.857 x ...``."""
        return "y = " + " ".join(_term(v, p) for p, v in enumerate(self.coefficients()))


class DynamicPolynomial(nn.Module):
    """A cubic plus, on each forward pass at random, nothing, e x^4, or e x^4 + e x^5.

    The random choice shows that the graph is rebuilt on every call, so ordinary Python
    control flow decides what is computed; the single ``e`` used for both extra terms shows
    weight sharing (its gradient is the sum of the gradients of both uses). The choice comes
    from the module's own generator, seeded at construction, so that a run can be repeated.
    """

    def __init__(self, coefficients: Sequence[float] | None = None, seed: int = 0) -> None:
        super().__init__()
        a, b, c, d, e = coefficients if coefficients is not None else (None,) * 5
        self.a, self.b, self.c, self.d, self.e = map(_parameter, (a, b, c, d, e))
        self.choices = random.Random(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for power in range(4, self.choices.randint(4, 6)):  # 4 and 5, only 4, or neither
            y = y + self.e * x**power
        return y

    def coefficients(self) -> Coefficients:
        return tuple(p.item() for p in (self.a, self.b, self.c, self.d, self.e))

    def string(self) -> str:
        a, b, c, d, e = self.coefficients()
        cubic = " ".join(_term(v, p) for p, v in enumerate((a, b, c, d)))
        return f"y = {cubic} [{_term(e, 4)}] [{_term(e, 5)}]   (bracketed terms at random)"


def cubic_features(x: torch.Tensor) -> torch.Tensor:
    """The columns x, x^2, x^3 for every point: shape (N,) becomes (N, 3).

    ``x.unsqueeze(-1)`` has shape (N, 1) and the powers shape (3,); broadcasting pairs every
    point with every power.
    """
    powers = torch.tensor([1, 2, 3], device=x.device)
    return x.unsqueeze(-1).pow(powers)


def linear_cubic_model(coefficients: Sequence[float] | None = None) -> nn.Sequential:
    """The cubic as a one-layer network on ``cubic_features``: bias a, weights (b, c, d).

    ``Flatten(0, 1)`` turns the layer's (N, 1) output into shape (N,), the shape of y.
    With ``coefficients`` the layer starts there instead of at PyTorch's default initialisation.
    """
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    if coefficients is not None:
        a, b, c, d = coefficients
        with torch.no_grad():
            model[0].bias.fill_(a)
            model[0].weight.copy_(torch.tensor([[b, c, d]]))
    return model


def coefficients_of(model: nn.Module) -> Coefficients:
    """(a, b, c, d[, e]) of any of the notebook's models."""
    if isinstance(model, nn.Sequential):
        layer = model[0]
        return (layer.bias[0].item(), *(w.item() for w in layer.weight[0]))
    return model.coefficients()


def legendre_to_cubic(a: float, b: float, c: float, d: float) -> Coefficients:
    """The cubic a' + b' x + c' x^2 + d' x^3 equal to a + b P3(c + d x), P3(u) = (5u^3 - 3u)/2.

    Every Legendre model is a cubic, but not every cubic is a Legendre model: only constants
    and cubics with a local maximum and a local minimum are (x + x^3 is not). The sine data's
    best cubic is one, so on that data both models share the least-squares optimum.
    """
    return (
        a + b * (2.5 * c**3 - 1.5 * c),
        b * (7.5 * c**2 * d - 1.5 * d),
        b * 7.5 * c * d**2,
        b * 2.5 * d**3,
    )
