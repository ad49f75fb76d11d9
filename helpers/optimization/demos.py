"""Demos of notebook 03 (optimization): each one a compute function, a plot function, a widget.

- *compute* functions take tensors, update functions and numbers, return plain numbers
  (numpy arrays, dicts) and never draw; the tests call them headless. Update rules run
  through the ``InPlaceRule`` protocol of ``rules``, whatever state they keep.
- *plot* functions draw what a compute function returned and return the figure.
- *widget* functions only wire ipywidgets controls to compute + plot; ``@demo`` skips them
  while nbgrader grades (demos earn no points, and grading should not wait for them).

The notebook hands the widgets ``EXERCISES.implementation(name, globals())``, a
``StudentOrReference`` that looks the student's function up on every call; widgets print its
``describe()`` after every redraw, so that it is always clear whose code ran.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import nn

from helpers.device import one_cpu_thread
from helpers.exercise import StudentOrReference, described_after
from helpers.models import MLP, StackedMLP, parameter_count, parse_hidden_dims
from helpers.optimization.landscape import LossSlice, Quadratic
from helpers.optimization.updates import (
    InPlaceRule,
    UpdateFn,
    from_optimizer,
    gradient_descent,
    momentum,
    rmsprop,
)
from helpers.widgets import InvalidSetting, demo, diverged_at, run_button, show

SampleFn = Callable[[torch.Tensor, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


BLOWUP = 10.0  # a classification loss ten times its starting value has blown up


def loss_diverged_at(losses: np.ndarray) -> int | None:
    """The step at which a training loss blew up (not finite, or ``BLOWUP`` times its start)."""
    return diverged_at(losses, BLOWUP * abs(float(losses[0]))) if len(losses) else None


def _until_divergence(losses: np.ndarray) -> np.ndarray:
    """The losses with everything from the divergence on blanked, so that axes fit the rest."""
    step = loss_diverged_at(losses)
    shown = np.asarray(losses, dtype=np.float64).copy()
    if step is not None:
        shown[step:] = np.nan
    return shown


# --------------------------------------------------------------------------------------
# Section 2: the data and the class filters of a linear model
# --------------------------------------------------------------------------------------


def plot_digits(images: torch.Tensor, labels: torch.Tensor, count: int = 3) -> Figure:
    """Show ``count`` images; the first has every pixel's (normalized) value written on it."""
    figure, axes = plt.subplots(1, count, figsize=(5 * count, 5))
    for index, (ax, image, label) in enumerate(
        zip(np.atleast_1d(axes), images[:count].cpu(), labels[:count].cpu())
    ):
        ax.matshow(image, cmap="gray_r")
        if index == 0:  # 784 labels per image: one image is enough to read the values
            for (row, column), value in np.ndenumerate(image.numpy()):
                ax.text(
                    column, row, f"{value:.1f}", ha="center", va="center", fontsize=5, c="steelblue"
                )
        ax.set_title(f"Label: {int(label)}")
        ax.axis("off")
    figure.suptitle("Training images after normalization")
    return figure


