"""The grader's data model: a course, the verdict on one exercise, the result of a submission.

Results travel as data from the stage that produces them to the ones that show them: the
score table, ``grades.csv``, the gradebook and the report read the fields below; nothing
parses a message back. A ``Result`` has one ``Status`` (what happened to the submission as a
whole), ``Note``s (what is worth knowing besides: a test cell restored, a construct flagged,
an exercise the grader could not run to the end) and the ``Verdict`` on each exercise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from instructor.settings import SETTINGS


@dataclass
class Course:
    """Where a course's folders live; the default is this repository."""

    root: Path = SETTINGS.root
    source: str = SETTINGS.folders.source
    release: str = SETTINGS.folders.release
    submitted: str = SETTINGS.folders.submitted

    @property
    def gradebook(self) -> Path:
        return self.root / SETTINGS.folders.gradebook

    def assignments(self) -> list[str]:
        """Assignment folders in the source directory that hold at least one notebook."""
        source = self.root / self.source
        return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def notebook_names(self, assignment: str) -> list[str]:
        return sorted(p.name for p in (self.root / self.source / assignment).glob("*.ipynb"))


EXAMPLE_STUDENTS = dict(SETTINGS.example_students)


class VerdictKind(str, Enum):
    """What happened to one exercise of one submission."""

    PASSED = "passed"
    NOT_DONE = "not done"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    SHORTCUT = "shortcut"


@dataclass
class Verdict:
    """Whether one exercise of one submission passed its hidden checks, and why not.

    ``check`` is a short label of what failed ("velocity after call 2 is not right"), the
    same for every student who made that mistake; ``message`` is the whole explanation;
    ``seed`` the one its hidden cases were drawn with, to replay them.
    """

    exercise: str
    kind: VerdictKind
    check: str
    message: str
    sandboxed: bool
    flags: list[str] = field(default_factory=list)
    seed: int | None = None

    @property
    def explanation(self) -> str:
        """The message, and for a failed check how to replay its hidden cases."""
        if self.kind is not VerdictKind.FAILED or self.seed is None:
            return self.message
        # In words, not as the hidden test cell's code, which feedback never shows.
        return (f"{self.message} (hidden cases drawn with seed {self.seed}; the exercise's "
                f"hidden check given seed={self.seed} replays them)")

    def __post_init__(self) -> None:
        self.kind = VerdictKind(self.kind)

    @property
    def passed(self) -> bool:
        return self.kind is VerdictKind.PASSED

    def to_json(self) -> dict:
        return {**asdict(self), "kind": self.kind.value}


class Status(str, Enum):
    """What happened to a submission as a whole (the README's status table)."""

    OK = "ok"
    MISSING = "missing"
    MISSING_NOTEBOOK = "missing notebook"
    INVALID_NOTEBOOK = "invalid notebook"
    KERNEL_DIED = "kernel died"
    OUT_OF_MEMORY = "out of memory"
    GRADING_TIMED_OUT = "grading timed out"
    GRADING_FAILED = "grading failed"
    CRASHED_WORKER = "crashed worker"
    GRADER_ERROR = "grader error"


class NoteKind(str, Enum):
    """What is worth knowing about a graded submission besides its status."""

    CELL_TIMED_OUT = "cell timed out"
    RESTORED_DELETED = "restored deleted"
    RESTORED_RETYPED = "restored retyped"
    RESTORED_METADATA = "restored the metadata of"
    IGNORED_UNKNOWN_CELL = "ignored unknown cell"
    FLAGGED = "flagged"
    CRASHED_IN_THE_GRADER = "crashed in the grader"
    TIMED_OUT_IN_THE_GRADER = "timed out in the grader"
    MANUAL_SCORE_IGNORED = "manual score appeared during autograding (ignored)"
    UNSANDBOXED = "unsandboxed"
    LATE = "late"


@dataclass(frozen=True)
class Note:
    kind: NoteKind
    subject: str = ""  # the cell or exercise it is about
    detail: str = ""  # what the constructs were, how late

    def __str__(self) -> str:
        if self.kind is NoteKind.FLAGGED:
            return f"flagged {self.subject}: {self.detail}"
        if self.kind in (NoteKind.CRASHED_IN_THE_GRADER, NoteKind.TIMED_OUT_IN_THE_GRADER):
            return f"{self.subject}: {self.kind.value}"
        if self.kind is NoteKind.CELL_TIMED_OUT:
            return f"{self.kind.value} ({self.subject})"
        if self.kind is NoteKind.LATE:
            return f"late ({self.detail})" if self.detail else "late"
        return " ".join(part for part in (self.kind.value, self.subject) if part)

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "subject": self.subject, "detail": self.detail}


@dataclass
class Result:
    """One student's grade on one assignment."""

    student: str
    assignment: str
    status: Status
    score: float
    max_score: float
    cells: dict[str, float] = field(default_factory=dict)  # test cell grade_id -> points
    notes: list[Note] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # exercise -> verdict
    detail: str = ""  # about the status: which notebook is missing, where the JSON breaks

    @property
    def example(self) -> bool:
        return self.student in EXAMPLE_STUDENTS

    def status_text(self) -> str:
        """The status column: the status (with its detail), then the notes."""
        status = f"{self.status.value} {self.detail}" if self.detail else self.status.value
        shown = [str(note) for note in self.notes]
        if self.status is not Status.OK or not shown:
            shown.insert(0, status)
        return "; ".join(shown)
