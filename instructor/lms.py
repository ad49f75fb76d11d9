"""Submissions from a learning-management system's archive, and grades back to its gradebook.

    python -m instructor.lms collect ARCHIVE.zip [--assignment A] [--lms canvas|moodle] [--update]
    python -m instructor.lms grades [--lms canvas|moodle]

(``make collect ARCHIVE=path.zip`` and ``make lms-grades``.) Students who work in Colab
download their notebook and upload it to the LMS; the instructor downloads the assignment's
archive of everyone's files. ``collect`` reads it the way nbgrader's ``zip_collect`` does
(a file name pattern per LMS, each file to ``submitted/<student>/<assignment>/``), and adds
what an instructor needs to trust it:

- file names are matched to the names of ``roster.txt``: the LMS writes a person's name
  (Canvas: surname and given name run together, lowercase, ``lovelaceada``; Moodle: the full
  name, ``Ada Lovelace``), which matches the roster's ``ada_lovelace`` (or ``lovelace-ada``,
  or ``ada.lovelace``): its parts in any order, letters and digits only;
- every file that is not collected is listed by name, with the reason: a name that matches
  nobody on the roster (or several), two files of one notebook for one student (neither is
  taken: the instructor decides), a file that is not a notebook, a notebook that is not
  readable, and a notebook of another assignment;
- nothing in ``submitted/`` is overwritten unless ``--update`` (``UPDATE=1``) says so, and
  each file replaced or kept is named. Each file is written aside and renamed into place.

The LMS's own ids of the students (Canvas's user id, Moodle's participant id) are kept in
``downloaded/lms_identities.json``; ``grades`` writes ``lms_grades.csv`` from ``grades.csv``
in the layout the LMS imports: Canvas's gradebook (``Student``, ``ID``, ``SIS User ID``,
``SIS Login ID``, ``Section``, one column per assignment, a ``Points Possible`` row), or a
Moodle grade import (``ID number``, ``Full name``, one column per assignment).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
import re
import sys
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from instructor.model import EXAMPLE_STUDENTS, Course
from instructor.settings import REPO_ROOT, SETTINGS
from instructor.submissions import read_roster

LMS_NAMES = ("canvas", "moodle")
IDENTITIES = Path("downloaded") / "lms_identities.json"
MAX_FILE_BYTES = 64 * 2**20  # a notebook larger than this is not a submission

# Canvas: <name>_[late_]<user id>_<submission id>_<file>, a re-upload's file as <stem>-<n>.<ext>
CANVAS = re.compile(
    r"^(?P<name>[a-z0-9]+)_(?P<late>late_)?(?P<user_id>\d+)_(?P<submission_id>\d+)_(?P<file>.+)$",
    re.IGNORECASE,
)
CANVAS_COPY = re.compile(r"^(?P<stem>.+)-\d+(?P<suffix>\.[^.]+)$")
# Moodle: <Full Name>_<participant id>_assignsubmission_file_<file>, or a folder of that name
MOODLE = re.compile(
    r"^(?P<name>[^/]+?)_(?P<user_id>\d+)_assignsubmission_(?:file|onlinetext)_/?(?P<file>.+)$"
)


@dataclass
class Entry:
    """One file of the archive and what became of it."""

    path: str  # as in the archive
    lms: str | None = None
    lms_name: str | None = None
    user_id: str | None = None
    file: str | None = None  # the student's own file name
    late: bool = False
    student: str | None = None
    problem: str | None = None


@dataclass
class Collection:
    """What ``collect`` did: files placed, files left out (with why), submissions kept."""

    assignment: str
    collected: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"{self.assignment}: collected {len(self.collected)} file(s) into submitted/."]
        sections = (
            ("Collected", self.collected), ("Replaced (--update)", self.replaced),
            ("Kept, not overwritten (UPDATE=1 replaces them)", self.kept),
            ("Not collected", self.left_out),
        )
        for title, items in sections:
            if items:
                lines.append(f"{title}:")
                lines += [f"  {item}" for item in items]
        return "\n".join(lines)


def name_key(text: str) -> str:
    """Lowercase ASCII letters and digits only: ``Ada Lovelace`` -> ``adalovelace``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_text.lower())


def roster_keys(student: str) -> set[str]:
    """The LMS names a roster name matches: its parts in any order (at most 4 parts)."""
    parts = [part for part in re.split(r"[\s._-]+", student) if part]
    if len(parts) > 4:
        return {name_key(student)}
    return {name_key("".join(order)) for order in itertools.permutations(parts)}


