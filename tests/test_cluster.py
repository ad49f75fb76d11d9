"""Specification of grading on a Dask cluster and recording grades in a shared gradebook.

A generated class of the toy assignment (tests/fixtures/toy_course: seconds per notebook, where
a course notebook takes ten or more) is graded once the plain way; the cluster must give the
same grades.csv, table, graded notebooks and feedback, also when workers die mid-task.
"""

from __future__ import annotations

import copy
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from distributed import Client
from toy_class import released_toy_course, submit, submit_ungradable, toy_notebook

from instructor import cluster, gradebook, grading, model, report

pytestmark = [pytest.mark.nbgrader, pytest.mark.kernel, pytest.mark.bubblewrap, pytest.mark.network]

CELL_TIMEOUT = 10
KILL_TIMEOUT_S = 120
# The smaller class graded while a worker is killed: one of each kind is enough there.
KILLED_CLASS = ["correct", "wrong_add", "only_scale", "kernel_exits"]


def _with_solutions(release: nbformat.NotebookNode, **sources: str) -> nbformat.NotebookNode:
    """The release with the solution cells named in ``sources`` (add=..., scale=...) filled."""
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    return notebook


ADD = "def add(a, b):\n    return a + b"
SCALE = "def scale(x, factor):\n    return x * factor"
CLASS = {
    # correct
    "correct": {"add": ADD, "scale": SCALE},
    "correct_other_way": {
        "add": "def add(a, b):\n    return sum([a, b])",
        "scale": "def scale(x, factor):\n    return factor * x",
    },
    "correct_with_prints": {"add": ADD + "\nprint('done')", "scale": SCALE},
    # wrong
    "wrong_add": {"add": "def add(a, b):\n    return a - b", "scale": SCALE},
    "wrong_scale": {"add": ADD, "scale": "def scale(x, factor):\n    return x + factor"},
    "wrong_both": {
        "add": "def add(a, b):\n    return a * b",
        "scale": "def scale(x, factor):\n    return x**factor",
    },
    # unfinished
    "untouched": {},
    "only_add": {"add": ADD},
    "only_scale": {"scale": SCALE},
    # broken
    "syntax_error": {"add": "def add(a, b)\n    return a + b", "scale": SCALE},
    "kernel_exits": {"add": "import os\nos._exit(1)", "scale": SCALE},
}


@pytest.fixture(scope="module")
def toy_class(tmp_path_factory) -> model.Course:
    """The toy course released, and a class of 13 submissions plus a student without one."""
    course = released_toy_course(tmp_path_factory.mktemp("toy-class"))
    release = toy_notebook(course, "notebooks")
    for student, sources in CLASS.items():
        submit(course, student, _with_solutions(release, **sources))
    submit_ungradable(course)
    return course


