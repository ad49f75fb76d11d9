"""Taking submissions in: the roster, what makes a submission gradable, and putting back the
test cells a student removed or changed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from instructor.model import Course, Note, NoteKind, Status
from instructor.notebook import nbgrader_metadata


def read_roster(path: Path) -> list[str]:
    """The students of a roster file: one name per line (their folder under ``submitted/``);
    blank lines and ``#`` comments are ignored."""
    if not path.exists():
        raise FileNotFoundError(f"No roster at {path}: write one student per line.")
    names: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if "/" in name or "\\" in name or name in {".", ".."}:
            raise ValueError(
                f"{path}, line {number}: {name!r} is not a student's folder name under submitted/."
            )
        if name not in names:
            names.append(name)
    return names


@dataclass(frozen=True)
class Intake:
    """Whether a submission can be graded as it is: a status, and what it is about."""

    status: Status
    detail: str = ""


def check_submission(course: Course, folder: Path, assignment: str) -> Intake:
    """``Status.OK``, or why the submission in ``folder`` cannot be graded as it is."""
    if not folder.is_dir():
        return Intake(Status.MISSING)
    for name in course.notebook_names(assignment):
        path = folder / name
        if not path.exists():
            others = sorted(p.name for p in folder.glob("*.ipynb"))
            found = f" (found {', '.join(others)})" if others else ""
            return Intake(Status.MISSING_NOTEBOOK, f"{name}{found}")
        try:
            notebook = nbformat.read(path, as_version=4)
            nbformat.validate(notebook)
        except Exception as error:  # JSON errors, schema errors, wrong encodings
            return Intake(Status.INVALID_NOTEBOOK, f"{name}: {_where_it_breaks(error)}")
    return Intake(Status.OK)


def _where_it_breaks(error: Exception) -> str:
    """The exception's class, and the line and column where the JSON breaks, if it does."""
    cause = error if isinstance(error, json.JSONDecodeError) else error.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"{type(error).__name__} at line {cause.lineno}, column {cause.colno}"
    return type(error).__name__


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


# What nbgrader's metadata says about how a cell is graded (nbgrader adds its own checksums).
GRADED_FIELDS = ("grade", "solution", "grade_id", "points", "task")


def _graded_fields(cell: nbformat.NotebookNode) -> dict:
    meta = nbgrader_metadata(cell)
    return {name: meta.get(name) for name in GRADED_FIELDS}


def restore_test_cells(release_notebook: Path, submission: Path) -> list[Note]:
    """Put back test cells the student deleted, turned into another cell type or whose
    nbgrader metadata they changed (a test cell made a solution cell, its points or grade_id
    changed), and the nbgrader metadata of solution cells.

    nbgrader restores the *contents* of edited test cells itself, but scores a deleted one 0,
    may skip a retyped one, and fails on a test cell turned into a solution cell. Deleted cells
    go back after the cell that precedes them in the release. Returns what was done, as notes.
    """
    released = nbformat.read(release_notebook, as_version=4)
    student = nbformat.read(submission, as_version=4)
    notes: list[Note] = []
    release_cells = {_grade_id(cell): cell for cell in released.cells if _grade_id(cell)}
    # A graded cell the release does not have (pasted from elsewhere, or forged) would make
    # nbgrader reject the whole notebook: it becomes an ordinary cell.
    for cell in student.cells:
        if "nbgrader" in cell.get("metadata", {}) and _grade_id(cell) not in release_cells:
            notes.append(Note(NoteKind.IGNORED_UNKNOWN_CELL, _grade_id(cell) or "(no grade_id)"))
            del cell.metadata["nbgrader"]
    by_id = {_grade_id(cell): index for index, cell in enumerate(student.cells) if _grade_id(cell)}
    previous_id = None
    for cell in released.cells:
        meta = nbgrader_metadata(cell)
        grade_id = meta.get("grade_id")
        if meta.get("grade") and not meta.get("solution"):
            if grade_id not in by_id:
                position = by_id.get(previous_id, len(student.cells) - 1) + 1
                student.cells.insert(position, cell)
                notes.append(Note(NoteKind.RESTORED_DELETED, grade_id))
            elif student.cells[by_id[grade_id]].cell_type != cell.cell_type:
                student.cells[by_id[grade_id]] = cell
                notes.append(Note(NoteKind.RESTORED_RETYPED, grade_id))
            elif _graded_fields(student.cells[by_id[grade_id]]) != _graded_fields(cell):
                student.cells[by_id[grade_id]] = cell
                notes.append(Note(NoteKind.RESTORED_METADATA, grade_id))
            by_id = {_grade_id(c): i for i, c in enumerate(student.cells) if _grade_id(c)}
        elif grade_id in by_id:
            answer = student.cells[by_id[grade_id]]
            if _graded_fields(answer) != _graded_fields(cell) or answer.cell_type != cell.cell_type:
                answer.metadata["nbgrader"] = dict(meta)
                if answer.cell_type != cell.cell_type:
                    student.cells[by_id[grade_id]] = _retyped(answer, cell.cell_type)
                notes.append(Note(NoteKind.RESTORED_METADATA, grade_id))
        if grade_id:
            previous_id = grade_id
    if notes:
        nbformat.write(student, submission)
    return notes


def _retyped(cell: nbformat.NotebookNode, cell_type: str) -> nbformat.NotebookNode:
    """A cell of ``cell_type`` with ``cell``'s source and metadata (a solution cell the
    student turned into markdown is code again, with their text in it)."""
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    return make(cell.source, metadata=cell.metadata)
