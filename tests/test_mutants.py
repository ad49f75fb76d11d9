"""Mutation suites: every exercise's hidden check tells right from wrong.

For each exercise of each notebook (variants in ``tests/variants_<topic>.py``), run the way the
grader runs them (the solution cell reduced to imports and definitions, after the release's
setup imports): realistic wrong answers fail the exercise's hidden check, correct answers
written differently from the reference pass it. One real ``nbgrader autograde`` batch per
notebook then checks the wiring: points per test cell, and that solving one exercise earns
exactly its points.
"""

from __future__ import annotations

import functools
import importlib

import mutants
import nbformat
import pytest

from instructor.notebook import topics
from instructor.verdicts import decide_many

TOPICS = {topic.name: topic for topic in topics()}
SUITES = {name: importlib.import_module(f"variants_{name}") for name in TOPICS}


def _cases(kind: str) -> list[tuple[str, str, str]]:
    return [
        (name, exercise, label)
        for name, suite in SUITES.items()
        for exercise, variants in getattr(suite, kind).items()
        for label in variants
    ]


def _hidden_check(topic_name: str, exercise: str, source: str, seed: int) -> None:
    implementation = TOPICS[topic_name].exercises.load(exercise, [source])
    TOPICS[topic_name].exercises[exercise].run_hidden_check(implementation, seed)


@pytest.mark.parametrize("topic_name", SUITES)
def test_every_exercise_has_at_least_four_wrong_and_two_correct_variants(topic_name):
    suite = SUITES[topic_name]
    assert set(suite.EXERCISES) == set(TOPICS[topic_name].exercises)
    assert suite.ASSIGNMENT == TOPICS[topic_name].assignment
    for exercise in suite.EXERCISES:
        assert len(suite.WRONG[exercise]) >= 4, exercise
        assert len(suite.CORRECT[exercise]) >= 2, exercise


@pytest.mark.parametrize(("topic_name", "exercise", "label"), _cases("WRONG"))
def test_wrong_implementation_fails_the_hidden_check(topic_name, exercise, label, hidden_seed):
    source = SUITES[topic_name].WRONG[exercise][label]
    with pytest.raises(Exception):  # noqa: B017 (a wrong answer may fail in any way)
        _hidden_check(topic_name, exercise, source, hidden_seed)


@pytest.mark.parametrize(("topic_name", "exercise", "label"), _cases("CORRECT"))
def test_correct_implementation_written_differently_passes_the_hidden_check(
    topic_name, exercise, label, hidden_seed
):
    _hidden_check(topic_name, exercise, SUITES[topic_name].CORRECT[exercise][label], hidden_seed)


@pytest.mark.parametrize(("topic_name", "exercise", "label"), _cases("WRONG"))
def test_wrong_implementation_fails_the_visible_self_check_too(topic_name, exercise, label, capsys):
    """A green self-check means the hidden check passes: no "Well done" before lost points."""
    source = SUITES[topic_name].WRONG[exercise][label]
    implementation = TOPICS[topic_name].exercises.load(exercise, [source])
    checked = TOPICS[topic_name].exercises[exercise]
    with pytest.raises(Exception):  # noqa: B017 (a wrong answer may fail in any way)
        checked.run_self_check(implementation)
    capsys.readouterr()


# --------------------------------------------------------------------------------------
# One real nbgrader batch per notebook: the wiring
# --------------------------------------------------------------------------------------


HALVES = ("odd_exercises_solved", "even_exercises_solved")


def _half(topic_name: str, half: str) -> list[str]:
    """The 1st, 3rd, ... exercises of the registry, or the 2nd, 4th, ..."""
    names = list(TOPICS[topic_name].exercises)
    return names[HALVES.index(half) :: 2]


@functools.cache
def graded(topic_name: str) -> dict[str, dict[str, float]]:
    """The untouched release, the full solution, each half of the exercises solved alone.

    Two complementary halves show every exercise earning its points on its own test cells
    and nothing for the unsolved ones, in two submissions instead of one per exercise.
    """
    topic = TOPICS[topic_name]
    solution = nbformat.read(topic.solution_path(), as_version=4)
    sources = {name: mutants.cell_source(solution, name) for name in topic.exercises}
    submissions = {"untouched": {}, "all_solved": sources}
    for half in HALVES:
        submissions[half] = {name: sources[name] for name in _half(topic_name, half)}
    submissions["one_wrong_each"] = {
        name: next(iter(SUITES[topic_name].WRONG[name].values())) for name in topic.exercises
    }
    return mutants.grade_variants(topic, submissions)


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
@pytest.mark.parametrize("topic_name", TOPICS)
def test_points_per_exercise_match_the_registry(topic_name):
    cells = mutants.graded_cell_points(TOPICS[topic_name])
    for name, exercise in TOPICS[topic_name].exercises.items():
        assert mutants.exercise_points(cells, name) == exercise.points, name


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
@pytest.mark.parametrize("topic_name", TOPICS)
def test_untouched_release_earns_nothing_and_the_solution_everything(topic_name):
    results = graded(topic_name)
    total = sum(exercise.points for exercise in TOPICS[topic_name].exercises.values())
    assert sum(results["untouched"].values()) == 0
    assert sum(results["all_solved"].values()) == total
    assert sum(results["one_wrong_each"].values()) == 0


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
@pytest.mark.parametrize(
    ("topic_name", "exercise"), [(t, e) for t, topic in TOPICS.items() for e in topic.exercises]
)
def test_an_exercise_solved_earns_its_points_and_one_left_undone_nothing(topic_name, exercise):
    solved_in = next(half for half in HALVES if exercise in _half(topic_name, half))
    points = TOPICS[topic_name].exercises[exercise].points
    for half in HALVES:
        cells = graded(topic_name)[half]
        earned = mutants.exercise_points(cells, exercise)
        assert earned == (points if half == solved_in else 0), half


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
@pytest.mark.parametrize("topic_name", TOPICS)
def test_a_half_solved_submission_earns_exactly_the_points_of_its_half(topic_name):
    exercises = TOPICS[topic_name].exercises
    for half in HALVES:
        expected = sum(exercises[name].points for name in _half(topic_name, half))
        assert sum(graded(topic_name)[half].values()) == expected, half


# --------------------------------------------------------------------------------------
# The same verdicts where the grader decides them: in the sandboxed child
# --------------------------------------------------------------------------------------


@pytest.mark.nbgrader
@pytest.mark.kernel
@pytest.mark.bubblewrap
@pytest.mark.parametrize(
    ("topic_name", "exercise"), [(t, e) for t, topic in TOPICS.items() for e in topic.exercises]
)
def test_every_variant_gets_the_same_verdict_from_the_grading_sandbox(topic_name, exercise):
    suite = SUITES[topic_name]
    wrong, correct = suite.WRONG[exercise], suite.CORRECT[exercise]
    verdicts = decide_many(
        topic_name,
        TOPICS[topic_name].exercises[exercise],
        [[source] for source in (*wrong.values(), *correct.values())],
    )
    labels = [*wrong, *correct]
    passed = {label: verdict.passed for label, verdict in zip(labels, verdicts)}
    assert [label for label in wrong if passed[label]] == [], "wrong variants passed"
    assert [label for label in correct if not passed[label]] == [], [
        verdict.message for label, verdict in zip(labels, verdicts) if label in correct
    ]
