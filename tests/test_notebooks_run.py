"""Both versions of every notebook run top to bottom outside the autograder ("Run All").

The solution notebook runs without a single error, demos included. The untouched release runs
to the end too: each exercise's self-check says it is not done yet, and every demo falls back
to the reference in ``helpers`` and says so.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from instructor.notebook import topics

pytestmark = pytest.mark.e2e
TOPICS = topics()


def _execute(path):
    notebook = nbformat.read(path, as_version=4)
    environment = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    client = NotebookClient(
        notebook,
        timeout=300,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=environment)  # a kernel outside grading mode: demos run in full
    return notebook


def _failing_cells(notebook) -> list[str]:
    failing = []
    for index, cell in enumerate(notebook.cells):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {index}")
            failing.append(f"{grade_id}: {errors[0].ename}: {errors[0].evalue}")
    return failing


def _printed(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_solution_notebook_runs_without_errors(topic):
    notebook = _execute(topic.solution_path())
    assert _failing_cells(notebook) == []
    assert "not done yet" not in _printed(notebook)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_untouched_release_runs_to_the_end_and_demos_fall_back(topic):
    notebook = _execute(topic.release_path())
    assert _failing_cells(notebook) == []
    printed = _printed(notebook)
    for name in topic.exercises:
        assert f"`{name}` is not done yet: the demos below use the reference." in printed
    assert "this run used the reference from helpers" in printed
