"""The student release: generated from solutions/, committed, and graded the way the spec says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import released_course

from instructor import cli, model, release
from instructor.notebook import topics
from instructor.settings import REPO_ROOT

TOPICS = topics()
SPEC_FOLDERS = {
    "01_pytorch_basics",
    "02_deep_linear_networks",
    "03_optimization",
    "04_optimizer_rules",
}


def _without_volatile_metadata(path: Path) -> dict:
    notebook = json.loads(path.read_text())
    notebook.get("metadata", {}).pop("widgets", None)
    return notebook


def test_assignment_folders_are_the_ones_the_spec_names_and_each_has_a_topic():
    assignments = model.Course().assignments()
    assert assignments and set(assignments) <= SPEC_FOLDERS
    assert [topic.assignment for topic in TOPICS] == assignments


@pytest.mark.nbgrader
@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_committed_release_equals_a_fresh_one(topic):
    fresh = topic.release_path(released_course().root)
    committed = topic.release_path()
    assert committed.exists(), f"{committed} is missing: run `make release`"
    assert _without_volatile_metadata(committed) == _without_volatile_metadata(fresh), (
        f"{committed.relative_to(REPO_ROOT)} is out of date: run `make release` and commit it"
    )


@pytest.mark.nbgrader
def test_release_ships_no_solution_source():
    shipped = {path.suffix for path in (released_course().root / "notebooks").rglob("*.*")}
    assert ".py" not in shipped


def test_example_students_are_the_solutions_and_the_untouched_release(tmp_path):
    """`make release` and `make grade` add them, so that grading works on a fresh clone (their
    grades are checked by the nbgrader batches in test_mutants.py: full marks and zero)."""
    (tmp_path / "solutions").symlink_to(REPO_ROOT / "solutions")
    (tmp_path / "notebooks").symlink_to(REPO_ROOT / "notebooks")
    course = model.Course(root=tmp_path)
    release.refresh_examples(course)
    for topic in TOPICS:
        for student, origin in model.EXAMPLE_STUDENTS.items():
            copy = tmp_path / "submitted" / student / topic.assignment / topic.notebook_name
            source = topic.solution_path() if origin == "source" else topic.release_path()
            assert copy.read_bytes() == source.read_bytes()


# --------------------------------------------------------------------------------------
# Nobody's work is overwritten: a release notebook edited by hand stops the release
# --------------------------------------------------------------------------------------

TOY = Path(__file__).parent / "fixtures" / "toy_course"
REPOSITORY = "https://github.com/someone/some-course"


def _toy_course(root: Path) -> model.Course:
    """The toy course of test_classroom.py, with a first cell like the real notebooks'."""
    shutil.copytree(TOY, root, dirs_exist_ok=True)
    source = root / "solutions" / "toy" / "toy.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_first_cell(topic=TOPICS[0])))
    nbformat.write(notebook, source)
    return model.Course(root=root)


def _first_cell(topic) -> str:
    notebook = nbformat.read(topic.solution_path(), as_version=4)
    return next(cell.source for cell in notebook.cells if cell.cell_type == "code")


def _course_repo_line(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    return next(line for line in first.source.splitlines() if line.startswith("COURSE_REPO"))


@pytest.fixture(scope="module")
def toy_release(tmp_path_factory) -> Path:
    """The toy course, released once; each test works on its own copy."""
    root = tmp_path_factory.mktemp("toy-release")
    release.release(_toy_course(root))
    return root


def _copy_of(toy_release: Path, root: Path) -> tuple[model.Course, Path]:
    shutil.copytree(toy_release, root, dirs_exist_ok=True)
    return model.Course(root=root), root / "notebooks" / "toy" / "toy.ipynb"


@pytest.mark.nbgrader
def test_release_refuses_to_overwrite_an_edited_release_notebook_until_forced(
    toy_release, tmp_path
):
    course, released = _copy_of(toy_release, tmp_path)
    fresh = released.read_bytes()
    released.write_text(released.read_text().replace("Toy assignment", "My notes"))
    (released.parent / "scratch.ipynb").write_text("{}")  # a new file would be deleted too
    edited = released.read_bytes()

    with pytest.raises(release.ReleaseConflict) as refusal:
        release.release(course)
    message = str(refusal.value)
    assert "toy/toy.ipynb" in message and "toy/scratch.ipynb" in message
    assert "make release FORCE=1" in message and "work/" in message
    assert released.read_bytes() == edited

    release.release(course, force=True)
    assert released.read_bytes() == fresh
    assert release.edited_release_files(course, ["toy"]) == []  # the manifest follows


@pytest.mark.nbgrader
def test_make_release_and_make_grade_refuse_with_the_same_message(
    toy_release, tmp_path, monkeypatch, capsys
):
    course, released = _copy_of(toy_release, tmp_path)
    released.write_text(released.read_text().replace("Toy assignment", "My notes"))
    edited = released.read_bytes()
    monkeypatch.setattr(cli, "Course", lambda: course)

    assert cli.main(["release"]) == 1
    refused_release = capsys.readouterr().err
    assert cli.main(["grade"]) == 1
    refused_grade = capsys.readouterr().err
    assert refused_release == refused_grade
    assert "make release FORCE=1" in refused_release
    assert released.read_bytes() == edited
    assert not (tmp_path / "submitted").exists()  # nothing ran after the refusal


@pytest.mark.parametrize("command", ["release", "grade"])
def test_force_and_course_repo_options_reach_the_release(command, monkeypatch):
    calls = []

    def refused(course, **options):
        calls.append(options)
        raise release.ReleaseConflict("stop here")

    monkeypatch.setattr(cli, "release", refused)
    assert cli.main([command, "--force", "--course-repo", REPOSITORY]) == 1
    assert calls == [{"force": True, "course_repo": REPOSITORY}]


@pytest.mark.nbgrader
def test_course_repo_is_stamped_into_the_first_cell_and_kept_by_later_releases(
    toy_release, tmp_path
):
    course, released = _copy_of(toy_release, tmp_path)
    assert _course_repo_line(released) == 'COURSE_REPO = ""'
    release.release(course, course_repo=REPOSITORY)
    assert _course_repo_line(released) == f'COURSE_REPO = "{REPOSITORY}"'
    release.release(course)  # `make grade` releases without COURSE_REPO: it stays
    assert _course_repo_line(released) == f'COURSE_REPO = "{REPOSITORY}"'
    assert release.read_manifest(course)["course_repo"] == REPOSITORY


@pytest.mark.parametrize("value", ["github.com/a/b", "https://x/y z", 'https://a/b"; import os'])
def test_a_course_repo_that_is_not_a_repository_url_is_refused(value):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_first_cell(TOPICS[0]))])
    with pytest.raises(ValueError, match="COURSE_REPO must be the URL"):
        release.stamp_course_repo(notebook, value)


def test_committed_release_is_what_its_manifest_says_so_a_fresh_clone_can_release():
    course = model.Course()
    assert release.edited_release_files(course, course.assignments()) == []


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.assignment)
def test_committed_release_names_only_the_course_repo_of_its_manifest(topic):
    """No placeholder repository is shipped as if it existed: the first cell's COURSE_REPO is
    the one `make release COURSE_REPO=...` set, or empty."""
    stamped = release.read_manifest(model.Course())["course_repo"] or ""
    assert _course_repo_line(topic.release_path()) == f"COURSE_REPO = {json.dumps(stamped)}"
    assert _course_repo_line(topic.solution_path()) == 'COURSE_REPO = ""'
