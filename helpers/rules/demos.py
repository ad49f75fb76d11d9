"""Demos of notebook 04: rules and schedules on 2-D test functions, and weight decay in Adam.

Compute functions return plain arrays (tested headless), plot functions return a ``Figure``,
and ``rules_widget`` only wires controls to them. Rules the student writes are looked up in
the notebook's namespace on every run (``EXERCISES.implementation``) and fall back to the
reference while not done.
"""

from __future__ import annotations

import math
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from helpers.device import one_cpu_thread
from helpers.exercise import StudentOrReference, described_after
from helpers.rules.checks import EXERCISES
from helpers.rules.protocol import (
    Descent,
    Momentum,
    RMSProp,
    Rule,
    WeightDecay,
    adjust,
    chain,
    gradients,
    setup,
    update_,
)
from helpers.rules.schedules import Schedule, constant, cosine_decay, step_decay, warmup
from helpers.widgets import demo, diverged_at, run_button, show

# --------------------------------------------------------------------------------------
# Test functions
# --------------------------------------------------------------------------------------


def rosenbrock(xy: Tensor) -> Tensor:
    """``(1 - x)^2 + 100 (y - x^2)^2``: a curved, narrow valley with its minimum at (1, 1)."""
    x, y = xy[..., 0], xy[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_gradient(xy: Tensor) -> Tensor:
    """The gradient of ``rosenbrock`` at each point, worked out by hand."""
    x, y = xy[..., 0], xy[..., 1]
    valley = y - x**2
    return torch.stack([-2 * (1 - x) - 400 * x * valley, 200 * valley], dim=-1)


def ill_conditioned(xy: Tensor) -> Tensor:
    """``(x^2 + 50 y^2) / 2``: a quadratic whose curvatures differ 50-fold, minimum at (0, 0)."""
    x, y = xy[..., 0], xy[..., 1]
    return (x**2 + 50 * y**2) / 2


def ill_conditioned_gradient(xy: Tensor) -> Tensor:
    """The gradient of ``ill_conditioned`` at each point: ``(x, 50 y)``."""
    x, y = xy[..., 0], xy[..., 1]
    return torch.stack([x, 50 * y], dim=-1)


@dataclass(frozen=True)
class TestFunction:
    """A 2-D function and its gradient (by hand: the demo needs thousands of them, and
    autograd's bookkeeping would cost more than the arithmetic), with where to start, where
    its minimum is and what region to draw."""

    function: Callable[[Tensor], Tensor]
    gradient: Callable[[Tensor], Tensor]
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]


FUNCTIONS = {
    "Rosenbrock": TestFunction(
        rosenbrock, rosenbrock_gradient, (-1.5, 2.0), (1.0, 1.0), (-2.0, 2.0), (-1.0, 3.0)
    ),
    "ill-conditioned quadratic": TestFunction(
        ill_conditioned,
        ill_conditioned_gradient,
        (-4.0, 1.0),
        (0.0, 0.0),
        (-4.5, 4.5),
        (-1.5, 1.5),
    ),
}


class Point(nn.Module):
    """A "model" whose only parameter is a point of the plane, so rules can move it."""

    def __init__(self, start: tuple[float, float]) -> None:
        super().__init__()
        self.xy = nn.Parameter(torch.tensor(start, dtype=torch.float64))


# --------------------------------------------------------------------------------------
# Schedules relative to a rule's base rate
# --------------------------------------------------------------------------------------

SCHEDULES = ("constant", "step", "cosine", "warm-up + cosine")
LOSS_FLOOR = 1e-20  # the lowest loss the plots show
BLOWN_UP = 1e8  # a path whose loss passes this has diverged: compare_rules stops it


