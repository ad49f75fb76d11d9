"""Releasing the course: the student notebooks from the solutions, and the example students.

    make release            # python -m instructor.cli release

``release`` regenerates ``notebooks/`` with ``nbgrader generate_assignment`` (and the
gradebook's record of every test cell), stamps the course's repository into every notebook's
first cell, and records what it wrote in a manifest beside the release, so that a release
notebook someone edited is never overwritten without ``--force``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import nbformat

from instructor.model import EXAMPLE_STUDENTS, Course
from instructor.nbgrader_commands import nbgrader_command, run

# What the last release wrote (a SHA-256 per file) and the course's repository, kept beside
# the release: a file that differs from it was edited by someone and is never overwritten.
RELEASE_MANIFEST = ".release-manifest.json"
COURSE_REPO_LINE = re.compile(r"^COURSE_REPO = .*$", re.MULTILINE)
COURSE_REPO_URL = re.compile(r"^(https?|ssh|file)://[^\s\"'\\]+$")


class ReleaseConflict(RuntimeError):
    """Release notebooks were edited since the last release wrote them."""


def _release_files(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under a release folder, by path relative to the release."""
    return {
        path.relative_to(folder.parent).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".ipynb_checkpoints" not in path.parts
    }


def read_manifest(course: Course) -> dict:
    """The last release's manifest: ``{"course_repo": str | None, "files": {path: sha256}}``."""
    path = course.root / course.release / RELEASE_MANIFEST
    if not path.exists():
        return {"course_repo": None, "files": {}}
    return json.loads(path.read_text())


def edited_release_files(course: Course, assignments: Iterable[str]) -> list[str]:
    """Release files that the last release did not write as they are now (edited or new)."""
    written = read_manifest(course)["files"]
    current: dict[str, str] = {}
    for assignment in assignments:
        current |= _release_files(course.root / course.release / assignment)
    return sorted(path for path, digest in current.items() if written.get(path) != digest)


def stamp_course_repo(notebook: nbformat.NotebookNode, course_repo: str) -> None:
    """Write the course's repository into the ``COURSE_REPO = ...`` line of the first code
    cell, from where the cell installs the course in Colab."""
    if not COURSE_REPO_URL.match(course_repo):
        raise ValueError(
            f"COURSE_REPO must be the URL of the course's git repository, such as "
            f"https://github.com/owner/repo (got {course_repo!r})."
        )
    first = next((cell for cell in notebook.cells if cell.cell_type == "code"), None)
    if first is None or not COURSE_REPO_LINE.search(first.source):
        raise ValueError("The first code cell has no `COURSE_REPO = ...` line to stamp.")
    first.source = COURSE_REPO_LINE.sub(f"COURSE_REPO = {json.dumps(course_repo)}", first.source)


def release(
    course: Course,
    assignments: Iterable[str] | None = None,
    *,
    force: bool = False,
    course_repo: str | None = None,
) -> None:
    """Regenerate the student notebooks (and the gradebook's record of every test cell).

    Refuses (``ReleaseConflict``) to overwrite a release file that differs from what the last
    release wrote, unless ``force``. ``course_repo`` is stamped into every notebook's first
    cell (``None``: the last release's; ``""``: none).
    """
    chosen = list(assignments or course.assignments())
    edited = edited_release_files(course, chosen)
    if edited and not force:
        raise ReleaseConflict(
            f"Not releasing: these files in {course.release}/ were edited since the last "
            f"release wrote them, and releasing would overwrite them:\n  "
            + "\n  ".join(edited)
            + "\nTo keep your work, move it to your own copy first (`make lab` keeps one in "
            "work/, which no command overwrites). To overwrite them anyway, run "
            "`make release FORCE=1` (or `make grade FORCE=1`)."
        )
    manifest = read_manifest(course)
    repo = manifest.get("course_repo") if course_repo is None else course_repo or None
    for assignment in chosen:
        done = run(nbgrader_command(course, "generate_assignment", assignment, "--force"))
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{done.stderr}")
        folder = course.root / course.release / assignment
        for checkpoint in folder.glob(".ipynb_checkpoints"):
            shutil.rmtree(checkpoint)
        if repo:
            for path in folder.glob("*.ipynb"):
                notebook = nbformat.read(path, as_version=4)
                stamp_course_repo(notebook, repo)
                nbformat.write(notebook, path)
        manifest["files"] = {
            path: digest
            for path, digest in manifest["files"].items()
            if not path.startswith(f"{assignment}/")
        } | _release_files(folder)
    manifest["course_repo"] = repo
    (course.root / course.release / RELEASE_MANIFEST).write_text(
        json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    )
    print(f"Released {', '.join(chosen)} into {course.release}/.")


def refresh_examples(course: Course) -> None:
    """Copy the solutions and the release into ``submitted/`` as two example students."""
    for student, folder in EXAMPLE_STUDENTS.items():
        origin = course.root / getattr(course, folder)
        destination = course.root / course.submitted / student
        shutil.rmtree(destination, ignore_errors=True)
        for assignment in course.assignments():
            target = destination / assignment
            target.mkdir(parents=True)
            for name in course.notebook_names(assignment):
                shutil.copy(origin / assignment / name, target / name)


