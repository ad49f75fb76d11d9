"""MNIST loading: the offline fallback, shapes, dtypes, normalization and the split."""

import numpy as np
import pytest
import torch

from helpers import data
from helpers.data import load_mnist


@pytest.fixture(scope="module")
def offline_mnist(tmp_path_factory):
    """MNIST as a machine without network access and without a cached download sees it."""
    empty_root = tmp_path_factory.mktemp("no-mnist")
    return load_mnist(full=True, root=empty_root, download=False)


def test_offline_fallback_uses_the_committed_real_mnist_subset(offline_mnist, capsys):
    train_set, test_set = offline_mnist
    assert "offline subset" in train_set.source
    assert len(train_set) + len(test_set) == 10_000
    assert len(test_set) == 2_000


def test_loader_tells_in_one_line_which_source_it_used(tmp_path, capsys):
    load_mnist(full=True, root=tmp_path, download=False)
    output = capsys.readouterr().out
    assert output.count("\n") == 1 and "offline subset" in output
    assert "torchvision MNIST unavailable" in output


def test_the_committed_subset_is_the_default_so_quoted_numbers_hold(tmp_path, monkeypatch):
    def no_torchvision(*arguments):
        raise AssertionError("the default must not ask torchvision")

    monkeypatch.setattr(data.mnist, "_torchvision_mnist", no_torchvision)
    train_set, test_set = load_mnist()
    assert (len(train_set), len(test_set)) == (8_000, 2_000)


def test_images_and_targets_have_tutorial_shapes_and_dtypes(offline_mnist):
    train_set, test_set = offline_mnist
    for split in (train_set, test_set):
        assert split.data.shape[1:] == (28, 28)
        assert split.data.dtype == torch.float32
        assert split.targets.dtype == torch.int64
        assert len(split.data) == len(split.targets)
        assert set(split.targets.tolist()) == set(range(10))
    image, target = train_set[3]
    assert image.shape == (28, 28) and target.ndim == 0


def test_images_are_normalized_with_training_statistics(offline_mnist):
    train_set, test_set = offline_mnist
    assert abs(float(train_set.data.mean())) < 1e-4
    assert abs(float(train_set.data.std()) - 1) < 1e-4
    # the test set uses the training statistics, so it is close to but not exactly standard
    assert abs(float(test_set.data.mean())) < 0.1
    assert float(test_set.data.mean()) != pytest.approx(0, abs=1e-6)


def test_offline_split_is_deterministic_and_disjoint(tmp_path):
    first_train, first_test = load_mnist()
    second_train, _ = load_mnist()
    assert torch.equal(first_train.data, second_train.data)
    train_rows = {row.numpy().tobytes() for row in first_train.data[:500]}
    assert not train_rows & {row.numpy().tobytes() for row in first_test.data}


def test_offline_subset_holds_real_uint8_digits_of_every_class():
    with np.load(data.mnist.OFFLINE_SUBSET) as archive:
        images, labels = archive["images"], archive["labels"]
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).min() > 800
    # real handwriting: mostly black background with bright strokes, about 13% ink on average
    assert 0.10 < images.mean() / 255 < 0.16
    assert (images[:, 0, :] == 0).mean() > 0.99


def test_missing_offline_subset_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="offline MNIST subset"):
        load_mnist(root=tmp_path, download=False, offline_path=tmp_path / "absent.npz")
