"""Specification of helpers.deep_linear.checks: the registry of notebook 02's exercises, its
hidden checks (in the draw_cases / run_case / compare form) and its visible self-checks."""

import inspect
import json
import re

import nbformat
import numpy as np
import pytest
import torch

from helpers.checking import ShortcutError
from helpers.deep_linear import ASSIGNMENT, reference
from helpers.deep_linear.checks import EXERCISES
from helpers.deep_linear.theory import saxe_trajectory
from helpers.solution_cells import load_solution
from instructor.notebook import find_cell, nbgrader_metadata, setup_imports
from instructor.settings import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / ASSIGNMENT / "deep_linear_networks.ipynb"
SOLUTION = nbformat.read(NOTEBOOK, as_version=4)
PRELUDE = setup_imports(SOLUTION)
NAMES = ["ex_initializer_", "ex_net_svd", "saxe_half_time", "ex_net_rsm", "linear_regression"]
REFERENCES = {
    "ex_initializer_": reference.initializer_,
    "ex_net_svd": reference.net_svd,
    "saxe_half_time": reference.saxe_half_time,
    "ex_net_rsm": reference.net_rsm,
    "linear_regression": reference.linear_regression,
}


def solution(name: str):
    """The notebook's own answer, defined the way the grader defines a submission's."""
    return load_solution(name, [find_cell(SOLUTION, name).source], PRELUDE)


def pasted_reference(name: str):
    """The reference's source pasted into the solution cell under the exercise's name."""
    function = REFERENCES[name]
    source = inspect.getsource(function).replace(f"def {function.__name__}(", f"def {name}(", 1)
    return load_solution(name, [source], PRELUDE)


def variant(name: str, body: str):
    """A student's cell: the exercise's signature from the notebook, with ``body``."""
    header = find_cell(SOLUTION, name).source.split("\n", 1)[0]
    return load_solution(name, [f"{header}\n{body}"], PRELUDE)


def test_registry_lists_the_five_exercises_in_notebook_order_with_their_points():
    assert EXERCISES.assignment == ASSIGNMENT == "02_deep_linear_networks"
    assert list(EXERCISES) == NAMES
    assert {name: EXERCISES[name].points for name in NAMES} == {
        "ex_initializer_": 2,
        "ex_net_svd": 3,
        "saxe_half_time": 1,
        "ex_net_rsm": 2,
        "linear_regression": 2,
    }


@pytest.mark.parametrize("name", NAMES)
def test_points_equal_the_test_cells_points(name):
    test_cell = find_cell(SOLUTION, f"test_{name}")
    assert nbgrader_metadata(test_cell)["points"] == EXERCISES[name].points


@pytest.mark.parametrize("name", NAMES)
def test_each_test_cell_is_the_self_check_and_the_hidden_check(name):
    assert find_cell(SOLUTION, f"test_{name}").source == (
        "from helpers.deep_linear import checks\n\n"
        f'checks.self_check("{name}", {name})\n'
        "### BEGIN HIDDEN TESTS\n"
        f'checks.hidden_check("{name}", {name})\n'
        "### END HIDDEN TESTS"
    )


@pytest.mark.parametrize("name", NAMES)
def test_reference_pasted_into_the_cell_passes_its_own_hidden_check(name):
    EXERCISES[name].run_hidden_check(pasted_reference(name), seed=0)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_notebook_solution_passes_the_hidden_check_on_fresh_cases(name, seed):
    EXERCISES[name].run_hidden_check(solution(name), seed=seed)


@pytest.mark.parametrize("name", NAMES)
def test_reference_calls_in_a_submission_earn_nothing(name):
    with pytest.raises(ShortcutError, match="does the exercise for you"):
        EXERCISES[name].run_hidden_check(REFERENCES[name], seed=0)


@pytest.mark.parametrize("name", NAMES)
def test_cases_are_plain_data_and_fresh_for_each_draw(name):
    exercise = EXERCISES[name]
    first = exercise.draw_cases(np.random.default_rng(1))
    second = exercise.draw_cases(np.random.default_rng(2))
    assert json.loads(json.dumps(first)) == first
    assert first != second


@pytest.mark.parametrize("name", NAMES)
def test_run_case_is_deterministic_raw_and_leaves_the_global_rng_alone(name):
    exercise = EXERCISES[name]
    for case in exercise.draw_cases(np.random.default_rng(5)):
        state = torch.get_rng_state()
        once = exercise.run_case(REFERENCES[name], case)
        assert torch.equal(torch.get_rng_state(), state)
        twice = exercise.run_case(REFERENCES[name], case)
        assert once.keys() == twice.keys()
        for what, value in once.items():
            array = np.asarray(value)
            assert array.dtype != object, what
            assert np.array_equal(array, np.asarray(twice[what])), what
        exercise.compare(case, twice, once)


