"""Reference answers to the exercises of notebook 04: four rules in the course's protocol,
a warm-up schedule and the chain of rules.

Each rule matches its ``torch.optim`` counterpart step for step under a constant learning rate
(``tests/test_rules_protocol.py`` checks 100 steps). The warm-up schedule and ``Chain`` are
the course's own (``helpers.rules.schedules`` and ``helpers.rules.protocol``), which the
notebook's demos use; the registry forbids them in those two exercises. The grader hides this
module while it runs a student's code, so nothing else in ``helpers.rules`` may import it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from helpers.rules.protocol import Chain, Momentum, Rule
from helpers.rules.schedules import warmup

__all__ = ["Adagrad", "Adam", "AdamW", "Chain", "Nesterov", "warmup"]


class Nesterov(Momentum):
    """Nesterov momentum in velocity form: ``v <- beta v + lr grad``,
    ``step = beta v_new + lr grad`` (the heavy-ball step taken from the look-ahead point).

    State: the velocity ``v``. Same as ``torch.optim.SGD(params, lr, momentum=beta,
    nesterov=True)`` under a constant learning rate (torch's buffer is ``v / lr``).
    """

    # Hyperparameters and state (zeros) as in Momentum; only the step differs.
    def apply(self, state: Tensor, param: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
        velocity = self.beta * state + self.lr * grad
        return velocity, self.beta * velocity + self.lr * grad


class Adagrad(Rule):
    """Adagrad: ``s <- s + grad**2``, ``step = lr grad / (sqrt(s) + eps)``.

    State: the running sum ``s`` of squared gradients (zeros at first). Same as
    ``torch.optim.Adagrad(params, lr, eps=eps)`` (no ``lr_decay``, initial accumulator 0).
    """

    def __init__(self, lr: float = 0.01, epsilon: float = 1e-10) -> None:
        super().__init__(lr=lr, epsilon=epsilon)

    def init(self, param: Tensor) -> Tensor:
        return torch.zeros_like(param)

    def apply(self, state: Tensor, param: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
        total = state + grad**2
        return total, self.lr * grad / (torch.sqrt(total) + self.epsilon)


def _adam_direction(
    rule: Rule, state: tuple[Tensor, Tensor, int], grad: Tensor
) -> tuple[tuple[Tensor, Tensor, int], Tensor]:
    """Adam's moments one step on, and its step direction before the learning rate."""
    m, v, t = state
    m = rule.beta1 * m + (1 - rule.beta1) * grad
    v = rule.beta2 * v + (1 - rule.beta2) * grad**2
    t = t + 1
    m_hat = m / (1 - rule.beta1**t)
    v_hat = v / (1 - rule.beta2**t)
    return (m, v, t), m_hat / (torch.sqrt(v_hat) + rule.epsilon)


class Adam(Rule):
    """Adam with bias correction.

    ``m <- beta1 m + (1 - beta1) grad``, ``v <- beta2 v + (1 - beta2) grad**2``, ``t <- t + 1``,
    ``step = lr m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - beta1**t)`` and
    ``v_hat = v / (1 - beta2**t)``. State: ``(m, v, t)``. Same as ``torch.optim.Adam(params,
    lr, betas=(beta1, beta2), eps=eps)``: eps is added to the bias-corrected root.
    """

    def __init__(
        self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8
    ) -> None:
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def init(self, param: Tensor) -> tuple[Tensor, Tensor, int]:
        return torch.zeros_like(param), torch.zeros_like(param), 0

    def apply(
        self, state: tuple[Tensor, Tensor, int], param: Tensor, grad: Tensor
    ) -> tuple[tuple[Tensor, Tensor, int], Tensor]:
        state, direction = _adam_direction(self, state, grad)
        return state, self.lr * direction


class AdamW(Rule):
    """Adam with decoupled weight decay: ``step = lr (m_hat / (sqrt(v_hat) + eps) + wd param)``.

    The decay shrinks the parameter directly, outside Adam's per-coordinate scaling (an L2
    term added to the gradient would be divided by ``sqrt(v_hat)`` like the rest). State:
    ``(m, v, t)`` as in ``Adam``. Same as ``torch.optim.AdamW(params, lr, betas, eps,
    weight_decay=wd)``; equals ``chain(Adam(lr, ...), WeightDecay(lr * wd))``. (Optimisers.jl's
    older ``AdamW`` did not multiply the decay by ``lr``.)
    """

    def __init__(
        self,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(
            lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, weight_decay=weight_decay
        )

    def init(self, param: Tensor) -> tuple[Tensor, Tensor, int]:
        return torch.zeros_like(param), torch.zeros_like(param), 0

    def apply(
        self, state: tuple[Tensor, Tensor, int], param: Tensor, grad: Tensor
    ) -> tuple[tuple[Tensor, Tensor, int], Tensor]:
        state, direction = _adam_direction(self, state, grad)
        return state, self.lr * (direction + self.weight_decay * param)
