"""Reference answers of notebook 03 (optimization): update rules, momentum's hyperparameters
and minibatch sampling.

The grader compares students' code with these, and demos fall back to them while an
exercise is not done yet. Nothing in ``checks`` imports this module: a grading sandbox
hides it, and graded code that calls it earns nothing.

Conventions, shared with the exercises:

- An update function receives the ``loss`` (a scalar tensor still attached to its graph) and
  the list of ``params`` to change. It clears the parameters' old gradients, calls
  ``loss.backward()``, and then changes every parameter *in place* under ``torch.no_grad()``,
  so that the caller's tensors (for example a model's parameters) hold the new values.
- Optimizer state (velocities for momentum, the running average of squared gradients for
  RMSprop) lives in tensors the caller owns and passes in, one per parameter, with the same
  shape. The update functions change these tensors in place too: the next call must see them.

How they relate to ``torch.optim`` (see ``tests/test_optimization_reference.py``):

- ``momentum_update`` keeps ``v <- beta v - lr g`` and adds ``v`` to the weights. PyTorch's
  ``SGD(momentum=beta)`` keeps ``b <- beta b + g`` and subtracts ``lr b``. With a constant
  learning rate and zero initial velocity they give the same weights, with ``v = -lr b``.
- ``rmsprop_update`` divides by ``sqrt(v + eps)``; PyTorch's ``RMSprop`` divides by
  ``sqrt(v) + eps``. With ``eps = 0`` they agree exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

from helpers.optimization.updates import zero_grad

__all__ = ["gradient_update", "momentum_update", "rmsprop_update", "sample_minibatch"]


def _backward(loss: torch.Tensor, params: Iterable[torch.Tensor]) -> list[torch.Tensor]:
    """Check the arguments, clear old gradients and fill ``.grad`` with d loss / d param."""
    params = list(params)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("`loss` must be a scalar tensor (one number), computed from `params`.")
    for index, param in enumerate(params):
        if not isinstance(param, torch.Tensor) or not param.requires_grad:
            raise ValueError(
                f"params[{index}] must be a tensor with requires_grad=True, "
                f"got {type(param).__name__}."
            )
    zero_grad(params)
    loss.backward()
    for index, param in enumerate(params):
        if param.grad is None:
            raise ValueError(f"params[{index}] was not used to compute `loss`: it has no gradient.")
    return params


def _check_state(params: Sequence[torch.Tensor], state: Sequence[torch.Tensor], name: str) -> None:
    if len(state) != len(params):
        raise ValueError(f"`{name}` needs one tensor per parameter: {len(state)} != {len(params)}.")
    for index, (param, buffer) in enumerate(zip(params, state)):
        if buffer.shape != param.shape:
            raise ValueError(
                f"{name}[{index}] has shape {tuple(buffer.shape)}, "
                f"but its parameter has shape {tuple(param.shape)}."
            )


def gradient_update(loss: torch.Tensor, params: Iterable[torch.Tensor], lr: float = 1e-3) -> None:
    """One step of gradient descent, in place: ``w <- w - lr * dloss/dw`` for every ``w``."""
    params = _backward(loss, params)
    with torch.no_grad():
        for param in params:
            param.sub_(lr * param.grad)


def momentum_update(
    loss: torch.Tensor,
    params: Iterable[torch.Tensor],
    grad_vel: Sequence[torch.Tensor],
    lr: float = 1e-3,
    beta: float = 0.8,
) -> None:
    """One step of gradient descent with (heavy-ball) momentum, in place.

    For every parameter ``w`` with velocity ``v`` (a tensor of ``grad_vel``)::

        v <- beta * v - lr * dloss/dw
        w <- w + v

    The velocities are updated inside the caller's tensors, so the next call continues
    from them.
    """
    params = _backward(loss, params)
    _check_state(params, grad_vel, "grad_vel")
    with torch.no_grad():
        for param, velocity in zip(params, grad_vel):
            velocity.mul_(beta).sub_(lr * param.grad)
            param.add_(velocity)


def rmsprop_update(
    loss: torch.Tensor,
    params: Iterable[torch.Tensor],
    grad_sq: Sequence[torch.Tensor],
    lr: float = 1e-3,
    alpha: float = 0.8,
    epsilon: float = 1e-8,
) -> None:
    """One step of RMSprop, in place.

    For every parameter ``w`` with running average ``v`` of squared gradients (a tensor of
    ``grad_sq``), elementwise::

        v <- alpha * v + (1 - alpha) * g**2
        w <- w - lr * g / sqrt(v + epsilon)

    The averages are updated inside the caller's tensors, so the next call continues from them.
    """
    params = _backward(loss, params)
    _check_state(params, grad_sq, "grad_sq")
    with torch.no_grad():
        for param, square_avg in zip(params, grad_sq):
            grad = param.grad
            square_avg.mul_(alpha).add_((1 - alpha) * grad * grad)
            param.sub_(lr * grad / torch.sqrt(square_avg + epsilon))


def sample_minibatch(
    input_data: torch.Tensor, target_data: torch.Tensor, num_points: int = 100
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``num_points`` examples uniformly at random, independently (with replacement).

    Row ``i`` of the returned inputs and row ``i`` of the returned targets come from the same
    example. Uses torch's global random generator, so ``set_seed`` makes it reproducible.
    """
    if not isinstance(input_data, torch.Tensor) or not isinstance(target_data, torch.Tensor):
        raise ValueError("input_data and target_data must be tensors.")
    if len(input_data) != len(target_data):
        raise ValueError(
            f"input_data has {len(input_data)} examples but target_data has {len(target_data)}."
        )
    if len(input_data) == 0:
        raise ValueError("Cannot sample a minibatch from an empty data set.")
    if not isinstance(num_points, (int, np.integer)) or num_points < 1:
        raise ValueError(f"num_points must be a positive integer, got {num_points!r}.")
    batch_indices = torch.randint(len(input_data), (int(num_points),), device=input_data.device)
    return input_data[batch_indices], target_data[batch_indices.to(target_data.device)]


def momentum_hyperparameters(eigenvalues: Sequence[float]) -> tuple[float, float, float, float]:
    """``(condition_number, gd_step, momentum_lr, momentum_beta)`` for a quadratic whose
    Hessian has these (positive, any order) eigenvalues.

    With ``L`` the largest and ``mu`` the smallest: ``kappa = L / mu``, gradient descent's
    best constant step ``2 / (L + mu)``, and Goh's (Distill, 2017) momentum step
    ``(2 / (sqrt(L) + sqrt(mu)))**2`` and coefficient
    ``((sqrt(kappa) - 1) / (sqrt(kappa) + 1))**2``.
    """
    values = np.asarray(eigenvalues, dtype=float)
    largest, smallest = float(values.max()), float(values.min())
    kappa = largest / smallest
    root = np.sqrt(kappa)
    momentum_lr = (2.0 / (np.sqrt(largest) + np.sqrt(smallest))) ** 2
    momentum_beta = ((root - 1.0) / (root + 1.0)) ** 2
    return kappa, 2.0 / (largest + smallest), float(momentum_lr), float(momentum_beta)
