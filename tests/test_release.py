"""The student release: generated from solutions/, committed, and graded the way the spec says."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import pytest
from mutants import released_course

from helpers import classroom
from helpers.classroom import EXAMPLE_STUDENTS, REPO_ROOT, Course

COURSE = Course()
NOTEBOOKS = [(a, name) for a in COURSE.assignments() for name in COURSE.notebook_names(a)]
SPEC_FOLDERS = {
    "01_pytorch_basics",
    "02_deep_linear_networks",
    "03_optimization",
    "04_optimizer_rules",
}


def _validate(path: Path, invert: bool = False) -> str:
    command = classroom.nbgrader_command(
        COURSE, "validate", str(path), *(["--invert"] if invert else [])
    )
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=classroom.subprocess_environment(),
        capture_output=True,
        text=True,
    )
    return done.stdout


def _without_volatile_metadata(path: Path) -> dict:
    notebook = json.loads(path.read_text())
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def test_assignment_folders_are_the_ones_the_spec_names():
    assert COURSE.assignments(), "solutions/ holds no assignment"
    assert set(COURSE.assignments()) <= SPEC_FOLDERS


@pytest.mark.parametrize(("assignment", "name"), NOTEBOOKS)
def test_committed_release_equals_a_fresh_one(assignment, name):
    fresh = released_course().root / "notebooks" / assignment / name
    committed = REPO_ROOT / "notebooks" / assignment / name
    assert committed.exists(), f"{committed} is missing: run `make release`"
    assert _without_volatile_metadata(committed) == _without_volatile_metadata(fresh), (
        f"notebooks/{assignment}/{name} is out of date: run `make release` and commit it"
    )


@pytest.mark.parametrize("student", EXAMPLE_STUDENTS)
def test_example_submissions_follow_the_solutions_and_the_release(student):
    origin = REPO_ROOT / getattr(COURSE, EXAMPLE_STUDENTS[student])
    for assignment, name in NOTEBOOKS:
        example = REPO_ROOT / "submitted" / student / assignment / name
        assert example.exists(), f"{example} is missing: run `make release`"
        assert example.read_bytes() == (origin / assignment / name).read_bytes()


@pytest.mark.parametrize(("assignment", "name"), NOTEBOOKS)
def test_solution_notebook_passes_nbgrader_validate(assignment, name):
    output = _validate(REPO_ROOT / "solutions" / assignment / name)
    assert "Success! Your notebook passes all the tests." in output, output


@pytest.mark.parametrize(("assignment", "name"), NOTEBOOKS)
def test_untouched_release_passes_no_test(assignment, name):
    output = _validate(REPO_ROOT / "notebooks" / assignment / name, invert=True)
    assert "Success! The notebook does not pass any tests." in output, output


@pytest.mark.parametrize(("assignment", "name"), NOTEBOOKS)
def test_solution_notebook_is_committed_without_outputs(assignment, name):
    notebook = nbformat.read(REPO_ROOT / "solutions" / assignment / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None


def test_grading_the_example_students_gives_full_marks_and_zero(tmp_path):
    """What `make grade` does on a fresh clone, with its output kept out of the repository."""
    results = classroom.grade_class(
        released_course(),
        submitted_root=REPO_ROOT / "submitted",
        output_root=tmp_path,
        students=list(EXAMPLE_STUDENTS),
    )
    assert {(r.student, r.assignment) for r in results} == {
        (student, assignment) for student in EXAMPLE_STUDENTS for assignment in COURSE.assignments()
    }
    for result in results:
        assert result.status == classroom.OK, result
        assert result.max_score > 0
        expected = result.max_score if result.student == "reference-solution" else 0
        assert result.score == expected, result
    assert "reference-solution" in classroom.format_table(results)
