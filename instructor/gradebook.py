"""The class's grades in an nbgrader gradebook that outlives a grading run (``--db-url``).

Every grading process works on a private copy of the release's ``gradebook.db`` (the course's
structure: assignments, notebooks, test cells), so that a submission can never touch another
student's rows. The final rows reach the shared gradebook only here, from the machine that
runs ``make grade``, after the whole class has been graded and the course files have been
checked unchanged: one writer, whatever the number of grading machines.

The gradebook is any SQLAlchemy URL nbgrader accepts: ``sqlite:///grades.db`` on one machine,
or PostgreSQL (``postgresql+psycopg://user:password@host:5432/course``) where several machines,
formgrader or several instructors share it. Recording is idempotent: each student's earlier
submission of an assignment is replaced, never added to.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Sequence

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SAWarning

from instructor.model import Course, Result, Status
from instructor.nbgrader_commands import subprocess_environment


class GradebookError(RuntimeError):
    """The gradebook at ``--db-url`` cannot be opened."""


def normalized_url(url: str) -> str:
    """``url`` with PostgreSQL's driver made explicit: psycopg (3), the one the course installs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def shown(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    return make_url(normalized_url(url)).render_as_string(hide_password=True)


@contextlib.contextmanager
def opened(url: str) -> Iterator[Gradebook]:
    """nbgrader's ``Gradebook`` at ``url``, created when empty; a clear error when unreachable."""
    url = normalized_url(url)
    # nbgrader stamps a new database by running `alembic`, installed next to this interpreter.
    path = os.environ.get("PATH")
    os.environ["PATH"] = subprocess_environment()["PATH"]
    try:
        with warnings.catch_warnings():
            # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings.
            warnings.simplefilter("ignore", SAWarning)
            try:
                gradebook = Gradebook(url)
            except ArgumentError as error:
                raise GradebookError(
                    f"{url!r} is not a database URL (such as sqlite:///grades.db or "
                    "postgresql+psycopg://user@host:5432/course)."
                ) from error
            except (OperationalError, ModuleNotFoundError) as error:
                reason = getattr(error, "orig", None) or error
                raise GradebookError(f"Cannot open the gradebook {shown(url)}: {reason}") from error
            with gradebook:
                yield gradebook
    finally:
        if path is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = path


def check(url: str) -> None:
    """Open (and if need be create) the gradebook now, before hours of grading depend on it."""
    with opened(url):
        pass


def _copy_structure(source: Gradebook, target: Gradebook, assignment: str) -> None:
    """Make ``target`` know ``assignment``'s notebooks and cells as the release defines them."""
    released = source.find_assignment(assignment)
    target.update_or_create_assignment(assignment, duedate=released.duedate)
    for notebook in released.notebooks:
        target.update_or_create_notebook(notebook.name, assignment)
        where = (notebook.name, assignment)
        for cell in notebook.grade_cells:
            target.update_or_create_grade_cell(
                cell.name, *where, max_score=cell.max_score, cell_type=cell.cell_type
            )
        for cell in notebook.solution_cells:
            target.update_or_create_solution_cell(cell.name, *where)
        for cell in notebook.task_cells:
            target.update_or_create_task_cell(
                cell.name, *where, max_score=cell.max_score, cell_type=cell.cell_type
            )
        for cell in notebook.source_cells:
            target.update_or_create_source_cell(
                cell.name,
                *where,
                cell_type=cell.cell_type,
                locked=cell.locked,
                source=cell.source,
                checksum=cell.checksum,
            )


def _replace_submission(gradebook: Gradebook, result: Result) -> None:
    """The student's rows for the assignment, exactly as ``result`` (and grades.csv) says."""
    gradebook.update_or_create_student(result.student)
    with contextlib.suppress(MissingEntry):
        gradebook.remove_submission(result.assignment, result.student)
    if result.status is Status.MISSING:  # no folder for the assignment: no submission rows
        return
    submission = gradebook.add_submission(result.assignment, result.student)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.name in result.cells:
                grade.auto_score = result.cells[grade.name]
            elif grade.cell_type == "code":  # a submission that could not be graded earns 0
                grade.auto_score = 0.0
            # as nbgrader's SaveAutoGrades: an automatic score needs no human
            grade.needs_manual_grade = grade.auto_score is None
    gradebook.db.commit()


def record(url: str, course: Course, results: Sequence[Result]) -> None:
    """Write ``results`` into the gradebook at ``url``, replacing each student's earlier rows."""
    assignments = sorted({result.assignment for result in results})
    with opened(url) as target:
        with opened(f"sqlite:///{course.gradebook}") as release:
            for assignment in assignments:
                _copy_structure(release, target, assignment)
        for result in results:
            _replace_submission(target, result)
