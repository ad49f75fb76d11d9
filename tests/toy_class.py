"""The toy assignment (tests/fixtures/toy_course: two exercises, seconds to grade) as a class:
the course released in a temporary folder, one notebook per student under ``submitted/``, and
the hand-ins every class has that cannot be graded. Used by tests/test_classroom.py and
tests/test_cluster.py.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import nbformat

from instructor import model, release

TOY = Path(__file__).parent / "fixtures" / "toy_course"


@functools.cache
def _released_once() -> Path:
    """The toy course released once per test process (nbgrader takes seconds to release)."""
    root = Path(tempfile.mkdtemp(prefix="toy-release-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    shutil.copytree(TOY, root, dirs_exist_ok=True)
    release.release(model.Course(root=root))
    return root


def released_toy_course(root: Path) -> model.Course:
    """The toy course and its release (``root/notebooks``, the gradebook), copied to ``root``."""
    shutil.copytree(_released_once(), root, dirs_exist_ok=True)
    return model.Course(root=root)


def toy_notebook(course: model.Course, folder: str) -> nbformat.NotebookNode:
    """The toy notebook as released (``folder="notebooks"``) or with its solutions."""
    return nbformat.read(course.root / folder / "toy" / "toy.ipynb", as_version=4)


def submit(course: model.Course, student: str, notebook: nbformat.NotebookNode) -> None:
    folder = course.root / course.submitted / student / "toy"
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / "toy.ipynb")


def submit_ungradable(course: model.Course) -> None:
    """Invalid JSON, a notebook renamed by a second download, and a student who handed in only
    another assignment (a ``missing`` row for the toy)."""
    submitted = course.root / course.submitted
    (submitted / "invalid_json" / "toy").mkdir(parents=True)
    (submitted / "invalid_json" / "toy" / "toy.ipynb").write_text('{"cells": [ not json')
    misnamed = submitted / "misnamed" / "toy"
    misnamed.mkdir(parents=True)
    nbformat.write(toy_notebook(course, "notebooks"), misnamed / "Toy (1).ipynb")
    (submitted / "other_assignment_only" / "another").mkdir(parents=True)