def relative_schedule(name: str, steps: int) -> Schedule:
    """A factor ``t -> f(t)`` with ``f(0) = 1`` (after warm-up) that multiplies each rule's
    own learning rate, so one schedule can serve rules whose rates differ 100-fold."""
    if name == "constant":
        return constant(1.0)
    if name == "step":
        return step_decay(1.0, gamma=0.3, every=max(steps // 3, 1))
    if name == "cosine":
        return cosine_decay(1.0, steps)
    if name == "warm-up + cosine":
        ramp = max(steps // 10, 1)
        return warmup(cosine_decay(1.0, steps - ramp), ramp)
    raise ValueError(f"unknown schedule {name!r}; choose one of {SCHEDULES}")


# --------------------------------------------------------------------------------------
# Compute
# --------------------------------------------------------------------------------------


def optimize_2d(
    function: str, rule: Rule, steps: int, schedule: str = "constant"
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``rule`` on a test function: ``(path, losses)``, arrays of ``steps + 1`` points
    and losses (the start included). The schedule scales the rule's ``lr`` through
    ``adjust`` whenever it changes. A path that blows up stops (the rest stays NaN)."""
    return compare_rules(function, {"rule": rule}, steps, schedule)["rule"]


DEMO_EXERCISES = ("Nesterov", "Adagrad", "Adam")


def exercise_rules(namespace: MutableMapping[str, Any]) -> dict[str, StudentOrReference]:
    """The exercise rules the demo uses, looked up in the notebook's namespace on every call
    (the student's once done, the reference until then)."""
    return {name: EXERCISES.implementation(name, namespace) for name in DEMO_EXERCISES}


def default_rules(
    exercises: dict[str, Callable[..., Rule]], lr_plain: float, lr_adaptive: float, beta: float
) -> dict[str, Rule]:
    """The rules the demo compares, with the controls' hyperparameters."""
    return {
        "Descent": Descent(lr=lr_plain),
        "Momentum": Momentum(lr=lr_plain, beta=beta),
        "Nesterov": exercises["Nesterov"](lr=lr_plain, beta=beta),
        # Adagrad's steps shrink like 1/sqrt(t), so it starts from a rate 10 times higher.
        "Adagrad": exercises["Adagrad"](lr=lr_adaptive * 10),
        "RMSProp": RMSProp(lr=lr_adaptive, alpha=0.99),
        "Adam": exercises["Adam"](lr=lr_adaptive, beta1=beta),
    }


@one_cpu_thread()
def compare_rules(
    function: str, rules: dict[str, Rule], steps: int, schedule: str = "constant"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{rule name: (path, losses)}`` for every rule, all from the same start (see
    ``optimize_2d``).

    The rules move side by side: each step evaluates the function and its gradient at every
    rule's point at once; every rule then updates its own point. A rule whose path blows up
    stops there.
    """
    test = FUNCTIONS[function]
    names = list(rules)
    points = [Point(test.start) for _ in names]
    states = [setup(rule, point) for rule, point in zip(rules.values(), points)]
    base_lrs = [rule.lr for rule in rules.values()]
    factor = relative_schedule(schedule, steps)
    paths = np.full((len(names), steps + 1, 2), np.nan)
    losses = np.full((len(names), steps + 1), np.nan)
    moving = list(range(len(names)))
    current_factor = 1.0
    for t in range(steps + 1):
        coordinates = torch.stack([points[k].xy.detach() for k in moving])
        values = test.function(coordinates)
        paths[moving, t], losses[moving, t] = coordinates.numpy(), values.numpy()
        if t == steps:
            break
        kept = [i for i, k in enumerate(moving) if abs(losses[k, t]) <= 1e8]  # NaN fails too
        if not kept:
            break
        grads = test.gradient(coordinates[kept])
        moving = [moving[i] for i in kept]
        if factor(t) != current_factor:  # adjusting keeps what the rules accumulated
            current_factor = factor(t)
            states = [
                adjust(state, lr=lr * current_factor) if k in moving else state
                for k, (state, lr) in enumerate(zip(states, base_lrs))
            ]
        for k, grad in zip(moving, grads):
            states[k], _ = update_(states[k], points[k], {"xy": grad})
    return {name: (paths[k], losses[k]) for k, name in enumerate(names)}


def weight_decay_comparison(
    curvatures: tuple[float, ...] = (100.0, 1.0, 0.01),
    weight_decay: float = 2.0,
    lr: float = 0.02,
    steps: int = 500,
    namespace: MutableMapping[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Final parameters on ``sum_i c_i (w_i - 1)^2 / 2`` from ``w = 1`` (the minimum), for
    Adam without decay, Adam with an L2 penalty (``chain(WeightDecay, Adam)``, torch's
    ``Adam(weight_decay=...)``) and AdamW, plus the minimum of the penalized loss.

    Starting at the unpenalized minimum isolates what each kind of decay does on its own.
    """
    namespace = {} if namespace is None else namespace
    adam = EXERCISES.implementation("Adam", namespace)
    adamw = EXERCISES.implementation("AdamW", namespace)
    c = torch.tensor(curvatures, dtype=torch.float64)
    rules = {
        "Adam, no decay": adam(lr=lr),
        "Adam + L2 penalty": chain(WeightDecay(weight_decay), adam(lr=lr)),
        "AdamW": adamw(lr=lr, weight_decay=weight_decay),
    }
    results = {}
    for name, rule in rules.items():
        point = Point((1.0,) * len(curvatures))
        state = setup(rule, point)
        for _ in range(steps):
            loss = (c * (point.xy - 1) ** 2).sum() / 2
            state, point = update_(state, point, gradients(loss, point))
        results[name] = point.xy.detach().numpy().copy()
    results["minimum of loss + L2 penalty"] = (c / (c + weight_decay)).numpy()
    return results


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------


def plot_paths(function: str, results: dict[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """The paths over the function's contours (left) and the losses (right, log scale)."""
    test = FUNCTIONS[function]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    xs = np.linspace(*test.xlim, 200)
    ys = np.linspace(*test.ylim, 200)
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), axis=-1))
    values = test.function(grid).numpy()
    levels = np.logspace(-2, math.log10(values.max()), 20)
    left.contour(xs, ys, values, levels=levels, colors="0.75", linewidths=0.8)
    left.plot(*test.start, "ko", label="start")
    left.plot(*test.minimum, "k*", markersize=12, label="minimum")
    for name, (path, losses) in results.items():
        step = path_diverged_at(losses)
        if step is not None:
            name = f"{name}: diverged at step {step}"
        left.plot(path[:, 0], path[:, 1], ".-", markersize=2, linewidth=1, label=name)
        right.plot(np.arange(len(losses)), losses, label=name)
    left.set(xlim=test.xlim, ylim=test.ylim, xlabel="$x$", ylabel="$y$", title=f"Paths: {function}")
    left.legend(fontsize=8, loc="best")
    right.set(yscale="log", xlabel="step", ylabel="loss", title="Loss along the path")
    if right.get_ylim()[0] < LOSS_FLOOR:  # below this a loss is zero for every practical purpose
        right.set_ylim(bottom=LOSS_FLOOR)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def path_diverged_at(losses: np.ndarray) -> int | None:
    """The step at which a path of ``optimize_2d`` blew up (it stops there)."""
    return diverged_at(losses, BLOWN_UP)


def divergence_sentence(name: str, losses: np.ndarray) -> str | None:
    """What the demo prints under the figure for one rule: nothing unless it diverged."""
    step = path_diverged_at(losses)
    if step is None:
        return None
    return f"{name} diverged at step {step}: its learning rate is too large here."


def plot_schedules(steps: int = 200, lr: float = 0.1) -> Figure:
    """The learning rate of every schedule of the demo, for a base rate ``lr``."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    t = np.arange(steps)
    for name in SCHEDULES:
        factor = relative_schedule(name, steps)
        ax.plot(t, [lr * factor(int(s)) for s in t], label=name)
    ax.set(xlabel="step $t$", ylabel="learning rate", title=f"Schedules ({steps} steps)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_weight_decay(results: dict[str, np.ndarray], curvatures: tuple[float, ...]) -> Figure:
    """Final value of each coordinate under each kind of decay (grouped bars)."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / len(results)
    positions = np.arange(len(curvatures))
    for k, (name, values) in enumerate(results.items()):
        ax.bar(positions + (k - (len(results) - 1) / 2) * width, values, width, label=name)
    ax.set_xticks(positions, [f"$c = {c:g}$" for c in curvatures])
    ax.set(ylabel="final $w_i$ (minimum at 1)", title="Where each kind of weight decay settles")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Widget
# --------------------------------------------------------------------------------------


@demo
def rules_widget(namespace: MutableMapping[str, Any]) -> widgets.VBox:
    """Compare the rules on a 2-D test function; pass the notebook's ``globals()``."""
    controls = {
        "function": widgets.Dropdown(
            options=list(FUNCTIONS), value="ill-conditioned quadratic", description="function"
        ),
        "lr_plain": widgets.FloatLogSlider(
            value=0.01, base=10, min=-4, max=-1, step=0.1, description="lr (Descent, momentum)"
        ),
        "lr_adaptive": widgets.FloatLogSlider(
            value=0.1, base=10, min=-3, max=0, step=0.1, description="lr (RMSProp, Adam)"
        ),
        "beta": widgets.FloatSlider(
            value=0.9, min=0.0, max=0.99, step=0.01, description="momentum beta"
        ),
        "schedule": widgets.Dropdown(options=SCHEDULES, description="schedule"),
        "steps": widgets.IntSlider(value=300, min=50, max=1500, step=50, description="steps"),
    }

    exercises = exercise_rules(namespace)

    def run(function, lr_plain, lr_adaptive, beta, schedule, steps):
        with described_after(*exercises.values()):
            rules = default_rules(exercises, lr_plain, lr_adaptive, beta)
            results = compare_rules(function, rules, steps, schedule)
            show(plot_paths(function, results))
            for name, (_, losses) in results.items():
                sentence = divergence_sentence(name, losses)
                if sentence is not None:
                    print(sentence)

    return run_button(controls, run)
