"""Specification of helpers.linear_demos: compute functions headless, plots and widgets build."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.data import hierarchical_data  # noqa: E402
from helpers.linear_demos import (  # noqa: E402
    half_times,
    illusory_correlation,
    loss_for_settings,
    loss_lr_gamma_widget,
    plot_illusion,
    plot_loss_and_modes,
    plot_loss_for_settings,
    plot_svd_rsa,
    plot_tree_data,
    saxe_comparison,
    svd_rsa_record,
)


@pytest.fixture(scope="module")
def data():
    return hierarchical_data(seed=0)


@pytest.fixture(autouse=True)
def no_windows(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: plt.close("all"))


def test_loss_widget_compute_at_defaults_shows_the_staircase(data):
    losses = loss_for_settings(data)
    assert losses.shape == (250,) and np.isfinite(losses).all()
    assert losses[0] == pytest.approx(1.0, abs=1e-3)  # outputs start at ~0, targets are +-1
    assert losses[-1] < 1e-3
    plateau = np.sum(np.abs(np.diff(losses)) < 1e-4)
    assert plateau > 100  # most epochs sit on a plateau between the drops


def test_larger_initialization_removes_the_initial_plateau(data):
    tiny = loss_for_settings(data, gamma=1e-12, n_epochs=60)
    large = loss_for_settings(data, gamma=1.0, n_epochs=60)
    assert tiny[-1] > 0.9 and large[-1] < 0.1


def test_diverging_settings_are_drawn_without_error(data):
    losses = loss_for_settings(data, lr=200.0, gamma=10.0, n_epochs=20)
    plot_loss_for_settings(losses, 200.0, 10.0)


def test_svd_rsa_record_at_defaults_holds_one_rsm_per_epoch(data):
    record = svd_rsa_record(data)
    assert record.rsms.shape == (250, 8, 8) and record.singular_values.shape == (250, 8)
    final = record.rsms[-1]
    # After training, the hidden layer represents the tree: siblings closer than strangers.
    assert final[0, 1] > final[0, 2] > final[0, 4]
    plot_svd_rsa(record, 120, data.item_names)
    with pytest.raises(ValueError, match="epoch"):
        plot_svd_rsa(record, 250, data.item_names)


def _sliders(widget) -> dict:
    found, stack = {}, [widget]
    while stack:
        current = stack.pop()
        if isinstance(current, (widgets.FloatSlider, widgets.FloatLogSlider, widgets.IntSlider)):
            found[current.description] = current
        stack.extend(getattr(current, "children", ()))
    return found


def test_loss_widget_offers_eta_and_a_log_gamma_slider_from_1e_15_to_10(data):
    sliders = _sliders(loss_lr_gamma_widget(data))
    assert set(sliders) == {"eta", "gamma"}
    gamma = sliders["gamma"]
    assert isinstance(gamma, widgets.FloatLogSlider)
    assert gamma.base**gamma.min == pytest.approx(1e-15) and gamma.base**gamma.max == 10


def test_explorer_trains_once_per_learning_rate_and_scale(data, monkeypatch):
    import helpers.linear_demos as demos

    calls = []
    original = demos.svd_rsa_record

    def counting(*args, **kwargs):
        calls.append(args[1:3])
        return original(*args, **kwargs)

    monkeypatch.setattr(demos, "svd_rsa_record", counting)
    sliders = _sliders(demos.svd_rsa_explorer(data, n_epochs=40))
    assert set(sliders) == {"eta", "gamma", "epoch"}
    sliders["epoch"].value = 10
    sliders["epoch"].value = 30
    assert len(calls) == 1
    sliders["eta"].value = 50.0
    assert len(calls) == 2


def test_saxe_comparison_predicts_the_order_of_learning(data):
    record, predicted = saxe_comparison(data, n_epochs=250)
    assert predicted.shape == record.singular_values.shape
    simulated = half_times(record.singular_values, predicted[-1])
    theory = half_times(predicted, predicted[-1])
    assert (simulated > 0).all() and (np.diff(theory) >= 0).all()
    assert np.allclose(record.singular_values[-1], predicted[-1], rtol=1e-3)
    plot_loss_and_modes(record, predicted, title="test")


def test_shark_example_shows_an_illusory_correlation(data):
    items = ["shark", "tuna", "robin", "canary", "rose", "daisy", "pine", "oak"]
    bones = [-1, 1, 1, 1, -1, -1, -1, -1]
    extended, record = illusory_correlation(items, bones, "has_bones", "shark")
    assert extended.feature_names == ["has_bones"]
    assert record.predictions.max() > 0.3  # for a while the shark "has bones"
    assert record.predictions[-1] == pytest.approx(-1.0, abs=1e-2)  # until it learns it has not
    plot_tree_data(extended)
    plot_illusion(record, "shark has bones")


def test_illusory_correlation_rejects_an_unknown_watched_item():
    with pytest.raises(ValueError, match="watched_item"):
        illusory_correlation(["a"] * 8, [1] * 8, "f", "parrot", device=torch.device("cpu"))