def partially_train(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    steps: int = 200,
    lr: float = 7e-4,
) -> nn.Module:
    """Train ``model`` in place for a few full-batch Adam steps (it is not the point here)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.nll_loss(model(inputs), targets).backward()
        optimizer.step()
    return model


def plot_class_filters(model: MLP) -> Figure:
    """Each class's row of a linear model's weight matrix, drawn as a 28 x 28 image."""
    weight = model.main[0].weight.detach().cpu().numpy()
    figure, axes = plt.subplots(1, len(weight), figsize=(15, 2.4))
    for class_id, ax in enumerate(axes):
        ax.imshow(weight[class_id].reshape(28, 28), cmap="gray_r")
        ax.set_title(f"Class {class_id}")
        ax.axis("off")
    figure.suptitle("Class filters (weights) of a partially trained linear model")
    return figure


# --------------------------------------------------------------------------------------
# Section 3: random directions versus the gradient
# --------------------------------------------------------------------------------------


@one_cpu_thread()
def loss_changes(
    model: MLP,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    lr: float = 1e-2,
    noise_scale: float = 1e-2,
    num_directions: int = 100,
) -> dict[str, np.ndarray | float]:
    """Change in loss after random steps, and after one gradient step, from ``model``'s weights.

    Random steps add Gaussian noise of standard deviation ``noise_scale`` to every parameter;
    all the moved copies are evaluated in one pass (``StackedMLP``).
    Returns ``{"random": array of num_directions changes, "gradient": float}``; negative is better.
    """
    with torch.no_grad():
        base_loss = F.nll_loss(model(inputs), targets).item()
        moved = StackedMLP(model, num_directions, noise_scale).losses(inputs, targets)
        random_changes = (moved - base_loss).cpu().numpy()
    stepped = copy.deepcopy(model)
    rule = gradient_descent(gradient_update, lr=lr)
    params = list(stepped.parameters())
    rule.step(F.nll_loss(stepped(inputs), targets), params, rule.init_state(params))
    with torch.no_grad():
        gradient_change = F.nll_loss(stepped(inputs), targets).item() - base_loss
    return {"random": random_changes, "gradient": gradient_change}


def plot_loss_changes(results: dict[str, dict]) -> Figure:
    """One histogram per model (``{title: loss_changes(...)}``), with the gradient step marked."""
    figure, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, (title, changes) in zip(axes[0], results.items()):
        weights = np.full(len(changes["random"]), 100.0 / len(changes["random"]))
        ax.hist(changes["random"], bins=20, weights=weights, label="Random directions")
        ax.axvline(0, c="green", alpha=0.5)
        ax.axvline(changes["gradient"], c="red", linestyle="--", label="Gradient descent step")
        ax.set_title(title)
        ax.set_xlabel("Change in loss (negative is better)")
        ax.set_ylabel("% of random directions")
        ax.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------------------
# Section 4: gradient descent versus momentum on a two-parameter slice
# --------------------------------------------------------------------------------------

SLICE_START = (2.5, 3.7)  # far from the optimum, in a flat region of the slice
DIVERGED = 1e6  # stop a run whose parameters leave the plot by this much


def optimize_slice(
    loss_slice: LossSlice | Quadratic,
    rule: InPlaceRule,
    steps: int,
    start: tuple[float, float] = SLICE_START,
) -> np.ndarray:
    """Run ``rule`` on the two free parameters; rows ``(u, v, loss)`` for each iterate.

    A diverging run stops early; its remaining rows are NaN.
    """
    device = loss_slice.device
    params = [
        torch.tensor(value, dtype=torch.float64, device=device, requires_grad=True)
        for value in start
    ]
    state = rule.init_state(params)
    path = np.full((steps + 1, 3), np.nan)
    for step in range(steps + 1):
        loss = loss_slice(params[0], params[1])
        path[step] = [params[0].item(), params[1].item(), loss.item()]
        if (
            step == steps
            or not np.isfinite(path[step]).all()
            or np.abs(path[step, :2]).max() > DIVERGED
        ):
            break
        rule.step(loss, params, state)
    return path


def iterations_to_reach(path: np.ndarray, optimum: np.ndarray, tolerance: float = 1e-2) -> int:
    """First iteration from which both coordinates stay within ``tolerance`` of the optimum.

    Returns -1 when the run never settles there (too slow, or diverged). "Stay" matters for
    momentum, whose oscillating path can pass through the target and leave it again.
    """
    distance = np.abs(path[:, :2] - np.asarray(optimum)[None, :]).max(axis=1)
    outside = ~(distance <= tolerance)  # NaN (a diverged run) counts as outside
    if outside[-1]:
        return -1
    return int(np.flatnonzero(outside)[-1] + 1) if outside.any() else 0


@one_cpu_thread()
def momentum_vs_gd(
    loss_slice: LossSlice | Quadratic,
    gradient_update: UpdateFn,
    momentum_update: UpdateFn,
    steps: int = 300,
    lr: float = 0.1,
    beta: float = 0.9,
) -> dict[str, np.ndarray]:
    """Paths of gradient descent and momentum, same step size, from ``SLICE_START``."""
    rules = {
        "Gradient descent": gradient_descent(gradient_update, lr=lr),
        "Momentum": momentum(momentum_update, lr=lr, beta=beta),
    }
    return {name: optimize_slice(loss_slice, rule, steps) for name, rule in rules.items()}


def plot_loss_surface(
    grid: tuple[np.ndarray, np.ndarray, np.ndarray], optimum: np.ndarray
) -> Figure:
    """The slice's loss as a 3-D surface over (weight, bias), with the optimum marked."""
    grid_u, grid_v, loss = grid
    figure = plt.figure(figsize=(7, 5))
    ax = figure.add_subplot(1, 1, 1, projection="3d")
    ax.view_init(45, -130)
    ax.plot_surface(grid_u, grid_v, loss, cmap="coolwarm", linewidth=0, alpha=0.7)
    ax.scatter(*optimum, loss.min(), marker="*", s=120, c="lime", label="Optimum (Newton)")
    ax.set_xlabel("Weight (class 0, pixel 378)")
    ax.set_ylabel("Bias (class 7)")
    ax.set_zlabel("Loss")
    ax.set_title("Loss along two parameters, all others frozen")
    ax.legend()
    return figure


