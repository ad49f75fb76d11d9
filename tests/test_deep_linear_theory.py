"""Specification of helpers.deep_linear.theory: Saxe, McClelland and Ganguli's closed form and
the half times that compare it with a simulation."""

import numpy as np
import pytest
import torch

from helpers.data import hierarchical_data
from helpers.deep_linear.demos import train_tree_network
from helpers.deep_linear.network import LinearNet, train
from helpers.deep_linear.reference import initializer_
from helpers.deep_linear.theory import half_times, saxe_parameters, saxe_trajectory


def test_saxe_trajectory_starts_at_u0_saturates_at_s_and_solves_its_ode():
    s, tau, u0 = 3.0, 20.0, 1e-4
    t = np.linspace(0, 200, 2001)
    u = saxe_trajectory(t, s, tau, u0)
    assert u[0] == pytest.approx(u0) and u[-1] == pytest.approx(s)
    # tau du/dt = 2 u (s - u) (Saxe, McClelland and Ganguli 2014, equation for one mode)
    derivative = np.gradient(u, t)
    assert np.allclose(tau * derivative[1:-1], (2 * u * (s - u))[1:-1], atol=2e-3)


def test_saxe_trajectory_does_not_overflow_at_long_times():
    u = saxe_trajectory(np.array([0.0, 1e6]), 5.0, 1.0, 1e-12)
    assert np.isfinite(u).all() and u[-1] == pytest.approx(5.0)


def test_half_times_give_the_first_epoch_at_half_the_final_value_or_minus_one():
    curves = np.array([[0.0, 0.0], [0.4, 0.1], [0.6, 0.2], [1.0, 0.3]])
    assert half_times(curves, np.array([1.0, 1.0])).tolist() == [2, -1]


def test_saxe_parameters_scale_with_learning_rate_and_input_covariance():
    data = hierarchical_data(n_features=100, seed=0)
    model = LinearNet(8, 30, 100)
    initializer_(model, 1e-6, generator=torch.Generator().manual_seed(0))
    theory = saxe_parameters(model, data.items, data.features, lr=4.0)
    assert theory.tau == pytest.approx(100 / (2 * 4.0) * 8)  # n_out / (2 lr) / c, c = 1/8
    assert np.allclose(theory.strengths, torch.linalg.svdvals(data.features).numpy(), rtol=1e-5)
    assert (theory.u0 > 0).all() and (theory.u0 < 1e-10).all()


def test_saxe_prediction_matches_simulated_learning_times_for_small_steps():
    data = hierarchical_data(n_features=1000, seed=0)
    model = LinearNet(8, 30, 1000)
    initializer_(model, 1e-3, generator=torch.Generator().manual_seed(0))
    theory = saxe_parameters(model, data.items, data.features, lr=4.0)
    record = train(model, data.items, data.features, n_epochs=600, lr=4.0)
    predicted = theory.trajectories(600)
    simulated_times = half_times(record.singular_values, theory.strengths)
    predicted_times = half_times(predicted, theory.strengths)
    assert (simulated_times > 0).all()
    assert np.allclose(simulated_times, predicted_times, rtol=0.05)


def test_small_initialization_learns_modes_in_order_of_strength():
    data = hierarchical_data(n_features=2000, seed=0)
    _, record = train_tree_network(data, lr=20.0, gamma=1e-8, n_epochs=300)
    times = half_times(record.singular_values, record.singular_values[-1])
    assert (times > 0).all() and (np.diff(times) >= 0).all()


def test_strongest_mode_grows_1_9_per_step_where_the_flow_grows_2_2_at_eta_100():
    """The notebook's explanation of the lag at eta = 100 (Section 2)."""
    data = hierarchical_data(n_features=10_000, seed=2021)
    theory = saxe_parameters(LinearNet(8, 30, 10_000), data.items, data.features, lr=100.0)
    rate = theory.strengths[0] / theory.tau
    assert (1 + rate) ** 2 == pytest.approx(1.9, abs=0.05)
    assert np.exp(2 * rate) == pytest.approx(2.2, abs=0.05)


def test_saxe_parameters_reject_inputs_that_are_not_whitened():
    model = LinearNet(3, 4, 2)
    inputs = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="whitened"):
        saxe_parameters(model, inputs, torch.ones(3, 2), lr=1.0)


def test_saxe_parameters_need_exactly_one_hidden_layer():
    data = hierarchical_data(n_features=10, seed=0)
    with pytest.raises(ValueError, match="one hidden layer"):
        saxe_parameters(LinearNet(8, (4, 4), 10), data.items, data.features, lr=1.0)
