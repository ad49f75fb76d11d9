"""Demos of notebook 04: rules and schedules on 2-D test functions, weight decay in Adam, and
schedules against minibatch noise.

Compute functions return plain arrays (tested headless), plot functions return a ``Figure``,
and ``rules_widget`` and ``schedules_widget`` only wire controls to them. Rules and the
warm-up schedule the student writes are looked up in the notebook's namespace on every run
(``EXERCISES.implementation``) and fall back to the reference while not done.
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
from matplotlib.ticker import NullFormatter
from torch import Tensor, nn

from helpers.device import one_cpu_thread
from helpers.exercise import StudentOrReference, described_after
from helpers.rules.affine import Affine, affine_data
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


def relative_schedule(
    name: str, steps: int, warm_up: Callable[..., Schedule] = warmup
) -> Schedule:
    """A factor ``t -> f(t)`` with ``f(0) = 1`` (after warm-up) that multiplies each rule's
    own learning rate, so one schedule can serve rules whose rates differ 100-fold.
    ``warm_up`` builds the warm-up (``warmup``'s signature: the student's, in the demos)."""
    if name == "constant":
        return constant(1.0)
    if name == "step":
        return step_decay(1.0, gamma=0.3, every=max(steps // 3, 1))
    if name == "cosine":
        return cosine_decay(1.0, steps)
    if name == "warm-up + cosine":
        ramp = max(steps // 10, 1)
        return warm_up(cosine_decay(1.0, steps - ramp), ramp)
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


def student_warmup(namespace: MutableMapping[str, Any]) -> StudentOrReference:
    """The warm-up schedule the demos use: the student's ``warmup`` once done."""
    return EXERCISES.implementation("warmup", namespace)


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
    function: str,
    rules: dict[str, Rule],
    steps: int,
    schedule: str = "constant",
    warm_up: Callable[..., Schedule] = warmup,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{rule name: (path, losses)}`` for every rule, all from the same start (see
    ``optimize_2d``; ``warm_up`` as in ``relative_schedule``).

    The rules move side by side: each step evaluates the function and its gradient at every
    rule's point at once; every rule then updates its own point. A rule whose path blows up
    stops there.
    """
    test = FUNCTIONS[function]
    names = list(rules)
    points = [Point(test.start) for _ in names]
    states = [setup(rule, point) for rule, point in zip(rules.values(), points)]
    base_lrs = [rule.lr for rule in rules.values()]
    factor = relative_schedule(schedule, steps, warm_up)
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
# Compute: schedules against minibatch noise
# --------------------------------------------------------------------------------------

RACE_SCHEDULES = ("constant", "constant, lr / 10", "step", "cosine", "warm-up + cosine")
RACE_POINTS = 1000  # examples in the noisy data set
RACE_MEASUREMENTS = 100  # how many times along a run the whole data set's loss is measured
ROUNDING = 1e-12  # an excess loss below this is the minimum, up to rounding errors


@dataclass(frozen=True)
class ScheduleRace:
    """One run of the schedule race, as numbers.

    ``measured_at[k]`` is the number of steps taken at the ``k``-th measurement and
    ``excess[name][k]`` the loss on the whole data set then, minus the least-squares minimum
    (``best``), the lowest loss any affine map reaches; NaN after a run blew up.
    """

    measured_at: np.ndarray
    excess: dict[str, np.ndarray]
    best: float

    def final(self, name: str) -> float:
        """The mean excess loss over the last tenth of the run: the level a schedule ends at,
        with the minibatch noise of single measurements averaged out."""
        values = self.excess[name]
        return float(np.mean(values[-max(len(values) // 10, 1) :]))

    def diverged_at(self, name: str) -> int | None:
        """The step after which ``name``'s run had blown up, if it did."""
        index = diverged_at(self.excess[name], BLOWN_UP)
        return None if index is None else int(self.measured_at[index])


