"""Running nbgrader's own commands on a course, the same way everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from instructor.model import Course
from instructor.settings import SETTINGS

THEN = "--then"  # separates the commands of one nbgrader_steps process


def nbgrader_command(course: Course, *arguments: str, db: Path | None = None) -> list[str]:
    """``nbgrader <arguments>`` on ``course`` (with ``db`` as its gradebook, default the
    course's own)."""
    return [sys.executable, "-m", "nbgrader", *arguments, *_course_options(course, db)]


def nbgrader_steps(course: Course, *steps: Sequence[str], db: Path | None = None) -> list[str]:
    """Several nbgrader commands (``("autograde", ...)``, ``("generate_feedback", ...)``) in
    one process, each only once the one before it succeeded: nbgrader's imports and start-up
    (seconds per process) are paid once (``run_steps``)."""
    command = [sys.executable, "-m", "instructor.nbgrader_commands"]
    for index, step in enumerate(steps):
        if index:
            command.append(THEN)
        command += [*step, *_course_options(course, db)]
    return command


def _course_options(course: Course, db: Path | None) -> list[str]:
    database = db if db is not None else course.gradebook
    return [
        f"--CourseDirectory.root={course.root}",
        f"--CourseDirectory.source_directory={course.source}",
        f"--CourseDirectory.release_directory={course.release}",
        f"--CourseDirectory.submitted_directory={course.submitted}",
        f"--CourseDirectory.db_url=sqlite:///{database}",
    ]


def run_steps(arguments: Sequence[str]) -> int:
    """Each ``THEN``-separated nbgrader command of ``arguments`` in turn, as ``nbgrader``
    would run it; the exit status of the first that fails, 0 once all succeeded."""
    from jupyter_core.application import NoStart
    from jupyter_core.utils import ensure_event_loop
    from nbgrader.apps.nbgraderapp import NbGraderApp

    steps: list[list[str]] = [[]]
    for argument in arguments:
        if argument == THEN:
            steps.append([])
        else:
            steps[-1].append(argument)
    for step in steps:
        ensure_event_loop()
        app = NbGraderApp()
        try:
            app.initialize(step)
            app.start()
        except NoStart:  # how a Jupyter application ends once its subcommand has run
            pass
        except SystemExit as stop:  # nbgrader exits 1 when any submission failed
            if stop.code:
                return stop.code if isinstance(stop.code, int) else 1
        finally:
            if app.subapp is not None:  # a singleton: the next step makes its own
                type(app.subapp).clear_instance()
    return 0


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


if __name__ == "__main__":
    sys.exit(run_steps(sys.argv[1:]))
