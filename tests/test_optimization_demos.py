"""Every demo of notebook 03 computes headless at its widget defaults and returns sane numbers.

Real MNIST digits (the offline subset) are used where the demos use them in the notebook, so
that "the loss goes down" means what it means there. Plot functions are drawn once each to
catch errors in labelling code; widgets are checked to be skipped while grading, and to say
whose code they ran (here always the reference: the namespace holds no student code).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from helpers.data import load_mnist  # noqa: E402
from helpers.models import MLP  # noqa: E402
from helpers.optimization import demos  # noqa: E402
from helpers.optimization.checks import EXERCISES  # noqa: E402
from helpers.optimization.landscape import LossSlice, curvature_at, newton_optimum  # noqa: E402
from helpers.optimization.reference import (  # noqa: E402
    gradient_update,
    momentum_update,
    rmsprop_update,
    sample_minibatch,
)
from helpers.optimization.updates import InPlaceRule, momentum, no_state  # noqa: E402
from helpers.widgets import SKIPPED_WHILE_GRADING  # noqa: E402


@pytest.fixture(scope="module")
def mnist():
    train_set, _ = load_mnist()
    torch.manual_seed(0)
    subset = torch.randperm(len(train_set))[:500]
    small = train_set.data[subset], train_set.targets[subset]
    return small, (train_set.data[:2000], train_set.targets[:2000])


@pytest.fixture(scope="module")
def landscape(mnist):
    (inputs, targets), _ = mnist
    torch.manual_seed(1)
    loss_slice = LossSlice.from_model(MLP(hidden_dims=[]), inputs, targets)
    optimum = newton_optimum(loss_slice)
    return loss_slice, optimum, curvature_at(loss_slice, optimum)


def test_partial_training_lowers_the_loss(mnist):
    (inputs, targets), _ = mnist
    model = MLP(hidden_dims=[])
    before = F.nll_loss(model(inputs), targets).item()
    demos.partially_train(model, inputs, targets, steps=30)
    assert F.nll_loss(model(inputs), targets).item() < before
    plt.close(demos.plot_class_filters(model))
    plt.close(demos.plot_digits(inputs, targets, count=2))


def test_gradient_step_beats_typical_random_directions(mnist):
    (inputs, targets), _ = mnist
    torch.manual_seed(2)
    changes = demos.loss_changes(MLP(hidden_dims=[]), inputs, targets, gradient_update)
    assert changes["random"].shape == (100,)
    assert np.isfinite(changes["random"]).all()
    assert changes["gradient"] < 0
    assert changes["gradient"] < np.median(changes["random"])
    plt.close(demos.plot_loss_changes({"At initialization": changes}))


def test_momentum_demo_at_defaults_returns_full_finite_paths(landscape):
    loss_slice, optimum, curvature = landscape
    paths = demos.momentum_vs_gd(loss_slice, gradient_update, momentum_update)
    assert set(paths) == {"Gradient descent", "Momentum"}
    for path in paths.values():
        assert path.shape == (301, 3) and np.isfinite(path).all()
        assert path[-1, 2] < path[0, 2]  # the loss went down
    # At the defaults momentum gets closer to the optimum than gradient descent.
    distance = {name: np.abs(path[-1, :2] - optimum).max() for name, path in paths.items()}
    assert distance["Momentum"] < distance["Gradient descent"]
    plt.close(demos.plot_momentum_vs_gd(paths, optimum, loss_slice.grid(points=8)))
    plt.close(demos.plot_loss_surface(loss_slice.grid(points=8), optimum))


def test_recommended_momentum_settings_reach_the_optimum(landscape):
    loss_slice, optimum, curvature = landscape
    rule = momentum(momentum_update, lr=curvature.momentum_step, beta=curvature.momentum_beta)
    path = demos.optimize_slice(loss_slice, rule, steps=200)
    assert np.abs(path[-1, :2] - optimum).max() < 1e-6


def test_a_diverging_run_stops_and_pads_with_nan(landscape):
    loss_slice, _, _ = landscape

    def exploding_update(loss, params, lr):
        with torch.no_grad():
            for param in params:
                param.mul_(lr)

    rule = InPlaceRule(exploding_update, no_state, {"lr": 100.0})
    path = demos.optimize_slice(loss_slice, rule, steps=50)
    assert path.shape == (51, 3)
    assert np.isfinite(path[:2]).all()
    assert np.isnan(path[-1]).all()


def test_overparameterization_at_defaults(mnist):
    (inputs, targets), _ = mnist
    torch.manual_seed(3)
    result = demos.overparameterization(inputs, targets, gradient_update)
    losses = result["losses"]
    assert losses.shape == (7, 150) and np.isfinite(losses).all()
    assert (losses[:, -1] < losses[:, 0]).all()
    assert result["num_params"] == 784 * 10 + 10 + 10 * 10 + 10
    plt.close(demos.plot_overparameterization(result, "10"))


def test_computation_time_at_defaults(mnist):
    _, (inputs, targets) = mnist
    result = demos.computation_time(inputs, targets)
    assert list(result["num_points"]) == [n for n in demos.NUM_POINTS if n <= 2000]
    for key in ("forward", "backward"):
        assert result[key].shape == result["num_points"].shape
        assert (result[key] > 0).all()
    plt.close(demos.plot_computation_time(result, "100"))


def test_minibatch_race_makes_updates_for_every_batch_size(mnist):
    _, (inputs, targets) = mnist
    torch.manual_seed(4)
    histories = demos.minibatch_race(
        inputs, targets, gradient_update, sample_minibatch, time_budget=0.2
    )
    assert set(histories) == {20, 250, 1000}
    for history in histories.values():
        assert history.ndim == 2 and history.shape[1] == 2 and len(history) >= 1
        assert np.isfinite(history).all()
        assert (np.diff(history[:, 0]) >= 0).all()  # time runs forward
    plt.close(demos.plot_minibatch_race(histories, [0.05, 0.1, 0.1]))


def test_minibatch_race_needs_one_learning_rate_per_batch_size(mnist):
    _, (inputs, targets) = mnist
    with pytest.raises(ValueError, match="one learning rate per batch size"):
        demos.minibatch_race(inputs, targets, gradient_update, sample_minibatch, (10, 20), (0.1,))


def test_compare_optimizers_at_defaults(mnist):
    _, (inputs, targets) = mnist
    torch.manual_seed(5)
    histories = demos.compare_optimizers(
        inputs, targets, gradient_update, momentum_update, rmsprop_update, sample_minibatch
    )
    assert list(histories) == ["SGD", "Momentum", "RMSprop", "Adam (torch.optim)"]
    for losses in histories.values():
        assert losses.shape == (100,) and np.isfinite(losses).all()
    # At lr = 2e-3 the adaptive methods learn much faster than plain SGD.
    assert histories["RMSprop"][-20:].mean() < histories["SGD"][-20:].mean()
    plt.close(demos.plot_compare_optimizers(histories))


def test_compare_optimizers_shows_every_model_the_same_minibatches(mnist):
    _, (inputs, targets) = mnist
    drawn = []

    def counting_sample(*args, **kwargs):
        drawn.append(1)
        return sample_minibatch(*args, **kwargs)

    # With lr = 0 no model moves: identical losses mean identical start and identical batches.
    histories = demos.compare_optimizers(
        inputs, targets, gradient_update, momentum_update, rmsprop_update, counting_sample,
        lr=0.0, steps=5,
    )
    assert len(drawn) == 5  # one minibatch per step, for all four
    first, *others = histories.values()
    for losses in others:
        np.testing.assert_array_equal(losses, first)


def fallbacks() -> dict[str, object]:
    """What the notebook hands the widgets, in a namespace without student code."""
    return {name: EXERCISES.implementation(name, {}) for name in EXERCISES}


def test_widgets_are_skipped_while_grading(monkeypatch, mnist, landscape, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    (inputs, targets), _ = mnist
    loss_slice, optimum, curvature = landscape
    code = fallbacks()
    gradient, momentum_, sample, rmsprop_ = (
        code["gradient_update"],
        code["momentum_update"],
        code["sample_minibatch"],
        code["rmsprop_update"],
    )
    results = [
        demos.momentum_widget(
            loss_slice, optimum, curvature.eigenvalues, gradient, momentum_,
            code["momentum_hyperparameters"],
        ),
        demos.overparameterization_widget(inputs, targets, gradient),
        demos.computation_time_widget(inputs, targets),
        demos.minibatch_widget(inputs, targets, gradient, sample),
        demos.compare_optimizers_widget(inputs, targets, gradient, momentum_, rmsprop_, sample),
    ]
    assert results == [None] * 5
    assert capsys.readouterr().out.count(SKIPPED_WHILE_GRADING) == 5


def test_widgets_build_draw_and_say_whose_code_ran_outside_grading(
    monkeypatch, mnist, landscape, capsys
):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    (inputs, targets), _ = mnist
    loss_slice, optimum, curvature = landscape
    code = fallbacks()
    box = demos.momentum_widget(
        loss_slice,
        optimum,
        curvature.eigenvalues,
        code["gradient_update"],
        code["momentum_update"],
        code["momentum_hyperparameters"],
    )
    button = box.children[1]
    button.click()  # the recommended values move the sliders
    lr_slider = box.children[0].children[1]
    assert lr_slider.value == pytest.approx(curvature.momentum_step, rel=0.2)
    assert demos.computation_time_widget(inputs[:200], targets[:200]) is not None
    printed = [output for output in box.children[2].outputs if output.get("name") == "stdout"]
    text = "".join(output["text"] for output in printed) + capsys.readouterr().out
    assert "`momentum_update` is not done yet: this run used the reference" in text
    assert "`momentum_hyperparameters` is not done yet" in text


def test_iterations_to_reach_counts_from_when_a_run_stays_within_the_tolerance():
    optimum = np.zeros(2)
    path = np.array([[1.0, 1.0, 0], [0.0, 0.0, 0], [0.5, 0.0, 0], [0.001, 0.0, 0], [0.0, 0.0, 0]])
    assert demos.iterations_to_reach(path, optimum) == 3  # left again after iteration 1
    assert demos.iterations_to_reach(path[:3], optimum) == -1  # ends outside
    diverged = np.array([[1.0, 1.0, 0], [np.nan, np.nan, np.nan]])
    assert demos.iterations_to_reach(diverged, optimum) == -1


def test_convex_and_nonconvex_picture_draws():
    plt.close(demos.plot_convex_vs_nonconvex())


# --------------------------------------------------------------------------------------
# The sentences the demos print, for every outcome
# --------------------------------------------------------------------------------------


def _reads_as_a_sentence(sentence: str, name: str) -> None:
    assert sentence.startswith(name) and sentence.endswith(".")
    assert "  " not in sentence and "after not" not in sentence and ": :" not in sentence


@pytest.fixture(scope="module")
def bowl_runs():
    """The momentum demo on the notebook's bowl (300 steps, beta 0.9): at its default lr 0.1
    neither method settles, at lr 1 momentum settles and gradient descent does not, at lr 30
    both diverge."""
    from helpers.optimization.landscape import Quadratic

    bowl = Quadratic(condition_number=100.0)
    optimum = newton_optimum(bowl)
    runs = {
        lr: demos.momentum_vs_gd(bowl, gradient_update, momentum_update, lr=lr)
        for lr in (0.1, 1.0, 30.0)
    }
    return optimum, runs


def test_momentum_demo_says_in_english_that_a_run_has_not_settled_at_its_defaults(bowl_runs):
    optimum, runs = bowl_runs
    for name, path in runs[0.1].items():
        sentence = demos.slice_run_sentence(name, path, optimum, 0.1)
        assert sentence == (
            f"{name} has not settled within 1e-2 of the optimum in both coordinates "
            "after 300 steps."
        )
        _reads_as_a_sentence(sentence, name)


def test_momentum_demo_says_from_which_iteration_a_run_stays_near_the_optimum(bowl_runs):
    optimum, runs = bowl_runs
    path = runs[1.0]["Momentum"]
    reached = demos.iterations_to_reach(path, optimum)
    assert 0 < reached < 300
    sentence = demos.slice_run_sentence("Momentum", path, optimum, 1.0)
    assert sentence == (
        f"Momentum is within 1e-2 of the optimum in both coordinates from iteration {reached} on."
    )
    _reads_as_a_sentence(sentence, "Momentum")
    slow = demos.slice_run_sentence("Gradient descent", runs[1.0]["Gradient descent"], optimum, 1)
    assert slow.startswith("Gradient descent has not settled")


def test_momentum_demo_names_the_step_where_a_run_diverged(bowl_runs):
    optimum, runs = bowl_runs
    for name, path in runs[30.0].items():
        sentence = demos.slice_run_sentence(name, path, optimum, 30.0)
        step = demos.parameters_diverged_at(path)
        assert sentence == f"{name} diverged at step {step}: lr 30 is too large here."
        _reads_as_a_sentence(sentence, name)


def test_momentum_demo_says_when_a_run_starts_at_the_optimum():
    path = np.zeros((11, 3))
    sentence = demos.slice_run_sentence("Momentum", path, np.zeros(2), 0.1)
    assert sentence == "Momentum starts within 1e-2 of the optimum in both coordinates."


@pytest.mark.parametrize(
    ("diverging", "expected"),
    [
        ((), None),
        ((3,), "1 of 4 copies diverged, at step 3: lr 0.5 is too large."),
        ((5, 2), "2 of 4 copies diverged, the first at step 2: lr 0.5 is too large."),
        ((4, 2, 3, 6), "All 4 copies diverged, the first at step 2: lr 0.5 is too large."),
    ],
)
def test_overparameterization_demo_says_how_many_copies_diverged(diverging, expected):
    runs = np.ones((4, 8))
    for copy_index, step in enumerate(diverging):
        runs[copy_index, step:] = np.inf
    assert demos.overparameterization_sentence(runs, 0.5) == expected


def test_minibatch_and_optimizer_demos_name_the_run_that_diverged():
    for name in ("Batch size 20", "SGD", demos.ADAM):
        sentence = demos.diverged_sentence(name, 7, 0.25)
        assert sentence == f"{name} diverged at step 7: lr 0.25 is too large here."
        _reads_as_a_sentence(sentence, name)


def test_momentum_widget_prints_one_sentence_per_method(monkeypatch, bowl_runs, capsys):
    from helpers.optimization.landscape import Quadratic

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    bowl = Quadratic(condition_number=100.0)
    optimum = newton_optimum(bowl)
    code = fallbacks()
    box = demos.momentum_widget(
        bowl, optimum, curvature_at(bowl, optimum).eigenvalues, code["gradient_update"],
        code["momentum_update"], code["momentum_hyperparameters"],
    )
    printed = [output for output in box.children[2].outputs if output.get("name") == "stdout"]
    text = "".join(output["text"] for output in printed) + capsys.readouterr().out
    _, runs = bowl_runs
    for name, path in runs[0.1].items():
        assert demos.slice_run_sentence(name, path, optimum, 0.1) in text
