"""Figures and interactive demos of the deep linear network notebook.

Every demo is three pieces: a compute function that returns numbers (tests call it
headless), a plot function that draws them, and a widget function that only wires sliders
to the two. Training itself lives in ``helpers.linear``.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

from helpers.data import TreeData, add_feature, hierarchical_data
from helpers.linear import (
    LinearNet,
    TrainingRecord,
    initializer_,
    saxe_parameters,
    train,
    train_tree_network,
)

YES_NO = ListedColormap(["#4fc3f7", "#d81b60"])  # -1 "no" light blue, +1 "yes" magenta


def _mode_color(index: int, n_modes: int):
    return plt.cm.viridis(0.9 * index / max(n_modes - 1, 1))


# --------------------------------------------------------------------------------------
# Static figures
# --------------------------------------------------------------------------------------


def plot_tree_data(data: TreeData, n_shown: int = 12) -> None:
    """Show the one-hot item codes (inputs) next to a few features of every item (targets).

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
    plt.show()


def plot_loss(losses: np.ndarray, title: str = "Training loss") -> None:
    """Mean squared error against epochs."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(losses, color="crimson")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title(title)
    fig.tight_layout()
    plt.show()


def _draw_modes(ax, singular_values: np.ndarray, predicted: np.ndarray | None = None) -> None:
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
) -> None:
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
    plt.show()


def plot_rsm(rsm: np.ndarray, item_names: Sequence[str], title: str, ax=None) -> None:
    """Representational similarity matrix as an image, scaled to its largest entry."""
    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(4.8, 4.2))
    scale = float(np.abs(rsm).max()) or 1.0
    image = ax.imshow(rsm / scale, cmap="Purples", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(item_names)), item_names, rotation=90)
    ax.set_yticks(range(len(item_names)), item_names)
    ax.set_title(title)
    plt.colorbar(image, ax=ax, label="similarity (scaled to max)")
    if own_figure:
        plt.tight_layout()
        plt.show()


def plot_illusion(record: TrainingRecord, label: str) -> None:
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
    plt.show()


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
    model = LinearNet(data.items.shape[1], 30, data.features.shape[1]).to(data.items.device)
    generator = torch.Generator(data.items.device).manual_seed(init_seed)
    initializer_(model, gamma, generator=generator)
    theory = saxe_parameters(model, data.items, data.features, lr)
    record = train(model, data.items, data.features, n_epochs, lr, progress=progress)
    return record, theory.trajectories(n_epochs)


def half_times(singular_values: np.ndarray, final: np.ndarray) -> np.ndarray:
    """First epoch at which each mode reaches half of ``final`` (-1 if it never does)."""
    reached = singular_values >= 0.5 * np.asarray(final)[None, :]
    return np.where(reached.any(axis=0), reached.argmax(axis=0), -1)


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
    _, record = train_tree_network(data.items, data.features, lr, gamma, n_epochs, watch=watch)
    return data, record


# --------------------------------------------------------------------------------------
# Widget 1: loss against learning rate and initialization scale
# --------------------------------------------------------------------------------------


def loss_for_settings(
    data: TreeData, lr: float = 100.0, gamma: float = 1e-12, n_epochs: int = 250
) -> np.ndarray:
    """Loss curve of the one-hidden-layer network trained with these settings (compute part)."""
    _, record = train_tree_network(data.items, data.features, lr, gamma, n_epochs)
    return record.losses


def plot_loss_for_settings(losses: np.ndarray, lr: float, gamma: float) -> None:
    """Draw one loss curve, saying so when training diverged."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    finite = np.isfinite(losses) & (losses < 1e6)
    ax.plot(np.where(finite, losses, np.nan), color="crimson")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    verdict = "" if finite.all() else "  (diverged: the loss blew up)"
    ax.set_title(f"Training loss, eta = {lr:g}, gamma = {gamma:.0e}{verdict}")
    fig.tight_layout()
    plt.show()


def loss_lr_gamma_widget(data: TreeData) -> widgets.VBox:
    """Sliders for eta and gamma (log scale, 1e-15 to 10) that retrain and redraw the loss."""
    lr_slider = widgets.FloatSlider(
        value=100.0, min=1.0, max=200.0, step=1.0, description="eta", continuous_update=False
    )
    gamma_slider = widgets.FloatLogSlider(
        value=1e-12, base=10, min=-15, max=1, step=1, description="gamma", continuous_update=False
    )

    def show(lr: float, gamma: float) -> None:
        plot_loss_for_settings(loss_for_settings(data, lr, gamma), lr, gamma)

    output = widgets.interactive_output(show, {"lr": lr_slider, "gamma": gamma_slider})
    return widgets.VBox([widgets.HBox([lr_slider, gamma_slider]), output])


# --------------------------------------------------------------------------------------
# Widget 2: SVD / RSA explorer
# --------------------------------------------------------------------------------------


def svd_rsa_record(
    data: TreeData, lr: float = 100.0, gamma: float = 1e-12, n_epochs: int = 250
) -> TrainingRecord:
    """Everything the explorer shows for one (eta, gamma): loss, modes and RSMs per epoch."""
    _, record = train_tree_network(data.items, data.features, lr, gamma, n_epochs)
    return record


def plot_svd_rsa(record: TrainingRecord, epoch: int, item_names: Sequence[str]) -> None:
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
    fig.tight_layout()
    plt.show()


def svd_rsa_explorer(data: TreeData, n_epochs: int = 250) -> widgets.VBox:
    """Sliders for eta, gamma and the epoch over a cached training run per (eta, gamma).

    Training runs once per (eta, gamma); moving the epoch slider only redraws.
    """
    cache: dict[tuple[float, float], TrainingRecord] = {}
    lr_slider = widgets.FloatSlider(
        value=100.0, min=20.0, max=200.0, step=1.0, description="eta", continuous_update=False
    )
    gamma_slider = widgets.FloatLogSlider(
        value=1e-12, base=10, min=-15, max=1, step=1, description="gamma", continuous_update=False
    )
    epoch_slider = widgets.IntSlider(
        value=min(130, n_epochs - 1),  # at the defaults: after the first two modes
        min=0,
        max=n_epochs - 1,
        description="epoch",
        continuous_update=False,
        layout=widgets.Layout(width="600px"),
    )

    def show(lr: float, gamma: float, epoch: int) -> None:
        key = (lr, gamma)
        if key not in cache:
            cache[key] = svd_rsa_record(data, lr, gamma, n_epochs)
        plot_svd_rsa(cache[key], epoch, data.item_names)

    controls = {"lr": lr_slider, "gamma": gamma_slider, "epoch": epoch_slider}
    output = widgets.interactive_output(show, controls)
    return widgets.VBox([widgets.HBox([lr_slider, gamma_slider]), epoch_slider, output])
