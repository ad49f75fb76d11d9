"""Shared set-up for the test suite: a headless matplotlib, the tiers, a released course.

Tests are tiered by what they need. A test marked with one of ``RESOURCES`` needs that
resource; every other test runs in this process alone and is marked ``fast`` here
(``make test-fast`` runs ``-m fast``).
"""

from __future__ import annotations

import atexit
import datetime
import functools
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pytest
from traitlets.config import Config

matplotlib.use("Agg")  # before any test module imports pyplot

from instructor.model import Course  # noqa: E402
from instructor.release import read_manifest, release  # noqa: E402
from instructor.settings import REPO_ROOT  # noqa: E402

RESOURCES = {
    "kernel": "runs notebooks in a Jupyter kernel",
    "nbgrader": "runs nbgrader: release, autograde, feedback",
    "bubblewrap": "decides verdicts in the bubblewrap sandbox (bwrap)",
    "browser": "drives Debian's Chromium through Playwright",
    "postgres": "starts a PostgreSQL server",
    "network": "serves on local ports: a Jupyter server, a hub, a Dask cluster, a website",
}
FAST = "fast"
# Hidden cases drawn for a test (fixture ``hidden_seed``) come from this run's seed, printed
# first and after any failure; setting the variable replays a run. The environment carries it
# to pytest-xdist's workers.
SEED_VARIABLE = "HIDDEN_CASES_SEED"


def pytest_configure(config):
    for name, needs in RESOURCES.items():
        config.addinivalue_line("markers", f"{name}: {needs}")
    config.addinivalue_line("markers", f"{FAST}: needs none of the resources (make test-fast)")
    os.environ.setdefault(SEED_VARIABLE, str(secrets.randbits(32)))


def _seed_line() -> str:
    seed = os.environ[SEED_VARIABLE]
    return f"hidden cases drawn with seed {seed} ({SEED_VARIABLE}={seed} replays this run)"


def pytest_report_header(config):
    return _seed_line()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if terminalreporter.stats.get("failed") or terminalreporter.stats.get("error"):
        terminalreporter.write_line(_seed_line())


@pytest.fixture
def hidden_seed() -> int:
    """The seed this run draws hidden cases with (see ``SEED_VARIABLE``)."""
    return int(os.environ[SEED_VARIABLE])


def pytest_collection_modifyitems(config, items):
    for item in items:
        if not any(item.get_closest_marker(name) for name in RESOURCES):
            item.add_marker(FAST)


# `make bench` reports the suite's wall time from here (running the suite itself would take it
# far past its time budget): the last whole run (`make test`) and `-m fast` (`make test-fast`).
TEST_TIMES = REPO_ROOT / "benchmarks" / "test_times.json"
SESSION_STARTED: list[float] = []


def pytest_sessionstart(session):
    SESSION_STARTED.append(time.perf_counter())


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: the controller times the whole run
    selection = {"": "all", FAST: FAST}.get(config.option.markexpr or "")
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
