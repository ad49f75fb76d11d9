"""The exercise registry of notebook 03 (``helpers.optimization.checks``).

The notebook's own solutions must pass every check, the checks must be usable by a grader
that never imports the reference, the self-checks must talk to students as promised, and the
demos must pick up a student's function whenever it is (re)defined.
"""

from __future__ import annotations

import json
import random

import nbformat
import numpy as np
import pytest
import torch

from helpers import optimization
from helpers.capabilities import OPTIMIZER_STEP
from helpers.checking import ShortcutError
from helpers.exercise import as_tensors
from helpers.optimization import reference
from helpers.optimization.checks import EXERCISES
from helpers.solution_cells import load_solution
from instructor.notebook import find_cell, nbgrader_metadata, setup_imports
from instructor.settings import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "03_optimization" / "optimization.ipynb"
POINTS = {
    "gradient_update": 2,
    "momentum_update": 3,
    "momentum_hyperparameters": 1,
    "sample_minibatch": 2,
    "rmsprop_update": 3,
}


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def solutions(notebook) -> dict[str, object]:
    """Each exercise's solution cell, loaded the way the grader loads a submission."""
    prelude = setup_imports(notebook)
    return {
        name: load_solution(name, [find_cell(notebook, name).source], prelude) for name in EXERCISES
    }


def not_done(*args, **kwargs):
    raise NotImplementedError()


def test_registry_lists_the_five_exercises_in_notebook_order_with_their_points(notebook):
    assert EXERCISES.assignment == optimization.ASSIGNMENT == "03_optimization"
    assert {name: exercise.points for name, exercise in EXERCISES.items()} == POINTS
    assert list(EXERCISES) == list(POINTS)
    for name, exercise in EXERCISES.items():
        test_cell = nbgrader_metadata(find_cell(notebook, f"test_{name}"))
        assert test_cell["points"] == exercise.points
        assert exercise.reference == f"helpers.optimization.reference:{name}"


def test_update_rules_forbid_a_ready_made_optimizer_step_and_every_exercise_the_reference():
    step = (OPTIMIZER_STEP,)
    expected = {name: step for name in POINTS} | {"sample_minibatch": ()}
    forbids = {name: exercise.forbids for name, exercise in EXERCISES.items()}
    # the landscape's Curvature computes exactly the four numbers this exercise asks for
    curvature = forbids.pop("momentum_hyperparameters")
    assert [capability.python for capability in curvature] == [
        ("helpers.optimization.landscape:Curvature",)
    ]
    assert forbids == {name: value for name, value in expected.items() if name in forbids}
    for exercise in EXERCISES.values():
        assert exercise.forbidden[0].python == ("helpers.optimization.reference",)


@pytest.mark.parametrize("name", list(POINTS))
def test_the_notebooks_solution_passes_the_hidden_check_when_graded_in_process(
    name, solutions, hidden_seed
):
    EXERCISES[name].run_hidden_check(solutions[name], seed=0)
    EXERCISES[name].run_hidden_check(solutions[name], seed=hidden_seed)  # this run's cases


@pytest.mark.parametrize("name", list(POINTS))
def test_the_reference_agrees_with_itself_on_every_hidden_case(name):
    exercise = EXERCISES[name]
    implementation = exercise.load_reference()
    for case in exercise.draw_cases(np.random.default_rng(1)):
        first = as_tensors(exercise.run_case(implementation, case))
        second = as_tensors(exercise.run_case(implementation, case))
        assert first.keys() == second.keys()
        exercise.compare(case, first, second)


@pytest.mark.parametrize("name", list(POINTS))
def test_calling_the_reference_earns_nothing(name):
    with pytest.raises(ShortcutError, match="does the exercise for you"):
        EXERCISES[name].run_hidden_check(getattr(reference, name), seed=0)
    with pytest.raises(ShortcutError, match="does the exercise for you"):
        EXERCISES[name].run_self_check(getattr(reference, name))


@pytest.mark.parametrize("name", list(POINTS))
def test_cases_are_plain_json_data(name):
    cases = EXERCISES[name].draw_cases(np.random.default_rng(2))
    assert json.loads(json.dumps(cases)) == cases


def test_hidden_update_cases_cover_several_shapes_calls_and_settings():
    cases = EXERCISES["momentum_update"].draw_cases(np.random.default_rng(3))
    assert {case["problem"] for case in cases} == {"tensors", "network"}
    assert len({json.dumps(case["hyperparameters"]) for case in cases}) >= 2
    assert all(case["calls"] >= 3 for case in cases)
    outputs = EXERCISES["momentum_update"].run_case(reference.momentum_update, cases[0])
    shapes = {tuple(value.shape) for value in outputs.values()}
    assert {(3, 5), (4,), (2, 3, 2)} <= shapes
    assert sum("velocity" in key for key in outputs) == sum(
        "velocity" not in key for key in outputs
    )


