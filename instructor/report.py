"""The gradebook report: per exercise, the class's mean score and its most common failing check.

``make grade`` prints it as a table under the score table and draws it as a bar chart (a PNG
next to ``grades.csv``). Scores come from the grading results (points per test cell); the
failing checks from the test cells' outputs in the autograded notebooks, which hold the
verdict of each exercise (``instructor.verdicts``) or, in a course without a registry, the
kernel's error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from matplotlib.figure import Figure

from instructor.classroom import EXAMPLE_STUDENTS, Course, Result
from instructor.notebook import nbgrader_metadata

CHART_SUFFIX = "_by_exercise.png"
MISSING = "missing"  # the status of a student without the assignment's folder
NO_MESSAGE = "(no message)"


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


def check_label(cell: nbformat.NotebookNode) -> str:
    """What a failing test cell says, cut to its first clause: ``"Velocity after call 2 is
    not right"`` rather than the amount it is off by, which differs for every submission."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            text = (output.get("evalue") or output.get("ename") or "").strip()
            first_line = text.splitlines()[0] if text else ""
            return re.split(r":\s", first_line, maxsplit=1)[0] or NO_MESSAGE
    return NO_MESSAGE


def _exercise_name(grade_id: str) -> str:
    return grade_id.removeprefix("test_")


def summarize(
    results: Sequence[Result], course: Course, autograded_root: Path | None = None
) -> Summary:
    """Per exercise of every assignment in ``results``: mean score and most common failure.

    The example students (the solution and the untouched release) are left out unless
    nobody else submitted; so is an assignment nobody submitted (every row ``missing``),
    which would otherwise read as an exercise everyone failed.
    """
    autograded_root = autograded_root or course.root / "autograded"
    students = sorted({r.student for r in results} - set(EXAMPLE_STUDENTS))
    only_examples = not students
    counted = [r for r in results if only_examples or r.student not in EXAMPLE_STUDENTS]
    exercises, unsubmitted = [], []
    for assignment in sorted({r.assignment for r in counted}):
        if all(r.status == MISSING for r in counted if r.assignment == assignment):
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
                        failures[_failing_check(autograded_root, result, name, grade_id)] += 1
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


def _failing_check(autograded_root: Path, result: Result, name: str, grade_id: str) -> str:
    path = autograded_root / result.student / result.assignment / name
    if not path.exists():
        return NO_MESSAGE
    notebook = nbformat.read(path, as_version=4)
    for cell in _test_cells(notebook):
        if nbgrader_metadata(cell).get("grade_id") == grade_id:
            return check_label(cell)
    return NO_MESSAGE


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
