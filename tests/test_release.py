"""The student release: generated from solutions/, committed, and graded the way the spec says."""

from __future__ import annotations

import json
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


def test_example_students_are_the_solutions_and_the_untouched_release(tmp_path):
    """`make release` and `make grade` add them, so that grading works on a fresh clone (their
    grades are checked by the nbgrader batches in test_mutants.py: full marks and zero)."""
    (tmp_path / "solutions").symlink_to(REPO_ROOT / "solutions")
    (tmp_path / "notebooks").symlink_to(REPO_ROOT / "notebooks")
    course = classroom.Course(root=tmp_path)
    classroom.refresh_examples(course)
    for topic in TOPICS:
        for student, origin in classroom.EXAMPLE_STUDENTS.items():
            copy = tmp_path / "submitted" / student / topic.assignment / topic.notebook_name
            source = topic.solution_path() if origin == "source" else topic.release_path()
            assert copy.read_bytes() == source.read_bytes()