def test_the_minibatch_check_leaves_the_notebooks_random_streams_as_they_were(solutions):
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    expected = torch.rand(1), np.random.rand(), random.random()
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    EXERCISES["sample_minibatch"].run_hidden_check(solutions["sample_minibatch"], seed=0)
    assert (torch.rand(1), np.random.rand(), random.random()) == expected


@pytest.mark.parametrize("name", list(POINTS))
def test_self_check_of_a_correct_solution_says_well_done(name, solutions, capsys):
    EXERCISES.self_check(name, solutions[name])
    assert f"Well done: `{name}`" in capsys.readouterr().out


def test_self_check_of_an_update_rule_prints_the_expected_first_update(solutions, capsys):
    EXERCISES.self_check("rmsprop_update", solutions["rmsprop_update"])
    out = capsys.readouterr().out
    assert "two updates with lr=0.01, alpha=0.9, epsilon=0.2" in out
    assert "  weight = [[" in out and "  bias = [" in out


@pytest.mark.parametrize("name", list(POINTS))
def test_an_exercise_not_done_yet_prints_one_line_and_lets_the_notebook_go_on(name, capsys):
    EXERCISES.self_check(name, not_done)
    assert capsys.readouterr().out == (
        f"`{name}` is not done yet: the demos below use the reference.\n"
    )


def test_self_check_catches_gradients_left_over_from_earlier_calls(capsys):
    def forgets_to_clear(loss, params, lr=1e-3):
        loss.backward()
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad

    with pytest.raises(AssertionError, match="clears the gradients left by earlier calls"):
        EXERCISES.self_check("gradient_update", forgets_to_clear)


def test_self_check_catches_state_not_stored_back_in_the_callers_tensors(capsys):
    def rebinds(loss, params, grad_vel, lr=1e-3, beta=0.8):
        for param in params:
            param.grad = None
        loss.backward()
        with torch.no_grad():
            for param, velocity in zip(params, grad_vel):
                velocity = beta * velocity - lr * param.grad
                param += velocity

    with pytest.raises(AssertionError, match="velocity that the caller holds"):
        EXERCISES.self_check("momentum_update", rebinds)


def test_self_check_catches_batches_that_never_change(capsys):
    def first_rows(input_data, target_data, num_points=100):
        return input_data[:num_points], target_data[:num_points]

    with pytest.raises(AssertionError, match="new random batch"):
        EXERCISES.self_check("sample_minibatch", first_rows)


def test_minibatch_check_explains_a_result_that_is_not_a_pair():
    with pytest.raises(AssertionError, match="should return a pair"):
        EXERCISES["sample_minibatch"].run_hidden_check(lambda x, y, n: x[:n], seed=0)


def test_demo_lookup_picks_up_a_function_defined_or_redefined_later(capsys):
    namespace = {"gradient_update": not_done}
    step = EXERCISES.implementation("gradient_update", namespace)
    param = torch.ones(2, requires_grad=True)
    step((param**2).sum(), [param], lr=0.25)  # the reference: w - 0.25 * 2w
    torch.testing.assert_close(param.detach(), torch.full((2,), 0.5))
    assert "`gradient_update` is not done yet" in step.describe()

    calls = []

    def gradient_update(loss, params, lr=1e-3):
        calls.append(lr)
        reference.gradient_update(loss, params, lr)

    namespace["gradient_update"] = gradient_update  # the student runs the exercise cell
    step((param**2).sum(), [param], lr=0.25)
    assert calls == [0.25]
    assert step.describe() == "This run used your `gradient_update`."


def test_hyperparameter_cases_give_eigenvalues_out_of_order():
    cases = EXERCISES["momentum_hyperparameters"].draw_cases(np.random.default_rng(4))
    assert any(case["eigenvalues"][0] != max(case["eigenvalues"]) for case in cases)
    assert any(case["eigenvalues"][-1] != max(case["eigenvalues"]) for case in cases)
    assert {len(case["eigenvalues"]) for case in cases} >= {2, 3}


def test_hyperparameters_of_a_kappa_100_quadratic_match_gohs_numbers():
    kappa, gd_step, momentum_lr, momentum_beta = reference.momentum_hyperparameters([0.01, 1.0])
    assert kappa == pytest.approx(100)
    assert gd_step == pytest.approx(2 / 1.01)
    assert momentum_lr == pytest.approx((2 / 1.1) ** 2)
    assert momentum_beta == pytest.approx((9 / 11) ** 2)
