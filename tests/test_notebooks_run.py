"""Both versions of every notebook run top to bottom outside the autograder ("Run All").

The solution notebook runs without a single error, demos included. The untouched release runs
to the end too: each exercise's self-check says it is not done yet, and every demo falls back
to the reference in ``helpers`` and says so.
"""

from __future__ import annotations

import nbformat
import pytest
from widget_cells import widget_calls, widget_functions

from instructor.execution import execute_notebook, printed_text
from instructor.notebook import topics

pytestmark = [pytest.mark.kernel]
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


def _widget_views(notebook, topic) -> dict[int, int]:
    """For each cell that builds a demo widget, how many widget views its outputs hold."""
    cells = {index for index, _, _ in widget_calls(notebook, widget_functions(topic))}
    return {index: sum(WIDGET_VIEW in output.get("data", {})
                       for output in notebook.cells[index].get("outputs", []))
            for index in sorted(cells)}


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_solution_notebook_runs_without_errors(topic):
    notebook = _execute(topic.solution_path())
    assert _failing_cells(notebook) == []
    assert "not done yet" not in printed_text(notebook)
    views = _widget_views(notebook, topic)
    assert views and set(views.values()) == {1}, f"views per widget cell: {views}"


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_untouched_release_runs_to_the_end_and_demos_fall_back(topic):
    notebook = _execute(topic.release_path())
    assert _failing_cells(notebook) == []
    printed = printed_text(notebook)
    for name in topic.exercises:
        assert f"`{name}` is not done yet: the demos below use the reference." in printed
    assert "this run used the reference from helpers" in printed
