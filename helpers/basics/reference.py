"""Reference answers of notebook 01. Only the tests, the grader and demo fallbacks import this.

Each answer is written the way the notebook teaches it, so that reading it after the exercise
shows one clear solution rather than the cleverest one.
"""

from __future__ import annotations

import numpy as np
import torch


def cubic_gradients(
    x: np.ndarray, y: np.ndarray, a: float, b: float, c: float, d: float
) -> tuple[float, float, float, float]:
    """Gradient of the summed squared error of ``a + b x + c x^2 + d x^3`` against ``y``.

    By the chain rule each coefficient's gradient is the residual, doubled, weighted by the
    power of ``x`` that the coefficient multiplies, and summed over the data.
    """
    residual = a + b * x + c * x**2 + d * x**3 - y
    grad_prediction = 2.0 * residual
    return (
        float(grad_prediction.sum()),
        float((grad_prediction * x).sum()),
        float((grad_prediction * x**2).sum()),
        float((grad_prediction * x**3).sum()),
    )


class LegendrePolynomial3(torch.autograd.Function):
    """The Legendre polynomial P3(x) = (5x^3 - 3x) / 2 with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x):
        # backward needs the input: save it the way autograd can check and free
        ctx.save_for_backward(x)
        return 0.5 * (5 * x**3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        # Chain rule: upstream gradient times the local derivative P3'(x) = 1.5 (5x^2 - 1).
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x**2 - 1)


class SumSquaredError(torch.autograd.Function):
    """The summed squared error sum((prediction - target)^2), with a hand-written backward."""

    @staticmethod
    def forward(ctx, prediction, target):
        residual = prediction - target
        ctx.save_for_backward(residual)
        return (residual**2).sum()

    @staticmethod
    def backward(ctx, grad_output):
        # One gradient per input, in order; None for an input that needs none.
        (residual,) = ctx.saved_tensors
        grad_prediction = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_prediction = 2 * residual * grad_output
        if ctx.needs_input_grad[1]:
            grad_target = -2 * residual * grad_output
        return grad_prediction, grad_target


def fit_polynomial(model, x, y, optimizer, steps):
    """Take ``steps`` optimizer steps on the summed squared error; return the losses seen.

    Entry t of the history is the loss *before* update t, computed in that step's forward pass.
    """
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def stability_limit(x):
    """The largest learning rate for which gradient descent on the summed squared error of
    the cubic converges on inputs ``x``: 2 / lambda_max of the Hessian H = 2 V^T V, where V
    has the columns 1, x, x^2, x^3. (The targets do not matter: H does not depend on them.)
    """
    powers = torch.stack([torch.ones_like(x), x, x**2, x**3], dim=1).double()
    hessian = 2 * powers.T @ powers
    return 2 / torch.linalg.eigvalsh(hessian)[-1].item()
