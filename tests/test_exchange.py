"""The instructor's exchange steps, apart from a hub: what collect trusts, what feedback holds back,
how late is said. (tests/test_hub.py runs them through a real hub and nbgrader.)"""

from __future__ import annotations

import datetime

import pytest

from instructor import exchange
from instructor.model import Course


def test_a_timestamp_written_when_it_claims_is_trusted(tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    (tmp_path / "timestamp.txt").write_text(f"{now:%Y-%m-%d %H:%M:%S.%f} UTC")
    timestamp, note = exchange.trusted_timestamp(tmp_path)
    assert abs((timestamp - now).total_seconds()) < 1 and note is None


def test_a_timestamp_rewritten_later_counts_as_submitted_when_it_was_written(tmp_path):
    """A student who edits timestamp.txt to an earlier time (to dodge the due date) cannot
    change the file's change time, which the kernel sets."""
    (tmp_path / "timestamp.txt").write_text("2020-01-01 09:00:00.000000 UTC")
    timestamp, note = exchange.trusted_timestamp(tmp_path)
    assert timestamp.year >= 2026 and "timestamp.txt says 2020-01-01 09:00:00" in note
    assert exchange.trusted_timestamp(tmp_path / "missing") == (None, None)


@pytest.mark.parametrize(("seconds", "said"), [
    (0.4, "1 s"), (42, "42 s"), (125, "2 min"), (3 * 3600 + 300, "3 h 5 min"),
    (2 * 86400 + 3600, "2 d 1 h"),
])
def test_lateness_is_said_in_words(seconds, said):
    assert exchange._duration(seconds) == said


def _submission(course: Course, student: str, secret: str | None, feedback: str | None,
                assignment: str = "03_optimization") -> None:
    folder = course.root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    (folder / "optimization.ipynb").write_text("{}")
    if secret is not None:
        (folder / "submission_secret.txt").write_text(secret)
    if feedback is not None:
        graded = course.root / "feedback" / student / assignment
        graded.mkdir(parents=True)
        (graded / "optimization.html").write_text("<p>Score</p>")
        (graded / "submission_secret.txt").write_text(feedback)


def test_feedback_goes_out_only_for_the_submission_that_was_graded(tmp_path):
    course = Course(root=tmp_path)
    _submission(course, "ada", "s1", "s1")  # graded: goes out
    _submission(course, "bob", "s2-new", "s2-old")  # resubmitted after grading
    _submission(course, "cy", "s3", None)  # not graded yet
    _submission(course, "dee", None, None)  # put in submitted/ by hand, not the exchange
    _submission(course, "reference-solution", None, None)  # an example student
    ready, notes = exchange.feedback_to_release(course, "03_optimization")
    assert ready == ["ada"]
    assert notes == [
        "bob: the feedback is for an earlier submission (run `make grade`)",
        "cy: no feedback yet (run `make grade`)",
        "dee: the submission did not come through the exchange",
    ]


def test_an_interrupted_collect_is_put_back_before_the_rerun(tmp_path):
    course = Course(root=tmp_path)
    student = tmp_path / "submitted" / "ada"
    (student / ".03_optimization.replaced").mkdir(parents=True)  # moved aside, not replaced
    (student / ".03_optimization.replaced" / "optimization.ipynb").write_text("old")
    (student / ".03_optimization.collecting").mkdir()  # a copy cut short
    other = tmp_path / "submitted" / "bob"
    (other / "03_optimization").mkdir(parents=True)
    (other / ".03_optimization.replaced").mkdir()  # the swap was done: the old one can go
    notes = exchange.recover_interrupted(course)
    assert (student / "03_optimization" / "optimization.ipynb").read_text() == "old"
    assert notes == ["Put back submitted/ada/03_optimization (interrupted collect)."]
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []


def test_the_instructors_steps_need_a_hub_or_an_exchange_to_be_named(tmp_path, capsys):
    assert exchange.main(["collect", "--course", str(tmp_path)]) == 1
    assert "run `make hub` first" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing was created in the course
