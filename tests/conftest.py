"""Shared set-up for the test suite: a headless matplotlib, the e2e marker, a released course."""

from __future__ import annotations

import atexit
import datetime
import functools
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pytest
from traitlets.config import Config

matplotlib.use("Agg")  # before any test module imports pyplot

from instructor.model import Course
from instructor.notebook import REPO_ROOT  # noqa: E402
from instructor.release import read_manifest, release  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: runs whole notebooks or nbgrader (`make test-fast` leaves these out)"
    )


# `make bench` reports the suite's wall time from here (running the suite itself would take it
# far past its time budget): the last whole run (`make test`) and `-m "not e2e"` (`make test-fast`).
TEST_TIMES = REPO_ROOT / "benchmarks" / "test_times.json"
SESSION_STARTED: list[float] = []


def pytest_sessionstart(session):
    SESSION_STARTED.append(time.perf_counter())


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller times the whole run
    selection = {"": "all", "not e2e": "not e2e"}.get(config.option.markexpr or "")
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    option = config.option
    partial = option.keyword or getattr(option, "lf", False) or option.collectonly
    if selection is None or not whole_suite or partial:
        return  # a part of the suite: its time says nothing about `make test`
    times = json.loads(TEST_TIMES.read_text()) if TEST_TIMES.exists() else {}
    times[selection] = {
        "seconds": round(time.perf_counter() - SESSION_STARTED[0], 1),
        "tests": session.testscollected,
        "exit_status": int(exitstatus),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    TEST_TIMES.write_text(json.dumps(times, indent=2) + "\n")


@functools.cache
def released_course() -> Course:
    """A throw-away course whose release and gradebook come from this repository's solutions."""
    root = Path(tempfile.mkdtemp(prefix="released-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    course = Course(root=root)
    # with the committed release's course repository, so that the two compare equal
    release(course, course_repo=read_manifest(Course())["course_repo"] or "")
    return course


@pytest.fixture
def course_nbgrader_config() -> Callable[[], Config]:
    """Loads ``nbgrader_config.py`` as nbgrader does."""

    def load() -> Config:
        config = Config()
        path = REPO_ROOT / "nbgrader_config.py"
        code = compile(path.read_text(), path, "exec")
        exec(code, {"get_config": lambda: config, "__file__": str(path)})
        return config

    return load
