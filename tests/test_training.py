"""Training tools of notebook 03's bonus and the committed benchmark model."""

from __future__ import annotations

import pytest
import torch

from helpers.data import Digits, load_mnist
from helpers.models import MLP
from helpers.training import (
    evaluate,
    load_benchmark,
    make_loader,
    split_validation,
    train_model,
)


def toy_digits(n: int = 64) -> Digits:
    generator = torch.Generator().manual_seed(0)
    targets = torch.arange(n) % 2
    images = torch.randn(n, 28, 28, generator=generator) + 2.0 * targets[:, None, None]
    return Digits(images, targets, "toy")


def test_validation_split_is_disjoint_complete_and_reproducible():
    data = toy_digits()
    train_a, val_a = split_validation(data, validation_fraction=0.25, seed=3)
    train_b, val_b = split_validation(data, validation_fraction=0.25, seed=3)
    assert len(val_a) == 16 and len(train_a) == 48
    assert set(train_a.indices).isdisjoint(val_a.indices)
    assert list(val_a.indices) == list(val_b.indices)


def test_validation_fraction_must_be_a_proper_fraction():
    with pytest.raises(ValueError, match="validation_fraction"):
        split_validation(toy_digits(), validation_fraction=1.0)


def test_training_on_a_separable_problem_improves_validation_accuracy():
    torch.manual_seed(0)
    train_part, val_part = split_validation(toy_digits(), 0.25, seed=0)
    train_loader = make_loader(train_part, 8, shuffle=True, num_workers=0)
    val_loader = make_loader(val_part, 16, shuffle=False, num_workers=0)
    model = MLP(hidden_dims=[8], out_dim=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    metrics = train_model(model, optimizer, train_loader, val_loader, 3, torch.device("cpu"), 6)
    assert len(metrics["train_loss"]) == 3 * len(train_loader)
    assert metrics["val_step"] == [6, 12, 18]
    assert evaluate(model, val_loader, torch.device("cpu"))[1] > 0.9


def test_committed_benchmark_reproduces_its_reported_test_accuracy():
    model, report = load_benchmark(torch.device("cpu"))
    _, test_set = load_mnist()
    if test_set.source.split(" (")[0] != report["data"].split(" (")[0]:
        pytest.skip("the benchmark was measured on another copy of MNIST")
    _, test_accuracy = evaluate(model, make_loader(test_set, 500, False, num_workers=0), "cpu")
    assert test_accuracy == pytest.approx(report["test_accuracy"], abs=1e-4)
