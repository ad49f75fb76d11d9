"""How `make bench` schedules the grading it times (the grading itself is timed, not tested)."""

import sys

from instructor.notebook import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from bench import grading_turns  # noqa: E402

CLASS = [f"student_{index:03d}" for index in range(20)]


def test_two_and_one_workers_alternate_over_halves_of_their_samples_two_workers_first():
    turns = grading_turns(CLASS, one_worker_sample=6, two_worker_sample=20, turns=2)
    assert [workers for workers, _ in turns] == [2, 1, 2, 1]
    assert turns[0][1] + turns[2][1] == CLASS
    assert turns[1][1] + turns[3][1] == CLASS[:6]
    assert [len(students) for _, students in turns] == [10, 3, 10, 3]


def test_one_turn_each_grades_the_whole_samples():
    assert grading_turns(CLASS, 4, 4, turns=1) == [(2, CLASS[:4]), (1, CLASS[:4])]


def test_a_class_smaller_than_the_samples_is_graded_whole_by_both():
    small = CLASS[:3]
    turns = grading_turns(small, one_worker_sample=6, two_worker_sample=20, turns=2)
    for count in (1, 2):
        graded = [student for workers, part in turns if workers == count for student in part]
        assert graded == small


def test_a_sample_with_fewer_parts_than_turns_loses_no_student_of_the_other():
    turns = grading_turns(CLASS, one_worker_sample=4, two_worker_sample=20, turns=3)
    assert [student for workers, part in turns if workers == 2 for student in part] == CLASS
    assert [student for workers, part in turns if workers == 1 for student in part] == CLASS[:4]
    assert [workers for workers, _ in turns] == [2, 1, 2, 1, 2]
