"""Grade a class on a Dask cluster: one task per submission, the same results as ``make grade``.

    make grade SCHEDULER=local                # a LocalCluster on this machine, one worker per core
    make grade SCHEDULER=tcp://host:8786      # a running cluster (`dask scheduler`, `dask worker`)

Each task grades one student's submission of one assignment with ``batch.grade_batch``
(its own nbgrader process, sandboxed kernel and verdicts, exactly as on one machine) in a
temporary folder on the worker. It carries what is specific to this run: the submission's
files, and the assignment's source and release notebooks with the release gradebook
(one task's result, which workers fetch once). It returns the result and the autograded and feedback
files, which this machine writes where the plain path writes them: the table, ``grades.csv``
and ``feedback/`` come out the same.

Workers need only the course's code and environment (``helpers``, ``instructor``,
``nbgrader_config.py``, ``data`` and the grading packages): a shared filesystem, or the same
commit set up on each worker. Before grading, and again in every task, the worker's
``course_version`` must equal this machine's, or grading is refused with the differences.

A worker that dies costs only its task: the scheduler runs it elsewhere. A task that was on
two workers that died is not tried again: its row says ``crashed worker``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import stat
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from distributed import Client, Future, KilledWorker, LocalCluster, as_completed, get_worker
from distributed.comm.addressing import get_address_host

from instructor import batch
from instructor.batch import BatchOptions, Job
from instructor.integrity import fingerprint
from instructor.model import Course, Result, Status
from instructor.settings import REPO_ROOT

# A task that was running on one worker that died runs again elsewhere; on a second, it stops.
ALLOWED_FAILURES = 1
# Submissions in flight per worker thread: the rest wait here as paths, not in memory as bytes.
TASKS_PER_THREAD = 2
WAIT_FOR_WORKERS_S = 120
# What a worker must run at the same version as this machine, besides the course's own files.
GRADING_PACKAGES = ("nbgrader", "nbconvert", "nbclient", "ipykernel", "torch", "numpy")
# Course folders that travel with the tasks, so they may differ (or be absent) on workers.
SHIPPED = ("solutions",)
SKIPPED_FOLDERS = {".ipynb_checkpoints", "__pycache__"}


class CourseVersionError(RuntimeError):
    """A worker's course code or grading packages differ from this machine's."""


# --------------------------------------------------------------------------------------
# The course version every worker must share
# --------------------------------------------------------------------------------------


def course_version() -> dict[str, dict[str, str]]:
    """What grading on this machine depends on: the SHA-256 of every file of the course's
    code, configuration and data, and the versions of Python and of the grading packages."""
    files = {
        path: digest
        for path, digest in fingerprint(REPO_ROOT).items()
        if Path(path).parts[0] not in SHIPPED
    }
    packages = {"python": platform.python_version()}
    for package in GRADING_PACKAGES:
        try:
            packages[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            packages[package] = "missing"
    return {"files": files, "packages": packages}


def version_id(version: dict[str, dict[str, str]]) -> str:
    """A short hash of a ``course_version``, for messages and for the check in every task."""
    return hashlib.sha256(json.dumps(version, sort_keys=True).encode()).hexdigest()[:16]


def differences(here: dict, there: dict) -> list[str]:
    """How ``there``'s course version differs from ``here``'s, one phrase per difference."""
    found = []
    for package in sorted(here["packages"].keys() | there["packages"].keys()):
        ours, theirs = here["packages"].get(package), there["packages"].get(package)
        if ours != theirs:
            found.append(f"{package} {theirs or 'missing'} (here {ours or 'missing'})")
    for path in sorted(here["files"].keys() | there["files"].keys()):
        if path not in there["files"]:
            found.append(f"{path} missing")
        elif path not in here["files"]:
            found.append(f"{path} not in this course")
        elif here["files"][path] != there["files"][path]:
            found.append(f"{path} differs")
    return found


def refuse_other_versions(here: dict, workers: dict[str, dict]) -> None:
    """Raise ``CourseVersionError`` naming every worker whose course version is not ``here``."""
    wrong = {
        address: differences(here, version)
        for address, version in sorted(workers.items())
        if version_id(version) != version_id(here)
    }
    if not wrong:
        return
    lines = [
        f"Refusing to grade: {len(wrong)} of {len(workers)} Dask workers do not run this "
        f"course's version {version_id(here)}:"
    ]
    for address, found in wrong.items():
        more = f", and {len(found) - 5} more" if len(found) > 5 else ""
        lines.append(f"  {address}: {', '.join(found[:5])}{more}")
    lines.append(
        "Give every worker this checkout (a shared filesystem) or the same commit and "
        "environment (`make` in a clone), restart the workers, then grade again."
    )
    raise CourseVersionError("\n".join(lines))


# --------------------------------------------------------------------------------------
# What a task carries, and what it does on the worker
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFiles:
    """The assignments' source and release folders and the release gradebook, as bytes."""

    source: str
    release: str
    files: dict[str, bytes]  # path relative to the course root -> content

    @property
    def digest(self) -> str:
        hashed = hashlib.sha256()
        for path, content in sorted(self.files.items()):
            hashed.update(path.encode() + b"\0" + hashlib.sha256(content).digest())
        return hashed.hexdigest()[:16]


