"""Assignments out, submissions in and feedback back through nbgrader's exchange.

    python -m instructor.exchange release  [--assignment A] [--due "2026-12-04 17:00 UTC"]
    python -m instructor.exchange collect  [--assignment A]
    python -m instructor.exchange feedback [--assignment A]

(``make hub-release``, ``make hub-collect`` and ``make hub-feedback``; ``make grade`` grades in
between, as for any ``submitted/`` folder.) Each step is nbgrader's own command
(``release_assignment``, ``collect``, ``release_feedback``) on the course of the hub that
``make hub`` set up (its course id and exchange, from ``hub/settings.json``), with these
additions:

- **release** records a due date in the gradebook (``nbgrader db assignment add --duedate``),
  from which nbgrader decides what is late; the grading table's status then says ``late``.
- **collect** runs nbgrader's collect with ``VerifiedCollect``, which also reads the hub's
  per-student folders of ``inbound`` (``instructor.hub``): a submission whose folder belongs
  to another account than the student it names is refused (nbgrader only warns), a
  ``timestamp.txt`` rewritten after the submission does not count, and each submission
  reaches ``submitted/`` whole or not at all (copied aside, then swapped in), so that an
  interrupted collect leaves every submission where it was and a rerun finishes the job.
- **feedback** releases only feedback graded from the submission that is in ``submitted/``
  now (the same ``submission_secret.txt``, which also names its file in the exchange), and
  says whose feedback is missing or stale. nbgrader's release writes each file aside and
  renames it into place, so a rerun after an interruption gives the same files.

Run these as the owner of the course checkout (who owns the course's folder in the exchange).
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISVTX

from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import parse_utc

from instructor.model import EXAMPLE_STUDENTS, Course
from instructor.nbgrader_commands import nbgrader_command, subprocess_environment
from instructor.settings import REPO_ROOT

SECRET = "submission_secret.txt"
TIMESTAMP = "timestamp.txt"
# A timestamp.txt changed more than this after the time it claims was rewritten by hand.
TIMESTAMP_SLACK = datetime.timedelta(minutes=2)


class ExchangeStepError(RuntimeError):
    """An nbgrader exchange command failed; the message has its log."""


@dataclass
class Place:
    """Where the course is in the exchange: its id and the exchange's root folder."""

    course_id: str
    root: Path

    @classmethod
    def of_hub(cls, course: Course) -> Place:
        from instructor.hub import HubSettings

        settings = HubSettings.load(course.root)
        return cls(settings.course_id, settings.exchange)

    @property
    def inbound(self) -> Path:
        return self.root / self.course_id / "inbound"

    def released(self) -> list[str]:
        """The assignments released to the exchange."""
        outbound = self.root / self.course_id / "outbound"
        return sorted(p.name for p in outbound.iterdir()) if outbound.is_dir() else []

    def options(self) -> list[str]:
        return [f"--CourseDirectory.course_id={self.course_id}", f"--Exchange.root={self.root}"]


def _nbgrader(course: Course, place: Place, *arguments: str) -> str:
    command = [*nbgrader_command(course, *arguments), *place.options()]
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=subprocess_environment(), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise ExchangeStepError(
            f"nbgrader {arguments[0]} failed:\n{(done.stdout + done.stderr)[-3000:]}"
        )
    return done.stdout + done.stderr


def _log_lines(log: str, *markers: str) -> list[str]:
    return [line.split("] ", 1)[-1] for line in log.splitlines() if any(m in line for m in markers)]


# --------------------------------------------------------------------------------------
# Release
# --------------------------------------------------------------------------------------


def release(course: Course, place: Place, assignments: Iterable[str] | None = None,
            due: str | None = None) -> list[str]:
    """Put the release's notebooks of ``assignments`` (default: all) in the exchange."""
    chosen = list(assignments or course.assignments())
    messages = []
    for assignment in chosen:
        if not (course.root / course.release / assignment).is_dir():
            raise ExchangeStepError(
                f"{course.release}/{assignment} does not exist: run `make release` first."
            )
        if due:
            parse_utc(due)  # a clear ValueError before nbgrader's own message
            _nbgrader(course, place, "db", "assignment", "add", assignment, f"--duedate={due}")
        _nbgrader(course, place, "release_assignment", assignment, "--force")
        messages.append(
            f"Released {assignment} to course {place.course_id}"
            + (f", due {due}." if due else ".")
        )
    # nbgrader makes inbound writable by all without the sticky bit: with it, nobody but its
    # owner can rename or delete a submission, even knowing its name.
    place.inbound.chmod(place.inbound.stat().st_mode | S_ISVTX)
    return messages


