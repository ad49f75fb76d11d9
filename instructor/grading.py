"""Grading a whole class: who is graded, in which batches, on which machines.

``grade_class`` plans the class (everyone with a submission, plus the roster; ``missing`` rows
for the rest), grades each batch with ``instructor.batch.grade_batch`` on a pool of local
threads or, given a Dask scheduler, on a cluster (``instructor.cluster``), and checks that no
file of the course changed meanwhile. A batch the grader fails on costs only its own rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from instructor.batch import BatchOptions, Job, grade_batch, grader_error, max_score
from instructor.integrity import course_left_untouched
from instructor.model import Course, Result, Status


def plan_class(
    course: Course,
    submitted_root: Path,
    assignments: Iterable[str] | None = None,
    students: Iterable[str] | None = None,
    roster: Iterable[str] | None = None,
    batch_size: int = 1,
) -> tuple[list[Job], list[Result]]:
    """The (assignment, students) batches to grade, and the ``missing`` rows, as
    ``grade_class`` documents them."""
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
            points = max_score(course, assignment)
            results += [Result(s, assignment, Status.MISSING, 0.0, points) for s in missing]
    return jobs, results


def progress_line(result: Result) -> str:
    return (
        f"{result.student} / {result.assignment}: "
        f"{result.score:g} of {result.max_score:g}, {result.status_text()}"
    )


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
    scheduler: str | None = None,
) -> list[Result]:
    """Grade every ``<submitted>/<student>/<assignment>`` folder, ``workers`` at a time.

    The class is everyone with a folder under ``submitted_root``, plus everyone on the
    ``roster``; a student without an assignment's folder gets a ``missing`` row (score 0).
    ``assignments`` and ``students`` restrict grading to those names (default: all).

    ``batch_size=1`` (the default) isolates each submission in its own process; larger
    batches amortize nbgrader's start-up when many trusted variants are graded (tests).
    With ``scheduler`` (``"local"``, or a Dask scheduler's address) every submission is one
    task on that Dask cluster, graded the same way.
    """
    submitted_root = submitted_root or course.root / course.submitted
    output_root = output_root or course.root
    jobs, results = plan_class(course, submitted_root, assignments, students, roster, batch_size)
    options = BatchOptions(cell_timeout, feedback, sandboxed)
    total = sum(len(students) for _, students in jobs)
    with (
        course_left_untouched(course),
        tqdm(total=total, desc="grading", unit="notebook") as progress,
    ):

        def finished(result: Result) -> None:
            progress.write(progress_line(result))
            progress.update()

        if scheduler is None:
            graded = _on_threads(course, jobs, submitted_root, output_root, workers, options,
                                 finished)
        else:
            from instructor import cluster  # Dask: only where a cluster grades

            if batch_size != 1:
                raise ValueError("On a cluster every submission is its own task.")
            graded = cluster.grade_on_cluster(
                course, jobs, submitted_root, output_root, scheduler, workers, options, finished
            )
    return results + graded


def _on_threads(
    course: Course,
    jobs: list[Job],
    submitted_root: Path,
    output_root: Path,
    workers: int | None,
    options: BatchOptions,
    finished: Callable[[Result], None],
) -> list[Result]:
    """Every batch on a pool of ``workers`` threads of this machine, in the jobs' order."""
    workers = workers or os.cpu_count() or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                grade_batch,
                course,
                assignment,
                batch,
                submitted_root,
                output_root,
                cell_timeout=options.cell_timeout,
                threads=threads,
                feedback=options.feedback,
                sandboxed=options.sandboxed,
            ): (assignment, batch)
            for assignment, batch in jobs
        }
        graded: dict[Future, list[Result]] = {}
        for future in as_completed(futures):
            try:
                graded[future] = future.result()
            except Exception as error:  # a batch the grader failed on costs only its students
                assignment, batch = futures[future]
                points = max_score(course, assignment)
                graded[future] = [grader_error(s, assignment, points, error) for s in batch]
            for result in graded[future]:
                finished(result)
    return [result for future in futures for result in graded[future]]
