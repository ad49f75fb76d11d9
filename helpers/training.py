"""Training an MLP on MNIST the everyday way: DataLoaders, ``torch.optim``, validation, curves.

Used by the bonus section of notebook 03 and by ``scripts/train_benchmark.py``, which trains
the benchmark model whose weights are committed in ``data/`` (``BENCHMARK_WEIGHTS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split
from tqdm.auto import tqdm

from helpers.data import DATA_DIR
from helpers.device import seed_worker
from helpers.models import MLP, accuracy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BENCHMARK_HIDDEN_DIMS = (100, 50)
BENCHMARK_WEIGHTS = DATA_DIR / "benchmark_mlp.pt"
BENCHMARK_REPORT = DATA_DIR / "benchmark_mlp.json"


def split_validation(
    train_set: Dataset, validation_fraction: float = 0.125, seed: int = 2021
) -> tuple[Dataset, Dataset]:
    """Hold out a fixed random ``validation_fraction`` of the training set (same split per seed)."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}.")
    n_val = int(round(validation_fraction * len(train_set)))
    generator = torch.Generator().manual_seed(seed)
    train_part, val_part = random_split(train_set, [len(train_set) - n_val, n_val], generator)
    return train_part, val_part


def make_loader(
    dataset: Dataset, batch_size: int, shuffle: bool, seed: int = 2021, num_workers: int = 2
) -> DataLoader:
    """A DataLoader whose shuffling and worker seeds are reproducible (``seed_worker``)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(seed),
        persistent_workers=num_workers > 0,
    )


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over every example ``loader`` yields."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            log_probs = model(inputs)
            total_loss += F.nll_loss(log_probs, targets, reduction="sum").item()
            correct += (log_probs.argmax(dim=1) == targets).sum().item()
            count += len(targets)
    model.train()
    return total_loss / count, correct / count


def train_model(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: DataLoader,
    val_loader: DataLoader,
    epochs: int,
    device: torch.device,
    validate_every: int = 50,
) -> dict[str, list[float]]:
    """Minibatch training with ``optimizer``; validation every ``validate_every`` updates.

    Returns the per-update training loss and accuracy and the validation curves
    (``val_step`` says after which update each validation point was measured).
    """
    metrics: dict[str, list[float]] = {
        key: [] for key in ["train_loss", "train_acc", "val_step", "val_loss", "val_acc"]
    }
    model.train()
    progress = tqdm(total=epochs * len(train_loader), desc="training")
    for _ in range(epochs):
        for inputs, targets in train_loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()  # the optimizer clears the gradients it will use
            log_probs = model(inputs)
            loss = F.nll_loss(log_probs, targets)
            loss.backward()
            optimizer.step()  # the whole update rule, state included, lives in the optimizer
            metrics["train_loss"].append(loss.item())
            metrics["train_acc"].append(accuracy(log_probs, targets))
            if len(metrics["train_loss"]) % validate_every == 0:
                val_loss, val_acc = evaluate(model, val_loader, device)
                metrics["val_step"].append(len(metrics["train_loss"]))
                metrics["val_loss"].append(val_loss)
                metrics["val_acc"].append(val_acc)
                progress.set_postfix(val_acc=f"{val_acc:.3f}")
            progress.update()
    progress.close()
    return metrics


def plot_training_curves(metrics: dict[str, list[float]]) -> Figure:
    """Training (per minibatch) and validation loss and accuracy against the update number."""
    import matplotlib.pyplot as plt  # here: the grader's sandbox imports this module, never plots

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in [(axes[0], "loss", "Loss"), (axes[1], "acc", "Accuracy")]:
        train = np.asarray(metrics[f"train_{key}"])
        ax.plot(np.arange(1, len(train) + 1), train, alpha=0.5, label="Training minibatch")
        ax.plot(metrics["val_step"], metrics[f"val_{key}"], "o-", label="Validation")
        ax.set_xlabel("Update")
        ax.set_ylabel(label)
        ax.set_title(f"{label} during training")
        ax.legend()
    figure.tight_layout()
    return figure


def load_benchmark(device: torch.device) -> tuple[MLP, dict]:
    """The committed benchmark MLP on ``device`` and its report (accuracies, data, settings)."""
    if not BENCHMARK_WEIGHTS.exists():
        raise FileNotFoundError(
            f"{BENCHMARK_WEIGHTS} is missing: restore it with git, or rerun "
            "scripts/train_benchmark.py."
        )
    model = MLP(hidden_dims=BENCHMARK_HIDDEN_DIMS)
    model.load_state_dict(torch.load(BENCHMARK_WEIGHTS, map_location="cpu", weights_only=True))
    report = json.loads(Path(BENCHMARK_REPORT).read_text())
    return model.to(device), report