# --------------------------------------------------------------------------------------
# Collect
# --------------------------------------------------------------------------------------


def trusted_timestamp(folder: Path) -> tuple[datetime.datetime | None, str | None]:
    """The submission time nbgrader should use, and a note when ``timestamp.txt`` was
    rewritten after the time it claims (its change time, which no user can set, says so)."""
    path = folder / TIMESTAMP
    if not path.exists():
        return None, None
    claimed = parse_utc(path.read_text().strip())
    written = datetime.datetime.fromtimestamp(path.stat().st_ctime, datetime.timezone.utc)
    written = written.replace(tzinfo=None)
    if written - claimed > TIMESTAMP_SLACK:
        return written, f"timestamp.txt says {claimed:%Y-%m-%d %H:%M:%S} but was written at " \
            f"{written:%Y-%m-%d %H:%M:%S} UTC; counted as submitted then"
    return claimed, None


class VerifiedCollect(ExchangeCollect):
    """nbgrader's collect that trusts a submission only as far as the file system does."""

    def init_src(self):
        super().init_src()
        records = []
        name = f"*+{self.coursedir.assignment_id}+*"
        # nbgrader's layout (inbound/<submission>) and the hub's (inbound/<student>/...)
        found = glob.glob(os.path.join(self.inbound_path, name))
        found += glob.glob(os.path.join(self.inbound_path, "*", name))
        for path in found:
            record = self._path_to_record(path) | {"path": path}
            owner = _owner_name(Path(path))
            folder = Path(path).parent
            if folder != Path(self.inbound_path) and folder.name != record["username"]:
                self.log.warning("Refused %s: it names %s but is in the folder of %s",
                                 record["filename"], record["username"], folder.name)
                continue
            if owner != record["username"]:
                self.log.warning(
                    "Refused %s: it names %s but belongs to the account %s",
                    record["filename"], record["username"], owner,
                )
                continue
            if self.coursedir.student_id not in ("", "*", record["username"]):
                continue
            timestamp, note = trusted_timestamp(Path(path))
            if note:
                self.log.warning("%s: %s", record["filename"], note)
                record["timestamp"] = timestamp
                record["rewritten_timestamp"] = timestamp
            records.append(record)
        by_student = groupby(records, lambda item: item["username"])
        self.src_records = [self._sort_by_timestamp(v)[0] for v in by_student.values()]

    def copy_files(self):
        if not self.src_records:
            self.log.warning("No submissions of %s to collect", self.coursedir.assignment_id)
        for record in self.src_records:
            student = record["username"]
            source = Path(record["path"])
            destination = Path(self.coursedir.format_path(
                self.coursedir.submitted_directory, student, self.coursedir.assignment_id))
            existing = self.coursedir.get_existing_timestamp(str(destination))
            if destination.is_dir() and existing is not None and existing >= record["timestamp"]:
                self.log.info("Up to date: %s %s", student, self.coursedir.assignment_id)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            incoming = destination.with_name(f".{destination.name}.collecting")
            shutil.rmtree(incoming, ignore_errors=True)
            self.do_copy(str(source), str(incoming))
            if "rewritten_timestamp" in record:
                stamp = record["rewritten_timestamp"].strftime("%Y-%m-%d %H:%M:%S.%f UTC")
                (incoming / TIMESTAMP).write_text(stamp)
            if destination.exists():
                self.log.info(
                    "Replacing %s's earlier submission of %s (%s) with the one of %s",
                    student, self.coursedir.assignment_id, existing or "no timestamp",
                    record["timestamp"],
                )
                outgoing = destination.with_name(f".{destination.name}.replaced")
                shutil.rmtree(outgoing, ignore_errors=True)
                destination.rename(outgoing)
                incoming.rename(destination)
                shutil.rmtree(outgoing)
            else:
                incoming.rename(destination)
                self.log.info("Collected %s %s (%s)", student, self.coursedir.assignment_id,
                              record["timestamp"])


def _owner_name(path: Path) -> str:
    import pwd

    try:
        return pwd.getpwuid(path.stat().st_uid).pw_name
    except KeyError:
        return f"uid {path.stat().st_uid}"


def recover_interrupted(course: Course) -> list[str]:
    """Put back what an interrupted collect left half-done: a submission moved aside but not
    yet replaced goes back where it was; unfinished copies are removed (the exchange still
    has them, and the rerun collects them again)."""
    notes = []
    submitted = course.root / course.submitted
    for aside in submitted.glob("*/.*.replaced"):
        destination = aside.with_name(aside.name[1:].removesuffix(".replaced"))
        if destination.exists():
            shutil.rmtree(aside)
        else:
            aside.rename(destination)
            notes.append(f"Put back {destination.relative_to(course.root)} (interrupted collect).")
    for partial in submitted.glob("*/.*.collecting"):
        shutil.rmtree(partial)
    return notes


