"""What a solution cell may rely on; the notebook's self-check sees what the grader sees."""

from __future__ import annotations

import linecache
import sys
import types

import pytest

from helpers.exercise import Exercise, Registry, Visible
from helpers.solution_cells import (
    RULE,
    defined_names,
    kernel_cells,
    load_solution,
    runnable_part,
)


def test_runnable_part_keeps_imports_definitions_and_plain_constants_only():
    cell = (
        "import math\n"
        "SCALE = 2.0\n"
        "PAIR = (1, -SCALE)\n"
        "EXPONENTS = {'square': 2, 'cube': 3 * 1}\n"
        "state = compute()\n"
        "print('hello')\n"
        "%timeit f(1)\n"
        "def f(x):\n"
        "    return SCALE * x\n"
        "class C:\n"
        "    pass\n"
        "f(3)\n"
    )
    kept = runnable_part(cell)
    assert "SCALE = 2.0" in kept and "PAIR = (1, -SCALE)" in kept and "EXPONENTS" in kept
    assert "compute" not in kept and "print" not in kept and "timeit" not in kept
    assert "f(3)" not in kept.replace("def f(x)", "")
    assert defined_names(cell) == {"math", "SCALE", "PAIR", "EXPONENTS", "f", "C"}


def test_a_constant_computed_by_a_call_is_not_a_plain_constant():
    assert "LIMIT" not in defined_names("import math\nLIMIT = math.sqrt(2)\n")
    assert "DATA" not in defined_names("DATA = load()\n")


def test_a_solution_may_use_a_constant_above_it_and_helpers_of_earlier_exercises():
    earlier = "def square(x):\n    return x * x\n\nclass Base:\n    power = 2\n"
    own = (
        "OFFSET = 1.5\n\n\nclass Shifted(Base):\n"
        "    def __call__(self, x):\n        return square(x) + OFFSET\n"
    )
    shifted = load_solution("Shifted", [earlier, own])
    assert shifted()(2.0) == 5.5
    assert shifted.power == 2


def test_an_earlier_exercise_left_undone_or_broken_costs_nothing_unless_it_is_used():
    undone = "def first(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    broken = "def second(x:\n    return x\n"  # not Python
    failing = "import not_a_module_anywhere\n\ndef third(x):\n    return x\n"
    own = "def fourth(x):\n    return 4 * x\n"
    fourth = load_solution("fourth", [undone, broken, failing, own])
    assert fourth(1) == 4


def test_the_exercises_own_cell_must_define_it_and_be_python():
    with pytest.raises(NameError, match="does not define `answer`"):
        load_solution("answer", ["def answer(x):\n    return x\n", "def other(x):\n    return x\n"])
    with pytest.raises(SyntaxError):
        load_solution("answer", ["def answer(x:\n"])


def test_statements_that_act_never_run_when_a_cell_is_loaded():
    own = "import sys\nsys.exit(3)\nLEFT = open('/nowhere')\ndef f():\n    return 1\n"
    assert load_solution("f", [own])() == 1


# --------------------------------------------------------------------------------------
# In a notebook's kernel: the cells IPython ran, read back from linecache
# --------------------------------------------------------------------------------------


@pytest.fixture
def kernel(monkeypatch):
    """A stand-in for a kernel: cells compiled under their own file names (kept in linecache,
    as IPython does) and run in a ``__main__`` namespace."""
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    names: list[str] = []

    def run_cell(source: str) -> None:
        filename = f"<cell-{len(names)}>"
        names.append(filename)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), vars(main))

    yield types.SimpleNamespace(run=run_cell, namespace=vars(main))
    for filename in names:
        linecache.cache.pop(filename, None)


def _registry() -> Registry:
    """Two exercises: ``Rate`` (a class) and ``scaled`` (a function), checked on one case."""

    def scaled_reference(x):
        return 2 * x + 1

    class RateReference:
        value = 0.5

    module = types.ModuleType("scratch_reference")
    module.scaled, module.Rate = scaled_reference, RateReference
    sys.modules["scratch_reference"] = module
    return Registry(
        "00_scratch",
        Exercise(
            "Rate",
            "scratch_reference:Rate",
            1,
            Visible(success="`Rate` passes the visible checks."),
            draw_cases=lambda rng: [{}],
            run_case=lambda implementation, case: {"rate": implementation().value},
        ),
        Exercise(
            "scaled",
            "scratch_reference:scaled",
            1,
            Visible(success="`scaled` passes the visible checks."),
            draw_cases=lambda rng: [{"x": 3.0}],
            run_case=lambda implementation, case: {"scaled x": implementation(case["x"])},
        ),
        setup=("import math",),
    )


