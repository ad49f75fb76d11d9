"""Learning-rate schedules as plain functions of the step count.

A schedule is any function ``t -> lr`` with ``t = 0`` for the first step. It holds no state:
the training loop asks it for the rate of step ``t`` and hands the answer to the rules with
``adjust(state, lr=schedule(t))``. Each one here equals a ``torch.optim.lr_scheduler``
(``tests/test_rules_protocol.py`` checks it), which instead mutates the optimizer it wraps.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    """The same rate at every step."""
    return lambda t: lr


def step_decay(lr: float, gamma: float, every: int) -> Schedule:
    """``lr * gamma ** (t // every)``: multiply by ``gamma`` every ``every`` steps
    (``StepLR(step_size=every, gamma=gamma)``)."""
    return lambda t: lr * gamma ** (t // every)


def cosine_decay(lr: float, steps: int, lr_min: float = 0.0) -> Schedule:
    """Half a cosine from ``lr`` down to ``lr_min`` over ``steps`` steps, then ``lr_min``
    (``CosineAnnealingLR(T_max=steps, eta_min=lr_min)`` up to step ``steps``)."""

    def schedule(t: int) -> float:
        progress = min(t, steps) / steps
        return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * progress)) / 2

    return schedule


def warmup(after: Schedule, steps: int, start_factor: float = 0.1) -> Schedule:
    """A linear ramp from ``start_factor * after(0)`` to ``after(0)`` over ``steps`` steps,
    then ``after`` (restarted at 0): ``LinearLR(start_factor, total_iters=steps)`` followed by
    the other scheduler, as ``SequentialLR`` would chain them. Notebook 04 asks the student
    to write this function (its exercise ``warmup``).

    Why warm up: adaptive rules such as Adam divide by a running average of squared
    gradients that is still poorly estimated during the first steps, and large early steps
    from a random start can throw the parameters far off; small first steps are cheap insurance.
    """

    def schedule(t: int) -> float:
        if t < steps:
            return after(0) * (start_factor + (1 - start_factor) * t / steps)
        return after(t - steps)

    return schedule
