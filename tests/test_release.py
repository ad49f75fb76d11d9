"""The student release: generated from solutions/, committed, and graded the way the spec says."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import released_course

from instructor import classroom
from instructor.notebook import REPO_ROOT, topics

TOPICS = topics()
SPEC_FOLDERS = {
    "01_pytorch_basics",
    "02_deep_linear_networks",
    "03_optimization",
    "04_optimizer_rules",
}


def _validate(path: Path) -> str:
    command = classroom.nbgrader_command(classroom.Course(), "validate", str(path))
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


def test_assignment_folders_are_the_ones_the_spec_names_and_each_has_a_topic():
    assignments = classroom.Course().assignments()
    assert assignments and set(assignments) <= SPEC_FOLDERS
    assert [topic.assignment for topic in TOPICS] == assignments


@pytest.mark.e2e
@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_committed_release_equals_a_fresh_one(topic):
    fresh = topic.release_path(released_course().root)
    committed = topic.release_path()
    assert committed.exists(), f"{committed} is missing: run `make release`"
    assert _without_volatile_metadata(committed) == _without_volatile_metadata(fresh), (
        f"{committed.relative_to(REPO_ROOT)} is out of date: run `make release` and commit it"
    )


@pytest.mark.e2e
def test_release_ships_no_solution_source():
    shipped = {path.suffix for path in (released_course().root / "notebooks").rglob("*.*")}
    assert ".py" not in shipped


@pytest.mark.e2e
@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_solution_notebook_passes_nbgrader_validate(topic):
    output = _validate(topic.solution_path())
    assert "Success! Your notebook passes all the tests." in output, output


@pytest.mark.e2e
def test_grading_the_example_students_gives_full_marks_and_zero(tmp_path):
    """What `make grade` does on a fresh clone, with its output kept out of the repository."""
    course = released_course()
    classroom.refresh_examples(course)
    results = classroom.grade_class(
        course, output_root=tmp_path, students=list(classroom.EXAMPLE_STUDENTS)
    )
    assert {(r.student, r.assignment) for r in results} == {
        (student, topic.assignment) for student in classroom.EXAMPLE_STUDENTS for topic in TOPICS
    }
    for result in results:
        assert result.status == classroom.OK, result
        assert result.max_score > 0
        expected = result.max_score if result.student == "reference-solution" else 0
        assert result.score == expected, result
    assert "reference-solution" in classroom.format_table(results)
