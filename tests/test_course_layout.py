"""Every notebook is built the same way (CONTRIBUTING.md): found by rule, never by a list."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from widget_cells import widget_calls, widget_functions

from instructor.notebook import is_test_of, nbgrader_metadata, setup_imports, topics
from instructor.settings import REPO_ROOT

TOPICS = topics()
IDS = [topic.assignment for topic in TOPICS]


def _exercise_cells(notebook) -> dict[str, tuple[str, dict]]:
    return {
        nbgrader_metadata(cell)["grade_id"]: (cell.source, nbgrader_metadata(cell))
        for cell in notebook.cells
        if nbgrader_metadata(cell).get("grade_id")
    }


def test_every_solution_folder_has_a_topic_package():
    folders = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir())
    assert [topic.assignment for topic in TOPICS] == folders


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_topic_package_has_the_common_modules(topic):
    for module in ("reference", "checks", "demos"):
        importlib.import_module(f"{topic.package.__name__}.{module}")


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_registry_matches_the_notebooks_solution_and_test_cells(topic):
    cells = _exercise_cells(nbformat.read(topic.solution_path(), as_version=4))
    for name, exercise in topic.exercises.items():
        source, meta = cells[name]
        assert meta["solution"] and not meta["grade"], f"{name} is not a solution cell"
        test_cells = {k: m for k, (_, m) in cells.items() if is_test_of(k, name)}
        assert test_cells, f"{name} has no test cell"
        assert sum(m["points"] for m in test_cells.values()) == exercise.points
        for grade_id in test_cells:
            test_source = cells[grade_id][0]
            assert f'checks.self_check("{name}", {name})' in test_source
            assert f'checks.hidden_check("{name}", {name})' in test_source
    solution_ids = {k for k, (_, m) in cells.items() if m.get("solution") and m.get("grade_id")}
    assert solution_ids <= set(topic.exercises), "a graded solution cell is not in the registry"


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_registry_setup_is_the_notebooks_setup_imports(topic):
    """What a solution cell may rely on is what the notebook's setup cells import."""
    notebook = nbformat.read(topic.solution_path(), as_version=4)
    assert list(topic.exercises.setup) == setup_imports(notebook)


def test_checks_never_import_the_reference():
    """The grader's sandbox hides reference.py, so every checks.py must work without it."""
    probe = (
        "import sys, importlib\n"
        f"for package in {[topic.package.__name__ for topic in TOPICS]!r}:\n"
        "    importlib.import_module(package + '.checks')\n"
        "print([name for name in sys.modules\n"
        "       if name.startswith('helpers.') and name.endswith('.reference')])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_solution_notebook_and_its_jupytext_source_are_in_sync(topic):
    paired = topic.solution_path().with_suffix(".py")
    assert paired.exists(), f"run `make sync` to create {paired.name}"
    from_ipynb = jupytext.read(topic.solution_path())
    from_py = jupytext.read(paired)
    assert [(c.cell_type, c.source) for c in from_ipynb.cells] == [
        (c.cell_type, c.source) for c in from_py.cells
    ], f"{paired.name} and its notebook differ: run `make sync`"
    assert [nbgrader_metadata(c) for c in from_ipynb.cells] == [
        nbgrader_metadata(c) for c in from_py.cells
    ]


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_solution_notebook_is_committed_without_outputs(topic):
    notebook = nbformat.read(topic.solution_path(), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


def _imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_a_topic_imports_no_other_notebooks_package_and_no_answer_module(topic):
    """Answers are reached only through the registry (the student's code, or the reference
    while it is not done); what two notebooks share lives in the core of ``helpers``."""
    folder = Path(topic.package.__file__).parent
    others = {f"helpers.{t.name}" for t in TOPICS if t is not topic}
    for path in sorted(folder.glob("*.py")):
        if path.name == "reference.py":
            continue
        modules = _imported_modules(path)
        answers = sorted(m for m in modules if m.split(".")[-1] == "reference")
        borrowed = sorted(
            m for m in modules if any(m == o or m.startswith(o + ".") for o in others)
        )
        assert (answers, borrowed) == ([], []), path


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_a_widget_is_the_value_of_the_cell_that_builds_it(topic):
    """The widget contract (helpers/widgets.py): a widget function returns its widget and the
    cell ends with the call, so Jupyter shows it once. A semicolon would hide it, an
    assignment or a later line would drop it."""
    widgets = widget_functions(topic)
    assert widgets, f"{topic.assignment} has no widget"
    notebook = nbformat.read(topic.solution_path(), as_version=4)
    for index, tree, call in widget_calls(notebook, widgets):
        last = tree.body[-1]
        assert isinstance(last, ast.Expr) and last.value is call, (
            f"{call.func.attr} is not the last expression of its cell")
        assert not notebook.cells[index].source.rstrip().endswith(";"), (
            f"{call.func.attr} is hidden by a semicolon")
    shown = {call.func.attr for _, _, call in widget_calls(notebook, widgets)}
    assert shown == widgets, f"widgets no notebook cell shows: {sorted(widgets - shown)}"


def test_helpers_display_nothing_but_figures():
    """Only ``helpers.widgets.show`` calls ``display``: a widget displayed by its function
    would be shown twice, once more as the cell's value."""
    callers = []
    for path in sorted((REPO_ROOT / "helpers").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "display"):
                    callers.append(f"{path.relative_to(REPO_ROOT)}:{function.name}")
    assert callers == ["helpers/widgets.py:show"]


def _instructor_imports() -> dict[str, set[str]]:
    """Each module of ``instructor/`` and the modules of ``instructor/`` it imports."""
    modules = {path.stem: path for path in (REPO_ROOT / "instructor").glob("*.py")}
    imports = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "instructor":
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("instructor."):
                found.add(node.module.split(".")[1])
        imports[name] = found & modules.keys()
    return imports


def test_the_graders_stages_import_each_other_without_a_cycle():
    imports = _instructor_imports()

    def reachable(start: str) -> set[str]:
        seen, waiting = set(), list(imports[start])
        while waiting:
            module = waiting.pop()
            if module not in seen:
                seen.add(module)
                waiting += imports[module]
        return seen

    assert [name for name in sorted(imports) if name in reachable(name)] == []


def test_no_module_of_the_grader_uses_a_private_name_of_another():
    modules = {path.stem for path in (REPO_ROOT / "instructor").glob("*.py")}
    borrowed = []
    for path in sorted((REPO_ROOT / "instructor").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("instructor"):
                borrowed += [f"{path.stem}: {alias.name}" for alias in node.names
                             if alias.name.startswith("_")]
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in modules and node.attr.startswith("_")
                  and not node.attr.startswith("__")):
                borrowed.append(f"{path.stem}: {node.value.id}.{node.attr}")
    assert borrowed == []