PATH_STYLES = {"Gradient descent": ("black", "-"), "Momentum": ("red", "--")}


def plot_momentum_vs_gd(
    paths: dict[str, np.ndarray],
    optimum: np.ndarray,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    axis_labels: tuple[str, str] = LossSlice.axis_labels,
) -> Figure:
    """Left: log10 distance to the optimum per coordinate. Right: paths on the loss contours."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    highest = 1.5
    for name, path in paths.items():
        color, _ = PATH_STYLES.get(name, ("blue", "-"))
        for column, (label, style) in enumerate(zip(axis_labels, ("-", ":"))):
            distance = np.log10(1e-16 + np.abs(path[:, column] - optimum[column]))
            left.plot(distance, style, c=color, label=f"{name}: {label}")
            highest = max(highest, np.nanmax(distance, initial=highest) + 0.5)
        step = parameters_diverged_at(path)
        if step is not None:
            left.axvline(step, c=color, lw=3, alpha=0.4, label=f"{name}: diverged at step {step}")
    left.set_ylim(-12, highest)
    left.set_xlabel("Iteration")
    left.set_ylabel("log10 |parameter - optimum|")
    left.set_title("Distance to the optimum, per coordinate")
    left.legend(fontsize=8)
    grid_u, grid_v, loss = grid
    right.contour(grid_u, grid_v, loss, levels=30, cmap="coolwarm")
    for name, path in paths.items():
        color, style = PATH_STYLES.get(name, ("blue", "-"))
        right.plot(path[:, 0], path[:, 1], style, c=color, marker=".", markersize=2, label=name)
    right.plot(*optimum, "*", c="lime", markersize=14, markeredgecolor="k", label="Optimum")
    right.set_xlim(grid_u.min(), grid_u.max())
    right.set_ylim(grid_v.min(), grid_v.max())
    right.set_xlabel(axis_labels[0])
    right.set_ylabel(axis_labels[1])
    right.set_title("Paths on the loss contours")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def parameters_diverged_at(path: np.ndarray) -> int | None:
    """The step at which an ``optimize_slice`` path left for infinity (it stops there)."""
    return diverged_at(np.abs(path[:, :2]).max(axis=1), DIVERGED)


def diverged_sentence(name: str, step: int, lr: float) -> str:
    """The line every demo of this notebook prints for a run that blew up."""
    return f"{name} diverged at step {step}: lr {lr:.3g} is too large here."


def slice_run_sentence(name: str, path: np.ndarray, optimum: np.ndarray, lr: float) -> str:
    """What the momentum demo prints for one run: diverged, settled near the optimum, or not
    (yet) settled within the steps run."""
    step = parameters_diverged_at(path)
    if step is not None:
        return diverged_sentence(name, step, lr)
    reached = iterations_to_reach(path, optimum)
    if reached < 0:
        return (
            f"{name} has not settled within 1e-2 of the optimum in both coordinates after "
            f"{len(path) - 1} steps."
        )
    if reached == 0:
        return f"{name} starts within 1e-2 of the optimum in both coordinates."
    return (
        f"{name} is within 1e-2 of the optimum in both coordinates from iteration {reached} on."
    )


@demo
def momentum_widget(
    problem: LossSlice | Quadratic,
    optimum: np.ndarray,
    eigenvalues: Sequence[float],
    gradient_update: StudentOrReference,
    momentum_update: StudentOrReference,
    hyperparameters: StudentOrReference,
) -> widgets.VBox:
    """Sliders for steps, log-scale step size and beta, plus a button for Goh's values.

    The button asks ``hyperparameters`` (the student's ``momentum_hyperparameters``, or the
    reference) for the recommended step and beta from the Hessian's ``eigenvalues``.
    """
    grid = problem.grid()
    steps = widgets.IntSlider(300, 50, 500, 10, description="steps", continuous_update=False)
    lr = widgets.FloatLogSlider(
        value=0.1, base=10, min=-3, max=1.5, step=0.05, description="lr", continuous_update=False
    )
    beta = widgets.FloatSlider(
        0.9, min=0.0, max=0.99, step=0.01, description="beta", continuous_update=False
    )
    recommended = widgets.Button(
        description="Try the recommended lr and beta",
        tooltip="Goh's step size and momentum, from your momentum_hyperparameters",
        layout=widgets.Layout(width="auto"),
    )

    def use_recommended(_: object) -> None:
        _, _, momentum_lr, momentum_beta = hyperparameters(eigenvalues)
        lr.value = float(momentum_lr)
        beta.value = round(float(momentum_beta), 2)

    recommended.on_click(use_recommended)

    def draw(steps: int, lr: float, beta: float) -> None:
        with described_after(gradient_update, momentum_update, hyperparameters):
            paths = momentum_vs_gd(
                problem, gradient_update, momentum_update, steps=steps, lr=lr, beta=beta
            )
            show(plot_momentum_vs_gd(paths, optimum, grid, problem.axis_labels))
            for name, path in paths.items():
                print(slice_run_sentence(name, path, optimum, lr))

    output = widgets.interactive_output(draw, {"steps": steps, "lr": lr, "beta": beta})
    return widgets.VBox([widgets.HBox([steps, lr, beta]), recommended, output])


# --------------------------------------------------------------------------------------
# Section 5: non-convexity and overparameterization
# --------------------------------------------------------------------------------------


def convex_and_nonconvex_paths(
    starts: Sequence[float] = (-1.8, 1.8), lr: float = 0.05, steps: int = 40
) -> dict[str, dict[float, np.ndarray]]:
    """Gradient descent on f(x) = x^2 + 2x + 1 (convex) and g(x) = x^4 + x^3 - 2x^2 - 2x (not).

    Returns ``{name: {start: array of the steps + 1 iterates}}``: on f every start ends at the
    one minimum x = -1; on g the two starts end in different local minima.
    """
    derivatives = {
        "convex": lambda x: 2 * x + 2,
        "non-convex": lambda x: 4 * x**3 + 3 * x**2 - 4 * x - 2,
    }
    paths: dict[str, dict[float, np.ndarray]] = {}
    for name, derivative in derivatives.items():
        paths[name] = {}
        for start in starts:
            path = [float(start)]
            for _ in range(steps):
                path.append(path[-1] - lr * derivative(path[-1]))
            paths[name][start] = np.array(path)
    return paths


def plot_convex_vs_nonconvex(starts: Sequence[float] = (-1.8, 1.8)) -> Figure:
    """The two 1-D functions, with the gradient descent iterates from each start."""
    functions = {
        "convex": (lambda x: x**2 + 2 * x + 1, "$x^2 + 2x + 1$ (convex)"),
        "non-convex": (lambda x: x**4 + x**3 - 2 * x**2 - 2 * x, "$x^4 + x^3 - 2x^2 - 2x$"),
    }
    paths = convex_and_nonconvex_paths(starts)
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.linspace(-2, 2, 200)
    for ax, (name, (function, title)) in zip(axes, functions.items()):
        ax.plot(x, function(x), c="gray")
        for start, color in zip(starts, ("tab:blue", "tab:red")):
            path = paths[name][start]
            ax.plot(path, function(path), ".-", c=color, label=f"start {start:g}")
            ax.plot(path[-1], function(path[-1]), "*", c=color, markersize=14)
        ax.set_title(title)
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
    figure.suptitle("Gradient descent (step 0.05, 40 steps) from two starting points")
    figure.tight_layout()
    return figure


@one_cpu_thread()
def overparameterization(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    hidden_dims: str = "10",
    lr: float = 5e-2,
    steps: int = 150,
    num_inits: int = 7,
    noise_scale: float = 0.2,
) -> dict[str, np.ndarray | int]:
    """Train ``num_inits`` randomly perturbed copies of one MLP by full-batch gradient descent.

    The copies train side by side as one ``StackedMLP``: ``gradient_update`` gets the stacked
    parameters and the sum of the copies' losses, whose gradient holds each copy's own.
    Returns ``{"losses": (num_inits, steps) array of training losses, "num_params": int}``.
    """
    base = MLP(hidden_dims=parse_hidden_dims(hidden_dims)).to(inputs.device)
    copies = StackedMLP(base, num_inits, noise_scale)
    rule = gradient_descent(gradient_update, lr=lr)
    state = rule.init_state(copies.parameters)
    losses = torch.empty(steps, num_inits, device=inputs.device)
    for step in range(steps):
        loss = copies.losses(inputs, targets)
        losses[step] = loss.detach()
        rule.step(loss.sum(), copies.parameters, state)
    return {"losses": losses.T.cpu().numpy(), "num_params": parameter_count(base)}


def plot_overparameterization(result: dict, hidden_dims: str) -> Figure:
    """Loss curves of the perturbed copies (one line each), each up to where it diverged."""
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.array([_until_divergence(losses) for losses in result["losses"]]).T, alpha=0.8)
    title = f"Hidden layers [{hidden_dims}]: {result['num_params']:,} parameters"
    first = _first_divergence(result["losses"])
    if first is not None:
        ax.axvline(first, c="tab:red", lw=1)
        title += f"\n{_diverged_copies(result['losses'])}"
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Training loss")
    ax.set_title(title)
    figure.tight_layout()
    return figure


def _first_divergence(runs: np.ndarray) -> int | None:
    steps = [step for step in map(loss_diverged_at, runs) if step is not None]
    return min(steps, default=None)


def _diverged_copies(runs: np.ndarray) -> str:
    """"3 of 7 copies diverged, the first at step 12" (for a title or a sentence)."""
    count = sum(loss_diverged_at(losses) is not None for losses in runs)
    if count == 1:
        return f"1 of {len(runs)} copies diverged, at step {_first_divergence(runs)}"
    which = f"All {count}" if count == len(runs) else f"{count} of {len(runs)}"
    return f"{which} copies diverged, the first at step {_first_divergence(runs)}"


def overparameterization_sentence(runs: np.ndarray, lr: float) -> str | None:
    """What the overparameterization demo prints: nothing unless some copy diverged."""
    if _first_divergence(runs) is None:
        return None
    return f"{_diverged_copies(runs)}: lr {lr:.3g} is too large."


@demo
def overparameterization_widget(
    inputs: torch.Tensor, targets: torch.Tensor, gradient_update: StudentOrReference
) -> widgets.VBox:
    """Dropdown of architectures, sliders for lr, steps and number of perturbed models."""
    controls = {
        "hidden_dims": widgets.Dropdown(
            options=["10", "20, 20", "100, 100"], value="10", description="hidden layers"
        ),
        "lr": widgets.FloatLogSlider(value=5e-2, min=-3, max=0, step=0.1, description="lr"),
        "steps": widgets.IntSlider(150, 50, 500, 10, description="steps"),
        "num_inits": widgets.IntSlider(7, 2, 10, 1, description="perturbed models"),
    }

    def run(**settings: object) -> None:
        with described_after(gradient_update):
            result = overparameterization(inputs, targets, gradient_update, **settings)
            show(plot_overparameterization(result, settings["hidden_dims"]))
            sentence = overparameterization_sentence(result["losses"], settings["lr"])
            if sentence is not None:
                print(sentence)

    return run_button(controls, run)


# --------------------------------------------------------------------------------------
# Section 6: the cost of full gradients, and minibatches
# --------------------------------------------------------------------------------------

NUM_POINTS = (1, 10, 100, 500, 1000, 2000, 4000, 8000)


def _synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that timings measure the computation itself."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def computation_time(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    hidden_dims: str = "100",
    num_points: Sequence[int] = NUM_POINTS,
    repeats: int = 3,
) -> dict[str, np.ndarray]:
    """Seconds for one forward pass (loss) and one backward pass, per number of examples.

    Returns ``{"num_points", "forward", "backward"}`` arrays, averaged over ``repeats``.
    Sizes beyond the data available are dropped.
    """
    model = MLP(hidden_dims=parse_hidden_dims(hidden_dims)).to(inputs.device)
    sizes = np.array([n for n in num_points if n <= len(inputs)])
    times = np.zeros((repeats, len(sizes), 2))
    for repeat in range(repeats):
        for column, size in enumerate(sizes):
            model.zero_grad()
            _synchronize(inputs.device)
            start = time.perf_counter()
            loss = F.nll_loss(model(inputs[:size]), targets[:size])
            _synchronize(inputs.device)
            middle = time.perf_counter()
            loss.backward()
            _synchronize(inputs.device)
            times[repeat, column] = middle - start, time.perf_counter() - middle
    mean = times.mean(axis=0)
    return {"num_points": sizes, "forward": mean[:, 0], "backward": mean[:, 1]}


def plot_computation_time(result: dict, hidden_dims: str) -> Figure:
    """Forward and backward time against the number of examples."""
    figure, ax = plt.subplots(figsize=(6, 4))
    ax.plot(result["num_points"], 1e3 * result["forward"], "o-", label="Forward (loss)")
    ax.plot(result["num_points"], 1e3 * result["backward"], "s-", label="Backward (gradients)")
    ax.set_xlabel("Number of examples")
    ax.set_ylabel("Milliseconds")
    ax.set_title(f"Cost of one evaluation, hidden layers [{hidden_dims}]")
    ax.legend()
    return figure


@demo
def computation_time_widget(inputs: torch.Tensor, targets: torch.Tensor) -> widgets.VBox:
    """Dropdown of model sizes; redraws the timing curves."""
    dropdown = widgets.Dropdown(
        options=["1", "100", "50, 50"], value="100", description="hidden layers"
    )

    def draw(hidden_dims: str) -> None:
        show(plot_computation_time(computation_time(inputs, targets, hidden_dims), hidden_dims))

    output = widgets.interactive_output(draw, {"hidden_dims": dropdown})
    return widgets.VBox([dropdown, output])


def _parse_numbers(text: str, kind: type) -> list:
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        what = "whole numbers" if kind is int else "numbers"
        raise InvalidSetting(f"expected comma-separated {what}, got {text!r}.") from error


def race_settings(batch_sizes: str, lrs: str, examples: int) -> tuple[list[int], list[float]]:
    """The minibatch widget's text boxes as numbers, or ``InvalidSetting`` saying what is wrong."""
    sizes, rates = _parse_numbers(batch_sizes, int), _parse_numbers(lrs, float)
    if not sizes or len(sizes) != len(rates):
        raise InvalidSetting(
            f"give one learning rate per batch size ({len(sizes)} batch sizes, "
            f"{len(rates)} learning rates)."
        )
    if not all(1 <= size <= examples for size in sizes):
        raise InvalidSetting(f"batch sizes must lie between 1 and {examples:,} (the data).")
    if not all(0 < rate < np.inf for rate in rates):
        raise InvalidSetting("learning rates must be positive.")
    return sizes, rates


