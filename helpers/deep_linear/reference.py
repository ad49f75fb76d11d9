"""Reference answers of notebook 02's exercises: what the grader compares students' code with.

``initializer_`` answers ``ex_initializer_``, ``net_svd`` ``ex_net_svd``, ``net_rsm``
``ex_net_rsm``; ``saxe_half_time`` and ``linear_regression`` answer themselves. ``checks``
names them by dotted string and never imports this module, because the grader runs students'
code where it does not exist. Demos use them as tools and as the fallback while an exercise
is not done yet.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn


def initializer_(
    model: nn.Module, gamma: float = 1e-12, generator: torch.Generator | None = None
) -> None:
    """Redraw every weight in place from N(0, sigma^2), sigma = gamma / sqrt(n_in + n_out).

    ``gamma`` sets the scale: gamma = sqrt(2) is Glorot's (Xavier's) normal initialization,
    whose variance is 2 / (n_in + n_out); a tiny gamma starts the network near the saddle
    point at zero, where learning is slowest. ``generator`` makes a demo's run reproducible
    without touching the global random state.
    """
    for weight in model.parameters():
        n_out, n_in = weight.shape
        sigma = gamma / math.sqrt(n_in + n_out)
        nn.init.normal_(weight, mean=0.0, std=sigma, generator=generator)


def net_svd(model: nn.Module, in_dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(U, S, V)`` of the network's total map in ``torch.svd``'s convention: U diag(S) V^T.

    The product is written out, as the exercise asks (``network.total_map`` is off limits
    to students), so that this answer passes its own hidden check when pasted into the cell.
    """
    weights = [weight.detach() for weight in model.parameters()]
    total = torch.eye(in_dim, device=weights[0].device, dtype=weights[0].dtype)
    for weight in weights:
        total = weight @ total
    return torch.svd(total)


def net_rsm(h: torch.Tensor) -> torch.Tensor:
    """Representational similarity matrix ``h h^T`` of activities ``h`` (one row per input)."""
    return h @ h.T


def linear_regression(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Least-squares weights ``W = Y X^T (X X^T)^-1``.

    X is features x samples and Y outputs x samples (one column per sample).
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y need one column per sample each, got {X.shape} and {Y.shape}.")
    return Y @ X.T @ np.linalg.inv(X @ X.T)


def saxe_half_time(s: float, tau: float, u0: float) -> float:
    """Time at which a mode of the closed form reaches half its final strength ``s``.

    Solving ``u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0) = s/2`` gives
    ``e^{2st/tau} = s/u0 - 1``, so ``t = tau / (2 s) * ln(s/u0 - 1)`` (for ``u0 < s/2``).
    """
    return tau / (2.0 * s) * np.log(s / u0 - 1.0)
