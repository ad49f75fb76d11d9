"""The hand-made model of notebook 04, its data and its training loop.

``Affine`` computes ``y = W x + b`` with ``W`` of shape (2, 3) and ``b`` of length 2, drawn
uniformly from [0, 1) like the Julia original. The data come from a ground-truth ``Affine``
with a fixed seed, so every student sees the same numbers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from helpers.rules.protocol import Rule, State, gradients, setup, update

TRUE_SEED = 12345  # the ground truth and the inputs
MODEL_SEED = 54321  # the model we train


class Affine(nn.Module):
    """``y = W x + b`` for a batch of inputs ``x`` of shape (n, in_dim).

    ``W`` and ``b`` are ``nn.Parameter``s: registering them is what makes them visible to
    ``model.parameters()``, hence to every optimizer. With ``register_bias=False``, ``b`` is a
    plain tensor attribute instead: the model still uses it, but no optimizer can see it.
    """

    def __init__(
        self,
        in_dim: int = 3,
        out_dim: int = 2,
        seed: int = MODEL_SEED,
        register_bias: bool = True,
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(torch.rand(out_dim, in_dim, generator=generator))
        bias = torch.rand(out_dim, generator=generator)
        self.b = nn.Parameter(bias) if register_bias else bias

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.W.T + self.b


def affine_data(n: int = 100, seed: int = TRUE_SEED) -> tuple[Tensor, Tensor, Affine]:
    """``(inputs, targets, truth)``: ``n`` inputs uniform in [0, 1)^3, their images under a
    random ground-truth ``Affine`` (which is returned too, to compare with what we learn)."""
    truth = Affine(seed=seed).requires_grad_(False)
    generator = torch.Generator().manual_seed(seed + 1)
    inputs = torch.rand(n, truth.W.shape[1], generator=generator)
    return inputs, truth(inputs), truth


def mse_distance(predictions: Tensor, targets: Tensor) -> Tensor:
    """Mean over examples of the squared distance ``||y_hat - y||^2`` (summed over outputs,
    unlike ``F.mse_loss``, which also averages over the two outputs)."""
    return ((predictions - targets) ** 2).sum(dim=1).mean()


def fit(
    rule: Rule,
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    n_epochs: int,
    log_every: int = 50,
) -> tuple[State, nn.Module, list[tuple[int, float]]]:
    """Full-batch training with ``setup`` and the pure ``update``; returns the final state,
    the final model and ``[(epoch, loss after that epoch's update), ...]`` every ``log_every``
    epochs. This is the loop the notebook writes out in section 3."""
    state = setup(rule, model)
    log = []
    for epoch in range(1, n_epochs + 1):
        loss = mse_distance(model(inputs), targets)
        state, model = update(state, model, gradients(loss, model))
        if epoch % log_every == 0:
            with torch.no_grad():
                log.append((epoch, mse_distance(model(inputs), targets).item()))
    return state, model, log
