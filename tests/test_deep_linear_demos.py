"""Specification of helpers.deep_linear.demos: compute functions headless, figures returned (never
plt.show), widgets wired, everything skipped while grading, and the notebook's claims true."""

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import helpers.deep_linear.demos as demos  # noqa: E402
from helpers.data import hierarchical_data  # noqa: E402
from helpers.deep_linear.checks import EXERCISES  # noqa: E402
from helpers.deep_linear.reference import linear_regression  # noqa: E402
from helpers.deep_linear.theory import half_times  # noqa: E402
from helpers.widgets import SKIPPED_WHILE_GRADING  # noqa: E402

NOTEBOOK_SEED = 2021  # the notebook's SEED: its data, so its claims are checked on it
SHARK_ITEMS = ["shark", "tuna", "robin", "canary", "rose", "daisy", "pine", "oak"]
HAS_BONES = [-1, 1, 1, 1, -1, -1, -1, -1]


@pytest.fixture(scope="module")
def data():
    return hierarchical_data(seed=0)


@pytest.fixture(scope="module")
def notebook_data():
    return hierarchical_data(n_features=10_000, flip_probability=0.15, seed=NOTEBOOK_SEED)


@pytest.fixture(autouse=True)
def figures_are_returned_not_shown(monkeypatch):
    def refuse() -> None:
        raise AssertionError("helpers must return figures, not call plt.show()")

    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


@pytest.fixture
def shown(monkeypatch) -> list:
    """The figures the demos hand to ``show``, in order."""
    figures: list = []
    monkeypatch.setattr(demos, "show", figures.append)
    return figures


def test_loss_widget_compute_at_defaults_shows_the_staircase(data):
    losses = demos.loss_for_settings(data)
    assert losses.shape == (250,) and np.isfinite(losses).all()
    assert losses[0] == pytest.approx(1.0, abs=1e-3)  # outputs start at ~0, targets are +-1
    assert losses[-1] < 1e-3
    plateau = np.sum(np.abs(np.diff(losses)) < 1e-4)
    assert plateau > 100  # most epochs sit on a plateau between the drops


def test_larger_initialization_removes_the_initial_plateau(data):
    tiny = demos.loss_for_settings(data, gamma=1e-12, n_epochs=60)
    large = demos.loss_for_settings(data, gamma=1.0, n_epochs=60)
    assert tiny[-1] > 0.9 and large[-1] < 0.1


def test_largest_slider_settings_still_converge(data):
    losses = demos.loss_for_settings(data, lr=200.0, gamma=10.0, n_epochs=250)
    assert np.isfinite(losses).all() and losses[-1] < 1e-6
    assert "diverged" not in demos.plot_loss_for_settings(losses, 200.0, 10.0).axes[0].get_title()


def test_a_diverged_loss_is_drawn_and_titled_as_diverged():
    losses = np.array([1.0, 10.0, 1e5, 1e12, np.inf, np.nan])
    figure = demos.plot_loss_for_settings(losses, 500.0, 10.0)
    assert isinstance(figure, Figure) and "diverged" in figure.axes[0].get_title()


def test_svd_rsa_record_at_defaults_holds_one_rsm_per_epoch(data):
    record = demos.svd_rsa_record(data)
    assert record.rsms.shape == (250, 8, 8) and record.singular_values.shape == (250, 8)
    final = record.rsms[-1]
    # After training, the hidden layer represents the tree: siblings closer than strangers.
    assert final[0, 1] > final[0, 2] > final[0, 4]
    assert isinstance(demos.plot_svd_rsa(record, 120, data.item_names), Figure)
    with pytest.raises(ValueError, match="epoch"):
        demos.plot_svd_rsa(record, 250, data.item_names)


def test_static_figures_are_returned_with_labelled_axes(data):
    record = demos.svd_rsa_record(data, n_epochs=20)
    figures = [
        demos.plot_tree_data(data),
        demos.plot_loss(record.losses),
        demos.plot_loss_and_modes(record, title="test"),
        demos.plot_rsm(record.rsms[-1], data.item_names, "RSM"),
        demos.plot_illusion(record, "label"),
    ]
    for figure in figures:
        assert isinstance(figure, Figure)
        assert all(ax.get_title() for ax in figure.axes if ax.get_label() != "<colorbar>")


def _sliders(widget) -> dict:
    found, stack = {}, [widget]
    while stack:
        current = stack.pop()
        if isinstance(current, (widgets.FloatSlider, widgets.FloatLogSlider, widgets.IntSlider)):
            found[current.description] = current
        stack.extend(getattr(current, "children", ()))
    return found


def test_loss_widget_offers_eta_and_a_log_gamma_slider_from_1e_15_to_10(data, shown):
    sliders = _sliders(demos.loss_lr_gamma_widget(data))
    assert set(sliders) == {"eta", "gamma"}
    gamma = sliders["gamma"]
    assert isinstance(gamma, widgets.FloatLogSlider)
    assert gamma.base**gamma.min == pytest.approx(1e-15) and gamma.base**gamma.max == 10


def test_explorer_trains_once_per_learning_rate_and_scale(data, shown, monkeypatch):
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
    assert len(shown) == 4 and all(isinstance(figure, Figure) for figure in shown)


