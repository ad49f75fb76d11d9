"""Release the student notebooks and autograde a whole class with nbgrader.

    python -m instructor.classroom release   # notebooks/ from solutions/
    python -m instructor.classroom grade     # grade submitted/<student>/<assignment>/

Grading runs each submission in its own nbgrader process, with its own copy of the gradebook,
in a temporary course folder, several at a time. A submission that loops forever, kills its
kernel, eats memory, floods its output or is not a valid notebook therefore gets a clear status
of its own and never touches another student's grade. Results (autograded notebooks, feedback
HTML, ``grades.csv``) are replaced on every run, so rerunning is idempotent.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from instructor import sandbox, verdicts
from instructor.notebook import REPO_ROOT

# Limits for one grading process (nbgrader plus the kernel it starts).
MEMORY_LIMIT_GB = 6.0
BATCH_TIMEOUT_PER_NOTEBOOK_S = 600
LOG_TAIL_CHARS = 4000

OK = "ok"
SANDBOX_KERNEL = "course-sandbox"

# Example submissions that ship with the repo, so that `make grade` works on a fresh clone.
EXAMPLE_STUDENTS = {"reference-solution": "source", "untouched-release": "release"}


@dataclass
class Course:
    """Where a course's folders live; the default is this repository."""

    root: Path = REPO_ROOT
    source: str = "solutions"
    release: str = "notebooks"
    submitted: str = "submitted"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    def assignments(self) -> list[str]:
        """Assignment folders in the source directory that hold at least one notebook."""
        source = self.root / self.source
        return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def notebook_names(self, assignment: str) -> list[str]:
        return sorted(p.name for p in (self.root / self.source / assignment).glob("*.ipynb"))


@dataclass
class Result:
    """One student's grade on one assignment."""

    student: str
    assignment: str
    status: str
    score: float
    max_score: float
    cells: dict[str, float] = field(default_factory=dict)  # test cell grade_id -> points


def nbgrader_command(course: Course, *arguments: str, db: Path | None = None) -> list[str]:
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
    `alembic` from there) and, when given, the number of threads each kernel may use."""
    scripts = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    if threads is not None:
        # Parallel kernels that each start one thread per core fight over the cores and
        # run many times slower than kernels that share them out.
        environment["OMP_NUM_THREADS"] = str(threads)
        environment["MKL_NUM_THREADS"] = str(threads)
    return environment


def _run(command: Sequence[str]) -> subprocess.CompletedProcess:
    # nbgrader reads nbgrader_config.py from the working directory: always this repository's.
    return subprocess.run(
        command, cwd=REPO_ROOT, env=subprocess_environment(), capture_output=True, text=True
    )


# What the last release wrote (a SHA-256 per file) and the course's repository, kept beside
# the release: a file that differs from it was edited by someone and is never overwritten.
RELEASE_MANIFEST = ".release-manifest.json"
COURSE_REPO_LINE = re.compile(r"^COURSE_REPO = .*$", re.MULTILINE)
COURSE_REPO_URL = re.compile(r"^(https?|ssh|file)://[^\s\"'\\]+$")


class ReleaseConflict(RuntimeError):
    """Release notebooks were edited since the last release wrote them."""


def _release_files(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under a release folder, by path relative to the release."""
    return {
        path.relative_to(folder.parent).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".ipynb_checkpoints" not in path.parts
    }


def read_manifest(course: Course) -> dict:
    """The last release's manifest: ``{"course_repo": str | None, "files": {path: sha256}}``."""
    path = course.root / course.release / RELEASE_MANIFEST
    if not path.exists():
        return {"course_repo": None, "files": {}}
    return json.loads(path.read_text())


def edited_release_files(course: Course, assignments: Iterable[str]) -> list[str]:
    """Release files that the last release did not write as they are now (edited or new)."""
    written = read_manifest(course)["files"]
    current: dict[str, str] = {}
    for assignment in assignments:
        current |= _release_files(course.root / course.release / assignment)
    return sorted(path for path, digest in current.items() if written.get(path) != digest)