def parse_name(path: str, lms: str | None) -> Entry:
    """The LMS, the person's name and id, and the student's own file name in ``path``."""
    entry = Entry(path)
    moodle = MOODLE.match(path) if lms in (None, "moodle") else None
    canvas = CANVAS.match(PurePosixPath(path).name) if lms in (None, "canvas") else None
    match, kind = (moodle, "moodle") if moodle else (canvas, "canvas")
    if not match:
        entry.problem = "the file name is not one an LMS gives (Canvas or Moodle)"
        return entry
    entry.lms, entry.lms_name, entry.user_id = kind, match["name"], match["user_id"]
    entry.file = PurePosixPath(match["file"]).name
    if kind == "canvas":
        entry.late = bool(match["late"])
        copy = CANVAS_COPY.match(entry.file)  # Canvas names a re-upload optimization-1.ipynb
        if copy:
            entry.file = copy["stem"] + copy["suffix"]
    return entry


def match_students(entries: list[Entry], roster: Sequence[str]) -> None:
    """Set each entry's student from the roster, or its problem."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for student in roster:
        for key in roster_keys(student):
            by_key[key].append(student)
    for entry in entries:
        if entry.problem:
            continue
        candidates = sorted(set(by_key.get(name_key(entry.lms_name or ""), [])))
        if len(candidates) == 1:
            entry.student = candidates[0]
        elif candidates:
            entry.problem = f"{entry.lms_name!r} matches several students: {', '.join(candidates)}"
        else:
            entry.problem = f"{entry.lms_name!r} matches nobody on the roster"


def notebook_owners(course: Course) -> dict[str, str]:
    """Which assignment each notebook name belongs to."""
    return {name: a for a in course.assignments() for name in course.notebook_names(a)}


def choose_assignment(entries: list[Entry], course: Course, assignment: str | None) -> str:
    if assignment:
        if assignment not in course.assignments():
            known = ", ".join(course.assignments())
            raise ValueError(f"No assignment {assignment!r}: one of {known}.")
        return assignment
    owners = notebook_owners(course)
    counts = Counter(owners[e.file] for e in entries if e.file in owners).most_common()
    # the assignment most of its notebooks belong to; a stray notebook of another is listed
    if not counts or len(counts) > 1 and counts[0][1] == counts[1][1]:
        raise ValueError(
            "Say which assignment the archive holds: ASSIGNMENT=... (its notebooks belong to "
            + (", ".join(sorted(a for a, _ in counts)) or "no assignment of the course") + ")."
        )
    return counts[0][0]


def _readable_notebook(data: bytes) -> str | None:
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # JSON, schema, encoding
        return type(error).__name__
    return None


def _write_aside_then_rename(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.incoming")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def collect(course: Course, archive: Path, roster: Sequence[str], assignment: str | None = None,
            lms: str | None = None, update: bool = False) -> Collection:
    """Put the archive's notebooks into ``submitted/`` (see the module's docstring)."""
    if not zipfile.is_zipfile(archive):
        raise ValueError(f"{archive} is not a zip archive.")
    with zipfile.ZipFile(archive) as opened:
        infos = [info for info in opened.infolist() if not info.is_dir()]
        entries = [parse_name(info.filename, lms) for info in infos]
        chosen = choose_assignment(entries, course, assignment)
        match_students(entries, roster)
        expected = set(course.notebook_names(chosen))
        owners = notebook_owners(course)
        data: dict[int, bytes] = {}
        for index, (info, entry) in enumerate(zip(infos, entries)):
            if entry.problem:
                continue
            if not entry.file.endswith(".ipynb"):
                entry.problem = "not a notebook"
            elif entry.file not in expected:
                other = owners.get(entry.file)
                entry.problem = (f"a notebook of {other}, not of {chosen}" if other else
                                 f"not a notebook of {chosen} ({', '.join(sorted(expected))})")
            elif info.file_size > MAX_FILE_BYTES:
                entry.problem = f"larger than {MAX_FILE_BYTES // 2**20} MiB"
            else:
                data[index] = opened.read(info)
                broken = _readable_notebook(data[index])
                if broken:
                    entry.problem = f"not a readable notebook ({broken})"
    # two files of one notebook for one student: neither is taken
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        if not entry.problem:
            groups[(entry.student, entry.file)].append(index)
    for (student, file), indices in groups.items():
        if len(indices) > 1:
            others = ", ".join(entries[i].path for i in indices)
            for index in indices:
                entries[index].problem = (f"one of {len(indices)} files of {file} for {student} "
                                          f"({others}): neither collected, choose one")
    result = Collection(chosen)
    submitted = course.root / course.submitted
    identities = read_identities(course)
    for index, entry in enumerate(entries):
        if entry.problem:
            result.left_out.append(f"{entry.path}: {entry.problem}")
            continue
        target = submitted / entry.student / chosen / entry.file
        shown = target.relative_to(course.root).as_posix()
        late = " (the LMS marked it late)" if entry.late else ""
        identities[entry.student] = {"lms": entry.lms, "id": entry.user_id,
                                     "name": entry.lms_name}
        if target.exists():
            if target.read_bytes() == data[index]:
                result.collected.append(f"{entry.path} -> {shown} (already there){late}")
                continue
            if not update:
                result.kept.append(f"{shown}: differs from {entry.path}")
                continue
            result.replaced.append(f"{shown} <- {entry.path}{late}")
        else:
            result.collected.append(f"{entry.path} -> {shown}{late}")
        _write_aside_then_rename(target, data[index])
    write_identities(course, identities)
    return result


def read_identities(course: Course) -> dict[str, dict]:
    path = course.root / IDENTITIES
    return json.loads(path.read_text()) if path.exists() else {}


def write_identities(course: Course, identities: dict[str, dict]) -> None:
    text = json.dumps(identities, indent=1, sort_keys=True) + "\n"
    _write_aside_then_rename(course.root / IDENTITIES, text.encode())


# --------------------------------------------------------------------------------------
# Grades back to the LMS
# --------------------------------------------------------------------------------------


def read_grades(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        raise FileNotFoundError(f"No {path}: run `make grade` first.")
    return list(csv.DictReader(path.open()))


def lms_gradebook(rows: Iterable[dict[str, str]], identities: dict[str, dict],
                  lms: str = "canvas") -> str:
    """The class's grades as the CSV an LMS gradebook imports: one row per student (the
    example students left out), one column per assignment."""
    rows = [row for row in rows if row["student"] not in EXAMPLE_STUDENTS]
    assignments = sorted({row["assignment"] for row in rows})
    scores: dict[str, dict[str, str]] = defaultdict(dict)
    maxima: dict[str, str] = {}
    for row in rows:
        scores[row["student"]][row["assignment"]] = f"{float(row['score']):g}"
        maxima[row["assignment"]] = f"{float(row['max_score']):g}"
    out = io.StringIO()
    writer = csv.writer(out)
    if lms == "canvas":
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments])
        writer.writerow(["Points Possible", "", "", "", "", *(maxima[a] for a in assignments)])
        for student in sorted(scores):
            known = identities.get(student, {})
            writer.writerow([known.get("name") or student, known.get("id", ""), "", student, "",
                             *(scores[student].get(a, "") for a in assignments)])
    elif lms == "moodle":
        writer.writerow(["ID number", "Full name", "Participant", *assignments])
        for student in sorted(scores):
            known = identities.get(student, {})
            writer.writerow([student, known.get("name") or student, known.get("id", ""),
                             *(scores[student].get(a, "") for a in assignments)])
    else:
        raise ValueError(f"LMS must be one of {', '.join(LMS_NAMES)}, not {lms!r}.")
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect_command = commands.add_parser("collect", help="an LMS archive into submitted/")
    collect_command.add_argument("archive")
    collect_command.add_argument("--assignment", help="default: the one its notebooks belong to")
    collect_command.add_argument("--lms", choices=LMS_NAMES, help="default: from the file names")
    collect_command.add_argument("--update", action="store_true",
                                 help="replace files already in submitted/ that differ")
    collect_command.add_argument("--roster", type=Path, help=f"default: {SETTINGS.folders.roster}")
    grades_command = commands.add_parser("grades", help="grades.csv as an LMS gradebook CSV")
    grades_command.add_argument("--lms", choices=LMS_NAMES, default="canvas")
    grades_command.add_argument("--csv", type=Path, default=REPO_ROOT / "grades.csv")
    grades_command.add_argument("--out", type=Path, default=REPO_ROOT / "lms_grades.csv")
    for command in (collect_command, grades_command):
        command.add_argument("--course", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    course = Course(root=arguments.course.resolve())
    try:
        if arguments.command == "collect":
            if not arguments.archive or not Path(arguments.archive).is_file():
                raise FileNotFoundError(
                    f"No archive {arguments.archive!r}: make collect ARCHIVE=path.zip")
            roster = read_roster(arguments.roster or course.root / SETTINGS.folders.roster)
            result = collect(course, Path(arguments.archive), roster, arguments.assignment,
                             arguments.lms, arguments.update)
            print(result.report())
        else:
            text = lms_gradebook(read_grades(arguments.csv), read_identities(course),
                                 arguments.lms)
            arguments.out.write_text(text)
            print(f"Wrote {arguments.out} ({arguments.lms}'s gradebook layout).")
    except (ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
