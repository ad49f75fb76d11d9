"""No grading run may change the course: the protected files' fingerprints, before and after.

A sandbox that leaked or a bug in the grader would show here as a changed file; grading then
writes no grades (``IntegrityError``). A Dask worker compares the same fingerprints to refuse a
course version other than the scheduler's (``instructor.cluster``).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

from instructor.model import Course
from instructor.settings import SETTINGS


class IntegrityError(RuntimeError):
    """A protected file of the course changed while submissions were being graded."""


def fingerprint(root: Path) -> dict[str, str]:
    """The SHA-256 of every protected file under ``root`` (caches excluded)."""
    digests = {}
    for name in SETTINGS.protected:
        top = root / name
        paths = [top] if top.is_file() else sorted(top.rglob("*")) if top.is_dir() else []
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@contextlib.contextmanager
def course_left_untouched(course: Course) -> Iterator[None]:
    """Raise ``IntegrityError`` if grading changed a protected file of this repository or of
    ``course`` (a sandbox that leaked, or a bug): no grades are written then."""
    before = {root: fingerprint(root) for root in {SETTINGS.root, course.root}}
    yield
    for root, digests in before.items():
        after = fingerprint(root)
        changed = sorted(
            path for path in digests.keys() | after.keys() if digests.get(path) != after.get(path)
        )
        if changed:
            raise IntegrityError(
                f"Course files changed while grading: {', '.join(changed[:10])}. No grades "
                "were written. Restore them (git status, git checkout) and find the submission "
                "that changed them before grading again."
            )