def stamp_course_repo(notebook: nbformat.NotebookNode, course_repo: str) -> None:
    """Write the course's repository into the ``COURSE_REPO = ...`` line of the first code
    cell, from where the cell installs the course in Colab."""
    if not COURSE_REPO_URL.match(course_repo):
        raise ValueError(
            f"COURSE_REPO must be the URL of the course's git repository, such as "
            f"https://github.com/owner/repo (got {course_repo!r})."
        )
    first = next((cell for cell in notebook.cells if cell.cell_type == "code"), None)
    if first is None or not COURSE_REPO_LINE.search(first.source):
        raise ValueError("The first code cell has no `COURSE_REPO = ...` line to stamp.")
    first.source = COURSE_REPO_LINE.sub(f"COURSE_REPO = {json.dumps(course_repo)}", first.source)


def release(
    course: Course,
    assignments: Iterable[str] | None = None,
    *,
    force: bool = False,
    course_repo: str | None = None,
) -> None:
    """Regenerate the student notebooks (and the gradebook's record of every test cell).

    Refuses (``ReleaseConflict``) to overwrite a release file that differs from what the last
    release wrote, unless ``force``. ``course_repo`` is stamped into every notebook's first
    cell (``None``: the last release's; ``""``: none).
    """
    chosen = list(assignments or course.assignments())
    edited = edited_release_files(course, chosen)
    if edited and not force:
        raise ReleaseConflict(
            f"Not releasing: these files in {course.release}/ were edited since the last "
            f"release wrote them, and releasing would overwrite them:\n  "
            + "\n  ".join(edited)
            + "\nTo keep your work, move it to your own copy first (`make lab` keeps one in "
            "work/, which no command overwrites). To overwrite them anyway, run "
            "`make release FORCE=1` (or `make grade FORCE=1`)."
        )
    manifest = read_manifest(course)
    repo = manifest.get("course_repo") if course_repo is None else course_repo or None
    for assignment in chosen:
        done = _run(nbgrader_command(course, "generate_assignment", assignment, "--force"))
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{done.stderr}")
        folder = course.root / course.release / assignment
        for checkpoint in folder.glob(".ipynb_checkpoints"):
            shutil.rmtree(checkpoint)
        if repo:
            for path in folder.glob("*.ipynb"):
                notebook = nbformat.read(path, as_version=4)
                stamp_course_repo(notebook, repo)
                nbformat.write(notebook, path)
        manifest["files"] = {
            path: digest
            for path, digest in manifest["files"].items()
            if not path.startswith(f"{assignment}/")
        } | _release_files(folder)
    manifest["course_repo"] = repo
    (course.root / course.release / RELEASE_MANIFEST).write_text(
        json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    )
    print(f"Released {', '.join(chosen)} into {course.release}/.")


def refresh_examples(course: Course) -> None:
    """Copy the solutions and the release into ``submitted/`` as two example students."""
    for student, folder in EXAMPLE_STUDENTS.items():
        origin = course.root / getattr(course, folder)
        destination = course.root / course.submitted / student
        shutil.rmtree(destination, ignore_errors=True)
        for assignment in course.assignments():
            target = destination / assignment
            target.mkdir(parents=True)
            for name in course.notebook_names(assignment):
                shutil.copy(origin / assignment / name, target / name)


# --------------------------------------------------------------------------------------
# Checking a submission before nbgrader sees it
# --------------------------------------------------------------------------------------


ROSTER_FILE = "roster.txt"


def read_roster(path: Path) -> list[str]:
    """The students of a roster file: one name per line (their folder under ``submitted/``);
    blank lines and ``#`` comments are ignored."""
    if not path.exists():
        raise FileNotFoundError(f"No roster at {path}: write one student per line.")
    names: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if "/" in name or "\\" in name or name in {".", ".."}:
            raise ValueError(
                f"{path}, line {number}: {name!r} is not a student's folder name under submitted/."
            )
        if name not in names:
            names.append(name)
    return names


