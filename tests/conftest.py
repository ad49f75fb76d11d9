"""Shared set-up for the test suite: a headless matplotlib, the e2e marker, a released course."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before any test module imports pyplot

from instructor.classroom import Course, release  # noqa: E402
from instructor.notebook import REPO_ROOT  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: runs whole notebooks or nbgrader (`make test-fast` leaves these out)"
    )


@functools.cache
def released_course() -> Course:
    """A throw-away course whose release and gradebook come from this repository's solutions."""
    root = Path(tempfile.mkdtemp(prefix="released-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    course = Course(root=root)
    release(course)
    return course