def collect(course: Course, place: Place, assignments: Iterable[str] | None = None) -> list[str]:
    """Each student's latest submission of ``assignments`` (default: every assignment released
    to the exchange) into ``submitted/``."""
    messages = recover_interrupted(course)
    chosen = list(assignments or place.released())
    if not chosen:
        messages.append("Nothing released yet: `make hub-release` first.")
    for assignment in chosen:
        log = _nbgrader(
            course, place, "collect", assignment,
            "--ExchangeFactory.collect=instructor.exchange.VerifiedCollect",
        )
        messages += _log_lines(
            log, "Collected", "Replacing", "Refused", "No submissions", "counted as submitted",
            "Up to date",
        )
    return messages


# --------------------------------------------------------------------------------------
# Feedback
# --------------------------------------------------------------------------------------


def feedback_to_release(course: Course, assignment: str) -> tuple[list[str], list[str]]:
    """The students whose feedback can go out, and what keeps the others' back."""
    ready, notes = [], []
    submitted = course.root / course.submitted
    feedback = course.root / "feedback"
    for folder in sorted(p for p in submitted.glob(f"*/{assignment}") if p.is_dir()):
        student = folder.parent.name
        if student in EXAMPLE_STUDENTS:
            continue
        secret = folder / SECRET
        if not secret.exists():
            notes.append(f"{student}: the submission did not come through the exchange")
            continue
        graded = feedback / student / assignment
        if not any(graded.glob("*.html")):
            notes.append(f"{student}: no feedback yet (run `make grade`)")
        elif not (graded / SECRET).exists() or (graded / SECRET).read_text() != secret.read_text():
            notes.append(f"{student}: the feedback is for an earlier submission (run `make grade`)")
        else:
            ready.append(student)
    return ready, notes


def release_feedback(course: Course, place: Place,
                     assignments: Iterable[str] | None = None) -> list[str]:
    messages = []
    for assignment in assignments or place.released():
        ready, notes = feedback_to_release(course, assignment)
        messages += [f"{assignment}: held back, {note}" for note in notes]
        if not ready:
            messages.append(f"{assignment}: no feedback to release.")
            continue
        everyone = {p.name for p in (course.root / "feedback").iterdir() if p.is_dir()}
        held = sorted(everyone - set(ready))
        exclude = [f"--CourseDirectory.student_id_exclude={','.join(held)}"] if held else []
        _nbgrader(course, place, "release_feedback", assignment, *exclude)
        messages.append(f"{assignment}: released feedback to {len(ready)} student(s): "
                        + ", ".join(ready))
    return messages


# --------------------------------------------------------------------------------------
# Late submissions (the grading table's status)
# --------------------------------------------------------------------------------------


def lateness(gradebook: Path, assignment: str, student: str) -> str | None:
    """How late nbgrader's gradebook finds the submission after the due date (and the
    student's extension, if any): ``"2 h 5 min after the due date"``; ``None`` if on time."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{gradebook}") as book:
        try:
            submission = book.find_submission(assignment, student)
        except MissingEntry:
            return None
        seconds = submission.total_seconds_late
        if not seconds or seconds <= 0:
            return None
        return f"{_duration(seconds)} after the due date"


def _duration(seconds: float) -> str:
    if seconds < 59.5:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]
    return " ".join(part for part in parts if part)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("release", "collect", "feedback"))
    parser.add_argument("--assignment", action="append", help="default: every assignment")
    parser.add_argument("--due", help="release: the due date, e.g. '2026-12-04 17:00 UTC'")
    parser.add_argument("--course-id", help="default: the hub's (hub/settings.json)")
    parser.add_argument("--exchange", type=Path, help="default: the hub's exchange")
    parser.add_argument("--course", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    course = Course(root=arguments.course.resolve())
    try:
        if arguments.course_id and arguments.exchange:
            place = Place(arguments.course_id, arguments.exchange)
        else:
            place = Place.of_hub(course)
        steps = {
            "release": lambda: release(course, place, arguments.assignment, arguments.due),
            "collect": lambda: collect(course, place, arguments.assignment),
            "feedback": lambda: release_feedback(course, place, arguments.assignment),
        }
        for message in steps[arguments.step]():
            print(message)
    except (ExchangeStepError, ValueError, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
