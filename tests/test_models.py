"""The MLP of notebook 03 and its small companions in ``helpers.models``."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from helpers.models import (
    MLP,
    StackedMLP,
    accuracy,
    parameter_count,
    parse_hidden_dims,
    perturb_parameters_,
)


def test_mlp_without_hidden_layers_is_one_linear_map():
    model = MLP(in_dim=784, out_dim=10, hidden_dims=[])
    linear_layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear_layers) == 1
    assert parameter_count(model) == 784 * 10 + 10


def test_mlp_has_one_layer_per_hidden_width_and_counts_its_parameters():
    model = MLP(in_dim=6, out_dim=3, hidden_dims=[5, 4], use_bias=False)
    widths = [
        (m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert widths == [(6, 5), (5, 4), (4, 3)]
    assert parameter_count(model) == 6 * 5 + 5 * 4 + 4 * 3


def test_mlp_flattens_images_and_returns_log_probabilities():
    model = MLP(hidden_dims=[7])
    log_probs = model(torch.randn(5, 28, 28))
    assert log_probs.shape == (5, 10)
    torch.testing.assert_close(log_probs.exp().sum(dim=1), torch.ones(5))


def test_mlp_rejects_non_positive_widths():
    with pytest.raises(ValueError, match="positive"):
        MLP(hidden_dims=[10, 0])


def test_parse_hidden_dims_reads_the_widget_strings():
    assert parse_hidden_dims("10") == [10]
    assert parse_hidden_dims("100, 100") == [100, 100]
    assert parse_hidden_dims("") == []
    with pytest.raises(ValueError, match="comma-separated integers"):
        parse_hidden_dims("20; 20")


def test_perturb_parameters_adds_noise_of_the_requested_scale():
    torch.manual_seed(0)
    model = MLP(in_dim=100, out_dim=50, hidden_dims=[])
    before = [p.detach().clone() for p in model.parameters()]
    perturb_parameters_(model, noise_scale=0.3)
    noise = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before)])
    assert noise.std().item() == pytest.approx(0.3, rel=0.05)


def test_accuracy_counts_the_most_probable_class():
    log_probs = torch.log(torch.tensor([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]]))
    assert accuracy(log_probs, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


@pytest.mark.parametrize("hidden_dims", [[], [6], [6, 4]])
def test_stacked_copies_give_each_perturbed_copys_own_log_probs_and_loss(hidden_dims):
    model = MLP(in_dim=12, out_dim=5, hidden_dims=hidden_dims)
    inputs, targets = torch.randn(9, 3, 4), torch.randint(0, 5, (9,))
    torch.manual_seed(3)
    stacked = StackedMLP(model, count=3, noise_scale=0.2)
    torch.manual_seed(3)
    copies = [copy.deepcopy(model) for _ in range(3)]
    for each in copies:
        perturb_parameters_(each, 0.2)
    log_probs, losses = stacked(inputs), stacked.losses(inputs, targets)
    assert log_probs.shape == (3, 9, 5)
    for k, each in enumerate(copies):
        torch.testing.assert_close(log_probs[k], each(inputs))
        torch.testing.assert_close(losses[k], F.nll_loss(each(inputs), targets))