# --------------------------------------------------------------------------------------
# Self-checks: friendly messages, the same mistakes as the hidden checks, no answers
# --------------------------------------------------------------------------------------

SUCCESS = {
    "ex_initializer_": "Looks good: every layer was redrawn in place",
    "ex_net_svd": "Looks good: U and V have orthonormal columns",
    "saxe_half_time": "Looks good: a mode of strength 6 that starts at 1.5",
    "ex_net_rsm": "Looks good: the RSM of 4 inputs",
    "linear_regression": "Looks good: the true weights of noiseless data were recovered.",
}


@pytest.mark.parametrize("name", NAMES)
def test_self_check_says_looks_good_for_the_solution(name, capsys):
    EXERCISES.self_check(name, solution(name))
    assert capsys.readouterr().out.startswith(SUCCESS[name])


@pytest.mark.parametrize("name", NAMES)
def test_self_check_of_an_exercise_not_started_prints_one_not_done_line(name, capsys):
    EXERCISES.self_check(name, variant(name, "    raise NotImplementedError"))
    captured = capsys.readouterr()
    assert captured.out == f"`{name}` is not done yet: the demos below use the reference.\n"
    assert captured.err == ""


@pytest.mark.parametrize("name", NAMES)
def test_self_check_refuses_the_reference(name):
    with pytest.raises(ShortcutError, match="does the exercise for you"):
        EXERCISES.self_check(name, REFERENCES[name])


MISTAKES = [
    (
        "ex_initializer_",
        """
    for weight in model.parameters():
        nn.init.normal_(weight, 0.0, gamma / math.sqrt(weight.shape[1]))""",
        "wrong standard deviation: check the formula for sigma",
    ),
    (
        "ex_initializer_",
        """
    for weight in model.parameters():
        weight = torch.randn_like(weight) * gamma / math.sqrt(sum(weight.shape))""",
        "Some weights were not redrawn.",
    ),
    (
        "ex_initializer_",
        """
    for layer in model.layers:
        n_out, n_in = layer.weight.shape
        layer.weight = nn.Parameter(torch.randn(n_out, n_in) * gamma / math.sqrt(n_in + n_out))""",
        "in place, not replace the parameters",
    ),
    (
        "ex_initializer_",
        """
    for weight in model.parameters():
        nn.init.xavier_normal_(weight, gain=gamma / math.sqrt(2.0))""",
        "uses a ready-made Xavier initializer (torch.nn.init.xavier_normal_)",
    ),
    (
        "ex_net_svd",
        """
    w_tot = torch.eye(in_dim)
    for weight in model.parameters():
        w_tot = weight.detach() @ w_tot
    return torch.linalg.svd(w_tot, full_matrices=False)""",
        "you returned V^T",
    ),
    (
        "ex_net_svd",
        """
    w_tot = torch.eye(in_dim)
    for weight in model.parameters():
        w_tot = weight.detach() @ w_tot
    U, S, V = torch.svd(w_tot)
    return U, torch.diag(S), V""",
        "S should be a vector of 3 singular values.",
    ),
    ("ex_net_rsm", "    return h.T @ h", "one per hidden unit"),
    ("ex_net_rsm", "    return h @ h.T / h.shape[1]", "The RSM of 4 inputs is not right"),
    ("linear_regression", "    return Y @ X.T", "is not right"),
    ("linear_regression", "    return (Y @ X.T @ np.linalg.inv(X @ X.T)).T", "has shape (2, 3)"),
]


@pytest.mark.parametrize(("name", "body", "message"), MISTAKES)
def test_self_check_names_the_mistake(name, body, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        EXERCISES.self_check(name, variant(name, body))


@pytest.mark.parametrize(("name", "body", "message"), MISTAKES)
def test_hidden_check_catches_what_the_self_check_catches(name, body, message, hidden_seed):
    with pytest.raises(AssertionError):
        EXERCISES.hidden_check(name, variant(name, body), seed=hidden_seed)


def test_the_half_time_solves_the_closed_form_for_half_the_final_strength():
    s, tau, u0 = 6.0, 100.0, 1.5
    t = reference.saxe_half_time(s, tau, u0)
    assert float(saxe_trajectory(np.array([t]), s, tau, u0)[0]) == pytest.approx(s / 2)


def test_half_time_cases_include_modes_started_near_their_strength():
    cases = EXERCISES["saxe_half_time"].draw_cases(np.random.default_rng(5))
    assert any(case["s"] / case["u0"] < 10 for case in cases)
    assert any(case["s"] / case["u0"] > 1e6 for case in cases)
