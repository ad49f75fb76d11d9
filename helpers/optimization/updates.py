"""One protocol for the in-place update rules of notebook 03 (optimization).

Every update rule of the notebook is a function ``update(loss, params, *state,
**hyperparameters)`` that clears old gradients, calls ``loss.backward()`` and changes
``params`` and its state tensors in place. The rules differ only in how much state they
keep: none for gradient descent, one list of velocities for momentum, one list of running
averages of squared gradients for RMSprop. ``InPlaceRule`` bundles an update function with
how its state starts and with its hyperparameters, so that demos and checks run every rule
the same way, without asking which rule it is::

    state = rule.init_state(params)
    for ...:
        rule.step(loss, params, state)

``zero_grad`` lives here rather than in ``reference`` so that students may call it: the
reference module is off limits to graded code.

``from_optimizer`` runs one of torch's optimizers through this protocol, so that the demos
can put Adam (notebook 04's subject) beside the students' in-place rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

State = tuple[list, ...]  # per kind of state, one entry per parameter
UpdateFn = Callable[..., None]
InitState = Callable[[Sequence[torch.Tensor]], State]


def zero_grad(params: Iterable[torch.Tensor]) -> None:
    """Reset the gradients of ``params`` to zero: ``backward()`` adds to whatever is there."""
    for param in params:
        if param.grad is not None:
            param.grad.zero_()


def no_state(params: Sequence[torch.Tensor]) -> State:
    """Gradient descent remembers nothing between steps."""
    return ()


def zeros_per_parameter(params: Sequence[torch.Tensor]) -> State:
    """One list of zero tensors shaped like ``params``: velocities, or averages of squares."""
    return ([torch.zeros_like(param) for param in params],)


def format_setting(hyperparameters: Mapping[str, float]) -> str:
    """Hyperparameters as text, for messages and titles: ``"lr=0.1, beta=0.9"``."""
    return ", ".join(f"{key}={value:g}" for key, value in hyperparameters.items())


@dataclass(frozen=True)
class InPlaceRule:
    """An in-place update function, how its state starts, and its hyperparameters.

    ``init_state(params)`` returns a tuple of state lists (one tensor per parameter in each),
    passed to ``update`` after ``params`` in that order; ``step`` makes one update.
    """

    update: UpdateFn
    init_state: InitState
    hyperparameters: Mapping[str, float] = field(default_factory=dict)

    def step(self, loss: torch.Tensor, params: Sequence[torch.Tensor], state: State) -> None:
        """One update of ``params`` and ``state``, in place."""
        self.update(loss, params, *state, **self.hyperparameters)

    @property
    def setting(self) -> str:
        return format_setting(self.hyperparameters)


def gradient_descent(update: UpdateFn, lr: float) -> InPlaceRule:
    """``update(loss, params, lr)``: no state."""
    return InPlaceRule(update, no_state, {"lr": lr})


def momentum(update: UpdateFn, lr: float, beta: float) -> InPlaceRule:
    """``update(loss, params, grad_vel, lr, beta)``: velocities start at zero."""
    return InPlaceRule(update, zeros_per_parameter, {"lr": lr, "beta": beta})


def rmsprop(update: UpdateFn, lr: float, alpha: float, epsilon: float = 1e-8) -> InPlaceRule:
    """``update(loss, params, grad_sq, lr, alpha, epsilon)``: averages start at zero."""
    return InPlaceRule(update, zeros_per_parameter, {"lr": lr, "alpha": alpha, "epsilon": epsilon})


def from_optimizer(optimizer: type[torch.optim.Optimizer], **hyperparameters: Any) -> InPlaceRule:
    """One of torch's optimizers as an in-place update: its state is the optimizer itself
    (for the demos to run a method this notebook does not ask for, such as Adam)."""

    def update(loss: torch.Tensor, params: Sequence[torch.Tensor], holder: list) -> None:
        holder[0].zero_grad()
        loss.backward()
        holder[0].step()

    def init_state(params: Sequence[torch.Tensor]) -> State:
        return ([optimizer(params, **hyperparameters)],)

    return InPlaceRule(update, init_state)