def minibatch_race(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    sample_minibatch: SampleFn,
    batch_sizes: Sequence[int] = (20, 250, 1000),
    lrs: Sequence[float] = (0.05, 0.1, 0.1),
    time_budget: float = 0.3,
    hidden_dims: Sequence[int] = (100, 100),
) -> dict[int, np.ndarray]:
    """Train one copy of an MLP per batch size for ``time_budget`` seconds each.

    Returns ``{batch_size: array of rows (seconds since start, minibatch loss)}``; every run
    makes at least one update, however small the budget.
    """
    if len(batch_sizes) != len(lrs):
        raise ValueError(
            f"Give one learning rate per batch size: {len(batch_sizes)} != {len(lrs)}."
        )
    base = MLP(hidden_dims=hidden_dims).to(inputs.device)
    histories = {}
    for batch_size, lr in zip(batch_sizes, lrs):
        model = copy.deepcopy(base)
        params = list(model.parameters())
        rule = gradient_descent(gradient_update, lr=lr)
        state = rule.init_state(params)
        history = []
        start = time.perf_counter()
        while not history or time.perf_counter() - start < time_budget:
            batch_inputs, batch_targets = sample_minibatch(inputs, targets, batch_size)
            loss = F.nll_loss(model(batch_inputs), batch_targets)
            rule.step(loss, params, state)
            history.append((time.perf_counter() - start, loss.item()))
        histories[batch_size] = np.array(history)
    return histories


