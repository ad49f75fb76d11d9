"""The deep linear network of notebook 02, its total map, and a training loop that records.

The notebook trains a linear network without biases on the hierarchical tree data and
watches, epoch by epoch, the loss, the singular values of the network's total map, the
similarity of hidden representations and one prediction. Nothing here is an exercise's
answer, so ``checks`` may build its problems with it (the reference lives in ``reference``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import trange

from helpers.device import one_cpu_thread


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


def total_map(model: nn.Module, in_dim: int) -> torch.Tensor:
    """The product of all weight matrices, last layer first: the network's overall linear map."""
    weights = list(model.parameters())
    total = torch.eye(in_dim, device=weights[0].device, dtype=weights[0].dtype)
    for weight in weights:
        total = weight.detach() @ total
    return total


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

    ``watch`` is the (item, feature) whose prediction is recorded; ``progress`` shows a
    progress bar, for runs long enough to make one wait.

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
    with one_cpu_thread():  # tiny matrix products: threads cost more than they save
        for epoch in trange(n_epochs, desc="training", disable=not progress, leave=False):
            model.zero_grad()
            output, hidden = model(inputs)
            loss = nn.functional.mse_loss(output, targets)
            loss.backward()
            with torch.no_grad():
                total = total_map(model, in_dim).to(gram_device, torch.float64)
                grams[epoch] = total.T @ total
                rsms[epoch] = hidden @ hidden.T  # the similarity matrix of Section 3
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
