"""The learning-rate demo and the figures of notebook 01, headless."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers.basics import demos, reference
from helpers.basics.checks import EXERCISES
from helpers.basics.polynomial import (
    largest_stable_lr,
    least_squares,
    legendre_to_cubic,
    sine_data,
)


@pytest.fixture(scope="module")
def default_run():
    return demos.lr_run(reference.fit_polynomial, lr=1e-6, steps=2000)


def test_lr_run_at_defaults_converges_without_divergence(default_run):
    run = default_run
    assert run.diverged_at is None
    assert run.history.shape == (2000,) and run.fitted.shape == run.x.shape
    assert run.optimum < run.history[-1] < 10.0
    assert run.largest_stable_lr == pytest.approx(3.56e-6, rel=2e-3)


def test_divergence_is_detected_when_lr_is_above_the_limit():
    limit = largest_stable_lr(sine_data()[0])
    above = demos.lr_run(reference.fit_polynomial, lr=1.04 * limit, steps=300)
    below = demos.lr_run(reference.fit_polynomial, lr=0.96 * limit, steps=300)
    assert above.diverged_at is not None
    assert below.diverged_at is None


def test_first_divergence_flags_a_rise_above_the_start_or_a_non_finite_loss():
    assert demos.first_divergence([10.0, 5.0, 1.0]) is None
    assert demos.first_divergence([10.0, 5.0, 11.0, 3.0]) == 2
    assert demos.first_divergence([10.0, np.nan]) == 1


def test_plot_names_divergence_in_its_title():
    run = demos.lr_run(reference.fit_polynomial, lr=5e-6, steps=100)
    figure = demos.plot_lr_run(run)
    assert isinstance(figure, Figure)
    assert "DIVERGED" in figure.axes[0].get_title()


def test_comparison_table_lists_the_optimum_first_and_every_method():
    table = demos.comparison_table(
        {"method A": (9.0, (0.0, 0.8, 0.0, -0.09))}, (0.0, 0.857, 0.0, -0.093), 8.8172
    )
    lines = table.splitlines()
    assert lines[2].startswith("least squares") and lines[3].startswith("method A")


def test_lr_widget_is_skipped_while_grading(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert demos.lr_widget({}) is None
    assert "skipped while grading" in capsys.readouterr().out


def test_legendre_lookup_applies_the_reference_function_while_the_class_is_missing(capsys):
    apply = EXERCISES.implementation("LegendrePolynomial3", {})
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    assert torch.equal(apply(x), reference.LegendrePolynomial3.apply(x))
    assert "not done yet" in capsys.readouterr().out


# The sentence under the figure, for every outcome ----------------------------------------


def _never_clearing_fit():
    """The realistic wrong ``fit_polynomial`` that never clears the gradients."""
    import nbformat
    import variants_basics

    from helpers.solution_cells import load_solution
    from instructor.notebook import setup_imports
    from instructor.settings import REPO_ROOT

    notebook = nbformat.read(REPO_ROOT / "solutions/01_pytorch_basics/pytorch_basics.ipynb", 4)
    source = variants_basics.WRONG["fit_polynomial"]["never_clears_gradients"]
    return load_solution("fit_polynomial", [source], setup_imports(notebook))


def test_lr_demo_says_a_run_above_the_limit_diverged_and_where():
    limit = largest_stable_lr(sine_data()[0])
    run = demos.lr_run(reference.fit_polynomial, lr=1.04 * limit, steps=300)
    assert demos.lr_run_sentence(run) == (
        f"Training diverged at step {run.diverged_at}: lr {1.04 * limit:.2e} is above the "
        f"stability limit {limit:.2e}."
    )


def test_lr_demo_says_nothing_under_a_run_below_the_limit_that_converged(default_run):
    assert demos.lr_run_sentence(default_run) is None


def test_lr_demo_does_not_blame_the_rate_when_a_run_below_the_limit_diverges():
    limit = largest_stable_lr(sine_data()[0])
    run = demos.lr_run(_never_clearing_fit(), lr=0.5 * limit, steps=300)
    assert run.diverged_at is not None
    sentence = demos.lr_run_sentence(run)
    assert sentence.startswith(f"Training diverged at step {run.diverged_at} although lr ")
    assert "below the stability limit" in sentence and sentence.endswith("in every step.")


def test_lr_demo_says_a_run_above_the_limit_has_not_blown_up_yet_when_it_has_not(default_run):
    """At the notebook's start a run above the limit blows up at once; a run whose loss has
    not yet risen is still told that it will."""
    limit = default_run.largest_stable_lr
    run = dataclasses.replace(default_run, lr=1.01 * limit, steps=10)
    assert demos.lr_run_sentence(run) == (
        f"lr {1.01 * limit:.2e} is above the stability limit {limit:.2e}, but in 10 steps the "
        "loss has not yet risen above its start: run more steps to see it blow up."
    )


# Section 10: the limit the demo compares with is the student's ----------------------------


def test_lr_run_takes_the_limit_from_the_function_it_is_given():
    run = demos.lr_run(reference.fit_polynomial, lr=1e-6, steps=5, limit=lambda x: 2e-6)
    assert run.largest_stable_lr == 2e-6


def test_the_students_stability_limit_gives_the_notebooks_3_56e_minus_6(capsys):
    namespace = {"stability_limit": reference.stability_limit}
    limit = EXERCISES.implementation("stability_limit", namespace)
    assert limit(sine_data()[0]) == pytest.approx(3.56e-6, rel=2e-3)
    assert limit.describe() == "This run used your `stability_limit`."


# Section 5: what save_for_backward protects against ---------------------------------------


class _AttributeP3(torch.autograd.Function):
    """The notebook's AttributeP3: P3 with its input kept as ctx.x."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return 0.5 * (5 * x**3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 1.5 * (5 * ctx.x**2 - 1)


def _gradient_after_an_in_place_change(apply) -> torch.Tensor:
    u = torch.linspace(-1, 1, 5, requires_grad=True)
    v = 2 * u
    output = apply(v)
    v.mul_(3)
    output.sum().backward()
    return u.grad


def test_an_input_changed_in_place_after_forward_stops_save_for_backward_with_an_error():
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _gradient_after_an_in_place_change(reference.LegendrePolynomial3.apply)


def test_an_input_kept_on_ctx_gives_a_wrong_gradient_and_no_error():
    u = torch.linspace(-1, 1, 5, requires_grad=True)
    _AttributeP3.apply(2 * u).sum().backward()
    right = u.grad
    wrong = _gradient_after_an_in_place_change(_AttributeP3.apply)
    assert not torch.allclose(wrong, right)


def test_the_legendre_fit_with_both_functions_reaches_the_cubic_optimum():
    """"the Legendre model lands on the same coefficients as the plain cubic", now through
    SumSquaredError as well."""
    x, y = sine_data(dtype=torch.float64)
    a, b, c, d = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3))
    p3, squared_error = reference.LegendrePolynomial3.apply, reference.SumSquaredError.apply
    for _ in range(5000):
        loss = squared_error(a + b * p3(c + d * x), y)
        loss.backward()
        with torch.no_grad():
            for w in (a, b, c, d):
                w -= 5e-6 * w.grad
                w.grad = None
    coefficients, best = least_squares(x, y)
    np.testing.assert_allclose(legendre_to_cubic(a.item(), b.item(), c.item(), d.item()),
                               coefficients, atol=1e-3)
    assert loss.item() == pytest.approx(best, abs=1e-4)
