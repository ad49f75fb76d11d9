"""Figures, the closing comparison, and the learning-rate demo of notebook 01.

The demo is split as everywhere in the course: ``lr_run`` trains and returns numbers (tested
headless), ``plot_lr_run`` draws them, and ``lr_widget`` only wires sliders to the two. The
demo trains with the student's ``fit_polynomial`` and compares the rate with the student's
``stability_limit``, both looked up on every run, or the references while not done yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from helpers.basics.checks import EXERCISES
from helpers.basics.optimizers import PlainSGD
from helpers.basics.polynomial import (
    Coefficients,
    initial_coefficients,
    largest_stable_lr,
    least_squares,
    sine_data,
)
from helpers.device import one_cpu_thread
from helpers.exercise import described_after
from helpers.widgets import demo, run_button, show

Array = np.ndarray | torch.Tensor


def _numpy(values: Array | Sequence[float]) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_fit(x: Array, y: Array, prediction: Array, title: str) -> Figure:
    """The data and the fitted curve (top) and the residual prediction - data (bottom)."""
    x, y, prediction = _numpy(x), _numpy(y), _numpy(prediction)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
    top.plot(x, y, color="tab:red", lw=3, alpha=0.5, label="data: sin(x)")
    top.plot(x, prediction, color="tab:blue", label="fitted polynomial")
    top.set(ylabel="y", title=title)
    top.legend()
    bottom.plot(x, prediction - y, color="tab:purple")
    bottom.axhline(0.0, color="gray", lw=0.8)
    bottom.set(xlabel="x", ylabel="prediction - data", title="Residual")
    fig.tight_layout()
    return fig


def plot_histories(
    histories: Mapping[str, Sequence[float]], optimum: float, title: str = "Training loss"
) -> Figure:
    """Loss against step for several runs, on a log scale, with the least-squares optimum."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, history in histories.items():
        ax.plot(np.arange(len(history)), _numpy(history), label=label)
    ax.axhline(optimum, color="black", ls="--", lw=1, label=f"least-squares optimum {optimum:.3f}")
    ax.set(xlabel="step", ylabel="summed squared error", yscale="log", title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_finite_differences(
    steps: Sequence[float], errors: Mapping[str, Sequence[float]]
) -> Figure:
    """Relative error of a central difference against its step size h, for each precision."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, values in errors.items():
        ax.loglog(steps, values, "o-", label=label)
    ax.set(
        xlabel="finite-difference step h",
        ylabel="relative error against the exact gradient",
        title="Central differences: truncation error (right) vs rounding error (left)",
    )
    ax.legend()
    fig.tight_layout()
    return fig


def comparison_table(
    results: Mapping[str, tuple[float, Coefficients]],
    optimum_coefficients: Sequence[float],
    optimum: float,
) -> str:
    """One line per method: final loss, its excess over the optimum, and the coefficients.

    Coefficients are those of the equivalent cubic a + b x + c x^2 + d x^3 (a fifth, e, for
    the model with random x^4 and x^5 terms).
    """
    header = (f"{'method':<38}{'loss':>10}{'excess':>10}{'a':>10}{'b':>9}{'c':>10}{'d':>9}"
              f"{'e':>10}")
    lines = [header, "-" * len(header)]
    rows = {"least squares (closed form)": (optimum, tuple(optimum_coefficients)), **results}
    for name, (loss, coefficients) in rows.items():
        cells = "".join(
            f"{value:>10.2g}" if i in (0, 2, 4) else f"{value:>9.4f}"
            for i, value in enumerate(coefficients)
        )
        lines.append(f"{name:<38}{loss:>10.4f}{loss - optimum:>10.2g}{cells}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The student's autograd Function, or the reference's while it is not done
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Interactive demo: learning rate and number of steps of the cubic fit
# --------------------------------------------------------------------------------------


@dataclass
class LrRun:
    """One training run of the demo, as numbers."""

    lr: float
    steps: int
    history: np.ndarray
    x: np.ndarray
    y: np.ndarray
    fitted: np.ndarray
    diverged_at: int | None
    largest_stable_lr: float
    optimum: float


def first_divergence(history: Sequence[float]) -> int | None:
    """The first step whose loss is not finite or above the starting loss, if any.

    Below the stability limit gradient descent on a quadratic lowers the loss at every step,
    so rising above the start can only mean the step size is too large.
    """
    losses = _numpy(history)
    bad = np.flatnonzero(~np.isfinite(losses) | (losses > losses[0]))
    return int(bad[0]) if bad.size else None


class CubicOfPowers(nn.Module):
    """``Polynomial3``'s cubic as one product: the powers (1, x, x^2, x^3) of the data times
    the vector of coefficients ``(a, b, c, d)``.

    The powers of the ``x`` it is built for are computed once, so a training step costs one
    matrix-vector product forward and one backward, where ``Polynomial3`` takes seven
    elementwise operations and their gradients. Other inputs get their powers computed anew.
    """

    def __init__(self, coefficients: Sequence[float], x: torch.Tensor) -> None:
        super().__init__()
        self.coefficients = nn.Parameter(torch.tensor(coefficients, dtype=x.dtype, device=x.device))
        self.x = x
        self.powers = self._powers(x)

    @staticmethod
    def _powers(x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.ones_like(x), x, x * x, x * x * x], dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        powers = self.powers if x is self.x else self._powers(x)
        return powers @ self.coefficients


@one_cpu_thread()
def lr_run(
    fit: Callable,
    lr: float,
    steps: int,
    seed: int = 2021,
    device: torch.device | None = None,
    limit: Callable[[torch.Tensor], float] = largest_stable_lr,
) -> LrRun:
    """Fit the cubic by plain SGD with ``fit`` (``fit_polynomial``'s signature) and measure;
    ``limit`` (``stability_limit``'s signature) gives the largest stable rate of the data."""
    x, y = sine_data(device=device)
    model = CubicOfPowers(initial_coefficients(seed), x)
    optimizer = PlainSGD(model.parameters(), lr=lr)
    history = _numpy([float(loss) for loss in fit(model, x, y, optimizer, steps)])
    with torch.no_grad():
        fitted = _numpy(model(x))
    return LrRun(
        lr=lr,
        steps=steps,
        history=history,
        x=_numpy(x),
        y=_numpy(y),
        fitted=fitted,
        diverged_at=first_divergence(history),
        largest_stable_lr=float(limit(x)),
        optimum=least_squares(x, y)[1],
    )


def plot_lr_run(run: LrRun) -> Figure:
    """Loss curve (left) and fitted curve (right); the title says whether training diverged."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    finite = np.where(np.isfinite(run.history), run.history, np.nan)
    left.plot(np.arange(len(finite)), finite, color="tab:blue")
    left.axhline(run.optimum, color="black", ls="--", lw=1, label=f"optimum {run.optimum:.3f}")
    if run.diverged_at is not None:
        left.axvline(run.diverged_at, color="tab:red", lw=1,
                     label=f"diverged at step {run.diverged_at}")
        verdict = f"DIVERGED at step {run.diverged_at}"
    else:
        verdict = f"final loss {run.history[-1]:.3f}"
    relation = ">" if run.lr > run.largest_stable_lr else "<"
    left.set(
        xlabel="step",
        ylabel="summed squared error",
        yscale="log",
        title=f"lr = {run.lr:.2e} {relation} limit {run.largest_stable_lr:.2e}: {verdict}",
    )
    left.legend()
    right.plot(run.x, run.y, color="tab:red", lw=3, alpha=0.5, label="sin(x)")
    if np.all(np.isfinite(run.fitted)):
        right.plot(run.x, run.fitted, color="tab:blue", label=f"cubic after {run.steps} steps")
    else:
        right.text(0.5, 0.5, "the fit blew up\n(no finite values)", ha="center",
                   transform=right.transAxes, color="tab:red")
    right.set(xlabel="x", ylabel="y", title="Fitted curve")  # autoscaled: a blown-up fit shows
    right.legend(loc="upper left")
    fig.tight_layout()
    return fig


def lr_run_sentence(run: LrRun) -> str | None:
    """What the learning-rate demo prints under its figure: whether training diverged, and
    whether that agrees with the stability limit. Nothing for a run below the limit that
    did not diverge (the title gives its final loss)."""
    lr, limit = f"{run.lr:.2e}", f"{run.largest_stable_lr:.2e}"
    above = run.lr > run.largest_stable_lr
    if run.diverged_at is not None and above:
        return (
            f"Training diverged at step {run.diverged_at}: lr {lr} is above the stability "
            f"limit {limit}."
        )
    if run.diverged_at is not None:
        return (
            f"Training diverged at step {run.diverged_at} although lr {lr} is below the "
            f"stability limit {limit}, where gradient descent converges: check that the "
            "training loop clears the gradients in every step."
        )
    if above:
        return (
            f"lr {lr} is above the stability limit {limit}, but in {run.steps} steps the loss "
            "has not yet risen above its start: run more steps to see it blow up."
        )
    return None


@demo
def lr_widget(namespace: MutableMapping[str, Any], seed: int = 2021,
              device: torch.device | None = None) -> widgets.VBox:
    """Sliders for the learning rate and the number of steps (both on a log scale)."""
    fit = EXERCISES.implementation("fit_polynomial", namespace)
    limit = EXERCISES.implementation("stability_limit", namespace)
    controls = {
        "lr": widgets.FloatLogSlider(value=1e-6, base=10, min=-7, max=-5, step=0.05,
                                     description="learning rate", readout_format=".2e"),
        "steps": widgets.FloatLogSlider(value=2000, base=10, min=1, max=4, step=0.1,
                                        description="steps", readout_format=".0f"),
    }

    def run(lr: float, steps: float) -> None:
        with described_after(fit, limit):
            result = lr_run(fit, lr, int(round(steps)), seed, device, limit)
            show(plot_lr_run(result))
            sentence = lr_run_sentence(result)
            if sentence is not None:
                print(sentence)

    return run_button(controls, run)