def test_kernel_cells_are_the_cells_that_defined_the_exercises(kernel):
    kernel.run("class Rate:\n    value = 0.5\n    def get(self):\n        return self.value\n")
    kernel.run("OFFSET = 1\n\ndef scaled(x):\n    return 2 * x + OFFSET\n")
    cells = kernel_cells(["Rate", "scaled"], "scaled", kernel.namespace["scaled"])
    assert cells is not None and len(cells) == 2
    assert cells[0].startswith("class Rate") and "OFFSET = 1" in cells[1]


def test_outside_a_notebook_the_object_is_checked_as_it_is():
    assert kernel_cells(["scaled"], "scaled", lambda x: x) is None


def test_a_green_self_check_needs_the_code_the_grader_sees(kernel, capsys):
    registry = _registry()
    kernel.run("OFFSET = 1\n")  # a demo cell, not a solution cell: the grader never sees it
    kernel.run("def scaled(x):\n    return 2 * x + OFFSET\n")
    assert kernel.namespace["scaled"](3.0) == 7.0  # works in the kernel...
    with pytest.raises(AssertionError) as failed:  # ...but not where the grader runs it
        registry.self_check("scaled", kernel.namespace["scaled"])
    assert "`scaled` uses `OFFSET`" in str(failed.value) and RULE in str(failed.value)
    kernel.run("OFFSET = 1\n\n\ndef scaled(x):\n    return 2 * x + OFFSET\n")
    registry.self_check("scaled", kernel.namespace["scaled"])
    assert "`scaled` passes the visible checks." in capsys.readouterr().out


def test_the_self_check_loads_earlier_exercises_cells_as_the_grader_does(kernel, capsys):
    registry = _registry()
    kernel.run("class Rate:\n    value = 0.5\n\n    def half(self, x):\n        return x / 2\n")
    kernel.run("def scaled(x):\n    return 4 * Rate().half(x) + 1\n")
    registry.self_check("scaled", kernel.namespace["scaled"])
    assert "passes the visible checks" in capsys.readouterr().out


