"""Train the benchmark MLP of notebook 03's bonus and save it to ``data/``.

Rerun with ``python scripts/train_benchmark.py`` from the repository root. It is seeded, runs
on the CPU in well under two minutes, and writes ``data/benchmark_mlp.pt`` (the weights) and
``data/benchmark_mlp.json`` (train and test accuracy, the data used, the settings).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.data import load_mnist  # noqa: E402
from helpers.device import set_seed  # noqa: E402
from helpers.models import MLP, parameter_count  # noqa: E402
from helpers.training import (  # noqa: E402
    BENCHMARK_HIDDEN_DIMS,
    BENCHMARK_REPORT,
    BENCHMARK_WEIGHTS,
    evaluate,
    make_loader,
    split_validation,
    train_model,
)

SEED = 2021
EPOCHS = 8
BATCH_SIZE = 64
LEARNING_RATE = 1e-3


def main() -> None:
    set_seed(SEED)
    device = torch.device("cpu")  # the same weights on every machine
    train_set, test_set = load_mnist()
    train_part, val_part = split_validation(train_set, seed=SEED)
    train_loader = make_loader(train_part, BATCH_SIZE, shuffle=True, seed=SEED, num_workers=0)
    val_loader = make_loader(val_part, 512, shuffle=False, num_workers=0)
    model = MLP(hidden_dims=BENCHMARK_HIDDEN_DIMS)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    train_model(model, optimizer, train_loader, val_loader, EPOCHS, device, validate_every=200)
    train_eval = make_loader(train_part, 512, shuffle=False, num_workers=0)
    test_loader = make_loader(test_set, 512, shuffle=False, num_workers=0)
    report = {
        "hidden_dims": list(BENCHMARK_HIDDEN_DIMS),
        "parameters": parameter_count(model),
        "optimizer": f"Adam(lr={LEARNING_RATE})",
        "epochs": EPOCHS,
        "batch_size": BATCH_SIZE,
        "seed": SEED,
        "data": train_set.source,
        "train_examples": len(train_part),
        "validation_examples": len(val_part),
        "test_examples": len(test_set),
        "train_accuracy": round(evaluate(model, train_eval, device)[1], 4),
        "validation_accuracy": round(evaluate(model, val_loader, device)[1], 4),
        "test_accuracy": round(evaluate(model, test_loader, device)[1], 4),
        "torch_version": torch.__version__,
    }
    torch.save(model.state_dict(), BENCHMARK_WEIGHTS)
    BENCHMARK_REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