def plot_minibatch_race(histories: dict[int, np.ndarray], lrs: Sequence[float]) -> Figure:
    """Minibatch loss against wall-clock time, one panel per batch size, shared loss axis."""
    figure, axes = plt.subplots(
        1, len(histories), figsize=(4 * len(histories), 3.5), sharey=True, squeeze=False
    )
    for ax, (batch_size, history), lr in zip(axes[0], histories.items(), lrs):
        ax.plot(history[:, 0], _until_divergence(history[:, 1]), alpha=0.8)
        title = f"Batch size {batch_size}, lr {lr:g}: {len(history)} updates"
        step = loss_diverged_at(history[:, 1])
        if step is not None:
            ax.axvline(history[step, 0], c="tab:red", lw=1)
            title += f"\ndiverged at step {step}"
        ax.set_title(title)
        ax.set_xlabel("Seconds")
    axes[0, 0].set_ylabel("Minibatch loss")
    figure.tight_layout()
    return figure


@demo
def minibatch_widget(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: StudentOrReference,
    sample_minibatch: StudentOrReference,
) -> widgets.VBox:
    """Text boxes for batch sizes and learning rates, a dropdown for the time budget."""
    controls = {
        "batch_sizes": widgets.Text("20, 250, 1000", description="batch sizes"),
        "lrs": widgets.Text("0.05, 0.1, 0.1", description="learning rates"),
        # 0.3 s each by default: the three runs and the figure then answer within 1.5 s.
        "time_budget": widgets.Dropdown(
            options=["0.3", "1", "2.5", "5"], value="0.3", description="seconds each"
        ),
    }

    def run(batch_sizes: str, lrs: str, time_budget: str) -> None:
        with described_after(gradient_update, sample_minibatch):
            sizes, rates = race_settings(batch_sizes, lrs, len(inputs))
            histories = minibatch_race(
                inputs, targets, gradient_update, sample_minibatch, sizes, rates, float(time_budget)
            )
            show(plot_minibatch_race(histories, rates))
            for (batch_size, history), lr in zip(histories.items(), rates):
                step = loss_diverged_at(history[:, 1])
                if step is not None:
                    print(diverged_sentence(f"Batch size {batch_size}", step, lr))

    return run_button(controls, run)


