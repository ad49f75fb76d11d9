"""Closed-form learning dynamics of a one-hidden-layer linear network (Saxe, McClelland and
Ganguli, 2014), and the half times that compare them with a simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


def saxe_trajectory(t: np.ndarray, s: float, tau: float, u0: float) -> np.ndarray:
    """Strength of one mode under gradient flow: u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0).

    It starts at ``u0``, grows exponentially while small, and saturates at ``s`` along a
    sigmoid whose midpoint lies near t = tau / (2 s) * ln(s / u0).
    """
    t = np.asarray(t, dtype=float)
    # Divide through by e^{2st/tau} so that long times do not overflow.
    decay = np.exp(-2.0 * s * t / tau)
    return s / (1.0 - decay + decay * s / u0)


@dataclass
class SaxeParameters:
    """Parameters of ``saxe_trajectory`` for each mode, in units of the total map.

    ``strengths``: the singular values the total map converges to; ``tau``: time constant
    in epochs (the same for every mode in these units); ``u0``: effective initial strengths.
    """

    strengths: np.ndarray
    tau: float
    u0: np.ndarray

    def trajectories(self, n_epochs: int) -> np.ndarray:
        """Predicted singular values, shape (n_epochs, n_modes), for epochs 0..n_epochs-1."""
        epochs = np.arange(n_epochs)
        modes = zip(self.strengths, self.u0)
        columns = [saxe_trajectory(epochs, s, self.tau, u0) for s, u0 in modes]
        return np.stack(columns, axis=1)


def saxe_parameters(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, lr: float
) -> SaxeParameters:
    """Strengths, tau and u0 of the closed form, from the data, ``lr`` and the initial ``model``.

    Call it on the freshly initialised one-hidden-layer model, before training. Assumptions:
    the inputs are whitened up to a scale (input covariance Sigma11 = c I), the loss is
    ``nn.MSELoss`` (mean over samples and outputs), and learning follows gradient flow
    (small steps). Then tau dW/dt follows Saxe et al.'s equations with tau = n_out / (2 lr),
    and in units of the total map each mode has strength s_a / c, time constant tau / c, where
    s_a are the singular values of the input-output covariance Sigma31. The random initial
    weights are not balanced, but while they are small the difference between the two layers'
    projections decays and their sum grows, so the mode starts effectively at
    u0 = |W1 v_a + W2^T u_a|^2 / 4.
    """
    weights = [w.detach().double().cpu() for w in model.parameters()]
    if len(weights) != 2:
        raise ValueError("The closed form here is for a network with exactly one hidden layer.")
    x, y = inputs.detach().double().cpu(), targets.detach().double().cpu()
    n_samples, n_out = x.shape[0], y.shape[1]
    sigma11 = x.T @ x / n_samples
    scale = float(sigma11.diagonal().mean())
    if not torch.allclose(sigma11, scale * torch.eye(x.shape[1], dtype=x.dtype), atol=1e-6 * scale):
        raise ValueError("The closed form assumes whitened inputs: x^T x / n must be c times I.")
    sigma31 = y.T @ x / n_samples
    u, s, v = torch.svd(sigma31)
    first, second = weights
    u0 = ((first @ v + second.T @ u) ** 2).sum(dim=0) / 4.0
    tau = n_out / (2.0 * lr)
    return SaxeParameters((s / scale).numpy(), tau / scale, u0.numpy())


def half_times(singular_values: np.ndarray, final: np.ndarray) -> np.ndarray:
    """First epoch at which each mode reaches half of ``final`` (-1 if it never does).

    ``singular_values`` is (n_epochs, n_modes), simulated or predicted; the same ``final``
    for both makes their half times comparable.
    """
    reached = singular_values >= 0.5 * np.asarray(final)[None, :]
    return np.where(reached.any(axis=0), reached.argmax(axis=0), -1)
