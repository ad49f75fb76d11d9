"""Every setting of the instructor's tooling in one place: folders, limits, names.

``nbgrader_config.py``, the course model, the grading stages and the verdict runner all read
``SETTINGS``; nothing else defines a folder name, a time or memory limit, or a course-wide
name. Reading this module has no side effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Folders:
    """The course's folders, relative to its root (nbgrader's course directory)."""

    source: str = "solutions"
    release: str = "notebooks"
    submitted: str = "submitted"
    autograded: str = "autograded"
    feedback: str = "feedback"
    gradebook: str = "gradebook.db"
    roster: str = "roster.txt"
    grades: str = "grades.csv"


@dataclass(frozen=True)
class Limits:
    """Time and memory a submission may use while it is graded."""

    # One cell of the student's notebook, and one exercise's code in the verdict child.
    cell_timeout_s: int = 120
    # The whole of one submission's nbgrader process.
    submission_timeout_s: int = 600
    # nbgrader's process with the student's kernel (a runaway allocation fails that cell).
    grading_memory_gb: float = 6.0
    # The verdict runner: its imports before the first exercise, and its address space.
    runner_start_s: int = 60
    runner_memory_gb: float = 4.0
    # Beyond an exercise's time limit, for the runner to report it.
    answer_margin_s: int = 10
    # What one exercise's child may send back to the grader.
    result_bytes: int = 64 * 2**20


@dataclass(frozen=True)
class Settings:
    root: Path = REPO_ROOT
    folders: Folders = field(default_factory=Folders)
    limits: Limits = field(default_factory=Limits)
    # Example submissions that ship with the repo, so that `make grade` works on a fresh clone:
    # student name -> the folder their notebooks come from.
    example_students: tuple[tuple[str, str], ...] = (
        ("reference-solution", "source"),
        ("untouched-release", "release"),
    )
    # The kernelspec that starts a student's kernel inside the sandbox.
    sandbox_kernel: str = "course-sandbox"
    # What no grading run may change: the course's code, configuration, solutions and data.
    protected: tuple[str, ...] = (
        "helpers", "instructor", "nbgrader_config.py", "solutions", "data"
    )


SETTINGS = Settings()
