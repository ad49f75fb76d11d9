"""The tools that the notebooks' tests share: shortcut detection, comparisons, fallbacks."""

import sys

import numpy as np
import pytest
import torch

from helpers import grading
from helpers.grading import (
    ShortcutError,
    assert_close,
    implementation_or_reference,
    no_shortcuts,
    tolerance,
)


def reference_double(x):
    return 2 * x


def test_no_shortcuts_catches_a_call_of_the_reference_under_another_name():
    alias = reference_double

    def student(x):
        return alias(x)

    with pytest.raises(ShortcutError, match="reference_double"):
        with no_shortcuts("double", reference_double):
            student(3)


def test_no_shortcuts_catches_torch_optimizers_used_inside_an_update():
    weight = torch.randn(3, requires_grad=True)

    def student_update():
        optimizer = torch.optim.SGD([weight], lr=0.1)
        (weight**2).sum().backward()
        optimizer.step()

    with pytest.raises(ShortcutError, match="torch.optim"):
        with no_shortcuts("gradient_update", torch.optim):
            student_update()


def test_no_shortcuts_lets_honest_code_and_mere_mentions_through():
    def student(x):
        # reference_double would do this, but we write it ourselves
        return x + x

    with no_shortcuts("double", reference_double, torch.optim):
        assert student(2) == 4


def test_no_shortcuts_restores_the_previous_profiler():
    with no_shortcuts("double", reference_double):
        pass
    assert sys.getprofile() is None


def test_no_shortcuts_rejects_things_it_cannot_watch():
    with pytest.raises(TypeError, match="Cannot watch"):
        with no_shortcuts("x", 42):
            pass


def test_tolerance_grows_with_size_and_shrinks_with_precision():
    assert tolerance(torch.float32, 100) > tolerance(torch.float32, 1)
    assert tolerance(torch.float64) < tolerance(torch.float32)
    assert tolerance(np.dtype("float32")) == tolerance(torch.float32)


def test_assert_close_accepts_rounding_differences_and_rejects_real_errors():
    a = torch.randn(50, 40)
    b = torch.randn(40, 30)
    exact = (a.double() @ b.double()).float()
    assert_close(a @ b, exact, "product", size=40)
    with pytest.raises(AssertionError, match="product is not right"):
        assert_close(a @ b * 1.001, exact, "product", size=40)


def test_assert_close_reports_shape_and_nan_problems_without_leaking_values():
    with pytest.raises(AssertionError, match=r"shape \(3,\), expected \(2, 2\)"):
        assert_close(torch.zeros(3), torch.zeros(2, 2), "weights")
    with pytest.raises(AssertionError, match="NaN"):
        assert_close(torch.tensor([float("nan")]), torch.zeros(1), "weights")
    with pytest.raises(AssertionError, match="tensor or array"):
        assert_close(object(), torch.zeros(1), "weights")


def test_assert_close_compares_numpy_and_torch_values():
    assert_close(np.array([1.0, 2.0]), torch.tensor([1.0, 2.0]), "values")


def test_fallback_uses_the_reference_with_a_notice_while_the_exercise_is_undone(capsys):
    def undone(x):
        raise NotImplementedError()

    run = implementation_or_reference(undone, reference_double)
    assert run(3) == 6 and run(4) == 8
    assert capsys.readouterr().out.count("not implemented yet") == 1


def test_fallback_uses_the_students_function_once_it_works(capsys):
    run = implementation_or_reference(lambda x: x + x + 1, reference_double)
    assert run(3) == 7
    assert capsys.readouterr().out == ""


def test_fallback_without_a_student_function_uses_the_reference(capsys):
    assert implementation_or_reference(None, reference_double)(5) == 10
    assert "reference_double" in capsys.readouterr().out


def test_grading_mode_follows_nbgrader_execution(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not grading.grading_mode()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading.grading_mode()