def check_submission(course: Course, folder: Path, assignment: str) -> str:
    """``OK``, or why the submission in ``folder`` cannot be graded as it is."""
    if not folder.is_dir():
        return "missing submission"
    for name in course.notebook_names(assignment):
        path = folder / name
        if not path.exists():
            others = sorted(p.name for p in folder.glob("*.ipynb"))
            found = f" (found {', '.join(others)})" if others else ""
            return f"missing notebook {name}{found}"
        try:
            notebook = nbformat.read(path, as_version=4)
            nbformat.validate(notebook)
        except Exception as error:  # JSON errors, schema errors, wrong encodings
            return f"invalid notebook {name}: {_where_it_breaks(error)}"
    return OK


def _where_it_breaks(error: Exception) -> str:
    """The exception's class, and the line and column where the JSON breaks, if it does."""
    cause = error if isinstance(error, json.JSONDecodeError) else error.__cause__
    if isinstance(cause, json.JSONDecodeError):
        return f"{type(error).__name__} at line {cause.lineno}, column {cause.colno}"
    return type(error).__name__


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def restore_test_cells(release_notebook: Path, submission: Path) -> list[str]:
    """Put back test cells the student deleted or turned into another cell type.

    nbgrader restores the *contents* of edited test cells itself, but scores a deleted one 0
    and may skip a retyped one. Deleted cells go back after the cell that precedes them in
    the release. Returns notes for the status column ("restored test_x", ...).
    """
    released = nbformat.read(release_notebook, as_version=4)
    student = nbformat.read(submission, as_version=4)
    notes: list[str] = []
    # A graded cell the release does not have (pasted from elsewhere, or forged) would make
    # nbgrader reject the whole notebook: it becomes an ordinary cell.
    known = {_grade_id(cell) for cell in released.cells if _grade_id(cell)}
    for cell in student.cells:
        if "nbgrader" in cell.get("metadata", {}) and _grade_id(cell) not in known:
            notes.append(f"ignored unknown cell {_grade_id(cell) or '(no grade_id)'}")
            del cell.metadata["nbgrader"]
    by_id = {_grade_id(cell): index for index, cell in enumerate(student.cells) if _grade_id(cell)}
    previous_id = None
    for cell in released.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("grade") and not meta.get("solution"):
            if grade_id not in by_id:
                position = by_id.get(previous_id, len(student.cells) - 1) + 1
                student.cells.insert(position, cell)
                notes.append(f"restored deleted {grade_id}")
            elif student.cells[by_id[grade_id]].cell_type != cell.cell_type:
                student.cells[by_id[grade_id]] = cell
                notes.append(f"restored retyped {grade_id}")
            by_id = {_grade_id(c): i for i, c in enumerate(student.cells) if _grade_id(c)}
        if grade_id:
            previous_id = grade_id
    if notes:
        nbformat.write(student, submission)
    return notes


# --------------------------------------------------------------------------------------
# Grading one batch of students in an isolated nbgrader process
# --------------------------------------------------------------------------------------


def _limit_memory(pid: int, memory_gb: float) -> None:
    """Cap the data segment of a process that has just started (its kernel inherits the cap).

    Set from outside with ``prlimit`` rather than in a ``preexec_fn``, which is unsafe in a
    process that runs threads (the class is graded by a thread pool).
    """
    limit = int(memory_gb * 2**30)
    resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))


