"""Notebook 01's optimizers step exactly like torch's, without importing torch._dynamo."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from helpers.basics.optimizers import PlainRMSprop, PlainSGD
from helpers.basics.polynomial import Polynomial3, initial_coefficients, sine_data

SETTINGS = [
    (torch.optim.SGD, PlainSGD, {"lr": 2e-6}),
    (torch.optim.SGD, PlainSGD, {"lr": 1e-6, "momentum": 0.8}),
    (torch.optim.RMSprop, PlainRMSprop, {"lr": 1e-2, "alpha": 0.9}),
]


def _train(optimizer_class: type, settings: dict, set_to_none: bool) -> tuple[list, list]:
    x, y = sine_data()
    model = Polynomial3(initial_coefficients(3))
    optimizer = optimizer_class(model.parameters(), **settings)

    def closure() -> torch.Tensor:
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        return loss

    losses = []
    for _ in range(6):
        optimizer.zero_grad(set_to_none=set_to_none)
        losses.append(float(optimizer.step(closure)))
    return losses, [parameter.detach().clone() for parameter in model.parameters()]


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize(("torch_class", "plain_class", "settings"), SETTINGS)
def test_plain_optimizer_steps_exactly_like_torchs(torch_class, plain_class, settings, set_to_none):
    expected_losses, expected_parameters = _train(torch_class, settings, set_to_none)
    losses, parameters = _train(plain_class, settings, set_to_none)
    assert losses == expected_losses
    for actual, expected in zip(parameters, expected_parameters):
        torch.testing.assert_close(actual, expected, rtol=0, atol=0)


@pytest.mark.parametrize("plain_class", [PlainSGD, PlainRMSprop])
def test_plain_optimizer_keeps_its_step_out_of_torchs_profiling_wrapper(plain_class):
    plain_class(Polynomial3(initial_coefficients(3)).parameters(), lr=1e-3)
    assert not hasattr(plain_class.step, "__wrapped__")


def test_training_with_the_plain_optimizers_never_imports_torch_dynamo():
    program = """
import sys
import torch
from helpers.basics.optimizers import PlainRMSprop, PlainSGD
from helpers.basics.polynomial import Polynomial3
model = Polynomial3([0.1, 0.2, 0.3, 0.4])
x = torch.linspace(-3, 3, 50)
for optimizer in (PlainSGD(model.parameters(), lr=1e-3, momentum=0.9),
                  PlainRMSprop(model.parameters(), lr=1e-3)):
    for set_to_none in (True, False):
        optimizer.zero_grad(set_to_none=set_to_none)
        ((model(x) - torch.sin(x)) ** 2).sum().backward()
        optimizer.step()
print("torch._dynamo" in sys.modules)
"""
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
