"""What a graded class looks like: the score table, ``grades.csv``, and the gradebook report
(per exercise, the class's mean score and its most common failing check, as a table and as
a bar chart next to ``grades.csv``).

Everything here reads the results as data (``instructor.model``): the points per test cell,
the status and notes, and each exercise's verdict with its short check label.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from matplotlib.figure import Figure

from instructor.model import EXAMPLE_STUDENTS, Course, Result, Status
from instructor.notebook import is_test_of, nbgrader_metadata

CHART_SUFFIX = "_by_exercise.png"
NO_VERDICT = "(no verdict: graded in the kernel)"


def format_table(results: Sequence[Result]) -> str:
    """A plain-text table: one row per student and assignment."""
    header = ("student", "assignment", "score", "status")
    rows = [
        (r.student, r.assignment, f"{r.score:g} / {r.max_score:g}", r.status_text())
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
    """One row per student and assignment: the score, the status and its notes, the points
    of every test cell; the example students last, marked ``example``."""
    header = ["student", "assignment", "score", "max_score", "status", "notes", "cells", "example"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for r in sorted(results, key=lambda r: (r.example, r.student, r.assignment)):
            status = f"{r.status.value} {r.detail}".strip()
            notes = "; ".join(str(note) for note in r.notes)
            cells = json.dumps(r.cells)
            example = "example" if r.example else ""
            writer.writerow(
                [r.student, r.assignment, r.score, r.max_score, status, notes, cells, example]
            )


@dataclass
class ExerciseSummary:
    """How the class did on one exercise (one test cell)."""

    assignment: str
    exercise: str
    max_points: float
    mean: float  # over the graded submissions
    graded: int  # submissions that were graded (a missing or crashed one has no cell scores)
    failed: int  # graded submissions below full points
    common_failure: str | None  # the most common failing check, None when nobody failed
    common_failure_count: int


@dataclass
class Summary:
    exercises: list[ExerciseSummary]
    students: list[str]  # whose submissions the report counts
    only_examples: bool  # nobody but the example students submitted
    unsubmitted: list[str] = field(default_factory=list)  # assignments nobody submitted


def _test_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        cell
        for cell in notebook.cells
        if nbgrader_metadata(cell).get("grade") and not nbgrader_metadata(cell).get("solution")
    ]


def _exercise_name(grade_id: str) -> str:
    return grade_id.removeprefix("test_")


def summarize(results: Sequence[Result], course: Course) -> Summary:
    """Per exercise of every assignment in ``results``: mean score and most common failure.

    The example students (the solution and the untouched release) are left out unless
    nobody else submitted; so is an assignment nobody submitted (every row ``missing``),
    which would otherwise read as an exercise everyone failed.
    """
    students = sorted({r.student for r in results} - set(EXAMPLE_STUDENTS))
    only_examples = not students
    counted = [r for r in results if only_examples or r.student not in EXAMPLE_STUDENTS]
    exercises, unsubmitted = [], []
    for assignment in sorted({r.assignment for r in counted}):
        if all(r.status is Status.MISSING for r in counted if r.assignment == assignment):
            unsubmitted.append(assignment)  # not a class that failed: left out
            continue
        graded = [r for r in counted if r.assignment == assignment and r.cells]
        for name in course.notebook_names(assignment):
            release = nbformat.read(course.root / course.release / assignment / name, 4)
            for cell in _test_cells(release):
                grade_id = nbgrader_metadata(cell)["grade_id"]
                points = float(nbgrader_metadata(cell).get("points", 0))
                scores = [r.cells.get(grade_id, 0.0) for r in graded]
                failures: Counter[str] = Counter()
                for result in graded:
                    if result.cells.get(grade_id, 0.0) < points:
                        failures[_failing_check(result, grade_id)] += 1
                common = failures.most_common(1)
                exercises.append(
                    ExerciseSummary(
                        assignment=assignment,
                        exercise=_exercise_name(grade_id),
                        max_points=points,
                        mean=sum(scores) / len(scores) if scores else 0.0,
                        graded=len(graded),
                        failed=sum(failures.values()),
                        common_failure=common[0][0] if common else None,
                        common_failure_count=common[0][1] if common else 0,
                    )
                )
    return Summary(exercises, sorted({r.student for r in counted}), only_examples, unsubmitted)


def _failing_check(result: Result, grade_id: str) -> str:
    """The short label of what failed in the exercise that ``grade_id`` tests."""
    for exercise, verdict in result.verdicts.items():
        if is_test_of(grade_id, exercise):
            return verdict.check
    return NO_VERDICT


def format_report(summary: Summary) -> str:
    """The report as a plain-text table, one row per exercise."""
    left_out = (
        f"\nLeft out, nobody submitted: {', '.join(summary.unsubmitted)}."
        if summary.unsubmitted else ""
    )
    if not summary.exercises:
        return "Gradebook report: no graded submissions." + left_out
    who = (
        "the example students only (nobody else submitted)"
        if summary.only_examples
        else f"{len(summary.students)} student(s) (the example students left out)"
    )
    header = ("assignment", "exercise", "mean", "failed", "most common failing check")
    rows = [
        (
            e.assignment,
            e.exercise,
            f"{e.mean:.3g} / {e.max_points:g}",
            f"{e.failed} of {e.graded}",
            f"{e.common_failure} ({e.common_failure_count}x)" if e.common_failure else "-",
        )
        for e in summary.exercises
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return f"Gradebook report, per exercise, over {who}:\n" + "\n".join(lines) + left_out


def chart(summary: Summary) -> Figure:
    """A bar per exercise: the class's mean score as a share of the exercise's points."""
    entries = summary.exercises
    figure = Figure(figsize=(8, 1.2 + 0.35 * len(entries)), layout="constrained")
    axes = figure.add_subplot()
    assignments = sorted({e.assignment for e in entries})
    colours = {a: f"C{i % 10}" for i, a in enumerate(assignments)}
    positions = range(len(entries))[::-1]  # the first exercise on top
    shares = [100 * e.mean / e.max_points if e.max_points else 0.0 for e in entries]
    axes.barh(positions, shares, color=[colours[e.assignment] for e in entries])
    for position, share, entry in zip(positions, shares, entries):
        axes.text(share + 1, position, f"{entry.mean:.3g} / {entry.max_points:g}", va="center")
    axes.set_yticks(list(positions), [f"{e.assignment[:2]} {e.exercise}" for e in entries])
    axes.set_xlim(0, 115)
    axes.set_xlabel("class mean, % of the exercise's points")
    students = "example students" if summary.only_examples else "students"
    axes.set_title(f"Mean score per exercise ({len(summary.students)} {students})")
    return figure


def write_chart(summary: Summary, path: Path) -> None:
    chart(summary).savefig(path, dpi=120)
