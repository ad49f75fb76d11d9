"""The registry of notebook 01: the reference passes its own checks, and messages are kind."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from helpers.basics import reference
from helpers.basics.checks import EXERCISES
from helpers.solution_cells import load_solution
from instructor.settings import REPO_ROOT

NAMES = (
    "cubic_gradients", "LegendrePolynomial3", "SumSquaredError", "fit_polynomial",
    "stability_limit",
)


def _reference_rewritten(name: str):
    """The reference answer, re-run from source like a student's cell (a distinct definition)."""
    source = inspect.getsource(getattr(reference, name))
    cell = "import numpy as np\nimport torch\n\n\n" + source
    return load_solution(name, [cell], ["import numpy as np"])


def test_registry_declares_the_five_exercises_with_their_points():
    assert list(EXERCISES) == list(NAMES)
    assert [EXERCISES[name].points for name in NAMES] == [2, 3, 3, 3, 2]


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


FUNCTION_SCAFFOLD = """
import torch


class {name}(torch.autograd.Function):
    @staticmethod
    def forward(ctx, {inputs}):
        # YOUR CODE HERE
        raise NotImplementedError()

    @staticmethod
    def backward(ctx, grad_output):
        # YOUR CODE HERE
        raise NotImplementedError()
"""


@pytest.mark.parametrize(
    ("name", "inputs"), [("LegendrePolynomial3", "x"), ("SumSquaredError", "prediction, target")]
)
def test_not_done_yet_message_when_forward_and_backward_raise_not_implemented(
    name, inputs, capsys
):
    scaffold = load_solution(name, [FUNCTION_SCAFFOLD.format(name=name, inputs=inputs)])
    EXERCISES[name].run_self_check(scaffold)
    assert capsys.readouterr().out.strip() == (
        f"`{name}` is not done yet: the demos below use the reference."
    )


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

        class SumSquaredError(torch.autograd.Function):
            @staticmethod
            def forward(ctx, prediction, target):
                return (prediction - target).sum()

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output, None

        def fit_polynomial(model, x, y, optimizer, steps):
            return [0.0] * steps

        def stability_limit(x):
            return 1.0

        for name, implementation in {"cubic_gradients": cubic_gradients,
                                     "LegendrePolynomial3": LegendrePolynomial3,
                                     "SumSquaredError": SumSquaredError,
                                     "fit_polynomial": fit_polynomial,
                                     "stability_limit": stability_limit}.items():
            for case in EXERCISES[name].draw_cases(np.random.default_rng(0)):
                EXERCISES[name].run_case(implementation, case)
        print("ran", "helpers.widgets" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", "False"]  # and without the display machinery


# Each hint fits the realistic mistake it is meant for ---------------------------------------

HINTS = {
    ("LegendrePolynomial3", "forward_saves_its_output"):
        "at forward's output u = P3(x) instead of at its input x",
    ("LegendrePolynomial3", "forward_stores_the_input_on_ctx"):
        "save the tensors `backward` needs with ctx.save_for_backward",
    ("LegendrePolynomial3", "forward_without_the_half"):
        "`forward` should return P3(x) = (5x^3 - 3x)/2",
    ("SumSquaredError", "ignores_needs_input_grad"):
        "the target needs no gradient, so `backward` should return None in its place",
    ("SumSquaredError", "computes_the_target_gradient_only_when_the_prediction_needs_one"):
        "returned None for the target; return its gradient there",
    ("SumSquaredError", "returns_the_prediction_gradient_only"):
        "`backward` must return a tuple with one entry per input of `forward`",
    ("SumSquaredError", "same_sign_for_the_target"): "its sign is flipped",
    ("SumSquaredError", "ignores_grad_output"): "`backward` ignores grad_output",
    ("SumSquaredError", "missing_factor_two"): "a factor 2 is missing",
    ("SumSquaredError", "mean_instead_of_sum"): "it is the mean, not the sum",
    ("SumSquaredError", "saves_the_residual_on_ctx"): "ctx.save_for_backward",
    ("SumSquaredError", "forward_returns_a_python_number"): "not a Python number",
    ("stability_limit", "one_over_lambda_max"): "It is half the limit",
    ("stability_limit", "hessian_without_the_factor_two"): "It is twice the limit",
    ("stability_limit", "smallest_eigenvalue"): "Use the largest eigenvalue of the Hessian",
    ("stability_limit", "mean_instead_of_sum"): "not their mean",
    ("stability_limit", "without_the_constant_column"): "(the constant column included)",
    ("stability_limit", "trace_of_the_hessian"): "a bound on lambda_max",
}


def _wrong(exercise: str, label: str):
    import variants_basics

    return load_solution(exercise, [variants_basics.WRONG[exercise][label]], EXERCISES.setup)


@pytest.mark.parametrize(("exercise", "label"), list(HINTS))
def test_the_hidden_check_and_the_self_check_give_the_hint_meant_for_the_mistake(
    exercise, label, capsys
):
    implementation = _wrong(exercise, label)
    for check in (lambda: EXERCISES[exercise].run_hidden_check(implementation, seed=11),
                  lambda: EXERCISES[exercise].run_self_check(implementation)):
        with pytest.raises(AssertionError) as raised:
            check()
        assert HINTS[exercise, label] in str(raised.value)
    capsys.readouterr()


def test_the_stability_hint_names_the_points_and_no_number_of_the_answer():
    with pytest.raises(AssertionError) as raised:
        EXERCISES["stability_limit"].run_hidden_check(
            _wrong("stability_limit", "smallest_eigenvalue"), seed=2
        )
    after_the_case = str(raised.value).split(". ", 1)[1]
    assert not any(character.isdigit() for character in after_the_case)


def test_on_the_notebooks_interval_the_constant_column_leaves_the_limit_alone_elsewhere_not():
    """"The test also tries points spread over other intervals than [-pi, pi], where every
    column of V matters": on the symmetric interval the odd columns x, x^3 alone set
    lambda_max, so a limit without the constant column passes there."""
    without = _wrong("stability_limit", "without_the_constant_column")
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=torch.float64)
    assert without(x) == pytest.approx(reference.stability_limit(x), rel=1e-12)
    shifted = torch.linspace(0.5, 3.0, 2000, dtype=torch.float64)
    assert without(shifted) != pytest.approx(reference.stability_limit(shifted), rel=1e-3)
