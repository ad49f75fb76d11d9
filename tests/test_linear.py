"""Specification of helpers.linear: the network, its training loop, references and theory."""

import math

import numpy as np
import pytest
import torch

from helpers.data import hierarchical_data
from helpers.linear import (
    LinearNet,
    initializer_,
    linear_regression,
    net_rsm,
    net_svd,
    saxe_parameters,
    saxe_trajectory,
    total_map,
    train,
    train_tree_network,
)
from helpers.linear_demos import half_times


def test_linear_net_returns_output_and_first_hidden_activity_without_biases():
    torch.manual_seed(0)
    model = LinearNet(4, 6, 3)
    x = torch.randn(5, 4)
    output, hidden = model(x)
    first, second = model.parameters()
    assert torch.allclose(hidden, x @ first.T) and torch.allclose(output, hidden @ second.T)
    assert [tuple(w.shape) for w in model.parameters()] == [(6, 4), (3, 6)]


def test_linear_net_without_hidden_layer_is_one_matrix_and_hidden_is_the_input():
    model = LinearNet(4, (), 3)
    x = torch.randn(2, 4)
    output, hidden = model(x)
    assert len(list(model.parameters())) == 1 and torch.equal(hidden, x)
    assert torch.allclose(output, x @ next(model.parameters()).T)


def test_initializer_redraws_weights_in_place_with_std_gamma_over_root_fan_sum():
    model = LinearNet(300, 200, 100)
    before = [id(w) for w in model.parameters()]
    initializer_(model, 2.5, generator=torch.Generator().manual_seed(0))
    assert [id(w) for w in model.parameters()] == before
    for weight in model.parameters():
        n_out, n_in = weight.shape
        assert weight.std().item() == pytest.approx(2.5 / math.sqrt(n_in + n_out), rel=0.02)
        assert abs(weight.mean().item()) < 0.02 * weight.std().item() * 5


def test_net_svd_is_the_torch_svd_of_the_product_of_all_layers_last_first():
    torch.manual_seed(1)
    model = LinearNet(5, (7, 6), 9)
    w1, w2, w3 = (w.detach() for w in model.parameters())
    product = w3 @ w2 @ w1
    u, s, v = net_svd(model, 5)
    assert torch.allclose(u @ torch.diag(s) @ v.T, product, atol=1e-6)
    assert torch.allclose(total_map(model, 5), product)
    assert u.shape == (9, 5) and s.shape == (5,) and v.shape == (5, 5)


def test_net_rsm_is_h_times_h_transpose_one_row_per_input():
    h = torch.randn(4, 9)
    rsm = net_rsm(h)
    assert rsm.shape == (4, 4)
    assert torch.allclose(rsm[1, 2], h[1] @ h[2])


def test_linear_regression_recovers_the_weights_of_noiseless_data():
    rng = np.random.default_rng(0)
    w_true = rng.normal(size=(3, 4))
    x = rng.normal(size=(4, 30))
    assert np.allclose(linear_regression(x, w_true @ x), w_true)


def test_linear_regression_rejects_misaligned_samples():
    with pytest.raises(ValueError, match="one column per sample"):
        linear_regression(np.ones((3, 5)), np.ones((2, 4)))


def test_train_records_every_epoch_starting_from_the_initial_network():
    data = hierarchical_data(n_features=40, seed=0)
    torch.manual_seed(0)
    model = LinearNet(8, 10, 40)
    initializer_(model, 1.0)
    _, s_before, _ = net_svd(model, 8)
    hidden_before = model(data.items)[1].detach()
    output_before = model(data.items)[0].detach()
    record = train(model, data.items, data.features, n_epochs=30, lr=5.0, watch=(2, 7))
    assert record.losses.shape == (30,) and record.predictions.shape == (30,)
    assert record.singular_values.shape == (30, 8) and record.rsms.shape == (30, 8, 8)
    assert np.allclose(record.singular_values[0], s_before.numpy(), rtol=1e-4)
    assert np.allclose(record.rsms[0], net_rsm(hidden_before).numpy(), rtol=1e-4, atol=1e-6)
    assert record.predictions[0] == pytest.approx(output_before[2, 7].item())
    assert record.losses[-1] < record.losses[0]


def test_trained_total_map_converges_to_the_least_squares_solution():
    data = hierarchical_data(n_features=200, seed=0)
    model, record = train_tree_network(data.items, data.features, lr=10.0, gamma=1e-3, n_epochs=300)
    analytic = linear_regression(data.items.T.numpy(), data.features.T.numpy())
    assert np.allclose(total_map(model, 8).numpy(), analytic, atol=1e-3)
    expected = torch.linalg.svdvals(data.features).numpy()
    assert np.allclose(record.singular_values[-1], expected, rtol=1e-3)


def test_small_initialization_learns_modes_in_order_of_strength():
    data = hierarchical_data(n_features=2000, seed=0)
    _, record = train_tree_network(data.items, data.features, lr=20.0, gamma=1e-8, n_epochs=300)
    times = half_times(record.singular_values, record.singular_values[-1])
    assert (times > 0).all() and (np.diff(times) >= 0).all()


def test_saxe_trajectory_starts_at_u0_saturates_at_s_and_solves_its_ode():
    s, tau, u0 = 3.0, 20.0, 1e-4
    t = np.linspace(0, 200, 2001)
    u = saxe_trajectory(t, s, tau, u0)
    assert u[0] == pytest.approx(u0) and u[-1] == pytest.approx(s)
    # tau du/dt = 2 u (s - u) (Saxe, McClelland and Ganguli 2014, equation for one mode)
    derivative = np.gradient(u, t)
    assert np.allclose(tau * derivative[1:-1], (2 * u * (s - u))[1:-1], atol=2e-3)


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


def test_saxe_parameters_reject_inputs_that_are_not_whitened():
    model = LinearNet(3, 4, 2)
    inputs = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="whitened"):
        saxe_parameters(model, inputs, torch.ones(3, 2), lr=1.0)