def _sandboxed_kernel(work: Path, threads: int | None) -> tuple[list[str], dict[str, str]]:
    """A kernelspec that starts the student's kernel inside the sandbox, and how to use it.

    The kernel talks to nbgrader over Unix sockets in its own runtime folder (it has no
    network), works in a scratch folder of its own, and sees neither the course's solutions
    nor the gradebook nor other submissions. Returns nbgrader's extra arguments and
    environment.
    """
    runtime, scratch = work / "runtime", work / "scratch"
    for folder in (runtime, scratch):
        folder.mkdir()
    environment = {**sandbox.environment(threads or 1), "NBGRADER_EXECUTION": "autograde"}
    environment.pop("MPLBACKEND")  # the kernel draws inline
    argv = [sandbox.python(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {
        "argv": sandbox.command(
            argv,
            writable=[runtime, scratch],
            workdir=scratch,
            environment=environment,
        ),
        "display_name": "Python 3 (grading sandbox)",
        # A signal would reach bubblewrap, not the kernel inside: interrupt by message.
        "interrupt_mode": "message",
        "language": "python",
    }
    spec_folder = work / "jupyter" / "kernels" / SANDBOX_KERNEL
    spec_folder.mkdir(parents=True)
    (spec_folder / "kernel.json").write_text(json.dumps(spec))
    arguments = [
        f"--Execute.kernel_name={SANDBOX_KERNEL}",
        "--KernelManager.transport=ipc",
        f"--KernelManager.ip={runtime / 'kernel'}",
        f"--KernelManager.connection_file={runtime / 'kernel.json'}",
    ]
    variables = {"JUPYTER_PATH": str(work / "jupyter"), "JUPYTER_RUNTIME_DIR": str(runtime)}
    return arguments, variables


def _read_scores(
    db: Path, assignment: str, student: str
) -> tuple[float, float, dict, bool] | None:
    """Automatic scores only (total, maximum, per test cell) and whether a manual score
    appeared: nothing during autograding may set one, so it is ignored and reported."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}") as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return None
        grades = [grade for notebook in submission.notebooks for grade in notebook.grades]
        cells = {grade.name: float(grade.auto_score or 0.0) for grade in grades}
        manual = any(grade.manual_score is not None for grade in grades)
        return sum(cells.values()), float(submission.max_score), cells, manual


def _report_flags(report: Path) -> list[str]:
    """Constructs worth a human look in the graded exercises (from the verdicts' report)."""
    if not report.exists():
        return []
    flagged = {
        name: verdict["flags"]
        for name, verdict in json.loads(report.read_text()).items()
        if verdict["flags"]
    }
    return [f"flagged {name}: {', '.join(flags)}" for name, flags in flagged.items()]


def _max_score(course: Course, assignment: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gradebook:
        return float(gradebook.find_assignment(assignment).max_score)


def _failure_reason(log: str, timed_out: bool) -> str:
    """Why nbgrader produced no autograded notebook, from the end of its log."""
    if timed_out:
        return "grading timed out"
    lowered = log.lower()
    if "memoryerror" in lowered or "cannot allocate memory" in lowered:
        return "out of memory"
    if "kernel died" in lowered or "deadkernel" in lowered or "unresponsive" in lowered:
        return "kernel died"
    return "grading failed"


def _notebook_status(notebook_path: Path) -> str | None:
    """A status when the autograded notebook shows a cell was stopped by the time limit."""
    text = notebook_path.read_text(errors="replace")
    if "CellTimeoutError" in text:
        return "cell timed out"
    return None


def grade_batch(
    course: Course,
    assignment: str,
    students: Sequence[str],
    submitted_root: Path,
    output_root: Path,
    memory_gb: float = MEMORY_LIMIT_GB,
    cell_timeout: int | None = None,
    threads: int | None = None,
    feedback: bool = True,
    sandboxed: bool | None = None,
) -> list[Result]:
    """Autograde ``students``' submissions of ``assignment`` in one isolated nbgrader process.

    The students' kernels run in the sandbox (``instructor.sandbox``) where bubblewrap is
    available (``sandboxed=None``), and every verdict comes from ``instructor.verdicts``.

    The autograded notebooks and feedback land in ``output_root/autograded`` and
    ``output_root/feedback``, replacing earlier results of the same students.
    """
    from instructor import exchange  # imports this module

    sandboxed = sandbox.available() if sandboxed is None else sandboxed
    max_score = _max_score(course, assignment)
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        work = Course(root=Path(tmp))
        (work.root / course.source).symlink_to(course.root / course.source)
        db = work.root / "gradebook.db"
        shutil.copy(course.gradebook, db)
        to_grade, notes = [], {}
        for student in students:
            folder = submitted_root / student / assignment
            status = check_submission(course, folder, assignment)
            if status != OK:
                results[student] = Result(student, assignment, status, 0.0, max_score)
                continue
            copy = work.root / course.submitted / student / assignment
            shutil.copytree(folder, copy)
            notes[student] = [
                note
                for name in course.notebook_names(assignment)
                for note in restore_test_cells(
                    course.root / course.release / assignment / name, copy / name
                )
            ]
            to_grade.append(student)

        log, timed_out = "", False
        reports = work.root / "verdicts"
        reports.mkdir()
        if to_grade:
            timeout = BATCH_TIMEOUT_PER_NOTEBOOK_S * len(to_grade)
            limits = [f"--Execute.timeout={cell_timeout}"] if cell_timeout else []
            environment = subprocess_environment(threads)
            environment[verdicts.REPORT_FOLDER_VARIABLE] = str(reports)
            environment[verdicts.RELEASE_ROOT_VARIABLE] = str(course.root)
            if sandboxed:
                kernel_arguments, variables = _sandboxed_kernel(work.root, threads)
                limits += kernel_arguments
                environment.update(variables)
            # Decided here, where torch and the references are loaded once for the class,
            # rather than in each nbgrader process (which reads them before any kernel runs).
            decided = work.root / "decided"
            decided.mkdir()
            for student in to_grade:
                verdicts.decide_ahead(
                    work.root / course.submitted / student / assignment,
                    assignment,
                    course.root,
                    decided / f"{student}.json",
                )
            environment[verdicts.DECIDED_FOLDER_VARIABLE] = str(decided)
            process = subprocess.Popen(
                nbgrader_command(work, "autograde", assignment, "--force", *limits, db=db),
                cwd=REPO_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,  # its own process group: a timeout kills the kernel too
            )
            _limit_memory(process.pid, memory_gb)
            try:
                log, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                log, _ = process.communicate()
                timed_out = True
            if feedback:
                _run(nbgrader_command(work, "generate_feedback", assignment, "--force", db=db))

        for student in to_grade:
            scores = _read_scores(db, assignment, student)
            autograded = work.root / "autograded" / student / assignment
            notebooks = [autograded / name for name in course.notebook_names(assignment)]
            if scores is None or not all(path.exists() for path in notebooks):
                # nbgrader deletes the output of a submission it could not finish
                reason = _failure_reason(log[-LOG_TAIL_CHARS:], timed_out)
                if os.environ.get("COURSE_DEBUG_GRADING"):
                    print(log[-LOG_TAIL_CHARS:], file=sys.stderr)
                results[student] = Result(student, assignment, reason, 0.0, max_score)
            else:
                score, total, cells, manual = scores
                problems = [p for p in map(_notebook_status, notebooks) if p]
                if manual:
                    problems.append("manual score appeared during autograding (ignored)")
                problems += _report_flags(reports / f"{student}.json")
                late = exchange.late_note(db, assignment, student)  # nbgrader's due-date rule
                if late:
                    problems.append(late)
                if not sandboxed:
                    problems.append(sandbox.UNSANDBOXED)
                status = "; ".join(problems + notes[student]) or OK
                results[student] = Result(student, assignment, status, score, total, cells)
            for kind in ("autograded", "feedback"):
                destination = output_root / kind / student / assignment
                shutil.rmtree(destination, ignore_errors=True)
                produced = work.root / kind / student / assignment
                if produced.exists():
                    shutil.copytree(produced, destination)
    return [results[student] for student in students]


# What no grading run may change: the course's code, configuration, solutions and data.
PROTECTED = ("helpers", "instructor", "nbgrader_config.py", "solutions", "data")


class IntegrityError(RuntimeError):
    """A protected file of the course changed while submissions were being graded."""


def fingerprint(root: Path) -> dict[str, str]:
    """The SHA-256 of every protected file under ``root`` (caches excluded)."""
    digests = {}
    for name in PROTECTED:
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
    before = {root: fingerprint(root) for root in {REPO_ROOT, course.root}}
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


def plan_class(
    course: Course,
    submitted_root: Path,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    roster: Iterable[str] | None = None,
    batch_size: int = 1,
) -> tuple[list[tuple[str, list[str]]], list[Result]]:
    """The (assignment, students) batches to grade, and the ``missing`` rows, as
    ``grade_class`` documents them (shared with ``instructor.cluster``)."""
    wanted = list(assignments or course.assignments())
    present = sorted(p.name for p in submitted_root.iterdir() if p.is_dir())
    enrolled = set(present) | set(roster or ())
    chosen = set(students) if students is not None else enrolled
    unknown = chosen - enrolled
    if unknown:
        raise ValueError(f"No submissions in {submitted_root} for: {', '.join(sorted(unknown))}")
    jobs, results = [], []
    for assignment in wanted:
        have = [s for s in present if s in chosen and (submitted_root / s / assignment).exists()]
        for start in range(0, len(have), batch_size):
            jobs.append((assignment, have[start : start + batch_size]))
        missing = sorted(chosen - set(have))
        if missing:
            max_score = _max_score(course, assignment)
            results += [Result(s, assignment, "missing", 0.0, max_score) for s in missing]
    return jobs, results


def grade_class(
    course: Course,
    submitted_root: Path | None = None,
    output_root: Path | None = None,
    workers: int | None = None,
    batch_size: int = 1,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    cell_timeout: int | None = None,
    feedback: bool = True,
    sandboxed: bool | None = None,
    roster: Iterable[str] | None = None,
) -> list[Result]:
    """Grade every ``<submitted>/<student>/<assignment>`` folder, ``workers`` at a time.

    The class is everyone with a folder under ``submitted_root``, plus everyone on the
    ``roster``; a student without an assignment's folder gets a ``missing`` row (score 0).
    ``assignments`` and ``students`` restrict grading to those names (default: all).

    ``batch_size=1`` (the default) isolates each submission in its own process; larger
    batches amortize nbgrader's start-up when many trusted variants are graded (tests).
    """
    submitted_root = submitted_root or course.root / course.submitted
    output_root = output_root or course.root
    jobs, results = plan_class(course, submitted_root, assignments, students, roster, batch_size)
    workers = workers or os.cpu_count() or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    with (
        course_left_untouched(course),
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=sum(len(j[1]) for j in jobs), desc="grading", unit="notebook") as progress,
    ):
        futures = [
            pool.submit(
                grade_batch,
                course,
                assignment,
                batch,
                submitted_root,
                output_root,
                cell_timeout=cell_timeout,
                threads=threads,
                feedback=feedback,
                sandboxed=sandboxed,
            )
            for assignment, batch in jobs
        ]
        for future in as_completed(futures):
            for result in future.result():
                progress.write(
                    f"{result.student} / {result.assignment}: "
                    f"{result.score:g} of {result.max_score:g}, {result.status}"
                )
                progress.update()
        results += [result for future in futures for result in future.result()]
    return results


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------


def format_table(results: Sequence[Result]) -> str:
    """A plain-text table: one row per student and assignment."""
    header = ("student", "assignment", "score", "status")
    rows = [
        (r.student, r.assignment, f"{r.score:g} / {r.max_score:g}", r.status)
        for r in sorted(results, key=lambda r: (r.student, r.assignment))
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(results: Sequence[Result], path: Path) -> None:
    """One row per student and assignment; the example students last, marked ``example``."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["student", "assignment", "score", "max_score", "status", "cells", "example"]
        )
        for r in sorted(
            results, key=lambda r: (r.student in EXAMPLE_STUDENTS, r.student, r.assignment)
        ):
            example = "example" if r.student in EXAMPLE_STUDENTS else ""
            writer.writerow(
                [r.student, r.assignment, r.score, r.max_score, r.status, json.dumps(r.cells),
                 example]
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    release_command = commands.add_parser("release", help="regenerate notebooks/ from solutions/")
    grade = commands.add_parser("grade", help="release, then autograde submitted/")
    for command in (release_command, grade):
        command.add_argument(
            "--force", action="store_true", help="overwrite release notebooks edited by hand"
        )
        command.add_argument(
            "--course-repo",
            help="the course's git repository, stamped into every release notebook's first cell "
            "(default: the last release's)",
        )
    grade.add_argument("--workers", type=int, default=None, help="parallel graders (cores)")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--csv", type=Path, default=REPO_ROOT / "grades.csv")
    grade.add_argument(
        "--roster",
        type=Path,
        default=None,
        help=f"the class, one student per line (default: {ROSTER_FILE} where it exists)",
    )
    grade.add_argument(
        "--scheduler",
        help="grade on a Dask cluster: `local` or a scheduler address (tcp://host:8786)",
    )
    grade.add_argument(
        "--db-url",
        help="also record the grades in this nbgrader gradebook, replacing each student's "
        "earlier rows (sqlite:///path or postgresql+psycopg://user@host/db)",
    )
    arguments = parser.parse_args(argv)

    course = Course()
    try:
        release(course, force=arguments.force, course_repo=arguments.course_repo)
    except ReleaseConflict as conflict:
        print(conflict, file=sys.stderr)
        return 1
    refresh_examples(course)
    if arguments.command == "grade":
        if not sandbox.available():
            print(
                "bubblewrap (bwrap) is not available: grading without the sandbox, and every "
                "row says so. Install it with `apt-get install bubblewrap` (Debian, Ubuntu)."
            )
        roster_path = arguments.roster or course.root / ROSTER_FILE
        roster = read_roster(roster_path) if arguments.roster or roster_path.exists() else None
        if arguments.db_url:
            from instructor import gradebook

            try:
                gradebook.check(arguments.db_url)  # before hours of grading depend on it
            except gradebook.GradebookError as error:
                print(error, file=sys.stderr)
                return 1
        if arguments.scheduler:
            from instructor import cluster

            results = cluster.grade_class(
                course,
                arguments.scheduler,
                workers=arguments.workers,
                students=arguments.student,
                roster=roster,
            )
        else:
            results = grade_class(
                course, workers=arguments.workers, students=arguments.student, roster=roster
            )
        print(format_table(results))
        write_csv(results, arguments.csv)
        print(f"\nWrote {arguments.csv}; feedback in feedback/<student>/<assignment>/.")
        if arguments.db_url:
            gradebook.record(arguments.db_url, course, results)
            print(f"Recorded the grades in {gradebook.shown(arguments.db_url)}.")
        if roster is not None:
            unlisted = sorted({r.student for r in results} - set(roster) - set(EXAMPLE_STUDENTS))
            if unlisted:
                print(f"Graded, but not on the roster {roster_path}: {', '.join(unlisted)}.")
        from instructor import report  # matplotlib: only when there is a report to draw

        summary = report.summarize(results, course)
        print("\n" + report.format_report(summary))
        if summary.exercises:
            chart = arguments.csv.with_name(arguments.csv.stem + report.CHART_SUFFIX)
            report.write_chart(summary, chart)
            print(f"Wrote {chart}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
