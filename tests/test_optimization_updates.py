"""The one protocol for notebook 03's in-place update rules (``helpers.optimization.updates``).

Demos and checks run every rule as ``state = rule.init_state(params)`` followed by
``rule.step(loss, params, state)``, whatever state the rule keeps.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from helpers.optimization.reference import gradient_update, momentum_update, rmsprop_update
from helpers.optimization.updates import (
    InPlaceRule,
    format_setting,
    gradient_descent,
    momentum,
    no_state,
    rmsprop,
    zero_grad,
    zeros_per_parameter,
)


def make_params() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    shapes = [(3, 2), (4,)]
    return [torch.randn(shape, generator=generator).requires_grad_(True) for shape in shapes]


def quadratic(params: list[torch.Tensor]) -> torch.Tensor:
    return sum((param**2).sum() for param in params)


def test_step_passes_the_state_lists_after_params_and_hyperparameters_by_name():
    calls = []

    def update(loss, params, first, second, lr, beta):
        calls.append((first, second, lr, beta))

    first, second = [torch.zeros(1)], [torch.ones(1)]
    rule = InPlaceRule(update, lambda params: (first, second), {"lr": 0.1, "beta": 0.5})
    params = [torch.zeros(1, requires_grad=True)]
    rule.step(quadratic(params), params, rule.init_state(params))
    assert calls == [(first, second, 0.1, 0.5)]


def test_gradient_descent_keeps_no_state():
    params = make_params()
    assert gradient_descent(gradient_update, lr=0.1).init_state(params) == ()
    assert no_state(params) == ()


@pytest.mark.parametrize(
    "rule",
    [
        momentum(momentum_update, lr=0.1, beta=0.9),
        rmsprop(rmsprop_update, lr=0.01, alpha=0.9),
    ],
)
def test_stateful_rules_start_from_one_list_of_zeros_shaped_like_the_parameters(rule):
    params = make_params()
    (state,) = rule.init_state(params)
    assert [tensor.shape for tensor in state] == [param.shape for param in params]
    assert all((tensor == 0).all() for tensor in state)
    assert zeros_per_parameter(params)[0][1].shape == (4,)


def test_state_is_updated_in_place_and_carried_from_step_to_step():
    params = make_params()
    rule = momentum(momentum_update, lr=0.1, beta=0.5)
    state = rule.init_state(params)
    velocities = state[0]
    start = [param.detach().clone() for param in params]
    rule.step(quadratic(params), params, state)
    rule.step(quadratic(params), params, state)
    assert state[0] is velocities
    # By hand: g = 2w; v1 = -0.2 w0, w1 = 0.8 w0; v2 = 0.5 v1 - 0.2 w1 = -0.26 w0.
    for param, velocity, w0 in zip(params, velocities, start):
        torch.testing.assert_close(velocity, -0.26 * w0)
        torch.testing.assert_close(param.detach(), 0.54 * w0)


def test_rmsprop_rule_follows_its_formula_through_the_protocol():
    params = make_params()
    start = [param.detach().clone() for param in params]
    rule = rmsprop(rmsprop_update, lr=0.01, alpha=0.9, epsilon=0.5)
    state = rule.init_state(params)
    rule.step(quadratic(params), params, state)
    for param, average, w0 in zip(params, state[0], start):
        torch.testing.assert_close(average, 0.1 * (2 * w0) ** 2)
        torch.testing.assert_close(param.detach(), w0 - 0.01 * 2 * w0 / (average + 0.5).sqrt())


def test_rules_are_frozen_values():
    rule = gradient_descent(gradient_update, lr=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.update = momentum_update
    assert rule == gradient_descent(gradient_update, lr=0.1)


def test_setting_names_every_hyperparameter_compactly():
    assert (
        rmsprop(rmsprop_update, lr=0.01, alpha=0.9).setting == "lr=0.01, alpha=0.9, epsilon=1e-08"
    )
    assert format_setting({"lr": 0.1, "beta": 0.95}) == "lr=0.1, beta=0.95"


def test_zero_grad_clears_existing_gradients_and_leaves_missing_ones_alone():
    params = make_params()
    params[0].grad = torch.ones_like(params[0])
    zero_grad(params)
    assert (params[0].grad == 0).all()
    assert params[1].grad is None