def _files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not SKIPPED_FOLDERS & set(path.relative_to(folder).parts)
    }


def course_files(course: Course, assignments: Iterable[str]) -> CourseFiles:
    files = {"gradebook.db": course.gradebook.read_bytes()}
    for folder in (course.source, course.release):
        for assignment in assignments:
            for path, content in _files_under(course.root / folder / assignment).items():
                files[f"{folder}/{assignment}/{path}"] = content
    return CourseFiles(course.source, course.release, files)


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    files: dict[str, bytes]  # path relative to the submission folder -> content


@dataclass(frozen=True)
class Graded:
    result: Result
    # "autograded/<student>/<assignment>/..." or "feedback/...": (file mode, content)
    outputs: dict[str, tuple[int, bytes]]


def _course_on_this_worker(shipped: CourseFiles, scratch: Path) -> Course:
    """The shipped course, written once per worker into its scratch folder (Dask removes it)."""
    root = scratch / f"course-{shipped.digest}"
    if not root.exists():
        partial = Path(tempfile.mkdtemp(prefix="course-partial-", dir=scratch))
        for path, content in shipped.files.items():
            (partial / path).parent.mkdir(parents=True, exist_ok=True)
            (partial / path).write_bytes(content)
        try:
            partial.rename(root)  # atomic: a task in another thread sees all of it or none
        except OSError:  # that other task finished first
            shutil.rmtree(partial)
    return Course(root=root, source=shipped.source, release=shipped.release)


def grade_on_worker(
    submission: Submission,
    shipped: CourseFiles,
    *,
    version: str,
    threads_by_host: dict[str, int],
    cell_timeout: int | None,
    feedback: bool,
    sandboxed: bool | None,
) -> Graded:
    """Grade one submission on this Dask worker exactly as ``batch.grade_batch`` does."""
    worker = get_worker()
    mine = course_version()
    if version_id(mine) != version:
        raise CourseVersionError(
            f"Refusing to grade on Dask worker {worker.address}: its course version "
            f"{version_id(mine)} is not {version}, the one this class is graded with (the worker "
            "joined after the check, or its files changed). Give it the same checkout, restart "
            "it, then grade again."
        )
    scratch = Path(worker.local_directory)
    course = _course_on_this_worker(shipped, scratch)
    with tempfile.TemporaryDirectory(prefix="submission-", dir=scratch) as folder:
        submitted, output = Path(folder) / "submitted", Path(folder) / "output"
        target = submitted / submission.student / submission.assignment
        target.mkdir(parents=True)
        for path, content in submission.files.items():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_bytes(content)
        [result] = batch.grade_batch(
            course,
            submission.assignment,
            [submission.student],
            submitted,
            output,
            cell_timeout=cell_timeout,
            threads=threads_by_host.get(get_address_host(worker.address), 1),
            feedback=feedback,
            sandboxed=sandboxed,
        )
        outputs = {
            str(path.relative_to(output)): (stat.S_IMODE(path.stat().st_mode), path.read_bytes())
            for path in sorted(output.rglob("*"))
            if path.is_file()
        }
    return Graded(result, outputs)


def _describe_this_worker() -> dict:
    return {"version": course_version(), "cores": os.cpu_count() or 1}


def _set_allowed_failures(count: int, dask_scheduler=None) -> int:
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = count
    return previous


# --------------------------------------------------------------------------------------
# This machine's side: connect, check, submit, gather
# --------------------------------------------------------------------------------------


def local_cluster(workers: int | None = None) -> LocalCluster:
    """Worker processes on this machine, one grading thread each (as the threads' pool)."""
    return LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        dashboard_address=":0",  # any free port: the link is printed
    )


@contextlib.contextmanager
def connected(scheduler: str, workers: int | None = None) -> Iterator[Client]:
    """A client of a new local cluster (``"local"``) or of the scheduler at ``scheduler``."""
    if scheduler == "local":
        with local_cluster(workers) as cluster, Client(cluster) as client:
            yield client
        return
    if "://" not in scheduler:
        raise ValueError(
            f"--scheduler takes `local` or a scheduler address such as tcp://host:8786, "
            f"not {scheduler!r}."
        )
    if workers is not None:
        raise ValueError("--workers sets the size of a local cluster; a running one has its own.")
    try:
        client = Client(scheduler)
    except OSError as error:
        raise ConnectionError(f"Cannot reach the Dask scheduler at {scheduler}: {error}") from error
    with client:
        yield client


