"""The exercise registry of notebook 04: the solutions pass, unstarted rules say so, and the
hidden check can run where the reference does not exist."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import nbformat
import numpy as np
import pytest
import torch

from helpers.rules import checks
from helpers.rules.checks import EXERCISES, draw_adam_cases
from helpers.solution_cells import load_solution
from instructor.notebook import find_cell, nbgrader_metadata, setup_imports
from instructor.settings import REPO_ROOT

NOTEBOOK_PATH = REPO_ROOT / "solutions" / "04_optimizer_rules" / "optimizer_rules.ipynb"
NOTEBOOK = nbformat.read(NOTEBOOK_PATH, as_version=4)
PRELUDE = setup_imports(NOTEBOOK)


def _solution(name: str):
    """The solution cell's class, loaded the way the grader loads a submission."""
    return load_solution(name, [find_cell(NOTEBOOK, name).source], PRELUDE)


SKELETON = """
class {name}(Rule):
    def __init__(self, {arguments}):
        super().__init__({passed})

    def init(self, param):
        # YOUR CODE HERE
        raise NotImplementedError()

    def apply(self, state, param, grad):
        # YOUR CODE HERE
        raise NotImplementedError()
"""
WARMUP_SKELETON = """
def warmup(after, steps, start_factor=0.1):
    # YOUR CODE HERE
    raise NotImplementedError()
"""


def _skeleton(name: str) -> str:
    """The release's scaffold of an exercise: every method still raises."""
    if name == "warmup":
        return WARMUP_SKELETON
    if name == "Chain":
        return SKELETON.format(name=name, arguments="*rules", passed="rules=rules")
    return SKELETON.format(name=name, arguments="**hyperparameters", passed="**hyperparameters")


