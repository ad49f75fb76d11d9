"""Grading one batch of submissions of one assignment in an isolated nbgrader process.

Each batch (one submission, except for the trusted variants of the test suites) gets its own
temporary course folder and its own copy of the gradebook; the class grader
(``instructor.grading``) runs batches several at a time. For each submission this stage:

1. checks that it can be graded (``instructor.submissions``) and puts back the test cells the
   student removed or changed;
2. decides the verdict on every exercise outside the student's kernel
   (``instructor.verdicts``), before nbgrader starts;
3. runs ``nbgrader autograde`` with the student's kernel in the sandbox, where
   ``ApplyVerdicts`` sets every test cell's outcome from the verdicts, then
   ``nbgrader generate_feedback``;
4. reads the result as data: the scores from the gradebook, the verdicts and the cells that
   ran over their time from ``ApplyVerdicts``' report, and its own notes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from instructor import exchange, sandbox, verdicts
from instructor.model import Course, Note, NoteKind, Result, Status, VerdictKind
from instructor.nbgrader_commands import (
    nbgrader_command,
    nbgrader_steps,
    run,
    subprocess_environment,
)
from instructor.settings import SETTINGS
from instructor.submissions import check_submission, restore_test_cells

LOG_TAIL_CHARS = 4000


def max_score(course: Course, assignment: str) -> float:
    """The assignment's points, from the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gradebook:
        return float(gradebook.find_assignment(assignment).max_score)


def grader_error(student: str, assignment: str, points: float, error: BaseException) -> Result:
    """The row of a submission the grader itself failed on: scored 0, named in the log with
    the traceback, and every other submission still graded."""
    trace = "".join(traceback.format_exception(error))
    print(f"The grader failed on {student} / {assignment}:\n{trace}", file=sys.stderr)
    detail = " ".join(f"{type(error).__name__}: {error}".split())[:160]
    return Result(
        student, assignment, Status.GRADER_ERROR, 0.0, points, detail=f"({detail}); regrade it"
    )


def _limit_memory(pid: int, memory_gb: float) -> None:
    """Cap the data segment of a process that has just started (its kernel inherits the cap).

    Set from outside with ``prlimit`` rather than in a ``preexec_fn``, which is unsafe in a
    process that runs threads (the class is graded by a thread pool).
    """
    limit = int(memory_gb * 2**30)
    resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))


