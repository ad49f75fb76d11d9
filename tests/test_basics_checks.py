"""The registry of notebook 01: the reference passes its own checks, and messages are kind."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from helpers.basics import reference
from helpers.basics.checks import EXERCISES
from helpers.solution_cells import load_solution
from instructor.notebook import REPO_ROOT

NAMES = ("cubic_gradients", "LegendrePolynomial3", "fit_polynomial")


def _reference_rewritten(name: str):
    """The reference answer, re-run from source like a student's cell (a distinct definition)."""
    source = inspect.getsource(getattr(reference, name))
    cell = "import numpy as np\nimport torch\n\n\n" + source
    return load_solution(name, [cell], ["import numpy as np"])


def test_registry_declares_the_three_exercises_with_their_points():
    assert list(EXERCISES) == list(NAMES)
    assert [EXERCISES[name].points for name in NAMES] == [2, 3, 3]


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_its_own_hidden_check_when_rewritten_as_a_student_cell(name):
    EXERCISES[name].run_hidden_check(_reference_rewritten(name), seed=7)


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_its_own_self_check(name, capsys):
    EXERCISES[name].run_self_check(_reference_rewritten(name))
    assert "passes the visible checks" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_are_plain_json_data_and_fresh_on_every_draw(name):
    draw = EXERCISES[name].draw_cases
    first, second = draw(np.random.default_rng(1)), draw(np.random.default_rng(2))
    assert json.loads(json.dumps(first)) == first
    assert first != second


def test_not_done_yet_message_when_the_function_raises_not_implemented(capsys):
    def cubic_gradients(x, y, a, b, c, d):
        raise NotImplementedError()

    EXERCISES["cubic_gradients"].run_self_check(cubic_gradients)
    assert "`cubic_gradients` is not done yet" in capsys.readouterr().out


def test_not_done_yet_message_when_backward_raises_not_implemented(capsys):
    source = inspect.getsource(reference.LegendrePolynomial3).replace(
        "return grad_output * 1.5 * (5 * x**2 - 1)", "raise NotImplementedError()"
    )
    scaffold = load_solution("LegendrePolynomial3", ["import torch\n\n\n" + source])
    EXERCISES["LegendrePolynomial3"].run_self_check(scaffold)
    assert "`LegendrePolynomial3` is not done yet" in capsys.readouterr().out


def test_wrong_gradients_get_a_hint_without_numbers_when_a_mean_is_used():
    def cubic_gradients(x, y, a, b, c, d):
        g = 2 * (a + b * x + c * x**2 + d * x**3 - y)
        return g.mean(), (g * x).mean(), (g * x**2).mean(), (g * x**3).mean()

    with pytest.raises(AssertionError, match="sum") as error:
        EXERCISES["cubic_gradients"].run_hidden_check(cubic_gradients, seed=3)
    assert not any(character.isdigit() for character in str(error.value).split("points.")[1])


def test_a_crash_in_the_students_code_becomes_a_friendly_assertion():
    def fit_polynomial(model, x, y, optimizer, steps):
        return None

    with pytest.raises(AssertionError, match="raised TypeError"):
        EXERCISES["fit_polynomial"].run_self_check(fit_polynomial)


def test_checks_module_does_not_import_the_reference():
    import helpers.basics.checks as checks_module

    source = inspect.getsource(checks_module)
    assert "import reference" not in source and "basics.reference import" not in source


def test_run_cases_work_in_a_process_where_the_reference_does_not_exist():
    """What the grading sandbox does: no reference module, only the registry and a definition."""
    script = textwrap.dedent("""
        import sys
        sys.modules["helpers.basics.reference"] = None  # importing it now raises ImportError
        import numpy as np
        from helpers.basics.checks import EXERCISES

        import torch

        def cubic_gradients(x, y, a, b, c, d):
            return 0.0, 0.0, 0.0, 0.0

        class LegendrePolynomial3(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.clone()

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output

        def fit_polynomial(model, x, y, optimizer, steps):
            return [0.0] * steps

        for name, implementation in {"cubic_gradients": cubic_gradients,
                                     "LegendrePolynomial3": LegendrePolynomial3,
                                     "fit_polynomial": fit_polynomial}.items():
            for case in EXERCISES[name].draw_cases(np.random.default_rng(0)):
                EXERCISES[name].run_case(implementation, case)
        print("ran", "helpers.widgets" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", "False"]  # and without the display machinery
