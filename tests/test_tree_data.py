"""Specification of the hierarchical (branching diffusion) data of notebook 02."""

import pytest
import torch

from helpers.data import TREE_ITEMS, add_feature, hierarchical_data


def _similarity(data):
    features = data.features
    return features @ features.T / features.shape[1]


def test_tree_data_has_one_hot_items_and_plus_minus_one_features():
    data = hierarchical_data(n_features=500, seed=1)
    assert data.items.shape == (8, 8) and data.features.shape == (8, 500)
    assert torch.equal(data.items, torch.eye(8))
    assert set(data.features.unique().tolist()) == {-1.0, 1.0}
    assert data.item_names == list(TREE_ITEMS)


def test_tree_data_is_deterministic_for_a_seed_and_differs_across_seeds():
    first = hierarchical_data(n_features=300, seed=7)
    again = hierarchical_data(n_features=300, seed=torch.Generator().manual_seed(7))
    other = hierarchical_data(n_features=300, seed=8)
    assert torch.equal(first.features, again.features)
    assert not torch.equal(first.features, other.features)


def test_items_in_the_same_branch_are_more_similar_than_items_across_branches():
    similarity = _similarity(hierarchical_data(seed=3))
    siblings = [similarity[0, 1], similarity[2, 3], similarity[4, 5], similarity[6, 7]]
    cousins = [similarity[0, 2], similarity[1, 3], similarity[4, 6], similarity[5, 7]]
    across = [similarity[0, 4], similarity[1, 6], similarity[3, 7], similarity[2, 5]]
    assert min(siblings) > max(cousins) > 0
    assert min(cousins) > max(across) > 0


def test_similarity_matches_the_flip_probability_along_the_path():
    # Two leaves agree in sign unless the nodes that separate them flip an odd number of
    # times; each separating node keeps the sign with mean 1 - 2p.
    p = 0.2
    similarity = _similarity(hierarchical_data(flip_probability=p, seed=5))
    keep = 1 - 2 * p
    assert similarity[0, 1].item() == pytest.approx(keep**2, abs=0.03)
    assert similarity[0, 4].item() == pytest.approx(keep**6, abs=0.03)
    assert similarity[0, 0].item() == 1.0


def test_every_feature_has_mean_zero_because_the_root_sign_is_a_fair_coin():
    data = hierarchical_data(seed=2)
    assert abs(data.features.mean().item()) < 0.02


def test_add_feature_appends_a_named_column_and_renames_items():
    data = hierarchical_data(n_features=50, seed=0)
    names = ["shark", *TREE_ITEMS[1:]]
    values = [-1, 1, 1, 1, -1, -1, -1, -1]
    extended = add_feature(data, values, "has_bones", names)
    assert extended.features.shape == (8, 51)
    assert extended.features[:, -1].tolist() == values
    assert torch.equal(extended.features[:, :50], data.features)
    assert extended.item_names == names and extended.feature_names == ["has_bones"]
    assert data.features.shape == (8, 50)  # the original is left alone


@pytest.mark.parametrize(
    ("values", "message"), [([1, -1], "one feature value per item"), ([0.5] * 8, r"\+1 \(yes\)")]
)
def test_add_feature_rejects_bad_values_clearly(values, message):
    with pytest.raises(ValueError, match=message):
        add_feature(hierarchical_data(n_features=10), values, "bad")


def test_bad_flip_probability_is_rejected():
    with pytest.raises(ValueError, match="flip_probability"):
        hierarchical_data(flip_probability=1.5)
