"""An LMS's archive into submitted/ (``make collect``), and grades back as its gradebook CSV."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import nbformat
import pytest

from instructor import lms
from instructor.model import Course, Note, NoteKind, Result, Status
from instructor.report import write_csv
from instructor.settings import REPO_ROOT

ROSTER = ["ada_lovelace", "alan_turing", "grace_hopper", "katherine_johnson", "mary-jackson",
          "jackson.mary"]


def notebook_bytes(marker: str) -> bytes:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"# {marker}")])
    return nbformat.writes(notebook).encode()


@pytest.fixture
def course(tmp_path) -> Course:
    (tmp_path / "solutions").symlink_to(REPO_ROOT / "solutions")
    return Course(root=tmp_path)


def make_archive(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


CANVAS_FILES = {
    "lovelaceada_12_100_optimization.ipynb": notebook_bytes("ada"),
    "turingalan_late_13_101_optimization.ipynb": notebook_bytes("alan, late"),
    "hoppergrace_14_102_optimization.ipynb": notebook_bytes("grace, first"),
    "hoppergrace_14_103_optimization-1.ipynb": notebook_bytes("grace, second"),
    "hoppergrace_14_102_notes.pdf": b"%PDF-1.4",
    "johnsonkatherine_15_104_optimizer_rules.ipynb": notebook_bytes("katherine, wrong assignment"),
    "johnsonkatherine_15_106_optimization.ipynb": b'{"cells": [',
    "nobodyhere_16_105_optimization.ipynb": notebook_bytes("who?"),
    "jacksonmary_17_107_optimization.ipynb": notebook_bytes("which mary?"),
    "README.txt": b"downloaded from Canvas",
}


def test_a_canvas_archive_lists_every_file_it_does_not_collect_by_name_and_why(course, tmp_path):
    archive = make_archive(tmp_path / "submissions.zip", CANVAS_FILES)
    result = lms.collect(course, archive, ROSTER)
    assert result.assignment == "03_optimization"  # from the notebooks' names
    submitted = course.root / "submitted"
    assert b"# ada" in (submitted / "ada_lovelace/03_optimization/optimization.ipynb").read_bytes()
    assert b"alan, late" in (
        submitted / "alan_turing/03_optimization/optimization.ipynb").read_bytes()
    assert sorted(p.parent.parent.name for p in submitted.rglob("*.ipynb")) == [
        "ada_lovelace", "alan_turing"]
    assert any("turingalan_late" in line and "marked it late" in line for line in result.collected)
    left_out = "\n".join(result.left_out)
    for expected in (
        "hoppergrace_14_102_optimization.ipynb: one of 2 files of optimization.ipynb for "
        "grace_hopper",
        "hoppergrace_14_103_optimization-1.ipynb: one of 2 files",
        "hoppergrace_14_102_notes.pdf: not a notebook",
        "johnsonkatherine_15_104_optimizer_rules.ipynb: a notebook of 04_optimizer_rules, not of "
        "03_optimization",
        "johnsonkatherine_15_106_optimization.ipynb: not a readable notebook",
        "nobodyhere_16_105_optimization.ipynb: 'nobodyhere' matches nobody on the roster",
        "jacksonmary_17_107_optimization.ipynb: 'jacksonmary' matches several students: "
        "jackson.mary, mary-jackson",
        "README.txt: the file name is not one an LMS gives",
    ):
        assert expected in left_out
    assert len(result.left_out) == len(CANVAS_FILES) - 2
    report = result.report()
    assert "Not collected:" in report and "README.txt" in report


def test_nothing_in_submitted_is_overwritten_unless_asked_and_each_file_is_named(
    course, tmp_path
):
    target = course.root / "submitted/ada_lovelace/03_optimization/optimization.ipynb"
    target.parent.mkdir(parents=True)
    target.write_bytes(notebook_bytes("collected by hand earlier"))
    archive = make_archive(tmp_path / "a.zip", {
        "lovelaceada_12_100_optimization.ipynb": notebook_bytes("from the LMS")})
    kept = lms.collect(course, archive, ROSTER)
    assert kept.kept == [
        "submitted/ada_lovelace/03_optimization/optimization.ipynb: differs from "
        "lovelaceada_12_100_optimization.ipynb"]
    assert b"by hand earlier" in target.read_bytes()
    replaced = lms.collect(course, archive, ROSTER, update=True)
    assert replaced.replaced == [
        "submitted/ada_lovelace/03_optimization/optimization.ipynb <- "
        "lovelaceada_12_100_optimization.ipynb"]
    assert b"from the LMS" in target.read_bytes()
    again = lms.collect(course, archive, ROSTER)  # a rerun: the same file, said so
    assert again.collected == [
        "lovelaceada_12_100_optimization.ipynb -> "
        "submitted/ada_lovelace/03_optimization/optimization.ipynb (already there)"]
    assert not list(course.root.rglob("*.incoming"))


def test_a_moodle_archive_in_folders_or_flat_is_matched_to_the_roster(course, tmp_path):
    archive = make_archive(tmp_path / "moodle.zip", {
        "Ada Lovelace_12_assignsubmission_file_/optimization.ipynb": notebook_bytes("ada"),
        "Alan Turing_13_assignsubmission_file_optimization.ipynb": notebook_bytes("alan"),
        "Grace Hopper_14_assignsubmission_onlinetext_onlinetext.html": b"<p>hi</p>",
    })
    result = lms.collect(course, archive, ROSTER, assignment="03_optimization")
    assert len(result.collected) == 2
    assert result.left_out == [
        "Grace Hopper_14_assignsubmission_onlinetext_onlinetext.html: not a notebook"]
    identities = lms.read_identities(course)
    assert identities["ada_lovelace"] == {"lms": "moodle", "id": "12", "name": "Ada Lovelace"}


def test_an_archive_of_several_assignments_needs_to_be_told_which(course, tmp_path):
    archive = make_archive(tmp_path / "mixed.zip", {
        "lovelaceada_12_100_optimization.ipynb": notebook_bytes("a"),
        "lovelaceada_12_101_optimizer_rules.ipynb": notebook_bytes("b"),
    })
    with pytest.raises(ValueError, match="ASSIGNMENT=.*03_optimization, 04_optimizer_rules"):
        lms.collect(course, archive, ROSTER)
    not_a_zip = tmp_path / "grades.zip"
    not_a_zip.write_text("student,score")
    with pytest.raises(ValueError, match="not a zip archive"):
        lms.collect(course, not_a_zip, ROSTER)


def test_make_collect_without_an_archive_says_how_to_give_one(course, capsys):
    (course.root / "roster.txt").write_text("\n".join(ROSTER))
    assert lms.main(["collect", "", "--course", str(course.root)]) == 1
    assert "make collect ARCHIVE=path.zip" in capsys.readouterr().err


def test_grades_export_as_a_canvas_gradebook_one_column_per_assignment(course, tmp_path):
    results = [
        Result("ada_lovelace", "03_optimization", Status.OK, 2.0, 11.0),
        Result("ada_lovelace", "04_optimizer_rules", Status.OK, 7.5, 12.0),
        Result(
            "alan_turing", "03_optimization", Status.OK, 11.0, 11.0,
            notes=[Note(NoteKind.LATE, detail="1 h after the due date")],
        ),
        Result("alan_turing", "04_optimizer_rules", Status.MISSING, 0.0, 12.0),
        Result("reference-solution", "03_optimization", Status.OK, 11.0, 11.0),
    ]
    write_csv(results, tmp_path / "grades.csv")
    identities = {"ada_lovelace": {"lms": "canvas", "id": "12", "name": "lovelaceada"}}
    text = lms.lms_gradebook(lms.read_grades(tmp_path / "grades.csv"), identities, "canvas")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "03_optimization", "04_optimizer_rules"]
    assert rows[1] == ["Points Possible", "", "", "", "", "11", "12"]
    assert rows[2] == ["lovelaceada", "12", "", "ada_lovelace", "", "2", "7.5"]
    assert rows[3] == ["alan_turing", "", "", "alan_turing", "", "11", "0"]
    assert len(rows) == 4  # the example students are not students of the LMS
    moodle = list(csv.reader(io.StringIO(
        lms.lms_gradebook(lms.read_grades(tmp_path / "grades.csv"), identities, "moodle"))))
    assert moodle[0] == ["ID number", "Full name", "Participant", "03_optimization",
                         "04_optimizer_rules"]
    assert moodle[1] == ["ada_lovelace", "lovelaceada", "12", "2", "7.5"]