def _sandboxed_kernel(work: Path, threads: int | None) -> list[str]:
    """A kernelspec that starts the student's kernel inside the sandbox; nbgrader's extra
    arguments to use it.

    The kernel talks to nbgrader over Unix sockets in its own runtime folder (it has no
    network), works in a scratch folder of its own, and sees neither the course's solutions
    nor the gradebook nor other submissions.
    """
    runtime, scratch = work / "runtime", work / "scratch"
    for folder in (runtime, scratch):
        folder.mkdir()
    environment = {**sandbox.environment(threads or 1), "NBGRADER_EXECUTION": "autograde"}
    environment.pop("MPLBACKEND")  # the kernel draws inline
    argv = [sandbox.python(), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {
        "argv": sandbox.command(
            argv, writable=[runtime, scratch], workdir=scratch, environment=environment,
            fonts=True,
        ),
        "display_name": "Python 3 (grading sandbox)",
        # A signal would reach bubblewrap, not the kernel inside: interrupt by message.
        "interrupt_mode": "message",
        "language": "python",
    }
    spec_folder = work / "jupyter" / "kernels" / SETTINGS.sandbox_kernel
    spec_folder.mkdir(parents=True)
    (spec_folder / "kernel.json").write_text(json.dumps(spec))
    return [
        f"--Execute.kernel_name={SETTINGS.sandbox_kernel}",
        "--KernelManager.transport=ipc",
        f"--KernelManager.ip={runtime / 'kernel'}",
        f"--KernelManager.connection_file={runtime / 'kernel.json'}",
    ]


@dataclass
class _Scores:
    total: float
    maximum: float
    cells: dict[str, float]
    manual: bool


def _read_scores(db: Path, assignment: str, student: str) -> _Scores | None:
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
        return _Scores(sum(cells.values()), float(submission.max_score), cells, manual)


def _failure_status(log: str, timed_out: bool) -> Status:
    """Why nbgrader produced no autograded notebook, from the end of its own log (the
    student's outputs never reach it)."""
    if timed_out:
        return Status.GRADING_TIMED_OUT
    lowered = log.lower()
    if "memoryerror" in lowered or "cannot allocate memory" in lowered:
        return Status.OUT_OF_MEMORY
    if "kernel died" in lowered or "deadkernel" in lowered or "unresponsive" in lowered:
        return Status.KERNEL_DIED
    return Status.GRADING_FAILED


def _report_notes(report: verdicts.Report) -> list[Note]:
    """Cells stopped at their time limit, exercises the grader could not run to the end, and
    constructs worth a human look."""
    notes = [Note(NoteKind.CELL_TIMED_OUT, cell) for cell in report.timed_out_cells[:1]]
    stopped = {
        VerdictKind.CRASHED: NoteKind.CRASHED_IN_THE_GRADER,
        VerdictKind.TIMED_OUT: NoteKind.TIMED_OUT_IN_THE_GRADER,
    }
    for name, verdict in report.verdicts.items():
        if verdict.kind in stopped:
            notes.append(Note(stopped[verdict.kind], name))
    for name, verdict in report.verdicts.items():
        if verdict.flags:
            notes.append(Note(NoteKind.FLAGGED, name, ", ".join(verdict.flags)))
    return notes


def _graded_result(
    course: Course,
    work: Course,
    db: Path,
    assignment: str,
    student: str,
    points: float,
    notes: list[Note],
    sandboxed: bool,
    log: str,
    timed_out: bool,
) -> Result:
    """One student's row, from nbgrader's gradebook and ``ApplyVerdicts``' report."""
    scores = _read_scores(db, assignment, student)
    autograded = work.root / SETTINGS.folders.autograded / student / assignment
    notebooks = [autograded / name for name in course.notebook_names(assignment)]
    if timed_out or scores is None or not all(path.exists() for path in notebooks):
        # nbgrader deletes the output of a submission it could not finish; one it was killed
        # in the middle of leaves a partial record and its sanitized copy of the notebook
        status = _failure_status(log[-LOG_TAIL_CHARS:], timed_out)
        if os.environ.get("COURSE_DEBUG_GRADING"):
            print(log[-LOG_TAIL_CHARS:], file=sys.stderr)
        return Result(student, assignment, status, 0.0, points, notes=notes)
    report = verdicts.read_report(work.root / "verdicts" / f"{student}.json")
    found = _report_notes(report)
    if scores.manual:
        found.append(Note(NoteKind.MANUAL_SCORE_IGNORED))
    late = exchange.lateness(db, assignment, student)  # nbgrader's rule, from the due date
    if late:
        found.append(Note(NoteKind.LATE, detail=late))
    if not sandboxed:
        found.append(Note(NoteKind.UNSANDBOXED))
    return Result(
        student,
        assignment,
        Status.OK,
        scores.total,
        scores.maximum,
        cells=scores.cells,
        notes=found + notes,
        verdicts=report.verdicts,
    )


Job = tuple[str, list[str]]  # an assignment and the students of one batch


@dataclass(frozen=True)
class BatchOptions:
    """How every batch of a class is graded."""

    cell_timeout: int | None = None
    feedback: bool = True
    sandboxed: bool | None = None


def grade_batch(
    course: Course,
    assignment: str,
    students: Sequence[str],
    submitted_root: Path,
    output_root: Path,
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
    sandboxed = sandbox.available() if sandboxed is None else sandboxed
    points = max_score(course, assignment)
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        work = Course(root=Path(tmp))
        (work.root / course.source).symlink_to(course.root / course.source)
        db = work.root / SETTINGS.folders.gradebook
        shutil.copy(course.gradebook, db)
        to_grade, notes = [], {}
        for student in students:
            folder = submitted_root / student / assignment
            intake = check_submission(course, folder, assignment)
            if intake.status is not Status.OK:
                results[student] = Result(
                    student, assignment, intake.status, 0.0, points, detail=intake.detail
                )
                continue
            copy = work.root / course.submitted / student / assignment
            shutil.copytree(folder, copy)
            try:
                notes[student] = [
                    note
                    for name in course.notebook_names(assignment)
                    for note in restore_test_cells(
                        course.root / course.release / assignment / name, copy / name
                    )
                ]
            except Exception as error:  # one odd notebook must not stop the class
                results[student] = grader_error(student, assignment, points, error)
                shutil.rmtree(copy.parent)
                continue
            to_grade.append(student)

        log, timed_out, finished = "", False, False
        if to_grade:
            decided, reports = work.root / "decided", work.root / "verdicts"
            decided.mkdir()
            reports.mkdir()
            # Decided here, where torch and the references are loaded once for the class,
            # rather than in each nbgrader process (which reads them before any kernel runs).
            for student in list(to_grade):
                try:
                    verdicts.decide_ahead(
                        work.root / course.submitted / student / assignment,
                        assignment,
                        course.root,
                        decided / f"{student}.json",
                    )
                except Exception as error:  # the grader's own failure on one submission
                    results[student] = grader_error(student, assignment, points, error)
                    shutil.rmtree(work.root / course.submitted / student)
                    to_grade.remove(student)
            arguments = [
                f"--Execute.timeout={cell_timeout or SETTINGS.limits.cell_timeout_s}",
                f"--ApplyVerdicts.decided_folder={decided}",
                f"--ApplyVerdicts.report_folder={reports}",
                f"--ApplyVerdicts.release_root={course.root}",
            ]
            environment = subprocess_environment(threads)
            if sandboxed:
                arguments += _sandboxed_kernel(work.root, threads)
                environment["JUPYTER_PATH"] = str(work.root / "jupyter")
                environment["JUPYTER_RUNTIME_DIR"] = str(work.root / "runtime")
            if to_grade:
                steps = [("autograde", assignment, "--force", *arguments)]
                if feedback:  # in the same process, once autograde has succeeded
                    steps.append(("generate_feedback", assignment, "--force"))
                log, timed_out, finished = _autograde(work, steps, len(to_grade), db, environment)

        for student in to_grade:
            try:
                results[student] = _graded_result(
                    course, work, db, assignment, student, points, notes[student],
                    sandboxed, log, timed_out,
                )
            except Exception as error:  # the grader's own failure on one submission
                results[student] = grader_error(student, assignment, points, error)
            if results[student].status is not Status.OK:
                # What nbgrader left of a submission it did not finish (killed at the time
                # limit, say) is its sanitized copy, hidden tests included: never shown,
                # nor the feedback made from it.
                for kind in (SETTINGS.folders.autograded, SETTINGS.folders.feedback):
                    shutil.rmtree(work.root / kind / student, True)
        graded = any(results[s].status is Status.OK for s in to_grade)
        if feedback and graded and not finished:  # a batch in which some submission failed
            run(nbgrader_command(work, "generate_feedback", assignment, "--force", db=db))
        for student in to_grade:
            for kind in (SETTINGS.folders.autograded, SETTINGS.folders.feedback):
                destination = output_root / kind / student / assignment
                shutil.rmtree(destination, ignore_errors=True)
                produced = work.root / kind / student / assignment
                if produced.exists():
                    shutil.copytree(produced, destination)
    return [results[student] for student in students]


def _autograde(
    work: Course,
    steps: list[tuple[str, ...]],
    count: int,
    db: Path,
    environment: dict[str, str],
) -> tuple[str, bool, bool]:
    """nbgrader's ``steps`` (autograde, then maybe generate_feedback) for a batch of ``count``
    submissions, in one process group with its memory capped and its time limited; its log,
    whether it ran out of time, and whether every step finished without a failure."""
    process = subprocess.Popen(
        nbgrader_steps(work, *steps, db=db),
        cwd=SETTINGS.root,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group: a timeout kills the kernel too
    )
    _limit_memory(process.pid, SETTINGS.limits.grading_memory_gb)
    try:
        log, _ = process.communicate(timeout=SETTINGS.limits.submission_timeout_s * count)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        log, _ = process.communicate()
        return log, True, False
    return log, False, process.returncode == 0

