"""The tools every notebook's checks share: shortcut detection, comparisons, name resolution
(``helpers.checking``), the demos' fallback to the reference (``helpers.exercise``) and
grading mode (``helpers.widgets``)."""

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers import widgets
from helpers.checking import (
    ShortcutError,
    assert_close,
    compare_outputs,
    no_shortcuts,
    resolve,
    tolerance,
)
from helpers.exercise import Exercise, StudentOrReference, Visible, described_after
from helpers.mode import grading_mode


def reference_double(x):
    return 2 * x


def doubling_exercise() -> Exercise:
    """An exercise whose reference is ``reference_double`` in this module."""
    return Exercise(
        name="double",
        reference=f"{__name__}:reference_double",
        points=1,
        visible=Visible(success=""),
        draw_cases=lambda rng: [{"x": 3}],
        run_case=lambda implementation, case: {"double": implementation(case["x"])},
    )


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


def test_compare_outputs_names_a_missing_output():
    with pytest.raises(AssertionError, match="Velocity is missing"):
        compare_outputs({}, {"velocity": torch.zeros(2)})


@pytest.mark.parametrize(
    ("key", "start"),
    [
        ("gd_step for eigenvalues [3.53, 0.929]", "gd_step for eigenvalues"),
        ("grad_a", "grad_a is"),
        ("b after step 1", "b after step 1"),
        ("P3 of the input", "P3 of the input"),
        ("velocity of W after step 1", "Velocity of W after step 1"),
        ("the first layer's weight", "The first layer's weight"),
    ],
)
def test_compare_outputs_capitalises_a_first_word_but_never_a_code_name(key, start):
    for actual in ({key: torch.ones(2)}, {}):  # a wrong value, then a missing one
        with pytest.raises(AssertionError) as raised:
            compare_outputs(actual, {key: torch.zeros(2)})
        assert str(raised.value).startswith(start)


def test_resolve_finds_modules_and_attributes_by_dotted_name():
    assert resolve("torch.optim") is torch.optim
    assert resolve("torch.optim.SGD") is torch.optim.SGD
    assert resolve(f"{__name__}:reference_double") is reference_double


def test_fallback_uses_the_reference_with_a_notice_while_the_exercise_is_undone(capsys):
    def double(x):
        raise NotImplementedError()

    run = StudentOrReference(doubling_exercise(), {"double": double})
    assert run(3) == 6 and run(4) == 8
    assert capsys.readouterr().out.count("not done yet") == 1
    assert run.describe() == "`double` is not done yet: this run used the reference from helpers."


def test_fallback_uses_the_students_function_once_it_works(capsys):
    run = StudentOrReference(doubling_exercise(), {"double": lambda x: x + x + 1})
    assert run(3) == 7
    assert run.describe() == "This run used your `double`."


def test_fallback_without_a_student_function_uses_the_reference(capsys):
    assert StudentOrReference(doubling_exercise(), {})(5) == 10
    assert "`double` is not done yet" in capsys.readouterr().out


def test_fallback_looks_the_function_up_again_on_every_call():
    namespace = {}
    run = StudentOrReference(doubling_exercise(), namespace)
    assert run(2) == 4
    namespace["double"] = lambda x: -x
    assert run(2) == -2


def test_a_demo_redraw_says_whose_code_ran_once_at_its_end(capsys):
    namespace = {}
    run = StudentOrReference(doubling_exercise(), namespace)
    with described_after(run, None):
        assert run(2) == 4
        print("figure")
    assert capsys.readouterr().out.splitlines() == [
        "figure",
        "`double` is not done yet: this run used the reference from helpers.",
    ]
    namespace["double"] = lambda x: x * 2
    with described_after(run):
        run(1)
    assert capsys.readouterr().out == "This run used your `double`.\n"
    namespace["double"] = lambda x: x / 0
    with pytest.raises(ZeroDivisionError), described_after(run):
        run(1)
    assert capsys.readouterr().out == ""  # a failed redraw shows the student's traceback only
    namespace.clear()
    assert run(3) == 6  # outside a redraw, a change of implementation is noticed at once
    assert "not done yet" in capsys.readouterr().out


def test_grading_mode_follows_nbgrader_execution(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not grading_mode()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading_mode()


def test_show_displays_one_png_drawn_once_and_frees_the_figure(monkeypatch):
    figure, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [1, 0])
    draws = []
    draw = Figure.draw

    def counting_draw(self, renderer):
        draws.append(self)
        return draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting_draw)
    shown = []
    monkeypatch.setattr(widgets, "display", shown.append)
    widgets.show(figure)
    (image,) = shown
    assert image.data.startswith(b"\x89PNG") and image.format == "png"
    assert draws == [figure]  # IPython's own display would draw it twice
    assert figure.get_layout_engine() is not None  # laid out, since nothing crops it
    assert not plt.fignum_exists(figure.number)