# --------------------------------------------------------------------------------------
# Section 7: comparing optimizers
# --------------------------------------------------------------------------------------

ADAM = "Adam (torch.optim)"
LossStep = Callable[[torch.Tensor], None]


def _rule_steps(rule: InPlaceRule, params: list[torch.Tensor]) -> LossStep:
    """``rule`` as an update of ``params`` from a loss, its state kept between calls."""
    state = rule.init_state(params)

    def step(loss: torch.Tensor) -> None:
        rule.step(loss, params, state)

    return step


@one_cpu_thread()
def compare_optimizers(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    momentum_update: UpdateFn,
    rmsprop_update: UpdateFn,
    sample_minibatch: SampleFn,
    batch_size: int = 100,
    lr: float = 2e-3,
    steps: int = 100,
    beta: float = 0.9,
    alpha: float = 0.8,
    hidden_dims: Sequence[int] = (100, 100),
) -> dict[str, np.ndarray]:
    """Minibatch losses of SGD, momentum, RMSprop (given functions) and Adam (torch's).

    All four start from the same initial MLP, use the same learning rate and see the same
    minibatches (one is drawn per step and handed to every model: a fairer race, and a quarter
    of the sampling); returns ``{optimizer name: array of steps losses}``. The models take
    their steps one after another: their matrix products dominate, and evaluating the four in
    one batched pass (as ``overparameterization`` does) measured slower, because each rule
    must then be handed its model's share of the gradients (``make bench``).
    """
    base = MLP(hidden_dims=hidden_dims).to(inputs.device)
    rules: Mapping[str, InPlaceRule] = {
        "SGD": gradient_descent(gradient_update, lr=lr),
        "Momentum": momentum(momentum_update, lr=lr, beta=beta),
        "RMSprop": rmsprop(rmsprop_update, lr=lr, alpha=alpha),
        # Adam, notebook 04's subject, as torch ships it
        ADAM: from_optimizer(torch.optim.Adam, lr=lr),
    }
    models = {name: copy.deepcopy(base) for name in rules}
    updates = {
        name: _rule_steps(rule, list(models[name].parameters())) for name, rule in rules.items()
    }
    histories = {name: np.zeros(steps) for name in rules}
    for index in range(steps):
        batch_inputs, batch_targets = sample_minibatch(inputs, targets, batch_size)
        for name, model in models.items():
            loss = F.nll_loss(model(batch_inputs), batch_targets)
            histories[name][index] = loss.item()
            updates[name](loss)
    return histories


