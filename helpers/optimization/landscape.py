"""A two-parameter slice of a linear classifier's loss, and what quadratic theory says about it.

Notebook 03 freezes every parameter of a linear MNIST classifier except two: one weight of
class 0's filter and the bias of class 7. The loss then becomes a function of two numbers
``(u, v)`` that can be drawn, minimized exactly with Newton's method, and used to compare
gradient descent with momentum. Near the optimum the loss is close to a quadratic whose
Hessian eigenvalues ``mu <= L`` decide how fast first-order methods can converge.

That slice is only mildly ill-conditioned (kappa about 3.8 at its optimum), so ``Quadratic``
adds a two-parameter bowl with a chosen condition number (100 in the notebook), with the same
interface, where momentum's advantage shows.

``LossSlice`` evaluates the loss for whole grids of ``(u, v)`` at once by broadcasting: the
logits are affine in ``u`` and ``v``, so one batched log-sum-exp replaces a model copy per point.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

# Which parameters the slice keeps free: weight (class 0, pixel 378: row 13, column 14,
# near the image centre) and the bias of class 7.
WEIGHT_INDEX = (0, 378)
BIAS_INDEX = 7


@dataclass
class LossSlice:
    """The mean negative log-likelihood as a function of one weight ``u`` and one bias ``v``.

    Build it with ``LossSlice.from_model``. Calling it with tensors ``u`` and ``v`` of any
    (broadcastable) shape returns the loss for every pair, with that shape, differentiable
    in ``u`` and ``v``. Computations use float64 so that Newton's method can reach the
    optimum to about 1e-12, on the CPU whatever the model's device.
    """

    frozen_logits: torch.Tensor  # (N, C): logits without the two free parameters' terms
    pixel: torch.Tensor  # (N,): the input feature that the free weight multiplies
    targets: torch.Tensor  # (N,) class indices
    weight_class: int
    bias_class: int
    start: tuple[float, float]  # the model's own values of (u, v)
    axis_labels = ("Weight (class 0, pixel 378)", "Bias (class 7)")

    @property
    def device(self) -> torch.device:
        return self.frozen_logits.device

    @classmethod
    def from_model(
        cls,
        model: nn.Module,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        weight_index: tuple[int, int] = WEIGHT_INDEX,
        bias_index: int = BIAS_INDEX,
    ) -> LossSlice:
        """Freeze a linear model (an ``MLP`` without hidden layers) on data ``inputs, targets``."""
        layers = [module for module in model.modules() if isinstance(module, nn.Linear)]
        if len(layers) != 1 or layers[0].bias is None:
            raise ValueError(
                "LossSlice needs a linear model with a bias (an MLP with no hidden layers)."
            )
        layer = layers[0]
        row, column = weight_index
        # Always on the CPU in float64: the slice is tiny, and Apple GPUs have no float64.
        with torch.no_grad():
            features = inputs.reshape(len(inputs), -1).to("cpu", torch.float64)
            weight = layer.weight.to("cpu", torch.float64)
            bias = layer.bias.to("cpu", torch.float64)
            logits = features @ weight.T + bias
            logits[:, row] -= weight[row, column] * features[:, column]
            logits[:, bias_index] -= bias[bias_index]
        start = (float(weight[row, column]), float(bias[bias_index]))
        return cls(logits, features[:, column].clone(), targets.cpu(), row, bias_index, start)

    def __call__(self, u: torch.Tensor | float, v: torch.Tensor | float) -> torch.Tensor:
        """Mean NLL loss at ``(u, v)``; broadcasts over the shapes of ``u`` and ``v``."""
        device = self.frozen_logits.device
        u = torch.as_tensor(u, dtype=torch.float64, device=device)
        v = torch.as_tensor(v, dtype=torch.float64, device=device)
        u, v = torch.broadcast_tensors(u, v)
        u_direction, v_direction = self._directions
        # logits[..., n, c] = frozen[n, c] + u * pixel[n] * [c == 0] + v * [c == 7]
        logits = (
            self.frozen_logits + u[..., None, None] * u_direction + v[..., None, None] * v_direction
        )
        log_probs = torch.log_softmax(logits, dim=-1)
        picked = log_probs.gather(-1, self.targets.expand(*u.shape, -1)[..., None])[..., 0]
        return -picked.mean(dim=-1)

    @functools.cached_property
    def _directions(self) -> tuple[torch.Tensor, torch.Tensor]:
        """How the logits change per unit of ``u`` (N, C) and of ``v`` (C,); computed once,
        because optimizers call the slice hundreds of times."""
        device = self.frozen_logits.device
        n_classes = self.frozen_logits.shape[1]
        weight_column = torch.zeros(n_classes, dtype=torch.float64, device=device)
        weight_column[self.weight_class] = 1.0
        bias_column = torch.zeros_like(weight_column)
        bias_column[self.bias_class] = 1.0
        return self.pixel[:, None] * weight_column, bias_column

    def grid(
        self, extent: float = 4.0, points: int = 30, chunk: int = 256
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Loss on a ``points x points`` grid of ``[-extent, extent]^2``: ``(U, V, Z)`` arrays.

        Evaluated ``chunk`` grid points at a time to bound memory (chunk x N x classes numbers).
        """
        axis = torch.linspace(-extent, extent, points, dtype=torch.float64)
        grid_v, grid_u = torch.meshgrid(axis, axis, indexing="ij")
        flat_u, flat_v = grid_u.reshape(-1), grid_v.reshape(-1)
        device = self.frozen_logits.device
        with torch.no_grad():
            values = [
                self(flat_u[i : i + chunk].to(device), flat_v[i : i + chunk].to(device)).cpu()
                for i in range(0, len(flat_u), chunk)
            ]
        loss = torch.cat(values).reshape(points, points)
        return grid_u.numpy(), grid_v.numpy(), loss.numpy()

    def _as_function_of_point(self, point: torch.Tensor) -> torch.Tensor:
        return self(point[0], point[1])

    def gradient_and_hessian(self, point: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradient (2,) and Hessian (2, 2) of the loss at ``point = (u, v)``."""
        point = point.detach().to(torch.float64).requires_grad_(True)
        (gradient,) = torch.autograd.grad(self._as_function_of_point(point), point)
        hessian = torch.autograd.functional.hessian(self._as_function_of_point, point.detach())
        return gradient.detach(), hessian


@dataclass
class Quadratic:
    """A two-parameter quadratic bowl ``1/2 (w - w*)^T H (w - w*)`` with a chosen conditioning.

    The real slice is only mildly ill-conditioned (kappa about 4 at its optimum), too little
    for momentum's sqrt(kappa)-versus-kappa advantage to show. This bowl has the same
    interface as ``LossSlice`` (call, ``grid``, ``gradient_and_hessian``), Hessian eigenvalues
    ``largest`` and ``largest / condition_number``, and its valley tilted by ``angle`` radians
    so that both coordinates mix the steep and the flat direction.
    """

    condition_number: float = 100.0
    largest: float = 1.0
    angle: float = math.pi / 6
    optimum: tuple[float, float] = (1.0, -1.0)
    axis_labels = ("u", "v")
    device = torch.device("cpu")

    @property
    def hessian(self) -> torch.Tensor:
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        rotation = torch.tensor([[cos, -sin], [sin, cos]], dtype=torch.float64)
        values = [self.largest, self.largest / self.condition_number]
        return rotation @ torch.diag(torch.tensor(values, dtype=torch.float64)) @ rotation.T

    def __call__(self, u: torch.Tensor | float, v: torch.Tensor | float) -> torch.Tensor:
        """The quadratic at ``(u, v)``; broadcasts over the shapes of ``u`` and ``v``."""
        u = torch.as_tensor(u, dtype=torch.float64) - self.optimum[0]
        v = torch.as_tensor(v, dtype=torch.float64) - self.optimum[1]
        (a, b), (_, c) = self.hessian.tolist()
        return 0.5 * (a * u * u + 2.0 * b * u * v + c * v * v)

    def grid(
        self, extent: float = 4.0, points: int = 30
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values on a ``points x points`` grid of ``[-extent, extent]^2``: ``(U, V, Z)``."""
        axis = torch.linspace(-extent, extent, points, dtype=torch.float64)
        grid_v, grid_u = torch.meshgrid(axis, axis, indexing="ij")
        return grid_u.numpy(), grid_v.numpy(), self(grid_u, grid_v).numpy()

    def gradient_and_hessian(self, point: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradient (2,) and Hessian (2, 2) at ``point = (u, v)``."""
        offset = point.detach().to(torch.float64) - torch.tensor(self.optimum, dtype=torch.float64)
        return self.hessian @ offset, self.hessian


def newton_optimum(
    loss_slice: LossSlice | Quadratic,
    start: tuple[float, float] = (0.0, 0.0),
    tolerance: float = 1e-12,
    max_iterations: int = 100,
) -> np.ndarray:
    """Minimize the slice with Newton's method; return the optimum ``(u*, v*)``.

    Each step solves ``H step = g`` and moves to ``w - step``, halving the step while the
    loss would increase (the loss is convex but Newton steps can overshoot far from the
    optimum). Stops once the step is smaller than ``tolerance`` (relative to the point's
    size); raises if that does not happen within ``max_iterations``.
    """
    device = loss_slice.device
    point = torch.tensor(start, dtype=torch.float64, device=device)
    for _ in range(max_iterations):
        gradient, hessian = loss_slice.gradient_and_hessian(point)
        step = torch.linalg.solve(hessian, gradient)
        current = loss_slice(point[0], point[1])
        candidate = point - step
        while loss_slice(candidate[0], candidate[1]) > current and step.norm() > tolerance:
            step = step / 2
            candidate = point - step
        point = candidate
        if float(step.norm()) <= tolerance * (1.0 + float(point.norm())):
            return point.cpu().numpy()
    raise RuntimeError(f"Newton's method did not converge in {max_iterations} iterations.")


@dataclass(frozen=True)
class Curvature:
    """Curvature of the loss at a point: Hessian eigenvalues and what they imply.

    For a quadratic with Hessian eigenvalues ``mu <= L`` (condition number
    ``kappa = L / mu``), Goh ("Why Momentum Really Works", Distill 2017) shows that momentum
    ``v <- beta v - alpha g, w <- w + v`` converges fastest with
    ``alpha = (2 / (sqrt(L) + sqrt(mu)))**2`` and
    ``beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2``, shrinking the error by
    ``(sqrt(kappa) - 1) / (sqrt(kappa) + 1)`` per step, while gradient descent's best step
    ``2 / (L + mu)`` only gets ``(kappa - 1) / (kappa + 1)``.
    """

    eigenvalues: tuple[float, float]

    @property
    def smallest(self) -> float:
        return min(self.eigenvalues)

    @property
    def largest(self) -> float:
        return max(self.eigenvalues)

    @property
    def condition_number(self) -> float:
        return self.largest / self.smallest

    @property
    def gd_step(self) -> float:
        """Best constant step size of plain gradient descent on the quadratic."""
        return 2.0 / (self.largest + self.smallest)

    @property
    def gd_rate(self) -> float:
        kappa = self.condition_number
        return (kappa - 1) / (kappa + 1)

    @property
    def momentum_step(self) -> float:
        """Goh's recommended step size ``alpha`` for momentum."""
        return (2.0 / (math.sqrt(self.largest) + math.sqrt(self.smallest))) ** 2

    @property
    def momentum_beta(self) -> float:
        """Goh's recommended momentum ``beta``."""
        root = math.sqrt(self.condition_number)
        return ((root - 1) / (root + 1)) ** 2

    @property
    def momentum_rate(self) -> float:
        root = math.sqrt(self.condition_number)
        return (root - 1) / (root + 1)


def curvature_at(
    loss_slice: LossSlice | Quadratic, point: np.ndarray | tuple[float, float]
) -> Curvature:
    """Hessian eigenvalues of the slice at ``point``; they must be positive (a minimum)."""
    device = loss_slice.device
    _, hessian = loss_slice.gradient_and_hessian(
        torch.as_tensor(point, dtype=torch.float64, device=device)
    )
    eigenvalues = torch.linalg.eigvalsh(hessian).cpu().tolist()
    if min(eigenvalues) <= 0:
        raise ValueError(
            f"The Hessian at {point} is not positive definite: eigenvalues {eigenvalues}."
        )
    return Curvature((eigenvalues[0], eigenvalues[1]))