def noisy_affine_data(
    noise: float, points: int = RACE_POINTS, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """``affine_data``'s inputs and targets (in double precision), with Gaussian noise of
    standard deviation ``noise`` added to every target: no affine map fits them exactly."""
    inputs, targets, _ = affine_data(points)
    generator = torch.Generator().manual_seed(seed)
    noisy = targets.double() + noise * torch.randn(
        targets.shape, generator=generator, dtype=torch.float64
    )
    return inputs.double(), noisy


def race_schedule(name: str, steps: int, warm_up: Callable[..., Schedule] = warmup) -> Schedule:
    """The factor of the base rate for one entry of ``RACE_SCHEDULES``."""
    if name == "constant, lr / 10":
        return constant(0.1)
    return relative_schedule(name, steps, warm_up)


@one_cpu_thread()
def schedule_race(
    rule: Rule,
    steps: int = 1000,
    batch_size: int = 8,
    noise: float = 0.5,
    seed: int = 0,
    warm_up: Callable[..., Schedule] = warmup,
) -> ScheduleRace:
    """Fit ``Affine`` to noisy data by minibatch steps of ``rule`` under each schedule of
    ``RACE_SCHEDULES`` (its ``lr`` is the base rate), all from the same start and on the
    same sequence of minibatches (drawn with replacement).

    W and b travel as one (2, 4) tensor ``[W | b]`` against inputs with a column of ones, and
    the minibatch gradient of the mean squared distance, ``2 r^T a / B``, is written out: the
    race takes thousands of tiny steps, where autograd and the state tree would cost more
    than the arithmetic. The rule itself runs through the protocol (``init``, ``apply``, and
    ``adjust`` when the schedule changes the rate).
    """
    inputs, targets = noisy_affine_data(noise, seed=seed)
    with_ones = torch.cat([inputs, torch.ones(len(inputs), 1, dtype=torch.float64)], dim=1)
    best_fit = torch.linalg.lstsq(with_ones, targets).solution.T
    start_model = Affine()
    start = torch.cat([start_model.W.detach(), start_model.b.detach()[:, None]], dim=1).double()

    def loss(theta: Tensor) -> float:
        return float(((with_ones @ theta.T - targets) ** 2).sum(dim=1).mean())

    best = loss(best_fit)
    generator = torch.Generator().manual_seed(seed + 1)
    batches = torch.randint(len(inputs), (steps, batch_size), generator=generator)
    # Every minibatch at once, its inputs already scaled by the gradient's 2 / B
    batch_inputs, batch_targets = with_ones[batches], targets[batches]
    scaled_inputs = batch_inputs * (2 / batch_size)
    every = max(steps // RACE_MEASUREMENTS, 1)
    measured_at = np.arange(every, steps + 1, every)
    excess = {}
    for name in RACE_SCHEDULES:
        factor = race_schedule(name, steps, warm_up)
        theta, state, current = start.clone(), rule.init(start), None
        curve = np.full(len(measured_at), np.nan)
        for t in range(steps):
            if factor(t) != current:  # adjusting keeps what the rule accumulated
                current = factor(t)
                stepping = rule.adjust(lr=rule.lr * current)
            residual = batch_inputs[t] @ theta.T - batch_targets[t]
            grad = residual.T @ scaled_inputs[t]
            state, step = stepping.apply(state, theta, grad)
            theta = theta - step
            if (t + 1) % every == 0:
                k = (t + 1) // every - 1
                curve[k] = loss(theta) - best
                if not abs(curve[k]) <= BLOWN_UP:  # NaN fails too: the run has blown up
                    break
        excess[name] = curve
    return ScheduleRace(measured_at=measured_at, excess=excess, best=best)


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
        step = loss_diverged_at(losses)
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


def loss_diverged_at(losses: np.ndarray) -> int | None:
    """The step at which a path of ``optimize_2d`` blew up (it stops there)."""
    return diverged_at(losses, BLOWN_UP)


def divergence_sentence(name: str, losses: np.ndarray) -> str | None:
    """What the demo prints under the figure for one rule: nothing unless it diverged."""
    step = loss_diverged_at(losses)
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


def plot_schedule_race(race: ScheduleRace, title: str) -> Figure:
    """The excess loss along each schedule's run (left, log scale) and the level each one
    ends at (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), width_ratios=(2, 1))
    levels = []
    for name in RACE_SCHEDULES:
        step = race.diverged_at(name)
        label = name if step is None else f"{name}: diverged at step {step}"
        left.plot(race.measured_at, np.maximum(race.excess[name], LOSS_FLOOR), label=label)
        levels.append(race.final(name) if step is None else np.nan)
    left.set(xlabel="step", ylabel="loss - least-squares minimum", yscale="log",
             title=title)
    left.legend(fontsize=8)
    positions = np.arange(len(RACE_SCHEDULES))
    shown = np.maximum(np.nan_to_num(levels, nan=0.0), LOSS_FLOOR)
    right.barh(positions, shown, color=[f"C{k}" for k in positions])
    right.set_yticks(positions, RACE_SCHEDULES)
    right.invert_yaxis()
    for position, level in zip(positions, levels):
        if np.isfinite(level):
            right.annotate(f" {level:.2g}", (level, position), va="center", fontsize=8)
    right.set(xscale="log", xlabel="mean over the last tenth of the steps",
              title="Where each schedule ends")
    right.xaxis.set_minor_formatter(NullFormatter())
    right.margins(x=0.25)
    fig.tight_layout()
    return fig


def race_sentence(race: ScheduleRace) -> str:
    """What the schedule demo prints under its figure: the lowest final level and how many
    times lower than the constant rate's it is, or which schedules reach the minimum to
    within rounding errors; and every run that blew up."""
    blown_up = [
        f"{name} diverged at step {race.diverged_at(name)}: its rate is too large here."
        for name in RACE_SCHEDULES
        if race.diverged_at(name) is not None
    ]
    finished = [name for name in RACE_SCHEDULES if race.diverged_at(name) is None]
    if not finished:
        return " ".join(blown_up)
    exact = [name for name in finished if race.final(name) < ROUNDING]
    winner = min(finished, key=race.final)
    if exact:
        ending = (f"{_listed(exact)} {'reaches' if len(exact) == 1 else 'reach'} the "
                  f"least-squares minimum to within rounding errors (an excess loss below "
                  f"{ROUNDING:.0e}).")
        if "constant" in exact:
            ending += " With no noise left at the minimum, the constant rate needs no schedule."
    else:
        ending = f"{winner} ends lowest, at an excess loss of {race.final(winner):.2g}"
        if winner == "constant":
            ending += ": here no schedule beats the constant rate."
        elif "constant" in finished:
            ratio = race.final("constant") / race.final(winner)
            ending += f", {ratio:.2g} times below the constant rate."
        else:
            ending += "."
    return " ".join([ending, *blown_up])


def _listed(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


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
    warm_up = student_warmup(namespace)

    def run(function, lr_plain, lr_adaptive, beta, schedule, steps):
        used = [*exercises.values(), *([warm_up] if schedule == "warm-up + cosine" else [])]
        with described_after(*used):
            rules = default_rules(exercises, lr_plain, lr_adaptive, beta)
            results = compare_rules(function, rules, steps, schedule, warm_up)
            show(plot_paths(function, results))
            for name, (_, losses) in results.items():
                sentence = divergence_sentence(name, losses)
                if sentence is not None:
                    print(sentence)

    return run_button(controls, run)


RACE_RULES = ("Adam", "Momentum")
RACE_RATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
RACE_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def race_rule(name: str, lr: float, adam: Callable[..., Rule]) -> Rule:
    """The rule the schedule demo races: ``adam`` (the student's ``Adam``) or the given
    heavy-ball ``Momentum`` with beta = 0.9."""
    if name == "Adam":
        return adam(lr=lr)
    if name == "Momentum":
        return Momentum(lr=lr, beta=0.9)
    raise ValueError(f"unknown rule {name!r}; choose one of {RACE_RULES}")


@demo
def schedules_widget(namespace: MutableMapping[str, Any], seed: int = 0) -> widgets.VBox:
    """Race the schedules on noisy minibatches; pass the notebook's ``globals()``."""
    controls = {
        "rule": widgets.Dropdown(options=RACE_RULES, value="Adam", description="rule"),
        "lr": widgets.Dropdown(options=RACE_RATES, value=0.05, description="base lr"),
        "batch_size": widgets.Dropdown(options=RACE_BATCH_SIZES, value=8,
                                       description="batch size"),
        "noise": widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.1,
                                     description="label noise"),
        "steps": widgets.IntSlider(value=1000, min=200, max=3000, step=100, description="steps"),
    }
    adam = EXERCISES.implementation("Adam", namespace)
    warm_up = student_warmup(namespace)

    def run(rule, lr, batch_size, noise, steps):
        with described_after(*([adam] if rule == "Adam" else []), warm_up):
            race = schedule_race(race_rule(rule, lr, adam), steps, batch_size, noise, seed,
                                 warm_up)
            title = f"{rule}, base lr {lr:g}, batch {batch_size}, noise {noise:.1f}"
            show(plot_schedule_race(race, title))
            print(race_sentence(race))

    return run_button(controls, run)
