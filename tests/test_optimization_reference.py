"""The reference update rules and minibatch sampler of notebook 03 (``helpers.optimization``).

Where our conventions coincide with ``torch.optim`` the results must agree; the tests also pin
down where they differ (momentum's velocity sign and scale, RMSprop's epsilon placement).
"""

from __future__ import annotations

import pytest
import torch

from helpers.optimization.reference import (
    gradient_update,
    momentum_update,
    rmsprop_update,
    sample_minibatch,
)
from helpers.optimization.updates import InPlaceRule, gradient_descent, momentum, rmsprop

SHAPES = [(3, 5), (5,), (2, 3, 4)]


def make_problem(seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Fresh float64 parameters of several shapes and fixed coefficients of a non-quadratic loss."""
    generator = torch.Generator().manual_seed(seed)
    draw = [torch.randn(shape, generator=generator, dtype=torch.float64) for shape in SHAPES * 2]
    params, coefficients = draw[: len(SHAPES)], draw[len(SHAPES) :]
    return [p.requires_grad_(True) for p in params], coefficients


def loss_of(params: list[torch.Tensor], coefficients: list[torch.Tensor]) -> torch.Tensor:
    # Gradients change with the parameters, so that stale state would show.
    return sum(((c * p).sin() + 0.5 * p**2 * c.abs()).sum() for p, c in zip(params, coefficients))


def clone(params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [p.detach().clone().requires_grad_(True) for p in params]


def run_ours(rule: InPlaceRule, params, coefficients, steps, state=()):
    """``steps`` updates by ``rule``, from ``state`` (a tuple of state lists, kept in place)."""
    for _ in range(steps):
        rule.step(loss_of(params, coefficients), params, state)


def run_torch(optimizer, params, coefficients, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(params, coefficients).backward()
        optimizer.step()


def assert_all_close(actual, expected):
    for a, e in zip(actual, expected):
        torch.testing.assert_close(a.detach(), e.detach(), rtol=1e-12, atol=1e-12)


def test_gradient_update_matches_torch_sgd_without_momentum():
    params, coefficients = make_problem()
    theirs = clone(params)
    run_ours(gradient_descent(gradient_update, lr=0.07), params, coefficients, steps=5)
    run_torch(torch.optim.SGD(theirs, lr=0.07), theirs, coefficients, steps=5)
    assert_all_close(params, theirs)


def test_gradient_update_clears_stale_gradients_before_backward():
    params, coefficients = make_problem()
    expected = clone(params)
    for p in params:
        p.grad = torch.full_like(p, 100.0)  # left over from an earlier backward pass
    run_ours(gradient_descent(gradient_update, lr=0.1), params, coefficients, steps=1)
    run_ours(gradient_descent(gradient_update, lr=0.1), expected, coefficients, steps=1)
    assert_all_close(params, expected)


def test_momentum_matches_torch_sgd_when_velocity_starts_at_zero():
    params, coefficients = make_problem(1)
    theirs = clone(params)
    velocities = [torch.zeros_like(p) for p in params]
    optimizer = torch.optim.SGD(theirs, lr=0.05, momentum=0.8)
    run_ours(momentum(momentum_update, lr=0.05, beta=0.8), params, coefficients, 6, (velocities,))
    run_torch(optimizer, theirs, coefficients, steps=6)
    assert_all_close(params, theirs)
    # torch keeps b <- mu b + g and steps by -lr b; our velocity is v = -lr b.
    torch_buffers = [optimizer.state[p]["momentum_buffer"] for p in theirs]
    assert_all_close(velocities, [-0.05 * b for b in torch_buffers])


def test_momentum_updates_the_callers_velocity_tensors_in_place():
    params, coefficients = make_problem(2)
    velocities = [torch.randn_like(p) for p in params]
    before = [v.clone() for v in velocities]
    identities = [id(v) for v in velocities]
    expected_params = [p.detach().clone() for p in params]
    loss_of(params, coefficients).backward()
    gradients = [p.grad.clone() for p in params]
    run_ours(momentum(momentum_update, lr=0.1, beta=0.7), params, coefficients, 1, (velocities,))
    assert [id(v) for v in velocities] == identities
    for v, v0, g, p, p0 in zip(velocities, before, gradients, params, expected_params):
        torch.testing.assert_close(v, 0.7 * v0 - 0.1 * g)
        torch.testing.assert_close(p.detach(), p0 + v)


def test_momentum_with_beta_zero_is_gradient_descent():
    params, coefficients = make_problem(3)
    plain = clone(params)
    velocities = [torch.zeros_like(p) for p in params]
    run_ours(momentum(momentum_update, lr=0.1, beta=0.0), params, coefficients, 4, (velocities,))
    run_ours(gradient_descent(gradient_update, lr=0.1), plain, coefficients, 4)
    assert_all_close(params, plain)


def test_rmsprop_matches_torch_rmsprop_when_epsilon_is_zero():
    params, coefficients = make_problem(4)
    theirs = clone(params)
    averages = [torch.zeros_like(p) for p in params]
    optimizer = torch.optim.RMSprop(theirs, lr=0.01, alpha=0.9, eps=0.0)
    rule = rmsprop(rmsprop_update, lr=0.01, alpha=0.9, epsilon=0.0)
    run_ours(rule, params, coefficients, 6, (averages,))
    run_torch(optimizer, theirs, coefficients, steps=6)
    assert_all_close(params, theirs)
    assert_all_close(averages, [optimizer.state[p]["square_avg"] for p in theirs])


def test_rmsprop_puts_epsilon_inside_the_square_root_unlike_torch():
    params, coefficients = make_problem(5)
    theirs = clone(params)
    averages = [torch.zeros_like(p) for p in params]
    loss_of(params, coefficients).backward()
    gradients = [p.grad.clone() for p in params]
    start = [p.detach().clone() for p in params]
    rule = rmsprop(rmsprop_update, lr=0.01, alpha=0.9, epsilon=0.5)
    run_ours(rule, params, coefficients, 1, (averages,))
    run_torch(torch.optim.RMSprop(theirs, lr=0.01, alpha=0.9, eps=0.5), theirs, coefficients, 1)
    for p, p0, g in zip(params, start, gradients):
        v = 0.1 * g**2
        torch.testing.assert_close(p.detach(), p0 - 0.01 * g / torch.sqrt(v + 0.5))
    # torch divides by sqrt(v) + eps instead, which differs visibly for a large epsilon.
    assert not torch.allclose(params[0].detach(), theirs[0].detach())


def test_update_rules_reject_state_of_the_wrong_shape():
    params, coefficients = make_problem()
    with pytest.raises(ValueError, match="shape"):
        momentum_update(loss_of(params, coefficients), params, [torch.zeros(2)] * 3)
    with pytest.raises(ValueError, match="one tensor per parameter"):
        rmsprop_update(loss_of(params, coefficients), params, [torch.zeros(3, 5)])


def test_update_rules_reject_parameters_that_need_no_gradient():
    with pytest.raises(ValueError, match="requires_grad"):
        gradient_update(torch.tensor(1.0, requires_grad=True), [torch.zeros(3)])


def indexed_data(n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs whose first entry is their row number, targets a scrambled function of it."""
    inputs = torch.arange(n, dtype=torch.float32)[:, None, None] + torch.zeros(n, 2, 3)
    targets = (torch.arange(n) * 7) % n
    return inputs, targets


def test_sample_minibatch_keeps_inputs_and_targets_aligned():
    inputs, targets = indexed_data()
    batch_inputs, batch_targets = sample_minibatch(inputs, targets, 25)
    assert batch_inputs.shape == (25, 2, 3) and batch_targets.shape == (25,)
    rows = batch_inputs[:, 0, 0].long()
    assert torch.equal(batch_targets, targets[rows])
    assert torch.equal(batch_inputs, inputs[rows])


def test_sample_minibatch_draws_every_example_about_equally_often():
    inputs, targets = indexed_data(20)
    torch.manual_seed(0)
    counts = torch.zeros(20)
    batches = set()
    for _ in range(400):
        batch_inputs, _ = sample_minibatch(inputs, targets, 5)
        rows = batch_inputs[:, 0, 0].long()
        counts += torch.bincount(rows, minlength=20)
        batches.add(tuple(rows.tolist()))
    # 2000 draws: 100 expected per example, standard deviation about 10.
    assert counts.min() > 50 and counts.max() < 150
    assert len(batches) > 300


def test_sample_minibatch_rejects_misaligned_data_and_bad_sizes():
    inputs, targets = indexed_data()
    with pytest.raises(ValueError, match="examples"):
        sample_minibatch(inputs, targets[:-1], 5)
    with pytest.raises(ValueError, match="positive integer"):
        sample_minibatch(inputs, targets, 0)
