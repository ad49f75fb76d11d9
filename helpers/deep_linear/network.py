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


# Training runs on the CPU in float64 (see ``train``): a few small matrices per epoch.
CPU64 = {"device": "cpu", "dtype": torch.float64}


def output_basis(last_weight: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis (out_dim x r, r <= n_hidden + n_items) of the space spanned by the
    last layer's columns and the targets' rows, in float64 on the CPU.

    Gradient descent on the squared error never leaves it: the last layer's gradient is
    ``(output - targets)^T hidden``, and the outputs are combinations of the last layer's
    columns. So the last layer can train as its coordinates in this basis (r x n_hidden), and
    the targets as theirs (n_items x r), with the same losses, updates and total map.
    """
    vectors = torch.cat([last_weight.detach(), targets.T], dim=1).to(**CPU64)
    # Unit columns: the span is the same, and a network initialised near zero keeps its
    # tiny directions exactly.
    vectors = vectors / vectors.norm(dim=0).clamp(min=torch.finfo(torch.float64).tiny)
    basis, _ = torch.linalg.qr(vectors)
    return basis


def train(
    model: LinearNet,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    n_epochs: int,
    lr: float,
    watch: tuple[int, int] = (0, -1),
    progress: bool = False,
) -> TrainingRecord:
    """Full-batch gradient descent on the mean squared error, recording every epoch; the
    trained weights are written back into ``model``.

    ``watch`` is the (item, feature) whose prediction is recorded; ``progress`` shows a
    progress bar, for runs long enough to make one wait.

    The last layer trains in the coordinates of ``output_basis``, which is exact and makes an
    epoch on 10,000 output features cost about as much as one on 40. Everything runs in
    float64 (so that the tiny singular values of a network initialised near zero do not
    underflow), and the singular values come from the small Gram matrices ``W^T W`` of the
    total map, diagonalised all at once after training.
    """
    if n_epochs < 1:
        raise ValueError(f"n_epochs must be positive, got {n_epochs}.")
    *first, last = [layer.weight for layer in model.layers]
    inputs, targets = inputs.to(**CPU64), targets.to(**CPU64)
    (n_items, in_dim), out_dim = inputs.shape, targets.shape[1]
    item, feature = watch
    basis = output_basis(last, targets)
    weights = [weight.detach().to(**CPU64).requires_grad_() for weight in first]
    coordinates = (basis.T @ last.detach().to(**CPU64)).requires_grad_()
    parameters = [*weights, coordinates]
    projected_targets = targets @ basis
    scale = 1.0 / (n_items * out_dim)  # the mean over every entry of the full output
    losses, predictions = torch.empty(n_epochs, **CPU64), torch.empty(n_epochs, **CPU64)
    rsms = torch.empty(n_epochs, n_items, n_items, **CPU64)
    grams = torch.empty(n_epochs, in_dim, in_dim, **CPU64)
    with one_cpu_thread():  # tiny matrix products: threads cost more than they save
        for epoch in trange(n_epochs, desc="training", disable=not progress, leave=False):
            hidden = activity = inputs
            for index, weight in enumerate(weights):
                activity = activity @ weight.T
                if index == 0:
                    hidden = activity
            output = activity @ coordinates.T  # the full output is output @ basis.T
            loss = ((output - projected_targets) ** 2).sum() * scale
            gradients = torch.autograd.grad(loss, parameters)
            with torch.no_grad():
                total = coordinates
                for weight in reversed(weights):
                    total = total @ weight
                grams[epoch] = total.T @ total
                rsms[epoch] = hidden @ hidden.T  # the similarity matrix of Section 3
                losses[epoch] = loss
                predictions[epoch] = output[item] @ basis[feature]
                for parameter, gradient in zip(parameters, gradients):  # gradient descent
                    parameter -= lr * gradient
        eigenvalues = torch.linalg.eigvalsh(grams).flip(-1)
    with torch.no_grad():
        for layer, weight in zip(model.layers, weights):
            layer.weight.copy_(weight)
        last.copy_(basis @ coordinates)
    singular_values = eigenvalues[:, : min(in_dim, out_dim)].clamp(min=0.0).sqrt()
    return TrainingRecord(
        losses.numpy(), singular_values.numpy(), rsms.numpy(), predictions.numpy()
    )
