"""Mutation suites: the hidden tests of every exercise tell right from wrong.

For each exercise of each notebook (variants in ``variants_<notebook>.py``), graded by the real
``nbgrader autograde`` on submissions built from the release notebook: realistic wrong answers
lose points on the exercise's ``test_<name>`` cells, correct answers written differently from
the reference earn all of them, and a submission that solves only that exercise earns exactly
its points.
"""

from __future__ import annotations

import functools

import mutants
import pytest
import variants_deep_linear
import variants_optimization

SUITES = {suite.ASSIGNMENT: suite for suite in (variants_deep_linear, variants_optimization)}
WRONG = {name: mutants.combine_variants(s.WRONG, "wrong") for name, s in SUITES.items()}
CORRECT = {name: mutants.combine_variants(s.CORRECT, "correct") for name, s in SUITES.items()}


def _cases(table: dict) -> list[tuple[str, str, str]]:
    return [
        (assignment, exercise, label)
        for assignment, (_, carrier) in table.items()
        for exercise, label in sorted(carrier)
    ]


@functools.cache
def grades(assignment: str) -> dict[str, dict[str, float]]:
    """Grade every variant of one notebook in a single call (a few nbgrader processes)."""
    suite = SUITES[assignment]
    solutions = {
        exercise: mutants.solution_source(assignment, suite.NOTEBOOK, exercise)
        for exercise in suite.EXERCISES
    }
    submissions = {**WRONG[assignment][0], **CORRECT[assignment][0], "untouched": {}}
    for exercise, source in solutions.items():
        submissions[f"only_{exercise}"] = {exercise: source}
    submissions["all_solved"] = solutions
    return mutants.grade_variants(assignment, suite.NOTEBOOK, submissions)


@functools.cache
def full_points(assignment: str) -> dict[str, float]:
    suite = SUITES[assignment]
    cells = mutants.graded_cell_points(assignment, suite.NOTEBOOK)
    return {exercise: mutants.exercise_points(cells, exercise) for exercise in suite.EXERCISES}


@pytest.mark.parametrize("assignment", SUITES)
def test_every_exercise_has_at_least_four_wrong_and_two_correct_variants(assignment):
    suite = SUITES[assignment]
    for exercise in suite.EXERCISES:
        assert len(suite.WRONG[exercise]) >= 4, exercise
        assert len(suite.CORRECT[exercise]) >= 2, exercise


@pytest.mark.parametrize(("assignment", "exercise", "label"), _cases(WRONG))
def test_wrong_implementation_loses_points(assignment, exercise, label):
    carrier = WRONG[assignment][1][(exercise, label)]
    earned = mutants.exercise_points(grades(assignment)[carrier], exercise)
    assert earned < full_points(assignment)[exercise], f"{exercise}/{label} earned {earned}"


@pytest.mark.parametrize(("assignment", "exercise", "label"), _cases(CORRECT))
def test_correct_implementation_written_differently_earns_all_points(assignment, exercise, label):
    carrier = CORRECT[assignment][1][(exercise, label)]
    earned = mutants.exercise_points(grades(assignment)[carrier], exercise)
    assert earned == full_points(assignment)[exercise], f"{exercise}/{label} earned {earned}"


@pytest.mark.parametrize(
    ("assignment", "exercise"), [(a, e) for a, s in SUITES.items() for e in s.EXERCISES]
)
def test_solving_only_one_exercise_earns_exactly_its_points(assignment, exercise):
    cells = grades(assignment)[f"only_{exercise}"]
    assert mutants.exercise_points(cells, exercise) == full_points(assignment)[exercise]
    assert sum(cells.values()) == full_points(assignment)[exercise]


@pytest.mark.parametrize("assignment", SUITES)
def test_untouched_release_earns_nothing(assignment):
    assert sum(grades(assignment)["untouched"].values()) == 0


@pytest.mark.parametrize("assignment", SUITES)
def test_reference_solution_earns_full_marks(assignment):
    solved = grades(assignment)["all_solved"]
    assert sum(solved.values()) == sum(full_points(assignment).values())
