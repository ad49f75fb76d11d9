"""Figures and interactive demos of the deep linear network notebook (02).

Every demo is a compute function that returns numbers (tests call it headless), a plot
function that returns a ``Figure``, and a thin function decorated with ``@demo`` that wires
the two (sliders, or printing and ``show``) and is skipped while the autograder runs.

The demos train with the reference initializer and a seeded generator, as a tool: every
student sees the same curves, so that the numbers the text quotes hold for everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from torch import nn

from helpers.data import TreeData, add_feature, hierarchical_data
from helpers.deep_linear.checks import EXERCISES
from helpers.deep_linear.network import LinearNet, TrainingRecord, total_map, train
from helpers.deep_linear.theory import SaxeParameters, half_times, saxe_parameters
from helpers.exercise import StudentOrReference, described_after
from helpers.widgets import demo, diverged_at, show

YES_NO = ListedColormap(["#4fc3f7", "#d81b60"])  # -1 "no" light blue, +1 "yes" magenta


def _mode_color(index: int, n_modes: int) -> tuple[float, float, float, float]:
    return plt.cm.viridis(0.9 * index / max(n_modes - 1, 1))


def _seeded_network(
    data: TreeData, hidden_dims: int | Sequence[int], gamma: float, seed: int
) -> LinearNet:
    """A ``LinearNet`` for the data, initialised at scale ``gamma`` from its own generator, so
    that a run is reproducible without touching the global random state."""
    device = data.items.device
    model = LinearNet(data.items.shape[1], hidden_dims, data.features.shape[1]).to(device)
    initializer = EXERCISES["ex_initializer_"].load_reference()  # seeded: see the docstring
    initializer(model, gamma, generator=torch.Generator(device).manual_seed(seed))
    return model


def train_tree_network(
    data: TreeData,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    hidden_dim: int = 30,
    init_seed: int = 0,
    watch: tuple[int, int] = (0, -1),
) -> tuple[LinearNet, TrainingRecord]:
    """Build a one-hidden-layer ``LinearNet`` for the data, initialise it at scale ``gamma``
    (reproducibly, from ``init_seed``), train it; return the model and its recording."""
    model = _seeded_network(data, hidden_dim, gamma, init_seed)
    return model, train(model, data.items, data.features, n_epochs, lr, watch)


# --------------------------------------------------------------------------------------
# Static figures
# --------------------------------------------------------------------------------------


def plot_tree_data(data: TreeData, n_shown: int = 12) -> Figure:
    """The one-hot item codes (inputs) next to a few features of every item (targets).

    The last ``n_shown`` feature columns are drawn, so a feature added by hand is visible.
    """
    names = data.item_names
    features = data.features[:, -n_shown:].cpu().numpy()
    labels = [""] * (n_shown - len(data.feature_names)) + data.feature_names[-n_shown:]
    fig, (ax_items, ax_features) = plt.subplots(
        1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1, 1.5]}
    )
    ax_items.imshow(data.items.cpu().numpy(), cmap="Greys")
    ax_items.set_title("Inputs: one-hot item codes")
    ax_items.set_xticks(range(len(names)), names, rotation=90)
    ax_items.set_yticks(range(len(names)), names)
    image = ax_features.imshow(features, cmap=YES_NO, vmin=-1, vmax=1, aspect="auto")
    ax_features.set_title(f"Targets: {n_shown} of the {data.features.shape[1]} features")
    ax_features.set_xlabel("feature")
    ax_features.set_xticks(range(n_shown), labels, rotation=90)
    ax_features.set_yticks(range(len(names)), names)
    colorbar = fig.colorbar(image, ax=ax_features, ticks=[-0.5, 0.5])
    colorbar.ax.set_yticklabels(["no (-1)", "yes (+1)"])
    fig.tight_layout()
    return fig


def plot_loss(losses: np.ndarray, title: str = "Training loss") -> Figure:
    """Mean squared error against epochs."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(losses, color="crimson")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _draw_modes(
    ax: Axes, singular_values: np.ndarray, predicted: np.ndarray | None = None
) -> None:
    n_modes = singular_values.shape[1]
    for mode in range(n_modes):
        color = _mode_color(mode, n_modes)
        ax.plot(singular_values[:, mode], color=color, label=f"mode {mode + 1}")
        if predicted is not None:
            ax.plot(predicted[:, mode], color=color, linestyle="--", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("singular value of the total map")


def plot_loss_and_modes(
    record: TrainingRecord, predicted: np.ndarray | None = None, title: str = ""
) -> Figure:
    """Loss (left) and the singular values of the total map (right) over epochs.

    ``predicted`` (same shape as ``record.singular_values``) adds the closed-form
    trajectories as dashed lines.
    """
    fig, (ax_loss, ax_modes) = plt.subplots(1, 2, figsize=(12, 4))
    ax_loss.plot(record.losses, color="crimson")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mean squared error")
    ax_loss.set_title("Training loss")
    _draw_modes(ax_modes, record.singular_values, predicted)
    suffix = " (dashed: Saxe et al. closed form)" if predicted is not None else ""
    ax_modes.set_title("Singular values" + suffix)
    ax_modes.legend(fontsize=7, ncol=2)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_rsm(
    rsm: np.ndarray, item_names: Sequence[str], title: str, ax: Axes | None = None
) -> Figure:
    """Representational similarity matrix as an image, scaled to its largest entry.

    Draws on ``ax`` when given (a panel of a larger figure), on a new figure otherwise;
    returns the figure drawn on.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.2))
    scale = float(np.abs(rsm).max()) or 1.0
    image = ax.imshow(rsm / scale, cmap="Purples", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(item_names)), item_names, rotation=90)
    ax.set_yticks(range(len(item_names)), item_names)
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="similarity (scaled to max)")
    ax.figure.tight_layout()
    return ax.figure


def plot_illusion(record: TrainingRecord, label: str) -> Figure:
    """The watched prediction over epochs (left) next to the modes that drive it (right)."""
    fig, (ax_pred, ax_modes) = plt.subplots(1, 2, figsize=(12, 4))
    ax_pred.plot(record.predictions, color="crimson", linewidth=2)
    ax_pred.axhline(0.0, color="grey", linewidth=0.8)
    ax_pred.set_ylim(-1.1, 1.1)
    ax_pred.set_xlabel("epoch")
    ax_pred.set_ylabel("network output (+1 yes, -1 no)")
    ax_pred.set_title(f"Prediction: {label}")
    _draw_modes(ax_modes, record.singular_values)
    ax_modes.set_title("Singular values of the total map")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------
# Theory versus simulation
# --------------------------------------------------------------------------------------


def saxe_comparison(
    data: TreeData,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    init_seed: int = 0,
    progress: bool = False,
) -> tuple[TrainingRecord, np.ndarray]:
    """Train the one-hidden-layer network and predict its singular values in closed form.

    Returns the recording and the predicted trajectories (n_epochs, n_modes), whose
    parameters come from this very initialization, learning rate and data.
    """
    record, theory = saxe_run(data, lr, gamma, n_epochs, init_seed, progress)
    return record, theory.trajectories(n_epochs)


def saxe_run(
    data: TreeData,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    init_seed: int = 0,
    progress: bool = False,
) -> tuple[TrainingRecord, SaxeParameters]:
    """``saxe_comparison``'s training run, with the closed form's parameters themselves."""
    model = _seeded_network(data, 30, gamma, init_seed)
    theory = saxe_parameters(model, data.items, data.features, lr)
    record = train(model, data.items, data.features, n_epochs, lr, progress=progress)
    return record, theory


def half_time_lag(
    record: TrainingRecord, predicted: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Half times of each mode, simulated and predicted, and the mean relative lag of the
    simulation behind the closed form (0.1 means 10% later)."""
    final = predicted[-1]
    simulated = half_times(record.singular_values, final)
    theory = half_times(predicted, final)
    return simulated, theory, float(np.mean(simulated / theory - 1))


def lag_sentence(simulated: np.ndarray, predicted: np.ndarray, lag: float) -> str:
    """What ``saxe_demo`` prints about ``half_time_lag``'s result, for every outcome: behind,
    ahead, level, or not measurable (a mode that never crossed half its final value)."""
    if (np.asarray(simulated) <= 0).any() or (np.asarray(predicted) <= 0).any():
        return (
            "the lag cannot be measured: not every mode rose from below half its final value "
            "to above it during the epochs run"
        )
    if abs(lag) < 0.005:
        return "the simulation and the closed form agree to within half a percent on average"
    if lag > 0:
        return f"the simulation lags behind the closed form by {lag:.0%} on average"
    return f"the simulation runs ahead of the closed form by {-lag:.0%} on average"


def formula_half_times(
    theory: SaxeParameters, half_time: Callable[[float, float, float], float]
) -> np.ndarray:
    """Each mode's half time from a closed-form ``half_time(s, tau, u0)`` (the student's)."""
    modes = zip(theory.strengths, theory.u0)
    return np.array([float(half_time(float(s), float(theory.tau), float(u0))) for s, u0 in modes])


@demo
def saxe_demo(
    data: TreeData,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    title: str = "",
    progress: bool = False,
    half_time: StudentOrReference | None = None,
) -> None:
    """Simulation against closed form: the figure, the half times and the lag between them.

    With ``half_time`` (the student's ``saxe_half_time``), its exact half times are printed
    beside the simulated ones and those read off the predicted curves.
    """
    record, theory = saxe_run(data, lr, gamma, n_epochs, progress=progress)
    predicted = theory.trajectories(n_epochs)
    show(plot_loss_and_modes(record, predicted, title=title))
    simulated, from_curves, lag = half_time_lag(record, predicted)
    print("epoch at which each mode reaches half its final value")
    print("  simulation:  ", simulated)
    print("  closed form: ", from_curves)
    if half_time is not None:
        with described_after(half_time):
            print("  saxe_half_time:", np.round(formula_half_times(theory, half_time), 1))
    print(lag_sentence(simulated, from_curves, lag))


# --------------------------------------------------------------------------------------
# Illusory correlations
# --------------------------------------------------------------------------------------


def illusory_correlation(
    item_names: Sequence[str],
    feature_values: Sequence[float],
    feature_name: str,
    watched_item: str,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> tuple[TreeData, TrainingRecord]:
    """Add a hand-made feature to fresh tree data, train, and watch one item's prediction of it.

    ``item_names`` renames the eight items (inputs are one-hot codes, so names are labels),
    ``feature_values`` gives the new feature for each item (+1 yes, -1 no), and the
    recording follows the network's output for ``watched_item`` and this feature.
    """
    names = list(item_names)
    if watched_item not in names:
        raise ValueError(f"watched_item {watched_item!r} is not one of the items {names}.")
    tree = hierarchical_data(seed=seed, device=device)
    data = add_feature(tree, feature_values, feature_name, names)
    watch = (names.index(watched_item), data.features.shape[1] - 1)
    _, record = train_tree_network(data, lr, gamma, n_epochs, watch=watch)
    return data, record


@demo
def illusion_demo(
    item_names: Sequence[str],
    feature_values: Sequence[float],
    feature_name: str,
    watched_item: str,
    label: str | None = None,
    show_data: bool = False,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> None:
    """Train with the hand-made feature and show the watched prediction next to the modes
    (and, with ``show_data``, the data first)."""
    data, record = illusory_correlation(
        item_names, feature_values, feature_name, watched_item, seed=seed, device=device
    )
    if show_data:
        show(plot_tree_data(data))
    show(plot_illusion(record, label or f"{watched_item}: {feature_name}"))


# --------------------------------------------------------------------------------------
# Widget 1: loss against learning rate and initialization scale
# --------------------------------------------------------------------------------------


def loss_for_settings(
    data: TreeData, lr: float = 100.0, gamma: float = 1e-12, n_epochs: int = 250
) -> np.ndarray:
    """Loss curve of the one-hidden-layer network trained with these settings (compute part)."""
    _, record = train_tree_network(data, lr, gamma, n_epochs)
    return record.losses


def plot_loss_for_settings(losses: np.ndarray, lr: float, gamma: float) -> Figure:
    """One loss curve, saying so when training diverged."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    finite = np.isfinite(losses) & (losses < DIVERGED)
    ax.plot(np.where(finite, losses, np.nan), color="crimson")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    epoch = diverged_at(losses, DIVERGED)
    verdict = "" if epoch is None else f"  (diverged at epoch {epoch}: the loss blew up)"
    if epoch is not None:
        ax.axvline(epoch, color="tab:red", lw=1)
    ax.set_title(f"Training loss, eta = {lr:g}, gamma = {gamma:.0e}{verdict}")
    fig.tight_layout()
    return fig


# Every epoch of these demos is one full-batch step; a loss above this has blown up.
DIVERGED = 1e6
# The widgets initialize with the reference and a seeded generator (see the module's
# docstring); each redraw says so, naming the exercise that it stands for.
SEEDED_REFERENCE = ("This run used the reference `ex_initializer_` from helpers, seeded, so "
                    "that every student sees the same curves.")


def _gamma_slider() -> widgets.FloatLogSlider:
    return widgets.FloatLogSlider(
        value=1e-12, base=10, min=-15, max=1, step=1, description="gamma", continuous_update=False
    )


@demo
def loss_lr_gamma_widget(data: TreeData) -> widgets.VBox:
    """Sliders for eta and gamma (log scale, 1e-15 to 10) that retrain and redraw the loss.

    Live sliders rather than a Run button: one run takes about a second. Returns the widget;
    the notebook displays it as the cell's value.
    """
    lr_slider = widgets.FloatSlider(
        value=100.0, min=1.0, max=200.0, step=1.0, description="eta", continuous_update=False
    )
    gamma_slider = _gamma_slider()

    def redraw(lr: float, gamma: float) -> None:
        show(plot_loss_for_settings(loss_for_settings(data, lr, gamma), lr, gamma))
        print(SEEDED_REFERENCE)

    output = widgets.interactive_output(redraw, {"lr": lr_slider, "gamma": gamma_slider})
    return widgets.VBox([widgets.HBox([lr_slider, gamma_slider]), output])


# --------------------------------------------------------------------------------------
# Widget 2: SVD / RSA explorer
# --------------------------------------------------------------------------------------


def svd_rsa_record(
    data: TreeData, lr: float = 100.0, gamma: float = 1e-12, n_epochs: int = 250
) -> TrainingRecord:
    """Everything the explorer shows for one (eta, gamma): loss, modes and RSMs per epoch."""
    _, record = train_tree_network(data, lr, gamma, n_epochs)
    return record


def plot_svd_rsa(record: TrainingRecord, epoch: int, item_names: Sequence[str]) -> Figure:
    """Loss and singular values with ``epoch`` highlighted, and the RSM at that epoch."""
    n_epochs = len(record.losses)
    if not 0 <= epoch < n_epochs:
        raise ValueError(f"epoch must lie in [0, {n_epochs - 1}], got {epoch}.")
    fig, (ax_loss, ax_rsm) = plt.subplots(
        1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [1.6, 1]}
    )
    losses = np.where(np.isfinite(record.losses), record.losses, np.nan)
    ax_loss.plot(losses, color="crimson")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("mean squared error", color="crimson")
    ax_loss.axvline(epoch, color="magenta", alpha=0.4, linewidth=6)
    ax_modes = ax_loss.twinx()
    n_modes = record.singular_values.shape[1]
    for mode in range(n_modes):
        ax_modes.plot(record.singular_values[:, mode], color=_mode_color(mode, n_modes))
    ax_modes.set_ylabel("singular values", color=_mode_color(0, n_modes))
    ax_loss.set_title("Loss and singular values")
    plot_rsm(record.rsms[epoch], item_names, f"Hidden-layer RSM at epoch {epoch}", ax=ax_rsm)
    return fig


@demo
def svd_rsa_explorer(data: TreeData, n_epochs: int = 250) -> widgets.VBox:
    """Sliders for eta, gamma and the epoch over a cached training run per (eta, gamma).

    Training runs once per (eta, gamma); moving the epoch slider only redraws. Returns the
    widget; the notebook displays it as the cell's value.
    """
    cache: dict[tuple[float, float], TrainingRecord] = {}
    lr_slider = widgets.FloatSlider(
        value=100.0, min=20.0, max=200.0, step=1.0, description="eta", continuous_update=False
    )
    gamma_slider = _gamma_slider()
    epoch_slider = widgets.IntSlider(
        value=min(130, n_epochs - 1),  # at the defaults: after the first two modes
        min=0,
        max=n_epochs - 1,
        description="epoch",
        continuous_update=False,
        layout=widgets.Layout(width="600px"),
    )

    def redraw(lr: float, gamma: float, epoch: int) -> None:
        key = (lr, gamma)
        if key not in cache:
            cache[key] = svd_rsa_record(data, lr, gamma, n_epochs)
        show(plot_svd_rsa(cache[key], epoch, data.item_names))
        print(SEEDED_REFERENCE)

    controls = {"lr": lr_slider, "gamma": gamma_slider, "epoch": epoch_slider}
    output = widgets.interactive_output(redraw, controls)
    return widgets.VBox([widgets.HBox([lr_slider, gamma_slider]), epoch_slider, output])


# --------------------------------------------------------------------------------------
# Bonus: three roads to one map
# --------------------------------------------------------------------------------------


def three_roads(
    data: TreeData, deep_model: nn.Module, analytic: np.ndarray, n_epochs: int = 250
) -> tuple[TrainingRecord, bool]:
    """Train a zero-hidden-layer network by gradient descent (lr 1000, gamma 1e-12); return
    its recording and whether its map, the deep model's total map and ``analytic`` agree to
    within 0.01."""
    shallow = _seeded_network(data, (), 1e-12, seed=0)
    record = train(shallow, data.items, data.features, n_epochs=n_epochs, lr=1000.0)
    in_dim = data.items.shape[1]
    maps = [total_map(net, in_dim).cpu().numpy() for net in (shallow, deep_model)]
    return record, all(np.allclose(analytic, other, atol=1e-2) for other in maps)


@demo
def three_roads_demo(data: TreeData, deep_model: nn.Module, analytic: np.ndarray) -> None:
    """The zero-hidden-layer network's loss, and whether all three roads reach one map."""
    record, agree = three_roads(data, deep_model, analytic)
    show(plot_loss(record.losses, title="Training loss of the zero-hidden-layer network"))
    print(f"Analytic solution, zero-hidden-layer network and deep network agree: {agree}")