def _graded_output(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every graded notebook and feedback file (mode, content), without the execution times
    that nbclient records in each cell (they differ between any two runs)."""
    found = {}
    for kind in ("autograded", "feedback"):
        for path in sorted((root / kind).rglob("*")):
            if not path.is_file():
                continue
            content = path.read_bytes()
            if path.suffix == ".ipynb":
                notebook = nbformat.reads(content.decode(), as_version=4)
                for cell in notebook.cells:
                    cell.metadata.pop("execution", None)
                content = nbformat.writes(notebook).encode()
            found[str(path.relative_to(root))] = (path.stat().st_mode, content)
    return found


def _csv(results, folder: Path) -> str:
    report.write_csv(results, folder / "grades.csv")
    return (folder / "grades.csv").read_text()


@pytest.fixture(scope="module")
def plain(toy_class, tmp_path_factory):
    """The class graded the plain way: grades.csv's text, and the graded notebooks and feedback."""
    output = tmp_path_factory.mktemp("plain")
    results = grading.grade_class(
        toy_class, output_root=output, workers=2, cell_timeout=CELL_TIMEOUT
    )
    return _csv(results, output), _graded_output(output), results


@pytest.fixture(scope="module")
def dask_cluster():
    with cluster.local_cluster(workers=2) as local, Client(local) as client:
        yield local.scheduler_address, client


def test_the_generated_class_has_every_kind_of_submission(plain):
    _, _, results = plain
    by_student = {r.student: r for r in results}
    assert len(results) == 14
    assert by_student["correct"].score == by_student["correct_other_way"].score == 3
    assert by_student["wrong_add"].score == 1 and by_student["wrong_scale"].score == 2
    assert by_student["wrong_both"].score == 0
    assert by_student["untouched"].score == 0 and by_student["only_add"].score == 2
    assert by_student["kernel_exits"].status == "kernel died"
    assert by_student["invalid_json"].status.startswith("invalid notebook")
    assert by_student["other_assignment_only"].status == "missing"


def test_a_local_cluster_of_two_workers_grades_exactly_as_the_plain_path(
    toy_class, plain, tmp_path, capsys
):
    plain_csv, plain_output, plain_results = plain
    results = grading.grade_class(
        toy_class, output_root=tmp_path, workers=2, cell_timeout=CELL_TIMEOUT, scheduler="local"
    )
    assert "Dask dashboard: http" in capsys.readouterr().out
    assert _csv(results, tmp_path) == plain_csv
    assert report.format_table(results) == report.format_table(plain_results)
    assert _graded_output(tmp_path) == plain_output


def _postgres_server(folder: Path):
    """Start Debian's PostgreSQL on a free localhost port, data in ``folder``; its URL and a
    function that stops it. initdb and postgres refuse to run as root: then as ``nobody``."""
    found = shutil.which("pg_ctl") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)), None
    )
    if found is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    binaries = Path(found).resolve().parent
    as_user: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    initdb = [binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"]
    subprocess.run([*as_user, *initdb, "-E", "UTF8"], check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_user, binaries / "pg_ctl", "-D", data, "-w", "-t", "60"]
    subprocess.run(
        [*pg_ctl, "-l", folder / "log", "-o", options, "start"], check=True, capture_output=True
    )

    def stop() -> None:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared-gradebook.db'}"
        return
    folder = Path(tempfile.mkdtemp(prefix="gradebook-postgres-"))  # nobody can reach it
    try:
        url, stop = _postgres_server(folder)
        try:
            yield url
        finally:
            stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _rows(url: str) -> dict[tuple[str, str], dict[str, float]]:
    """Every submission's automatic score per test cell in the gradebook at ``url``."""
    with gradebook.opened(url) as book:
        return {
            (submission.student.id, submission.assignment.name): {
                grade.name: grade.auto_score
                for notebook in submission.notebooks
                for grade in notebook.grades
            }
            for assignment in book.assignments
            for submission in assignment.submissions
        }


def test_recorded_gradebook_holds_the_grades_csv_scores_and_regrading_replaces_rows(
    toy_class, plain, db_url
):
    _, _, results = plain
    gradebook.record(db_url, toy_class, results)
    expected = {
        (r.student, r.assignment): {"test_add": 0.0, "test_scale": 0.0} | r.cells
        for r in results
        if r.status != "missing"
    }
    assert _rows(db_url) == expected

    regraded = [
        model.Result(
            "untouched", "toy", model.Status.OK, 3.0, 3.0, {"test_add": 2, "test_scale": 1}
        )
    ]
    gradebook.record(db_url, toy_class, results + regraded)  # a rerun, then a regrade
    expected["untouched", "toy"] = {"test_add": 2.0, "test_scale": 1.0}
    assert _rows(db_url) == expected
    with gradebook.opened(db_url) as book:
        assert book.find_submission("toy", "untouched").score == 3
        assert len(book.assignment_submissions("toy")) == len(expected)


def _executing(dask_worker) -> list[str]:
    return [task.key for task in dask_worker.state.executing]


def _kill_a_worker_running(client: Client, key: str | None = None) -> str:
    """SIGKILL a worker once it has run a grading task (``key``, or any) for a second; the
    task's key. The nanny starts a fresh worker in its place."""
    deadline = time.monotonic() + KILL_TIMEOUT_S
    seen: dict[tuple[str, str], float] = {}
    while time.monotonic() < deadline:
        for worker, keys in client.run(_executing, on_error="ignore").items():
            for running in keys:
                if key not in (None, running) or not running.startswith("grade-"):
                    continue
                since = seen.setdefault((worker, running), time.monotonic())
                if time.monotonic() - since >= 1.0:
                    os.kill(client.run(os.getpid, workers=[worker])[worker], signal.SIGKILL)
                    return running
        time.sleep(0.1)
    raise TimeoutError("no grading task ran long enough on a worker to be killed")


def test_a_worker_killed_mid_task_costs_one_retry_and_nothing_is_lost_or_graded_twice(
    toy_class, plain, dask_cluster, tmp_path
):
    _, plain_output, plain_results = plain
    address, client = dask_cluster
    client.wait_for_workers(2, timeout=60)
    with ThreadPoolExecutor(1) as thread:
        graded = thread.submit(
            grading.grade_class,
            toy_class,
            output_root=tmp_path,
            students=KILLED_CLASS,
            cell_timeout=CELL_TIMEOUT,
            scheduler=address,
        )
        killed = _kill_a_worker_running(client)
        results = graded.result(timeout=600)
    assert killed.startswith("grade-toy-")
    expected = [r for r in plain_results if r.student in KILLED_CLASS]
    assert sorted((r.student, r.assignment) for r in results) == sorted(
        (r.student, r.assignment) for r in expected
    )
    assert _csv(results, tmp_path) == _csv(expected, tmp_path)
    assert _graded_output(tmp_path) == {
        path: output
        for path, output in plain_output.items()
        if Path(path).parts[1] in KILLED_CLASS
    }


def test_a_submission_whose_task_kills_two_workers_is_marked_crashed_worker(
    toy_class, dask_cluster, tmp_path
):
    address, client = dask_cluster
    client.wait_for_workers(2, timeout=60)  # the nanny has replaced the worker killed above
    with ThreadPoolExecutor(1) as thread:
        graded = thread.submit(
            grading.grade_class, toy_class, output_root=tmp_path, students=["correct"],
            scheduler=address,
        )
        key = _kill_a_worker_running(client)
        _kill_a_worker_running(client, key)
        [result] = graded.result(timeout=600)
    assert (result.student, result.status, result.score, result.max_score) == (
        "correct",
        model.Status.CRASHED_WORKER,
        0,
        3,
    )
    assert _graded_output(tmp_path) == {}


def test_workers_with_another_course_version_are_refused_with_the_differences(
    toy_class, dask_cluster, tmp_path, monkeypatch
):
    address, client = dask_cluster
    client.wait_for_workers(2, timeout=60)  # the nannies have replaced the workers killed above
    theirs = cluster.course_version()
    ours = copy.deepcopy(theirs)
    ours["files"]["helpers/__init__.py"] = "0" * 64
    ours["packages"]["torch"] = "0.1"
    monkeypatch.setattr(cluster, "course_version", lambda: ours)  # here, not on the workers
    with pytest.raises(cluster.CourseVersionError) as refusal:
        grading.grade_class(toy_class, output_root=tmp_path, scheduler=address)
    message = str(refusal.value)
    assert "Refusing to grade: 2 of 2 Dask workers" in message
    assert f"torch {theirs['packages']['torch']} (here 0.1), helpers/__init__.py differs" in message
    assert not (tmp_path / "autograded").exists()


def test_a_task_refuses_to_grade_on_a_worker_that_joined_with_another_version(
    toy_class, dask_cluster
):
    _, client = dask_cluster
    submission = cluster.Submission("correct", "toy", {})
    shipped = cluster.course_files(toy_class, ["toy"])
    task = client.submit(
        cluster.grade_on_worker,
        submission,
        shipped,
        version="not-this-one",
        threads_by_host={},
        cell_timeout=None,
        feedback=False,
        sandboxed=False,
    )
    with pytest.raises(cluster.CourseVersionError, match="is not not-this-one"):
        task.result()
