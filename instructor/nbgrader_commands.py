"""Running nbgrader's own commands on a course, the same way everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from instructor.model import Course
from instructor.settings import SETTINGS


def nbgrader_command(course: Course, *arguments: str, db: Path | None = None) -> list[str]:
    """``nbgrader <arguments>`` on ``course`` (with ``db`` as its gradebook, default the
    course's own)."""
    database = db if db is not None else course.gradebook
    return [
        sys.executable,
        "-m",
        "nbgrader",
        *arguments,
        f"--CourseDirectory.root={course.root}",
        f"--CourseDirectory.source_directory={course.source}",
        f"--CourseDirectory.release_directory={course.release}",
        f"--CourseDirectory.submitted_directory={course.submitted}",
        f"--CourseDirectory.db_url=sqlite:///{database}",
    ]


def subprocess_environment(threads: int | None = None) -> dict[str, str]:
    """Our environment, with this interpreter's scripts first on PATH (nbgrader runs
    `alembic` from there), library warnings off (nbgrader scores a test cell that writes to
    stderr 0, and a deprecation in torch says nothing about the student's answer) and, when
    given, the number of threads each kernel may use."""
    scripts = str(Path(sys.executable).parent)
    environment = {
        **os.environ,
        "PATH": scripts + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONWARNINGS": "ignore",
    }
    if threads is not None:
        # Parallel kernels that each start one thread per core fight over the cores and
        # run many times slower than kernels that share them out.
        environment["OMP_NUM_THREADS"] = str(threads)
        environment["MKL_NUM_THREADS"] = str(threads)
    return environment


def run(command: Sequence[str]) -> subprocess.CompletedProcess:
    """Run an nbgrader command to its end. It reads ``nbgrader_config.py`` from the working
    directory: always this repository's."""
    return subprocess.run(
        command, cwd=SETTINGS.root, env=subprocess_environment(), capture_output=True, text=True
    )
