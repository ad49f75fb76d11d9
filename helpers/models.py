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


class StackedMLP:
    """``count`` copies of an ``MLP`` evaluated side by side, for demos that train several.

    Each parameter of the MLP becomes one tensor with a leading copy dimension (a leaf that an
    update rule can change in place), and one pass evaluates every copy: the first layer is a
    single matrix product for all copies, the others one batched product each. Because copy
    ``k``'s loss depends on copy ``k``'s slices only, the gradient of the *summed* losses with
    respect to a stacked parameter holds each copy's own gradient in its slice, so any update
    that treats entries elementwise (gradient descent, momentum, RMSprop, Adam) trains every
    copy exactly as if it were alone.

    With ``noise_scale`` the copies are perturbed as ``perturb_parameters_`` would perturb a
    deep copy of ``model`` each, drawing the same random numbers in the same order.
    """

    def __init__(self, model: MLP, count: int, noise_scale: float = 0.0) -> None:
        if count < 1:
            raise ValueError(f"count must be positive, got {count}.")
        layers = [layer for layer in model.main if isinstance(layer, nn.Linear)]
        if any(layer.bias is None for layer in layers):
            raise ValueError("StackedMLP needs an MLP with biases (use_bias=True).")
        self.in_dim, self.count = model.in_dim, count
        originals = [param.detach() for param in model.parameters()]
        with torch.no_grad():
            copies = [
                [param + noise_scale * torch.randn_like(param) for param in originals]
                if noise_scale
                else originals
                for _ in range(count)
            ]
            self.parameters = [
                torch.stack([copy[index] for copy in copies]).requires_grad_(True)
                for index in range(len(originals))
            ]

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of shape (count, batch, out_dim): every copy on the same inputs."""
        return stacked_log_probs(self.parameters, inputs, self.in_dim)

    def losses(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Each copy's mean negative log-likelihood on the same data: shape (count,)."""
        return stacked_losses(self.parameters, inputs, targets, self.in_dim)


def stacked_log_probs(
    parameters: Sequence[torch.Tensor], inputs: torch.Tensor, in_dim: int = 784
) -> torch.Tensor:
    """An MLP's forward pass for copies whose parameters (weight, bias, weight, bias, ...)
    are stacked along a first dimension: log-probabilities (copies, batch, out_dim)."""
    return _log_probs_by_class(parameters, inputs, in_dim).transpose(1, 2)


def _log_probs_by_class(
    parameters: Sequence[torch.Tensor], inputs: torch.Tensor, in_dim: int
) -> torch.Tensor:
    """``stacked_log_probs`` in (copies, out_dim, batch) layout, the one it computes in.

    Features run along the middle dimension and examples along the last: the first layer's
    product, (copies * width, in) @ (in, batch), measured about 20% faster on the CPU than
    its transpose (batch, in) @ (in, copies * width), every later layer is a plain batched
    product, and torch's log_softmax over the 10 classes is about 20x faster along a leading
    dimension than along the last.
    """
    weights, biases = parameters[0::2], parameters[1::2]
    count, width = weights[0].shape[:2]
    features = inputs.reshape(-1, in_dim)
    # The first layer of every copy in one product.
    hidden = weights[0].reshape(count * width, in_dim) @ features.T + biases[0].reshape(-1, 1)
    hidden = hidden.reshape(count, width, len(features))
    for weight, bias in zip(weights[1:], biases[1:]):
        hidden = torch.baddbmm(bias[:, :, None], weight, torch.relu(hidden))
    return F.log_softmax(hidden, dim=1)


def stacked_losses(
    parameters: Sequence[torch.Tensor],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    in_dim: int = 784,
) -> torch.Tensor:
    """Each stacked copy's mean negative log-likelihood on the same data: shape (copies,)."""
    log_probs = _log_probs_by_class(parameters, inputs, in_dim)
    picked = log_probs.gather(1, targets.expand(len(log_probs), 1, -1))
    return -picked[:, 0].mean(dim=1)