@contextlib.contextmanager
def _allowed_failures(client: Client, count: int) -> Iterator[None]:
    """The scheduler's retry limit while this class is graded, then the one it had."""
    previous = client.run_on_scheduler(_set_allowed_failures, count)
    try:
        yield
    finally:
        client.run_on_scheduler(_set_allowed_failures, previous)


def _kernel_threads(descriptions: dict[str, dict], nthreads: dict[str, int]) -> dict[str, int]:
    """Threads per student kernel on each host: its cores shared among its grading threads."""
    cores, threads = {}, Counter()
    for address, description in descriptions.items():
        host = get_address_host(address)
        cores[host] = description["cores"]
        threads[host] += nthreads.get(address, 1)
    return {host: max(1, cores[host] // threads[host]) for host in threads}


def _write_outputs(
    output_root: Path, result: Result, outputs: dict[str, tuple[int, bytes]]
) -> None:
    """Replace the student's autograded notebooks and feedback with this run's."""
    for kind in ("autograded", "feedback"):
        shutil.rmtree(output_root / kind / result.student / result.assignment, ignore_errors=True)
    for relative, (mode, content) in outputs.items():
        path = output_root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)


def _grade_on_cluster(
    client: Client,
    jobs: Sequence[tuple[str, str]],
    submitted_root: Path,
    output_root: Path,
    max_scores: dict[str, float],
    shipped: Future,
    options: dict,
    finished: Callable[[Result], None],
) -> dict[tuple[str, str], Result]:
    """Submit the jobs a window at a time; write each result's files as it comes back."""
    waiting = iter(jobs)
    in_flight: dict[Future, tuple[str, str]] = {}
    completed = as_completed()

    def submit_more() -> None:
        window = TASKS_PER_THREAD * max(1, sum(client.nthreads().values()))
        for assignment, student in waiting:
            files = _files_under(submitted_root / student / assignment)
            future = client.submit(
                grade_on_worker,
                Submission(student, assignment, files),
                shipped,
                key=f"grade-{assignment}-{student}-{uuid.uuid4().hex[:8]}",
                **options,
            )
            in_flight[future] = (assignment, student)
            completed.add(future)
            if len(in_flight) >= window:
                return

    results = {}
    submit_more()
    for future in completed:
        assignment, student = in_flight.pop(future)
        try:
            graded = future.result()
        except KilledWorker:
            points = max_scores[assignment]
            graded = Graded(Result(student, assignment, Status.CRASHED_WORKER, 0.0, points), {})
        except BaseException:
            client.cancel(list(in_flight))
            raise
        _write_outputs(output_root, graded.result, graded.outputs)
        results[assignment, student] = graded.result
        finished(graded.result)
        submit_more()
    return results


def grade_on_cluster(
    course: Course,
    jobs: Sequence[Job],
    submitted_root: Path,
    output_root: Path,
    scheduler: str,
    workers: int | None,
    options: BatchOptions,
    finished: Callable[[Result], None],
) -> list[Result]:
    """Every job (one submission each) as a task on the Dask cluster at ``scheduler``
    (``"local"``: a new ``LocalCluster`` of ``workers`` processes), in the jobs' order."""
    submissions = [(assignment, student) for assignment, [student] in jobs]
    max_scores = {a: batch.max_score(course, a) for a in {a for a, _ in submissions}}
    here = course_version()
    with connected(scheduler, workers) as client:
        print(f"Dask dashboard: {client.dashboard_link}")
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
        except TimeoutError as error:
            raise TimeoutError(
                f"No Dask worker joined {scheduler} within {WAIT_FOR_WORKERS_S} s: start some "
                f"with `dask worker {scheduler}`."
            ) from error
        descriptions = client.run(_describe_this_worker)
        refuse_other_versions(here, {a: d["version"] for a, d in descriptions.items()})
        # A task rather than scattered data: if every worker holding it dies, it is rebuilt.
        files = course_files(course, sorted(max_scores))
        shipped = client.submit(
            CourseFiles, files.source, files.release, files.files, key=f"course-{files.digest}"
        )
        task_options = {
            "version": version_id(here),
            "threads_by_host": _kernel_threads(descriptions, client.nthreads()),
            "cell_timeout": options.cell_timeout,
            "feedback": options.feedback,
            "sandboxed": options.sandboxed,
        }
        with _allowed_failures(client, ALLOWED_FAILURES):
            graded = _grade_on_cluster(
                client, submissions, submitted_root, output_root, max_scores, shipped,
                task_options, finished,
            )
    return [graded[job] for job in submissions]