def test_an_unstarted_exercise_fails_under_nbgrader_but_lets_run_all_go_on(
    kernel, monkeypatch, capsys
):
    registry = _registry()
    kernel.run("def scaled(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    registry.self_check("scaled", kernel.namespace["scaled"])
    assert "`scaled` is not done yet" in capsys.readouterr().out
    for mode in ("validate", "autograde"):
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
        with pytest.raises(AssertionError, match="`scaled` is not done yet"):
            registry.self_check("scaled", kernel.namespace["scaled"])


# --------------------------------------------------------------------------------------
# Graded for real: the grader and the notebook's self-check agree on both kinds of answer
# --------------------------------------------------------------------------------------

ADAM_WITH_A_CONSTANT = '''
FIRST_STEP = 1


class Adam(Rule):
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def init(self, param):
        return torch.zeros_like(param), torch.zeros_like(param), FIRST_STEP - 1

    def apply(self, state, param, grad):
        m, v, t = state
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad**2
        t = t + 1
        m_hat, v_hat = m / (1 - self.beta1**t), v / (1 - self.beta2**t)
        return (m, v, t), self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
'''
ADAMW_ON_THE_STUDENTS_ADAM = '''
class AdamW(Adam):
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=1e-2):
        Rule.__init__(self, lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon,
                      weight_decay=weight_decay)

    def apply(self, state, param, grad):
        state, step = super().apply(state, param, grad)
        return state, step + self.lr * self.weight_decay * param
'''
CUBIC_WITH_A_HELPER = '''
TWO = 2.0


def summed_squares(prediction, target):
    return ((prediction - target) ** 2).sum()


def cubic_gradients(x, y, a, b, c, d):
    residual = a + b * x + c * x**2 + d * x**3 - y
    return tuple(float(np.sum(TWO * residual * x**power)) for power in range(4))
'''
FIT_WITH_THE_EARLIER_HELPER = '''
def fit_polynomial(model, x, y, optimizer, steps):
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = summed_squares(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history
'''
UPDATE_WITH_A_DEMO_CELLS_VARIABLE = '''
def gradient_update(loss, params, lr=1e-3):
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p -= SCALE * lr * g
'''
SUBMISSIONS = {
    "04_optimizer_rules": (
        {"Adam": ADAM_WITH_A_CONSTANT, "AdamW": ADAMW_ON_THE_STUDENTS_ADAM}, None
    ),
    "01_pytorch_basics": (
        {"cubic_gradients": CUBIC_WITH_A_HELPER, "fit_polynomial": FIT_WITH_THE_EARLIER_HELPER},
        None,
    ),
    "03_optimization": ({"gradient_update": UPDATE_WITH_A_DEMO_CELLS_VARIABLE}, "SCALE = 1.0"),
}


def _submission(assignment: str):
    """The release without its demo cells, with the solution cells above (and a cell of the
    student's own after the setup cells, where one is given)."""
    import nbformat

    from instructor.notebook import find_cell, nbgrader_metadata, topics

    topic = next(t for t in topics() if t.assignment == assignment)
    notebook = nbformat.read(topic.release_path(), as_version=4)
    replacements, own_cell = SUBMISSIONS[assignment]
    first = next(i for i, c in enumerate(notebook.cells) if nbgrader_metadata(c).get("solution"))
    notebook.cells = [
        cell
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown"
        or nbgrader_metadata(cell)
        or (index < first and "import" in cell.source)
    ]
    for grade_id, source in replacements.items():
        find_cell(notebook, grade_id).source = source
    if own_cell:
        notebook.cells.insert(first, nbformat.v4.new_code_cell(own_cell))
    return topic, notebook


@pytest.fixture(scope="module")
def graded_and_run(tmp_path_factory):
    """Each submission graded by the real class grader and run in a real kernel."""
    import nbformat

    from instructor import grading, model, release
    from instructor.execution import execute_notebook
    from instructor.settings import REPO_ROOT

    root = tmp_path_factory.mktemp("rule")
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    course = model.Course(root=root)
    release.release(course, list(SUBMISSIONS))
    run = {}
    for assignment in SUBMISSIONS:
        topic, notebook = _submission(assignment)
        folder = root / "submitted" / "student" / assignment
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / topic.notebook_name)
        run[assignment] = execute_notebook(notebook, REPO_ROOT / "notebooks" / assignment)
    results = grading.grade_class(
        course, workers=2, feedback=False, assignments=list(SUBMISSIONS)
    )
    return {r.assignment: r for r in results}, run


def _test_cell_output(notebook, exercise: str) -> str:
    import json

    from instructor.notebook import find_cell

    return json.dumps(find_cell(notebook, f"test_{exercise}").get("outputs", []))


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
@pytest.mark.parametrize(
    ("assignment", "exercise"),
    [("04_optimizer_rules", "Adam"), ("04_optimizer_rules", "AdamW"),
     ("01_pytorch_basics", "cubic_gradients"), ("01_pytorch_basics", "fit_polynomial")],
)
def test_constants_of_its_cell_and_earlier_exercises_code_earn_full_marks_and_a_green_check(
    graded_and_run, assignment, exercise
):
    from instructor.notebook import is_test_of, topics

    results, run = graded_and_run
    cells = results[assignment].cells
    earned = sum(points for grade_id, points in cells.items() if is_test_of(grade_id, exercise))
    registry = next(t for t in topics() if t.assignment == assignment).exercises
    assert earned == registry[exercise].points, results[assignment]
    output = _test_cell_output(run[assignment], exercise)
    assert '"output_type": "error"' not in output, output
    assert "not done yet" not in output


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
def test_a_variable_of_another_cell_fails_in_the_grader_and_in_the_self_check_alike(
    graded_and_run,
):
    results, run = graded_and_run
    assert results["03_optimization"].cells["test_gradient_update"] == 0
    output = _test_cell_output(run["03_optimization"], "gradient_update")
    assert "`gradient_update` uses `SCALE`" in output and "invisible to the grader" in output


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
def test_the_verdicts_check_label_reaches_the_gradebook_report(graded_and_run):
    from instructor import report
    from instructor.model import Course
    from instructor.verdicts import NAME_UNSEEN

    results, _ = graded_and_run
    update = results["03_optimization"]
    assert update.verdicts["gradient_update"].check == NAME_UNSEEN
    summary = report.summarize([update], Course())
    by_exercise = {entry.exercise: entry for entry in summary.exercises}
    assert by_exercise["gradient_update"].common_failure == NAME_UNSEEN
