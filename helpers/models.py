"""Models of notebook 03: the multi-layer perceptron (MLP) for MNIST and small tools around it."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """A multi-layer perceptron with ReLU hidden layers and a log-softmax output.

    ``hidden_dims=()`` gives a linear model (multinomial logistic regression); each entry
    adds a hidden layer of that width. The output is the log-probability of each class, so
    ``F.nll_loss`` on it is the cross-entropy loss. Inputs of any shape are flattened to
    ``in_dim`` features per example (for MNIST, 28 x 28 images become 784 numbers).
    """

    def __init__(
        self,
        in_dim: int = 784,
        out_dim: int = 10,
        hidden_dims: Sequence[int] = (),
        use_bias: bool = True,
    ) -> None:
        super().__init__()
        hidden_dims = list(hidden_dims)
        if any(int(width) < 1 for width in hidden_dims):
            raise ValueError(f"Hidden layer widths must be positive, got {hidden_dims}.")
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.hidden_dims = hidden_dims
        widths = [in_dim, *hidden_dims]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(fan_in, fan_out, bias=use_bias), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], out_dim, bias=use_bias))
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of shape (batch, out_dim) for inputs of shape (batch, ...)."""
        return F.log_softmax(self.main(x.reshape(-1, self.in_dim)), dim=1)


def parse_hidden_dims(text: str) -> list[int]:
    """Turn a widget's text such as ``"20, 20"`` into ``[20, 20]`` (empty text: no layers)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise ValueError(
            f"Hidden layer widths must be comma-separated integers, got {text!r}."
        ) from error


def parameter_count(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``."""
    return sum(param.numel() for param in model.parameters() if param.requires_grad)


def perturb_parameters_(model: nn.Module, noise_scale: float = 0.1) -> None:
    """Add Gaussian noise of standard deviation ``noise_scale`` to every parameter, in place."""
    with torch.no_grad():
        for param in model.parameters():
            param.add_(noise_scale * torch.randn_like(param))


def accuracy(log_probs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of examples whose most probable class is the target."""
    return (log_probs.argmax(dim=1) == targets).float().mean().item()
