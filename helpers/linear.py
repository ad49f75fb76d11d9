"""Deep linear networks: the model, a recording training loop, reference solutions, theory.

The notebook ``02_deep_linear_networks`` trains a linear network without biases on the
hierarchical tree data and watches, epoch by epoch, the loss, the singular values of the
network's total map, the similarity of hidden representations and one prediction. The
reference functions here are what the autograder compares the students' exercises with;
``saxe_prediction`` is the closed-form theory of Saxe, McClelland and Ganguli (2014).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import trange


class LinearNet(nn.Module):
    """A linear network without biases: ``in_dim -> hidden_dims... -> out_dim``.

    ``forward`` returns ``(output, hidden)``, where ``hidden`` is the activity of the first
    hidden layer (the input itself when there is no hidden layer), because representational
    similarity analysis needs it. ``parameters()`` yields the weight matrices from the input
    side to the output side, each of shape (n_out, n_in).
    """

    def __init__(self, in_dim: int, hidden_dims: int | Sequence[int], out_dim: int) -> None:
        super().__init__()
        hidden = [hidden_dims] if isinstance(hidden_dims, int) else list(hidden_dims)
        sizes = [in_dim, *hidden, out_dim]
        if min(sizes) < 1:
            raise ValueError(f"Layer sizes must be positive, got {sizes}.")
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out, bias=False) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output, hidden = x, x
        for index, layer in enumerate(self.layers):
            output = layer(output)
            if index == 0 and len(self.layers) > 1:
                hidden = output
        return output, hidden


# --------------------------------------------------------------------------------------
# Reference solutions of the exercises
# --------------------------------------------------------------------------------------


def initializer_(model: nn.Module, gamma: float = 1e-12, generator: torch.Generator | None = None):
    """Redraw every weight in place from N(0, sigma^2), sigma = gamma / sqrt(n_in + n_out).

    ``gamma`` sets the scale: gamma = 1 is Glorot's (Xavier's) normal initialization, tiny
    gamma starts the network near the saddle point at zero, where learning is slowest.
    """
    for weight in model.parameters():
        n_out, n_in = weight.shape
        sigma = gamma / math.sqrt(n_in + n_out)
        nn.init.normal_(weight, mean=0.0, std=sigma, generator=generator)


def total_map(model: nn.Module, in_dim: int) -> torch.Tensor:
    """The product of all weight matrices, last layer first: the network's overall linear map."""
    weights = list(model.parameters())
    total = torch.eye(in_dim, device=weights[0].device, dtype=weights[0].dtype)
    for weight in weights:
        total = weight.detach() @ total
    return total


def net_svd(model: nn.Module, in_dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(U, S, V)`` of the network's total map in ``torch.svd``'s convention: U diag(S) V^T."""
    return torch.svd(total_map(model, in_dim))


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


# --------------------------------------------------------------------------------------
# Training with recordings
# --------------------------------------------------------------------------------------


@dataclass
class TrainingRecord:
    """What ``train`` recorded; row ``t`` describes the network after ``t`` updates.

    ``losses`` (n_epochs,), ``singular_values`` (n_epochs, min(in_dim, out_dim)) sorted in
    decreasing order, ``rsms`` (n_epochs, n_items, n_items), ``predictions`` (n_epochs,): the
    output for the watched item and feature.
    """

    losses: np.ndarray
    singular_values: np.ndarray
    rsms: np.ndarray
    predictions: np.ndarray


@contextmanager
def _one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run tiny CPU matrix products on one thread: splitting them costs more than it saves."""
    previous = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def train(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    n_epochs: int,
    lr: float,
    watch: tuple[int, int] = (0, -1),
    progress: bool = False,
) -> TrainingRecord:
    """Full-batch gradient descent on the mean squared error, recording every epoch.

    ``progress`` shows a progress bar, for runs long enough to make one wait.

    Recordings stay on the model's device until the end (no per-epoch synchronisation), and
    the singular values come from the small Gram matrices ``W^T W`` of the total map, which are
    diagonalised all at once after training. The Gram matrices are kept in float64 so that the
    tiny singular values of a network initialised near zero do not underflow.
    """
    if n_epochs < 1:
        raise ValueError(f"n_epochs must be positive, got {n_epochs}.")
    device = next(model.parameters()).device
    inputs, targets = inputs.to(device), targets.to(device)
    in_dim, n_items = inputs.shape[1], inputs.shape[0]
    item, feature = watch
    losses = torch.empty(n_epochs, device=device)
    predictions = torch.empty(n_epochs, device=device)
    rsms = torch.empty(n_epochs, n_items, n_items, device=device)
    gram_device = torch.device("cpu") if device.type == "mps" else device  # MPS lacks float64
    grams = torch.empty(n_epochs, in_dim, in_dim, device=gram_device, dtype=torch.float64)
    with _one_cpu_thread(device):
        for epoch in trange(n_epochs, desc="training", disable=not progress, leave=False):
            model.zero_grad()
            output, hidden = model(inputs)
            loss = nn.functional.mse_loss(output, targets)
            loss.backward()
            with torch.no_grad():
                total = total_map(model, in_dim).to(gram_device, torch.float64)
                grams[epoch] = total.T @ total
                rsms[epoch] = net_rsm(hidden)
                losses[epoch] = loss
                predictions[epoch] = output[item, feature]
                for weight in model.parameters():  # plain gradient descent
                    weight -= lr * weight.grad
        eigenvalues = torch.linalg.eigvalsh(grams).flip(-1)
    n_modes = min(in_dim, targets.shape[1])
    singular_values = eigenvalues[:, :n_modes].clamp(min=0.0).sqrt()
    return TrainingRecord(
        losses.cpu().numpy(),
        singular_values.cpu().numpy(),
        rsms.cpu().numpy(),
        predictions.cpu().numpy(),
    )


def train_tree_network(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    hidden_dim: int = 30,
    init_seed: int = 0,
    watch: tuple[int, int] = (0, -1),
) -> tuple[LinearNet, TrainingRecord]:
    """Build a one-hidden-layer ``LinearNet`` for the data, initialise it at scale ``gamma``, train.

    The initial weights come from a generator seeded with ``init_seed``, so a run is
    reproducible without touching the global random state. Returns the trained model and its
    ``TrainingRecord``.
    """
    device = inputs.device
    model = LinearNet(inputs.shape[1], hidden_dim, targets.shape[1]).to(device)
    initializer_(model, gamma, generator=torch.Generator(device).manual_seed(init_seed))
    return model, train(model, inputs, targets, n_epochs, lr, watch)


# --------------------------------------------------------------------------------------
# Theory: Saxe, McClelland and Ganguli (2014)
# --------------------------------------------------------------------------------------


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
