"""The gradebook report: per exercise, the class's mean score and most common failing check.

These tests build autograded notebooks by hand (the toy course's two exercises, test_add worth
2 points and test_scale worth 1); test_classroom.py checks the report on a really graded class.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from instructor import report
from instructor.model import Course, Result, Status, Verdict, VerdictKind

TOY = Path(__file__).parent / "fixtures" / "toy_course"


@pytest.fixture
def course(tmp_path) -> Course:
    shutil.copytree(TOY, tmp_path, dirs_exist_ok=True)
    (tmp_path / "notebooks" / "toy").mkdir(parents=True)
    shutil.copy(TOY / "solutions" / "toy" / "toy.ipynb", tmp_path / "notebooks" / "toy")
    return Course(root=tmp_path)


def _graded(student: str, failures: dict[str, str]) -> Result:
    """A graded submission whose exercises in ``failures`` failed the check given."""
    cells = {"test_add": 2.0, "test_scale": 1.0}
    verdicts = {}
    for exercise in ("add", "scale"):
        if exercise in failures:
            cells[f"test_{exercise}"] = 0.0
            check = failures[exercise]
            verdicts[exercise] = Verdict(exercise, VerdictKind.FAILED, check, "", True)
        else:
            verdicts[exercise] = Verdict(exercise, VerdictKind.PASSED, "passed", "", True)
    return Result(student, "toy", Status.OK, sum(cells.values()), 3.0, cells, verdicts=verdicts)


def test_mean_and_most_common_failing_check_per_exercise(course):
    results = [
        _graded("ada", {}),
        _graded("bo", {"add": "sum is not right"}),
        _graded("cy", {"add": "sum is not right"}),
        _graded("di", {"add": "not done yet", "scale": "raised an error"}),
        Result("eve", "toy", Status.MISSING, 0.0, 3.0),  # no cell scores: not in the means
    ]
    summary = report.summarize(results, course)
    add, scale = summary.exercises
    assert (add.exercise, add.max_points, add.graded, add.failed) == ("add", 2, 4, 3)
    assert add.mean == pytest.approx(0.5)
    assert (add.common_failure, add.common_failure_count) == ("sum is not right", 2)
    assert (scale.mean, scale.failed, scale.common_failure) == (0.75, 1, "raised an error")


def test_a_submission_graded_in_its_kernel_counts_without_a_check_label(course):
    cells = {"test_add": 0.0, "test_scale": 0.0}
    kernel_graded = Result("ada", "toy", Status.OK, 0.0, 3.0, cells)
    add, _ = report.summarize([kernel_graded], course).exercises
    assert add.common_failure == report.NO_VERDICT


def test_example_students_count_only_when_nobody_else_submitted(course):
    examples = [
        _graded("reference-solution", {}),
        _graded("untouched-release", {"add": "not done yet"}),
    ]
    alone = report.summarize(examples, course)
    assert alone.only_examples and alone.exercises[0].mean == 1.0
    with_class = report.summarize([*examples, _graded("ada", {})], course)
    assert with_class.students == ["ada"]
    assert with_class.exercises[0].mean == 2.0


def test_table_has_a_row_per_exercise_without_trailing_padding(course):
    failed = _graded("bo", {"add": "not done yet"})
    summary = report.summarize([failed], course)
    table = report.format_report(summary)
    assert "not done yet (1x)" in table
    rows = table.splitlines()
    assert rows[1].split()[:2] == ["assignment", "exercise"]
    assert [row.split()[1] for row in rows[3:]] == ["add", "scale"]
    assert all(row == row.rstrip() for row in rows)


def test_chart_is_a_png_with_a_bar_per_exercise(course, tmp_path):
    summary = report.summarize([_graded("ada", {"scale": "no"})], course)
    figure = report.chart(summary)
    assert len(figure.axes[0].patches) == 2
    path = tmp_path / "grades_by_exercise.png"
    report.write_chart(summary, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_assignment_nobody_submitted_is_left_out_not_shown_as_failed(course):
    results = [
        _graded("ada", {}),
        Result("ada", "later", Status.MISSING, 0.0, 5.0),
        Result("bo", "toy", Status.MISSING, 0.0, 3.0),
        Result("bo", "later", Status.MISSING, 0.0, 5.0),
    ]
    summary = report.summarize(results, course)
    assert {e.assignment for e in summary.exercises} == {"toy"}
    assert summary.unsubmitted == ["later"]
    assert report.format_report(summary).endswith("Left out, nobody submitted: later.")
    assert len(report.chart(summary).axes[0].patches) == 2  # toy's two exercises only
