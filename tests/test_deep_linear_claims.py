"""Every number that notebook 02's text quotes, recomputed on the notebook's own data (seed
2021, 10,000 features, flip probability 0.15); each test computes only what its claim needs
and states its tolerance. (The lag's shrinking with the learning rate is checked in
``test_deep_linear_demos.py``, which already trains at eta = 25.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data import hierarchical_data
from helpers.deep_linear import demos
from helpers.deep_linear.reference import saxe_half_time

SEED = 2021


@pytest.fixture(scope="module")
def data():
    return hierarchical_data(n_features=10_000, flip_probability=0.15, seed=SEED)


@pytest.fixture(scope="module")
def run(data):
    """The notebook's comparison at eta = 100: the recording and the closed form's parameters."""
    return demos.saxe_run(data, lr=100.0, gamma=1e-12, n_epochs=250)


def test_siblings_agree_with_correlation_0_49_and_across_the_split_0_12(data):
    """Section 1: (1 - 2p)^2 ~ 0.49 for siblings, (1 - 2p)^6 ~ 0.12 across the animal/plant
    split (tolerance 0.03 on 10,000 sampled features)."""
    features = data.features.double()
    correlation = torch.corrcoef(features)
    names = list(data.item_names)
    goldfish, tuna, rose = names.index("goldfish"), names.index("tuna"), names.index("rose")
    assert float(correlation[goldfish, tuna]) == pytest.approx(0.49, abs=0.03)
    assert float(correlation[goldfish, rose]) == pytest.approx(0.12, abs=0.03)


def test_the_data_has_modes_in_groups_of_1_1_2_and_4(data):
    """Section 2: four drops, from modes in groups of 1, 1, 2 and 4 (within a group the
    singular values differ by less than 5%, between groups by more than 15%)."""
    s = torch.linalg.svdvals(data.features.T.double()).numpy()
    groups = [s[0:1], s[1:2], s[2:4], s[4:8]]
    for group in groups:
        assert group.max() / group.min() < 1.05
    for stronger, weaker in zip(groups, groups[1:]):
        assert stronger.min() / weaker.max() > 1.15


def test_one_epoch_grows_the_strongest_mode_1_9_fold_against_2_2_under_gradient_flow(run):
    """Section 2: (1 + S_1/tau')^2 ~ 1.9 and e^{2 S_1/tau'} ~ 2.2 (to one decimal)."""
    _, theory = run
    rate = theory.strengths[0] / theory.tau
    assert round((1 + rate) ** 2, 1) == 1.9
    assert round(float(np.exp(2 * rate)), 1) == 2.2


def test_the_simulation_lags_about_10_percent_most_for_the_strongest_mode(run):
    """Section 2: "lags behind the prediction by about 10%" (7% to 13%)."""
    record, theory = run
    simulated, _, lag = demos.half_time_lag(record, theory.trajectories(250))
    assert 0.07 < lag < 0.13
    formula = demos.formula_half_times(theory, saxe_half_time)
    assert (simulated / formula - 1).argmax() == 0


def test_the_exact_half_times_match_the_predicted_curves_to_one_epoch(run):
    """Exercise 2.2: the formula's half times round up to the epochs read off the curves."""
    _, theory = run
    predicted = theory.trajectories(250)
    from_curves = demos.half_times(predicted, predicted[-1])
    formula = demos.formula_half_times(theory, saxe_half_time)
    assert np.all(np.abs(formula - from_curves) <= 1.0)


def test_a_k_times_smaller_start_delays_each_mode_by_tau_over_2s_times_ln_k():
    """Section 2: shrinking u0 by k delays a mode by tau'/(2 S) ln k (exact for u0 << S)."""
    s, tau, u0, k = 50.0, 400.0, 1e-20, 1e4
    delay = saxe_half_time(s, tau, u0 / k) - saxe_half_time(s, tau, u0)
    assert delay == pytest.approx(tau / (2 * s) * np.log(k), rel=1e-9)
