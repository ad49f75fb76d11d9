"""Reproducibility and hardware: seeding every random generator and picking a device.

Every notebook starts with ``set_seed`` and ``DEVICE = set_device()``; helpers that create
tensors or models accept a ``device`` argument and default to the one chosen here.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

_chosen_device: torch.device | None = None


def set_seed(seed: int | None = None, seed_torch: bool = True) -> int:
    """Seed Python's ``random``, numpy and (optionally) torch on CPU and CUDA; return the seed.

    With ``seed=None`` a random seed is drawn, so that a run can still be reproduced by
    reading the printed value. cuDNN is made deterministic because a notebook that gives
    different curves on every run confuses more than it teaches.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**32)
    random.seed(seed)
    np.random.seed(seed)
    if seed_torch:
        torch.manual_seed(seed)
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    print(f"Random seed {seed} has been set.")
    return seed


def seed_worker(worker_id: int) -> None:
    """Seed ``random`` and numpy inside a DataLoader worker from torch's per-worker seed.

    Pass it as ``worker_init_fn`` so that workers draw different, yet reproducible, numbers.
    """
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def _pick_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def set_device() -> torch.device:
    """Return the best available device (CUDA, then Apple MPS, then CPU) and say which.

    The choice is remembered, so that ``default_device()`` gives helpers the same answer.
    Setting the environment variable ``COURSE_DEVICE`` (for example to ``cpu``) overrides it.
    On the CPU, torch then uses one thread: the course's models are small, so more threads
    save little on an idle machine and, on one whose cores are busy (a shared Colab or
    JupyterHub server, an autograder), make a notebook several times slower (``make bench``).
    """
    global _chosen_device
    requested = os.environ.get("COURSE_DEVICE")
    device = torch.device(requested) if requested else _pick_device()
    if device.type == "cuda":
        print(f"GPU is enabled: using {torch.cuda.get_device_name(device)}.")
    elif device.type == "mps":
        print("Apple GPU (MPS) is enabled.")
    else:
        print(
            "GPU is not enabled: running on the CPU. In Colab, choose "
            "Runtime > Change runtime type > GPU, then rerun the notebook."
        )
    if device.type == "cpu":
        torch.set_num_threads(1)
    _chosen_device = device
    return device


def default_device() -> torch.device:
    """The device that ``set_device()`` chose, or the CPU if it has not been called."""
    return _chosen_device if _chosen_device is not None else torch.device("cpu")


@contextmanager
def one_cpu_thread() -> Iterator[None]:
    """Run torch's CPU operations on one thread inside the block, or the decorated function.

    The demos train small models: splitting their operations over threads saves less than the
    threads cost to coordinate, and on a machine whose cores are busy with other work, threads
    waiting for each other make a run many times slower. GPU work is unaffected.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