def plot_compare_optimizers(histories: dict[str, np.ndarray]) -> Figure:
    """One panel per optimizer: minibatch loss against iteration, shared axes."""
    figure, axes = plt.subplots(1, len(histories), figsize=(3.4 * len(histories), 3.2), sharey=True)
    for ax, (name, losses) in zip(axes, histories.items()):
        ax.plot(_until_divergence(losses), alpha=0.8)
        step = loss_diverged_at(losses)
        if step is not None:
            ax.axvline(step, c="tab:red", lw=1)
        ax.set_title(name if step is None else f"{name}\ndiverged at step {step}")
        ax.set_xlabel("Iteration")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("Minibatch loss")
    figure.tight_layout()
    return figure


@demo
def compare_optimizers_widget(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: StudentOrReference,
    momentum_update: StudentOrReference,
    rmsprop_update: StudentOrReference,
    sample_minibatch: StudentOrReference,
) -> widgets.VBox:
    """Sliders for batch size, learning rate (log scale) and number of steps."""
    controls = {
        "batch_size": widgets.IntSlider(100, 25, 250, 5, description="batch size"),
        "lr": widgets.FloatLogSlider(value=2e-3, min=-5, max=0, step=0.1, description="lr"),
        "steps": widgets.IntSlider(100, 50, 500, 10, description="steps"),
    }
    implementations = (gradient_update, momentum_update, rmsprop_update, sample_minibatch)

    def run(**settings: float) -> None:
        with described_after(*implementations):
            histories = compare_optimizers(inputs, targets, *implementations, **settings)
            show(plot_compare_optimizers(histories))
            for name, losses in histories.items():
                step = loss_diverged_at(losses)
                if step is not None:
                    print(diverged_sentence(name, step, settings["lr"]))

    return run_button(controls, run)