@pytest.mark.parametrize("name", list(EXERCISES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solution_cell_passes_its_hidden_check_when_loaded_like_a_submission(name, seed):
    EXERCISES[name].run_hidden_check(_solution(name), seed=seed)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_solution_cell_passes_its_self_check_with_a_friendly_line(name, capsys):
    EXERCISES.self_check(name, _solution(name))
    out = capsys.readouterr().out
    assert out.startswith(f"Your `{name}` ") and out.strip().endswith("The grader tries more.")


@pytest.mark.parametrize("name", list(EXERCISES))
def test_self_check_prints_not_done_yet_when_the_methods_raise_not_implemented(name, capsys):
    skeleton = load_solution(name, [_skeleton(name)], PRELUDE)
    EXERCISES.self_check(name, skeleton)
    out = capsys.readouterr().out
    assert out.strip() == f"`{name}` is not done yet: the demos below use the reference."


def test_registry_points_equal_the_test_cells_points_and_names_follow_the_grade_ids():
    points = {}
    for cell in NOTEBOOK.cells:
        meta = nbgrader_metadata(cell)
        if meta.get("grade") and not meta.get("solution"):
            points[meta["grade_id"]] = meta["points"]
    assert points == {f"test_{name}": exercise.points for name, exercise in EXERCISES.items()}
    for name in EXERCISES:
        assert nbgrader_metadata(find_cell(NOTEBOOK, name))["solution"]
        assert 2 <= EXERCISES[name].points <= 3


@pytest.mark.parametrize("name", list(EXERCISES))
def test_cases_are_plain_json_and_run_case_is_deterministic_with_one_array_per_key(name):
    exercise = EXERCISES[name]
    cases = exercise.draw_cases(np.random.default_rng(5))
    assert json.loads(json.dumps(cases)) == cases
    solution = _solution(name)
    first, again = exercise.run_case(solution, cases[0]), exercise.run_case(solution, cases[0])
    assert first.keys() == again.keys()
    for key, value in first.items():
        assert isinstance(np.asarray(value), np.ndarray), key
        assert torch.equal(value, again[key]), key


def test_run_case_records_the_documented_state_tensors():
    case = draw_adam_cases(np.random.default_rng(0))[0]
    outputs = EXERCISES["Adam"].run_case(_solution("Adam"), case)
    steps = case["steps"]
    for tensor in ("W", "b"):
        assert f"first moment m of {tensor} after step {steps}" in outputs
        assert f"second moment v of {tensor} after step {steps}" in outputs
        assert f"{tensor} after step {steps}" in outputs


DICT_STATE_ADAM = """
class Adam(Rule):
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def init(self, param):
        return {"m": torch.zeros_like(param), "v": torch.zeros_like(param), "t": 0}

    def apply(self, state, param, grad):
        m = self.beta1 * state["m"] + (1 - self.beta1) * grad
        v = self.beta2 * state["v"] + (1 - self.beta2) * grad**2
        t = state["t"] + 1
        m_hat, v_hat = m / (1 - self.beta1**t), v / (1 - self.beta2**t)
        return {"m": m, "v": v, "t": t}, self.lr * m_hat / (v_hat.sqrt() + self.epsilon)
"""


def test_a_state_with_another_layout_is_reported_as_missing_with_the_expected_layout():
    rule = load_solution("Adam", [DICT_STATE_ADAM], PRELUDE)
    with pytest.raises(AssertionError, match=r"missing: the state should be a tuple \(m, v, t\)"):
        EXERCISES["Adam"].run_hidden_check(rule, seed=0)


def _nesterov_variant(label: str):
    import variants_rules

    return load_solution("Nesterov", [variants_rules.WRONG["Nesterov"][label]], PRELUDE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_nesterov_state_stored_as_torchs_buffer_is_told_it_is_the_buffer_not_the_velocity(
    seed,
):
    rule = _nesterov_variant("stores_torchs_buffer_instead_of_the_velocity")
    with pytest.raises(AssertionError) as raised:
        EXERCISES["Nesterov"].run_hidden_check(rule, seed=seed)
    message = str(raised.value)
    assert message.startswith("`Nesterov` (lr=") and ": Velocity of W after step 1 " in message
    assert message.endswith(checks.TORCH_BUFFER)
    assert checks.HINTS["Nesterov"] not in message


def test_the_self_check_tells_a_nesterov_state_stored_as_torchs_buffer_the_same():
    rule = _nesterov_variant("stores_torchs_buffer_instead_of_the_velocity")
    with pytest.raises(AssertionError, match="torch's momentum buffer b = v / lr"):
        EXERCISES.self_check("Nesterov", rule)


@pytest.mark.parametrize(
    "label",
    ["heavy_ball_without_look_ahead", "velocity_not_carried_forward", "dampened_velocity"],
)
def test_other_wrong_nesterov_rules_get_the_general_hint_not_the_buffers(label):
    with pytest.raises(AssertionError) as raised:
        EXERCISES["Nesterov"].run_hidden_check(_nesterov_variant(label), seed=0)
    assert str(raised.value).endswith(checks.HINTS["Nesterov"])


def test_the_reference_itself_counts_as_a_shortcut():
    from helpers.rules import reference

    with pytest.raises(AssertionError, match="does the exercise for you"):
        EXERCISES["Adam"].run_hidden_check(reference.Adam, seed=0)


def test_checks_protocol_and_demos_import_and_run_cases_without_the_reference_module():
    """The grader's sandbox hides ``reference.py``: nothing the hidden check needs may use it."""
    script = textwrap.dedent(f"""
        import sys
        from importlib.abc import MetaPathFinder

        class HideReference(MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "helpers.rules.reference":
                    raise ImportError("hidden by the sandbox")
                return None

        sys.meta_path.insert(0, HideReference())
        import numpy as np
        import nbformat
        from helpers.solution_cells import load_solution
        from helpers.rules import demos  # noqa: F401
        from helpers.rules.checks import EXERCISES
        from instructor.notebook import find_cell, setup_imports

        notebook = nbformat.read({str(NOTEBOOK_PATH)!r}, as_version=4)
        prelude = setup_imports(notebook)
        for name, exercise in EXERCISES.items():
            rule = load_solution(name, [find_cell(notebook, name).source], prelude)
            for case in exercise.draw_cases(np.random.default_rng(0)):
                exercise.run_case(rule, case)
        assert "helpers.rules.reference" not in sys.modules
        print("ok")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip() == "ok", done.stderr


# warmup and Chain: each hint fits the realistic mistake it is meant for ----------------------

HINTS = {
    ("warmup", "after_not_restarted_when_the_ramp_ends"): "the rate is after(t - steps)",
    ("warmup", "ramp_towards_the_current_rate_of_after"): "During the ramp (t < steps)",
    ("warmup", "integer_division_in_the_ramp"): "During the ramp (t < steps)",
    ("warmup", "ramp_from_zero"): "At t = 0 the rate is start_factor * after(0)",
    ("warmup", "default_start_factor_of_zero"): "start_factor 0.1, its default",
    ("warmup", "counts_calls_instead_of_reading_t"): "do not count calls",
    ("Chain", "every_rule_sees_the_raw_gradient"): "each rule receives the previous rule's output",
    ("Chain", "adds_up_the_rules_steps"): "each rule receives the previous rule's output",
    ("Chain", "returns_the_old_states"): "returns the new state of every rule",
    ("Chain", "adjust_leaves_the_rules_unchanged"): "The first step is right, later ones are not",
    ("Chain", "adjusts_only_the_last_rule"): "The first step is right, later ones are not",
    ("Chain", "hyperparameters_not_collected_from_the_rules"):
        "`hyperparameters` should return the names of every rule's hyperparameters",
}


@pytest.mark.parametrize(("exercise", "label"), list(HINTS))
def test_the_hidden_check_and_the_self_check_give_the_hint_meant_for_the_mistake(
    exercise, label, capsys
):
    import variants_rules

    implementation = load_solution(exercise, [variants_rules.WRONG[exercise][label]], PRELUDE)
    for check in (lambda: EXERCISES[exercise].run_hidden_check(implementation, seed=3),
                  lambda: EXERCISES.self_check(exercise, implementation)):
        with pytest.raises(AssertionError) as raised:
            check()
        assert HINTS[exercise, label] in str(raised.value)
    capsys.readouterr()


def test_chain_cases_cover_a_nested_chain_and_a_rate_in_every_chain():
    for seed in range(5):
        cases = EXERCISES["Chain"].draw_cases(np.random.default_rng(seed))
        assert all(checks._rates(case["links"]) for case in cases)
    shapes = [str(shape) for shape in checks.CHAIN_SHAPES]
    assert any(shape.startswith("[[") for shape in shapes)
