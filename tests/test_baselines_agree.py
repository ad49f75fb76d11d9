"""Each demo's fast computation gives the same numbers as its straightforward baseline.

`make bench` times every demo's compute function next to a plain formulation of the same
computation (``benchmarks/baselines.py``); these small cases show that the two compute the
same thing, so that the bench's ratios compare like with like.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks import baselines
from helpers.basics import demos as basics_demos
from helpers.basics import reference as basics_reference
from helpers.data import hierarchical_data, load_mnist
from helpers.deep_linear import demos as linear_demos
from helpers.models import MLP
from helpers.optimization import demos as optimization_demos
from helpers.optimization.landscape import LossSlice, newton_optimum
from helpers.optimization.reference import (
    gradient_update,
    momentum_update,
)
from helpers.rules import demos as rules_demos
from helpers.rules.protocol import Descent, Momentum
from helpers.rules.reference import Adagrad, Adam, Nesterov


@pytest.fixture(scope="module")
def digits():
    train_set, _ = load_mnist()
    return train_set.data[:100], train_set.targets[:100]


@pytest.fixture(scope="module")
def linear_model(digits):
    torch.manual_seed(0)
    return optimization_demos.partially_train(MLP(hidden_dims=[]), *digits, steps=20)


def test_loss_slice_grid_matches_a_model_copy_per_grid_point(digits, linear_model):
    _, _, fast = LossSlice.from_model(linear_model, *digits).grid(points=4)
    plain = baselines.loss_slice_grid(linear_model, *digits, points=4)
    np.testing.assert_allclose(fast, plain, rtol=1e-10)


def test_newton_with_a_stopping_test_finds_the_fixed_iteration_optimum(digits, linear_model):
    fast = newton_optimum(LossSlice.from_model(linear_model, *digits))
    np.testing.assert_allclose(fast, baselines.newton_fixed_iterations(linear_model, *digits))


def test_momentum_paths_on_the_slice_match_paths_through_the_whole_model(digits, linear_model):
    loss_slice = LossSlice.from_model(linear_model, *digits)
    fast = optimization_demos.momentum_vs_gd(
        loss_slice, gradient_update, momentum_update, steps=25
    )
    plain = baselines.momentum_vs_gd(
        linear_model, *digits, gradient_update, momentum_update, steps=25
    )
    for name in plain:
        np.testing.assert_allclose(fast[name], plain[name], rtol=1e-10)


def test_random_directions_at_once_match_a_model_copy_per_direction(digits):
    model = MLP(hidden_dims=[5])
    torch.manual_seed(1)
    fast = optimization_demos.loss_changes(model, *digits, gradient_update, num_directions=6)
    torch.manual_seed(1)
    plain = baselines.loss_changes(model, *digits, gradient_update, num_directions=6)
    np.testing.assert_allclose(fast["random"], plain["random"], atol=1e-6)
    assert fast["gradient"] == pytest.approx(plain["gradient"], abs=1e-7)


def test_perturbed_copies_trained_side_by_side_match_copies_trained_one_at_a_time(digits):
    settings = {"hidden_dims": "6, 4", "steps": 8, "num_inits": 3}
    torch.manual_seed(2)
    fast = optimization_demos.overparameterization(*digits, gradient_update, **settings)
    torch.manual_seed(2)
    plain = baselines.overparameterization(*digits, gradient_update, **settings)
    np.testing.assert_allclose(fast["losses"], plain["losses"], rtol=1e-5)


def test_one_recording_run_matches_one_run_per_recorded_quantity():
    tree = hierarchical_data(n_features=200)  # 10,000 in the notebook: lr scaled to match
    settings = {"lr": 100.0 * 200 / 10_000, "gamma": 1e-2, "n_epochs": 12}
    fast = linear_demos.svd_rsa_record(tree, **settings)
    plain = baselines.tree_training_record(tree, **settings)
    np.testing.assert_allclose(fast.losses, plain.losses, rtol=1e-5)
    np.testing.assert_allclose(fast.rsms, plain.rsms, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(fast.predictions, plain.predictions, rtol=1e-5, atol=1e-9)
    scale = plain.singular_values.max()
    np.testing.assert_allclose(fast.singular_values, plain.singular_values, atol=1e-5 * scale)


def test_the_loss_widgets_run_matches_plain_training_that_reads_the_loss_alone():
    tree = hierarchical_data(n_features=200)
    settings = {"lr": 100.0 * 200 / 10_000, "gamma": 1e-2, "n_epochs": 12}
    fast = linear_demos.loss_for_settings(tree, **settings)
    np.testing.assert_allclose(fast, baselines.tree_training_losses(tree, **settings), rtol=1e-5)


def test_the_cubic_as_one_product_trains_like_the_tutorials_polynomial():
    fast = basics_demos.lr_run(basics_reference.fit_polynomial, lr=2e-6, steps=30).history
    plain = baselines.lr_run_history(basics_reference.fit_polynomial, lr=2e-6, steps=30)
    np.testing.assert_allclose(fast, plain, rtol=1e-4)


@pytest.mark.parametrize("schedule", ["constant", "warm-up + cosine"])
def test_rules_moved_side_by_side_match_rules_run_one_at_a_time(schedule):
    # Descent at lr 0.01 blows up on Rosenbrock: its path must stop in both versions alike.
    rules = {
        "Descent": Descent(lr=0.01),
        "Momentum": Momentum(lr=1e-3, beta=0.9),
        "Nesterov": Nesterov(lr=1e-3, beta=0.9),
        "Adagrad": Adagrad(lr=0.5),
        "Adam": Adam(lr=0.05),
    }
    fast = rules_demos.compare_rules("Rosenbrock", rules, 40, schedule)
    plain = baselines.compare_rules("Rosenbrock", rules, 40, schedule)
    assert np.isnan(plain["Descent"][1][-1])
    for name in rules:
        for fast_part, plain_part in zip(fast[name], plain[name]):
            # Equal up to rounding: the fast version's gradients are written by hand.
            np.testing.assert_allclose(fast_part, plain_part, rtol=1e-12, atol=1e-12)


def test_schedule_race_agrees_with_the_model_autograd_and_state_tree_formulation():
    rule = Adam(lr=0.05)
    fast = rules_demos.schedule_race(rule, steps=200)
    plain = baselines.schedule_race(rule, steps=200)
    assert list(fast.excess) == list(plain)
    for name, excess in fast.excess.items():
        # Equal up to rounding: the fast version's gradient is written by hand, on [W | b].
        np.testing.assert_allclose(excess, plain[name], rtol=1e-9, atol=1e-12)
