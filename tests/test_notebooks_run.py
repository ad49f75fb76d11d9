"""Both versions of every notebook run top to bottom outside the autograder.

The solution notebook runs without a single error, demos included (nbgrader validate runs it
in grading mode, where heavy demos are skipped). The untouched release runs too: only the
exercises' test cells fail, and every demo falls back to the reference in ``helpers``.
"""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.classroom import REPO_ROOT, Course

COURSE = Course()
NOTEBOOKS = [(a, name) for a in COURSE.assignments() for name in COURSE.notebook_names(a)]


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


@pytest.mark.parametrize(("assignment", "name"), NOTEBOOKS)
def test_solution_notebook_runs_without_errors(assignment, name):
    notebook = _execute(REPO_ROOT / "solutions" / assignment / name)
    assert _failing_cells(notebook) == []


@pytest.mark.parametrize(("assignment", "name"), NOTEBOOKS)
def test_untouched_release_fails_only_in_test_cells_and_demos_fall_back(assignment, name):
    notebook = _execute(REPO_ROOT / "notebooks" / assignment / name)
    failing = _failing_cells(notebook)
    assert failing, "the untouched release should fail its tests"
    assert all(line.startswith("test_") for line in failing), failing
    printed = "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )
    assert "is not implemented yet; this demo uses the reference from helpers" in printed
