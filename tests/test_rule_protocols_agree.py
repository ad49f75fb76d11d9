"""Notebook 04's pure rules run through notebook 03's in-place protocol unchanged."""

import pytest
import torch

from helpers.optimization.rules import from_rule
from helpers.rules.protocol import Descent, Momentum
from helpers.rules.reference import Adam


@pytest.mark.parametrize(
    ("rule", "make_optimizer"),
    [
        (Adam(lr=0.05), lambda params: torch.optim.Adam(params, lr=0.05)),
        (Descent(0.05), lambda params: torch.optim.SGD(params, lr=0.05)),
    ],
    ids=["Adam", "Descent"],
)
def test_rule_through_the_in_place_protocol_matches_torch_optim(rule, make_optimizer):
    torch.manual_seed(0)
    ours = [torch.randn(3, 4, dtype=torch.float64, requires_grad=True)]
    theirs = [ours[0].detach().clone().requires_grad_(True)]
    in_place = from_rule(rule)
    state = in_place.init_state(ours)
    optimizer = make_optimizer(theirs)
    for _ in range(20):
        in_place.step((ours[0].sin() * ours[0] ** 2).sum(), ours, state)
        optimizer.zero_grad()
        (theirs[0].sin() * theirs[0] ** 2).sum().backward()
        optimizer.step()
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-9, atol=1e-9)


def test_in_place_state_is_one_entry_per_parameter():
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    (states,) = from_rule(Momentum(0.1, 0.9)).init_state(params)
    assert len(states) == 2
