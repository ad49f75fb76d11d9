"""The instructor's commands: release the course, grade the class.

    python -m instructor.cli release   # make release: notebooks/ from solutions/
    python -m instructor.cli grade     # make grade: release, then grade submitted/

Each command only wires the stages together: ``instructor.release``, ``instructor.grading``,
``instructor.report`` and, with ``--db-url``, ``instructor.gradebook``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from instructor import sandbox
from instructor.grading import grade_class
from instructor.model import EXAMPLE_STUDENTS, Course
from instructor.release import ReleaseConflict, refresh_examples, release
from instructor.settings import SETTINGS
from instructor.submissions import read_roster


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    release_command = commands.add_parser("release", help="regenerate notebooks/ from solutions/")
    grade = commands.add_parser("grade", help="release, then autograde submitted/")
    for command in (release_command, grade):
        command.add_argument(
            "--force", action="store_true", help="overwrite release notebooks edited by hand"
        )
        command.add_argument(
            "--course-repo",
            help="the course's git repository, stamped into every release notebook's first cell "
            "(default: the last release's)",
        )
    grade.add_argument("--workers", type=int, default=None, help="parallel graders (cores)")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--csv", type=Path, default=SETTINGS.root / SETTINGS.folders.grades)
    grade.add_argument(
        "--roster",
        type=Path,
        default=None,
        help=f"the class, one student per line (default: {SETTINGS.folders.roster} where it "
        "exists)",
    )
    grade.add_argument(
        "--scheduler",
        help="grade on a Dask cluster: `local` or a scheduler address (tcp://host:8786)",
    )
    grade.add_argument(
        "--db-url",
        help="also record the grades in this nbgrader gradebook, replacing each student's "
        "earlier rows (sqlite:///path or postgresql+psycopg://user@host/db)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    course = Course()
    try:
        release(course, force=arguments.force, course_repo=arguments.course_repo)
    except ReleaseConflict as conflict:
        print(conflict, file=sys.stderr)
        return 1
    refresh_examples(course)
    if arguments.command == "grade":
        return _grade(course, arguments)
    return 0


def _grade(course: Course, arguments: argparse.Namespace) -> int:
    from instructor import report  # matplotlib: only when there is a report to draw

    if not sandbox.available():
        print(
            "bubblewrap (bwrap) is not available: grading without the sandbox, and every "
            "row says so. Install it with `apt-get install bubblewrap` (Debian, Ubuntu)."
        )
    roster_path = arguments.roster or course.root / SETTINGS.folders.roster
    roster = read_roster(roster_path) if arguments.roster or roster_path.exists() else None
    if arguments.db_url:
        from instructor import gradebook

        try:
            gradebook.check(arguments.db_url)  # before hours of grading depend on it
        except gradebook.GradebookError as error:
            print(error, file=sys.stderr)
            return 1
    results = grade_class(
        course,
        workers=arguments.workers,
        students=arguments.student,
        roster=roster,
        scheduler=arguments.scheduler,
    )
    print(report.format_table(results))
    report.write_csv(results, arguments.csv)
    print(f"\nWrote {arguments.csv}; feedback in feedback/<student>/<assignment>/.")
    if arguments.db_url:
        gradebook.record(arguments.db_url, course, results)
        print(f"Recorded the grades in {gradebook.shown(arguments.db_url)}.")
    if roster is not None:
        unlisted = sorted({r.student for r in results} - set(roster) - set(EXAMPLE_STUDENTS))
        if unlisted:
            print(f"Graded, but not on the roster {roster_path}: {', '.join(unlisted)}.")
    summary = report.summarize(results, course)
    print("\n" + report.format_report(summary))
    if summary.exercises:
        chart = arguments.csv.with_name(arguments.csv.stem + report.CHART_SUFFIX)
        report.write_chart(summary, chart)
        print(f"Wrote {chart}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
