"""Seeding and device selection."""

import random

import numpy as np
import pytest
import torch

from helpers import device
from helpers.device import default_device, seed_worker, set_device, set_seed


def _draws() -> tuple:
    return random.random(), np.random.rand(3).tolist(), torch.randn(4).tolist()


def test_same_seed_reproduces_identical_numbers_in_random_numpy_and_torch():
    set_seed(123)
    first = _draws()
    set_seed(123)
    assert _draws() == first


def test_different_seeds_give_different_tensors():
    set_seed(1)
    first = torch.randn(5)
    set_seed(2)
    assert not torch.equal(first, torch.randn(5))


def test_seed_is_printed_and_returned(capsys):
    assert set_seed(7) == 7
    assert "7" in capsys.readouterr().out


def test_random_seed_is_drawn_when_none_is_given_and_can_be_replayed(capsys):
    seed = set_seed()
    values = torch.randn(3)
    set_seed(seed)
    assert torch.equal(values, torch.randn(3))


def test_seed_torch_false_leaves_torch_alone():
    torch.manual_seed(0)
    expected = torch.randn(2)
    torch.manual_seed(0)
    set_seed(99, seed_torch=False)
    assert torch.equal(torch.randn(2), expected)


def test_seed_worker_derives_numpy_and_random_seeds_from_torch():
    torch.manual_seed(5)
    seed_worker(0)
    first = (np.random.rand(), random.random())
    torch.manual_seed(5)
    seed_worker(0)
    assert (np.random.rand(), random.random()) == first


def test_set_device_falls_back_to_cpu_and_says_how_to_enable_a_gpu(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    chosen = set_device()
    assert chosen == torch.device("cpu")
    output = capsys.readouterr().out
    assert output.count("\n") == 1 and "Colab" in output
    assert torch.zeros(1).to(chosen).device.type == "cpu"
    assert default_device() == chosen


def test_set_device_prefers_cuda_then_mps(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert set_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda _: "Test GPU")
    assert set_device() == torch.device("cuda")
    assert "Test GPU" in capsys.readouterr().out
    monkeypatch.setattr(device, "_chosen_device", None)


def test_course_device_environment_variable_overrides_the_choice(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert set_device() == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_set_device_picks_the_real_gpu_when_present(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert set_device().type == "cuda"


def test_on_the_cpu_torch_runs_on_one_thread_and_one_cpu_thread_restores_the_setting(
    monkeypatch,
):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with device.one_cpu_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        set_device()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
