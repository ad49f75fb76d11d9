"""Both versions of every notebook run top to bottom outside the autograder ("Run All").

The solution notebook runs without a single error, demos included. The untouched release runs
to the end too: each exercise's self-check says it is not done yet, and every demo falls back
to the reference in ``helpers`` and says so.
"""

from __future__ import annotations

import nbformat
import pytest

from instructor.execution import execute_notebook, printed_text
from instructor.notebook import topics

pytestmark = pytest.mark.e2e
TOPICS = topics()


def _execute(path):
    notebook = nbformat.read(path, as_version=4)
    return execute_notebook(notebook, path.parent)  # outside grading mode: demos run in full


def _failing_cells(notebook) -> list[str]:
    failing = []
    for index, cell in enumerate(notebook.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            failing.append(f"{grade_id}: {errors[0].ename}: {errors[0].evalue}")
    return failing


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _cells_showing_a_widget_twice(notebook) -> list[int]:
    """Cells whose outputs hold two views of one widget: a demo that displays itself, whose
    cell also shows it as its value (the cell should end with a semicolon)."""
    twice = []
    for index, cell in enumerate(notebook.cells):
        views = [output["data"][WIDGET_VIEW]["model_id"] for output in cell.get("outputs", [])
                 if WIDGET_VIEW in output.get("data", {})]
        if len(views) != len(set(views)):
            twice.append(index)
    return twice


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_solution_notebook_runs_without_errors(topic):
    notebook = _execute(topic.solution_path())
    assert _failing_cells(notebook) == []
    assert "not done yet" not in printed_text(notebook)
    assert _cells_showing_a_widget_twice(notebook) == [], "every demo cell shows one view"


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_untouched_release_runs_to_the_end_and_demos_fall_back(topic):
    notebook = _execute(topic.release_path())
    assert _failing_cells(notebook) == []
    printed = printed_text(notebook)
    for name in topic.exercises:
        assert f"`{name}` is not done yet: the demos below use the reference." in printed
    assert "this run used the reference from helpers" in printed
