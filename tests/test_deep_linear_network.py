"""Specification of helpers.deep_linear.network and .reference: the model, its total map, the
recording training loop, and the reference answers of the exercises."""

import math

import numpy as np
import pytest
import torch

from helpers.data import hierarchical_data
from helpers.deep_linear.demos import train_tree_network
from helpers.deep_linear.network import LinearNet, total_map, train
from helpers.deep_linear.reference import initializer_, linear_regression, net_rsm, net_svd


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


def test_linear_net_rejects_empty_layers():
    with pytest.raises(ValueError, match="positive"):
        LinearNet(4, 0, 3)


def test_total_map_is_the_product_of_all_layers_last_first():
    torch.manual_seed(1)
    model = LinearNet(5, (7, 6), 9)
    w1, w2, w3 = (w.detach() for w in model.parameters())
    assert torch.allclose(total_map(model, 5), w3 @ w2 @ w1)


def test_initializer_redraws_weights_in_place_with_std_gamma_over_root_fan_sum():
    model = LinearNet(300, 200, 100)
    before = [id(w) for w in model.parameters()]
    initializer_(model, 2.5, generator=torch.Generator().manual_seed(0))
    assert [id(w) for w in model.parameters()] == before
    for weight in model.parameters():
        n_out, n_in = weight.shape
        assert weight.std().item() == pytest.approx(2.5 / math.sqrt(n_in + n_out), rel=0.02)
        assert abs(weight.mean().item()) < 0.02 * weight.std().item() * 5


def test_initializer_at_gamma_root_two_is_glorot_normal():
    model = LinearNet(300, 200, 100)
    initializer_(model, math.sqrt(2.0), generator=torch.Generator().manual_seed(0))
    for weight in model.parameters():
        n_out, n_in = weight.shape
        glorot_std = math.sqrt(2.0 / (n_in + n_out))  # torch.nn.init.xavier_normal_ at gain 1
        assert weight.std().item() == pytest.approx(glorot_std, rel=0.02)


def test_initializer_with_a_generator_is_reproducible_and_leaves_the_global_rng_alone():
    first, second = LinearNet(5, 6, 7), LinearNet(5, 6, 7)
    state = torch.get_rng_state()
    for model in (first, second):
        initializer_(model, 1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))


def test_net_svd_is_the_torch_svd_of_the_total_map():
    torch.manual_seed(1)
    model = LinearNet(5, (7, 6), 9)
    u, s, v = net_svd(model, 5)
    assert torch.allclose(u @ torch.diag(s) @ v.T, total_map(model, 5), atol=1e-6)
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
    output_before, hidden_before = (t.detach() for t in model(data.items))
    record = train(model, data.items, data.features, n_epochs=30, lr=5.0, watch=(2, 7))
    assert record.losses.shape == (30,) and record.predictions.shape == (30,)
    assert record.singular_values.shape == (30, 8) and record.rsms.shape == (30, 8, 8)
    assert np.allclose(record.singular_values[0], s_before.numpy(), rtol=1e-4)
    assert np.allclose(record.rsms[0], net_rsm(hidden_before).numpy(), rtol=1e-4, atol=1e-6)
    assert record.predictions[0] == pytest.approx(output_before[2, 7].item())
    assert record.losses[-1] < record.losses[0]


@pytest.mark.parametrize("hidden_dims", [(), 6, (6, 5)])
def test_training_in_the_output_basis_matches_full_size_gradient_descent(hidden_dims):
    data = hierarchical_data(n_features=300, seed=1)
    torch.manual_seed(1)
    model = LinearNet(8, hidden_dims, 300).double()
    initializer_(model, 0.5)
    full = LinearNet(8, hidden_dims, 300).double()
    full.load_state_dict(model.state_dict())
    inputs, targets = data.items.double(), data.features.double()
    expected_losses = []
    for _ in range(40):  # plain gradient descent on every weight, full size
        full.zero_grad()
        loss = torch.nn.functional.mse_loss(full(inputs)[0], targets)
        loss.backward()
        expected_losses.append(loss.item())
        with torch.no_grad():
            for weight in full.parameters():
                weight -= 3.0 * weight.grad
    record = train(model, data.items, data.features, n_epochs=40, lr=3.0)
    np.testing.assert_allclose(record.losses, expected_losses, rtol=1e-9)
    for trained, expected in zip(model.parameters(), full.parameters()):
        torch.testing.assert_close(trained, expected, rtol=1e-9, atol=1e-12)


def test_train_rejects_a_run_without_epochs():
    data = hierarchical_data(n_features=5, seed=0)
    with pytest.raises(ValueError, match="n_epochs"):
        train(LinearNet(8, 3, 5), data.items, data.features, n_epochs=0, lr=1.0)


def test_trained_total_map_converges_to_the_least_squares_solution():
    data = hierarchical_data(n_features=200, seed=0)
    model, record = train_tree_network(data, lr=10.0, gamma=1e-3, n_epochs=300)
    analytic = linear_regression(data.items.T.numpy(), data.features.T.numpy())
    assert np.allclose(total_map(model, 8).numpy(), analytic, atol=1e-3)
    expected = torch.linalg.svdvals(data.features).numpy()
    assert np.allclose(record.singular_values[-1], expected, rtol=1e-3)