def test_saxe_comparison_predicts_the_order_of_learning(data):
    record, predicted = demos.saxe_comparison(data, n_epochs=250)
    assert predicted.shape == record.singular_values.shape
    simulated = half_times(record.singular_values, predicted[-1])
    theory = half_times(predicted, predicted[-1])
    assert (simulated > 0).all() and (np.diff(theory) >= 0).all()
    assert np.allclose(record.singular_values[-1], predicted[-1], rtol=1e-3)


def test_simulation_lags_about_10_percent_at_eta_100_most_for_the_strongest_mode(notebook_data):
    record, predicted = demos.saxe_comparison(notebook_data, lr=100.0, n_epochs=250)
    simulated, theory, lag = demos.half_time_lag(record, predicted)
    assert 0.07 < lag < 0.13
    relative = simulated / theory - 1
    assert relative.argmax() == 0


def test_quarter_learning_rate_for_four_times_the_epochs_shrinks_the_lag_about_fourfold(
    notebook_data,
):
    lag_100 = demos.half_time_lag(*demos.saxe_comparison(notebook_data, 100.0, n_epochs=250))[2]
    lag_25 = demos.half_time_lag(*demos.saxe_comparison(notebook_data, 25.0, n_epochs=1000))[2]
    assert 2.5 < lag_100 / lag_25 < 6


def test_saxe_demo_shows_one_figure_and_prints_half_times_and_lag(data, shown, capsys):
    demos.saxe_demo(data, n_epochs=250, title="test")
    printed = capsys.readouterr().out
    assert len(shown) == 1 and "simulation" in printed and "closed form" in printed
    assert "lags behind the closed form by" in printed


def test_shark_example_shows_an_illusory_correlation():
    extended, record = demos.illusory_correlation(
        SHARK_ITEMS, HAS_BONES, "has_bones", "shark", seed=NOTEBOOK_SEED
    )
    assert extended.feature_names == ["has_bones"]
    assert record.predictions.max() > 0.3  # for a while the shark "has bones"
    assert record.predictions[-1] == pytest.approx(-1.0, abs=1e-2)  # until it learns it has not


def test_illusion_demo_shows_the_data_then_the_prediction(shown):
    demos.illusion_demo(SHARK_ITEMS, HAS_BONES, "has_bones", "shark", show_data=True)
    assert len(shown) == 2
    assert "has_bones" in [tick.get_text() for tick in shown[0].axes[1].get_xticklabels()]
    assert shown[1].axes[0].get_title() == "Prediction: shark: has_bones"


def test_illusory_correlation_rejects_an_unknown_watched_item():
    with pytest.raises(ValueError, match="watched_item"):
        demos.illusory_correlation(["a"] * 8, [1] * 8, "f", "parrot", device=torch.device("cpu"))


def test_three_roads_reach_the_analytic_map_on_the_notebook_data(notebook_data, shown, capsys):
    deep_model, _ = demos.train_tree_network(notebook_data)  # Section 1's settings
    X = notebook_data.items.T.numpy().astype(np.float64)
    Y = notebook_data.features.T.numpy().astype(np.float64)
    record, agree = demos.three_roads(notebook_data, deep_model, linear_regression(X, Y))
    assert agree and record.losses[-1] < record.losses[0]
    demos.three_roads_demo(notebook_data, deep_model, linear_regression(X, Y))
    assert len(shown) == 1 and "agree: True" in capsys.readouterr().out


def test_every_demo_is_skipped_while_grading(data, monkeypatch, shown, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    def no_training(*args, **kwargs):
        raise AssertionError("a demo trained while grading")

    monkeypatch.setattr(demos, "train", no_training)
    calls = [
        lambda: demos.loss_lr_gamma_widget(data),
        lambda: demos.svd_rsa_explorer(data),
        lambda: demos.saxe_demo(data),
        lambda: demos.illusion_demo(SHARK_ITEMS, HAS_BONES, "has_bones", "shark"),
        lambda: demos.three_roads_demo(data, None, None),
    ]
    for call in calls:
        assert call() is None
    assert capsys.readouterr().out.count(SKIPPED_WHILE_GRADING) == len(calls)
    assert shown == []


def test_saxe_demo_prints_the_students_half_times_and_whose_code_ran(data, shown, capsys):
    half_time = EXERCISES.implementation("saxe_half_time", {})
    demos.saxe_demo(data, n_epochs=250, title="test", half_time=half_time)
    printed = capsys.readouterr().out
    assert "saxe_half_time:" in printed
    assert "`saxe_half_time` is not done yet: this run used the reference" in printed


@pytest.mark.parametrize(
    ("simulated", "predicted", "expected"),
    [
        ([11, 22], [10, 20], "the simulation lags behind the closed form by 10% on average"),
        ([9, 18], [10, 20], "the simulation runs ahead of the closed form by 10% on average"),
        ([10, 20], [10, 20], "the simulation and the closed form agree to within half a percent"),
        ([-1, 20], [10, 20], "the lag cannot be measured: not every mode rose"),
        ([10, 20], [0, 20], "the lag cannot be measured: not every mode rose"),
    ],
)
def test_saxe_demo_says_behind_ahead_level_or_not_measurable(simulated, predicted, expected):
    simulated, predicted = np.array(simulated), np.array(predicted)
    lag = float(np.mean(simulated / np.where(predicted > 0, predicted, 1) - 1))
    sentence = demos.lag_sentence(simulated, predicted, lag)
    assert sentence.startswith(expected) and "-" not in sentence  # never "by -5%"
