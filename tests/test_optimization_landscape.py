"""The two-parameter loss slice of notebook 03 and the curvature facts derived from it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.models import MLP
from helpers.optimization.landscape import (
    Curvature,
    LossSlice,
    Quadratic,
    curvature_at,
    newton_optimum,
)


@pytest.fixture(scope="module")
def problem():
    torch.manual_seed(0)
    inputs = torch.randn(60, 28, 28)
    targets = torch.arange(60) % 10
    model = MLP(hidden_dims=[])
    return model, inputs, targets, LossSlice.from_model(model, inputs, targets)


def loss_with(model, inputs, targets, u, v):
    """The slice's definition, the slow way: edit a copy of the two parameters and evaluate."""
    weight = model.main[0].weight.detach().clone()
    bias = model.main[0].bias.detach().clone()
    weight[0, 378], bias[7] = u, v
    log_probs = F.log_softmax(inputs.reshape(len(inputs), -1) @ weight.T + bias, dim=1)
    return F.nll_loss(log_probs, targets).item()


def test_slice_at_the_models_own_values_is_the_models_loss(problem):
    model, inputs, targets, loss_slice = problem
    expected = F.nll_loss(model(inputs), targets).item()
    assert float(loss_slice(*loss_slice.start)) == pytest.approx(expected, rel=1e-5)


def test_grid_matches_editing_the_two_parameters_point_by_point(problem):
    model, inputs, targets, loss_slice = problem
    grid_u, grid_v, loss = loss_slice.grid(extent=3.0, points=5, chunk=7)
    assert grid_u.shape == grid_v.shape == loss.shape == (5, 5)
    for i, j in [(0, 0), (1, 3), (4, 2), (2, 4)]:
        expected = loss_with(model, inputs, targets, grid_u[i, j], grid_v[i, j])
        assert loss[i, j] == pytest.approx(expected, rel=1e-5)


def test_slice_broadcasts_and_is_differentiable(problem):
    _, _, _, loss_slice = problem
    u = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64, requires_grad=True)
    values = loss_slice(u, torch.tensor(0.5))
    assert values.shape == (3,)
    values.sum().backward()
    assert torch.isfinite(u.grad).all() and u.grad.abs().sum() > 0


def test_newton_finds_a_point_where_the_gradient_vanishes(problem):
    _, _, _, loss_slice = problem
    optimum = newton_optimum(loss_slice, start=(2.5, 3.7))
    gradient, _ = loss_slice.gradient_and_hessian(torch.tensor(optimum))
    assert gradient.abs().max() < 1e-9
    nearby = [loss_slice(optimum[0] + du, optimum[1] + dv) for du, dv in [(0.1, 0), (0, -0.1)]]
    assert all(float(value) > float(loss_slice(*optimum)) for value in nearby)


def test_newton_raises_when_it_runs_out_of_iterations(problem):
    _, _, _, loss_slice = problem
    with pytest.raises(RuntimeError, match="did not converge"):
        newton_optimum(loss_slice, start=(3.0, -3.0), max_iterations=1)


def test_curvature_at_the_optimum_is_positive_and_ordered(problem):
    _, _, _, loss_slice = problem
    curvature = curvature_at(loss_slice, newton_optimum(loss_slice))
    assert 0 < curvature.smallest <= curvature.largest
    assert curvature.condition_number >= 1


def test_goh_recommendations_follow_the_formulas():
    curvature = Curvature((0.5, 8.0))  # kappa = 16, sqrt(kappa) = 4
    assert curvature.condition_number == pytest.approx(16.0)
    assert curvature.momentum_step == pytest.approx((2 / (math.sqrt(8) + math.sqrt(0.5))) ** 2)
    assert curvature.momentum_beta == pytest.approx((3 / 5) ** 2)
    assert curvature.momentum_rate == pytest.approx(3 / 5)
    assert curvature.gd_rate == pytest.approx(15 / 17)


def test_recommended_momentum_converges_at_the_predicted_rate_on_a_quadratic():
    """Heavy ball with Goh's alpha and beta on 0.5 w^T H w shrinks the error like rate**k."""
    curvature = Curvature((0.5, 8.0))
    hessian = np.diag([0.5, 8.0])
    w, v = np.array([1.0, 1.0]), np.zeros(2)
    for _ in range(60):
        v = curvature.momentum_beta * v - curvature.momentum_step * hessian @ w
        w = w + v
    # Allow a polynomial factor: the iteration matrix is defective at the optimal parameters.
    assert np.linalg.norm(w) < 200 * curvature.momentum_rate**60


def test_slice_needs_a_linear_model():
    with pytest.raises(ValueError, match="linear model"):
        LossSlice.from_model(MLP(hidden_dims=[5]), torch.zeros(2, 784), torch.zeros(2).long())


def test_the_bowl_has_the_condition_number_it_is_built_with_and_a_consistent_gradient():
    bowl = Quadratic(condition_number=100.0)
    optimum = newton_optimum(bowl)
    np.testing.assert_allclose(optimum, bowl.optimum, atol=1e-12)
    curvature = curvature_at(bowl, optimum)
    assert curvature.condition_number == pytest.approx(100.0, rel=1e-12)
    point = torch.tensor([2.5, 3.7], dtype=torch.float64, requires_grad=True)
    (autograd_gradient,) = torch.autograd.grad(bowl(point[0], point[1]), point)
    gradient, _ = bowl.gradient_and_hessian(point)
    torch.testing.assert_close(gradient, autograd_gradient)
    grid_u, grid_v, values = bowl.grid(points=7)
    assert grid_u.shape == grid_v.shape == values.shape == (7, 7) and values.min() >= 0


def test_the_bowls_valley_is_tilted_so_both_coordinates_feel_the_flat_direction():
    hessian = Quadratic(condition_number=100.0).hessian
    assert abs(float(hessian[0, 1])) > 0.1 * float(hessian.diagonal().min())
