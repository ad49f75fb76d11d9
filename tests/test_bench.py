"""How `make bench` schedules the grading it times (the grading itself is timed, not tested)."""

import sys

from instructor.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from bench import grading_turns  # noqa: E402

CLASS = [f"student_{index:03d}" for index in range(20)]


def graded_by(turns: list[tuple[int, list[str]]], workers: int) -> list[str]:
    return [student for count, part in turns if count == workers for student in part]


def test_one_worker_grades_half_its_sample_before_two_workers_grade_theirs_and_half_after():
    turns = grading_turns(CLASS, one_worker_sample=6, two_worker_sample=20)
    assert turns == [(1, CLASS[:3]), (2, CLASS), (1, CLASS[3:6])]


def test_a_class_smaller_than_the_samples_is_graded_whole_by_both():
    small = CLASS[:3]
    turns = grading_turns(small, one_worker_sample=6, two_worker_sample=20)
    assert graded_by(turns, 1) == small
    assert graded_by(turns, 2) == small


def test_a_one_worker_sample_of_one_still_has_a_half_after_two_workers():
    turns = grading_turns(CLASS, one_worker_sample=1, two_worker_sample=4)
    assert turns == [(1, CLASS[:1]), (2, CLASS[:4]), (1, CLASS[1:2])]
