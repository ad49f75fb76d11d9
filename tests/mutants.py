"""Grade hand-made submissions of a notebook with the real ``nbgrader autograde``.

A *variant* is a submission built from the release notebook by replacing solution cells,
found by ``grade_id``, with other source code (a mistake, a correct answer written
differently, the reference answer alone). ``test_mutants.py`` and the release tests use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nbformat
from conftest import released_course

from instructor.grading import grade_class
from instructor.model import Status
from instructor.notebook import Topic, find_cell, is_test_of, nbgrader_metadata


def cell_source(notebook: nbformat.NotebookNode, grade_id: str) -> str:
    return find_cell(notebook, grade_id).source


def grade_variants(topic: Topic, variants: dict[str, dict[str, str]]) -> dict[str, dict]:
    """Autograde each variant; return ``{variant: {test grade_id: points}}``.

    ``variants`` maps a variant name (a folder name) to ``{grade_id: new cell source}``. The
    variants are trusted code, so they are graded in two large batches (one nbgrader process
    per core) to keep the suite fast; a variant whose grading fails raises.
    """
    course = released_course()
    release_notebook = topic.release_path(course.root)
    with tempfile.TemporaryDirectory(prefix="variants-") as tmp:
        submitted = Path(tmp) / "submitted"
        for name, replacements in variants.items():
            notebook = nbformat.read(release_notebook, as_version=4)
            for grade_id, source in replacements.items():
                find_cell(notebook, grade_id).source = source
            folder = submitted / name / topic.assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / topic.notebook_name)
        workers = os.cpu_count() or 1
        results = grade_class(
            course,
            submitted_root=submitted,
            output_root=Path(tmp) / "out",
            workers=workers,
            batch_size=-(-len(variants) // workers),
            assignments=[topic.assignment],
            feedback=False,
        )
    failed = {r.student: r.status_text() for r in results if r.status is not Status.OK}
    if failed:
        raise RuntimeError(f"grading failed for variants: {failed}")
    return {r.student: r.cells for r in results}


def exercise_points(cells: dict[str, float], exercise: str) -> float:
    """Points on the test cells of ``exercise`` (``test_<exercise>`` or ``test_<exercise>_*``)."""
    return sum(points for grade_id, points in cells.items() if is_test_of(grade_id, exercise))


def graded_cell_points(topic: Topic) -> dict[str, float]:
    """``{test grade_id: maximum points}`` of the solution notebook's autograded cells."""
    notebook = nbformat.read(topic.solution_path(), as_version=4)
    return {
        nbgrader_metadata(cell)["grade_id"]: float(nbgrader_metadata(cell)["points"])
        for cell in notebook.cells
        if nbgrader_metadata(cell).get("grade") and not nbgrader_metadata(cell).get("solution")
    }
