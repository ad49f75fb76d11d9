"""Grade hand-written variants of exercise cells with the real ``nbgrader autograde``.

A *variant* is a student submission built from the release notebook by replacing solution
cells, found by ``grade_id``, with other source code: a realistic mistake, a correct answer
written differently, or the reference answer alone. The mutation suites in
``test_mutants.py`` uses ``grade_variants`` to check that the hidden tests tell them apart.
"""

from __future__ import annotations

import atexit
import functools
import math
import os
import shutil
import tempfile
from pathlib import Path

import nbformat

from helpers.classroom import OK, REPO_ROOT, Course, grade_class, release


@functools.cache
def released_course() -> Course:
    """A throw-away course folder whose release and gradebook come from this repo's solutions."""
    root = Path(tempfile.mkdtemp(prefix="mutants-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    course = Course(root=root)
    release(course)
    return course


def solution_source(assignment: str, notebook_name: str, grade_id: str) -> str:
    """The reference answer: the solution cell ``grade_id`` of the source notebook."""
    notebook = nbformat.read(REPO_ROOT / "solutions" / assignment / notebook_name, as_version=4)
    return _find_cell(notebook, grade_id).source


def _find_cell(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def grade_variants(
    assignment: str,
    notebook_name: str,
    variants: dict[str, dict[str, str]],
    workers: int | None = None,
) -> dict[str, dict[str, float]]:
    """Autograde each variant; return ``{variant: {test grade_id: points}}``.

    ``variants`` maps a variant name (a valid folder name) to ``{grade_id: new cell source}``.
    Variants are graded in a few large batches (one nbgrader process per worker) to keep the
    suites fast; a variant whose grading fails raises, since that would hide a real result.
    """
    course = released_course()
    release_notebook = course.root / course.release / assignment / notebook_name
    with tempfile.TemporaryDirectory(prefix="variants-") as tmp:
        submitted = Path(tmp) / "submitted"
        for name, replacements in variants.items():
            notebook = nbformat.read(release_notebook, as_version=4)
            for grade_id, source in replacements.items():
                _find_cell(notebook, grade_id).source = source
            folder = submitted / name / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / notebook_name)
        workers = workers or os.cpu_count() or 1
        batch = math.ceil(len(variants) / workers)
        results = grade_class(
            course,
            submitted_root=submitted,
            output_root=Path(tmp) / "out",
            workers=workers,
            batch_size=batch,
            assignments=[assignment],
            feedback=False,
        )
    failed = {r.student: r.status for r in results if r.status != OK}
    if failed:
        raise RuntimeError(f"grading failed for variants: {failed}")
    return {r.student: r.cells for r in results}


def exercise_points(cells: dict[str, float], exercise: str) -> float:
    """Points a graded variant earned on the test cells of ``exercise``."""
    prefix = f"test_{exercise}"
    return sum(points for grade_id, points in cells.items() if grade_id.startswith(prefix))


def graded_cell_points(assignment: str, notebook_name: str) -> dict[str, float]:
    """``{test grade_id: maximum points}`` of the source notebook's autograded cells."""
    notebook = nbformat.read(REPO_ROOT / "solutions" / assignment / notebook_name, as_version=4)
    points = {}
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            points[meta["grade_id"]] = float(meta["points"])
    return points


def combine_variants(
    versions_by_exercise: dict[str, dict[str, str]], prefix: str
) -> tuple[dict[str, dict[str, str]], dict[tuple[str, str], str]]:
    """Pack variants of different exercises into as few submissions as possible.

    Tests of one exercise depend only on that exercise, so submission ``prefix_i`` can carry
    the i-th version of every exercise at once. Returns the submissions and, for each
    ``(exercise, label)``, the submission that carries it.
    """
    submissions: dict[str, dict[str, str]] = {}
    carrier: dict[tuple[str, str], str] = {}
    longest = max(len(versions) for versions in versions_by_exercise.values())
    for index in range(longest):
        name = f"{prefix}_{index}"
        submissions[name] = {}
        for exercise, versions in versions_by_exercise.items():
            if index < len(versions):
                label = list(versions)[index]
                submissions[name][exercise] = versions[label]
                carrier[(exercise, label)] = name
    return submissions, carrier
