"""Specification of class grading: every broken submission gets a clear status of its own.

These tests grade a tiny two-exercise assignment (tests/fixtures/toy_course) so that they run
in about a minute; the real notebooks are graded in test_release.py and the mutation suites.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from toy_class import released_toy_course, submit, submit_ungradable, toy_notebook

from instructor import cli, grading, integrity, model, report, submissions
from instructor.settings import REPO_ROOT

pytestmark = [pytest.mark.nbgrader, pytest.mark.kernel, pytest.mark.bubblewrap]

FULL_MARKS = {"test_add": 2.0, "test_scale": 1.0}
NO_MARKS = {"test_add": 0.0, "test_scale": 0.0}


def _with_cell(source: str):
    def mutate(notebook):
        notebook.cells.insert(2, nbformat.v4.new_code_cell(source))

    return mutate


def _without_test_cells(notebook):
    notebook.cells = [c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("grade")]


def _test_add_as_markdown(notebook):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_add":
            cell.cell_type = "markdown"
            del cell["outputs"], cell["execution_count"]


def _test_add_made_a_solution_cell(notebook):
    """nbgrader would treat it as the student's answer, and leave it out of the tests."""
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_add":
            meta["solution"] = True
            cell.source = "print('passed')"


def _test_points_forged(notebook):
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "test_scale":
            meta["points"] = 100


def _test_add_emptied(notebook):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_add":
            cell.source = "pass"


SUBMISSIONS = {
    "reference": None,
    "infinite_loop": _with_cell("while True:\n    pass"),
    "exits_kernel": _with_cell("import os\nos._exit(1)"),
    "segfault": _with_cell("import ctypes\nctypes.string_at(0)"),
    "memory_hog": _with_cell("hog = bytearray(64 * 2**30)"),
    "output_flood": _with_cell("for _ in range(300_000):\n    print('spam ' * 20)"),
    "prints_what_statuses_are_made_of": _with_cell(
        "print('CellTimeoutError NotImplementedError DeadKernelError MemoryError')\n"
        "raise RuntimeError('CellTimeoutError: No reply from kernel before timeout')"
    ),
    "stderr_and_warnings": _with_cell(
        "import sys, warnings\nsys.stderr.write('oops\\n')\nwarnings.warn('careful')"
    ),
    "deleted_tests": _without_test_cells,
    "retyped_test": _test_add_as_markdown,
    "test_made_solution": _test_add_made_a_solution_cell,
    "points_forged": _test_points_forged,
    "edited_test": _test_add_emptied,
    "prints_machine_paths": _with_cell(
        "import os, numpy, helpers.checking\n"
        "print(os.getcwd(), numpy.__file__, helpers.checking.__file__)\n"
        "helpers.checking.assert_close([1.0], [2.0], 'x')"
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Release the toy course, write one submission per case, grade them all once."""
    course = released_toy_course(tmp_path_factory.mktemp("toy"))
    reference = toy_notebook(course, "solutions")
    for student, mutate in SUBMISSIONS.items():
        notebook = copy.deepcopy(reference)
        if mutate:
            mutate(notebook)
        submit(course, student, notebook)
    submit(course, "untouched", toy_notebook(course, "notebooks"))
    submit_ungradable(course)
    (course.root / course.submitted / "empty_folder" / "toy").mkdir(parents=True)

    results = grading.grade_class(course, workers=2, cell_timeout=10)
    return course, {r.student: r for r in results}


def test_reference_solution_earns_full_marks_and_untouched_release_zero(graded):
    _, results = graded
    assert results["reference"].status is model.Status.OK
    assert results["reference"].cells == FULL_MARKS
    assert results["untouched"].cells == NO_MARKS
    assert results["untouched"].status is model.Status.OK


def test_infinite_loop_is_interrupted_and_later_cells_still_earn_points(graded):
    _, results = graded
    assert [note.kind for note in results["infinite_loop"].notes] == [model.NoteKind.CELL_TIMED_OUT]
    assert results["infinite_loop"].cells == FULL_MARKS


@pytest.mark.parametrize("student", ["exits_kernel", "segfault"])
def test_dead_kernel_is_reported_and_scores_zero(graded, student):
    _, results = graded
    assert results[student].status == "kernel died"
    assert results[student].score == 0
    assert results[student].max_score == 3


def test_a_student_who_prints_or_raises_the_words_of_a_status_changes_no_status(graded):
    _, results = graded
    result = results["prints_what_statuses_are_made_of"]
    assert (result.status, result.notes, result.cells) == (model.Status.OK, [], FULL_MARKS)


def test_memory_blow_up_fails_only_that_cell(graded):
    _, results = graded
    assert results["memory_hog"].cells == FULL_MARKS


def test_output_flood_is_truncated_and_graded(graded):
    course, results = graded
    assert results["output_flood"].cells == FULL_MARKS
    notebook = course.root / "autograded" / "output_flood" / "toy" / "toy.ipynb"
    assert notebook.stat().st_size < 5 * 2**20


def test_stderr_and_warnings_outside_test_cells_cost_nothing(graded):
    _, results = graded
    assert results["stderr_and_warnings"].cells == FULL_MARKS


def test_deleted_and_retyped_test_cells_are_restored_and_reported(graded):
    _, results = graded
    assert results["deleted_tests"].cells == FULL_MARKS
    assert "restored deleted test_add" in results["deleted_tests"].status_text()
    assert "restored deleted test_scale" in results["deleted_tests"].status_text()
    assert results["retyped_test"].cells == FULL_MARKS
    assert results["retyped_test"].status_text() == "restored retyped test_add"


def test_test_cells_whose_metadata_changed_are_restored_and_reported(graded):
    _, results = graded
    made_solution = results["test_made_solution"]
    assert made_solution.cells == FULL_MARKS
    assert made_solution.status_text() == "restored the metadata of test_add"
    forged = results["points_forged"]
    assert (forged.cells, forged.max_score) == (FULL_MARKS, 3)
    assert forged.status_text() == "restored the metadata of test_scale"


def test_a_submission_the_grader_itself_fails_on_costs_only_its_own_row(
    tmp_path, monkeypatch, capsys
):
    from instructor import verdicts

    course = released_toy_course(tmp_path)
    for student in ("first", "breaks_the_grader", "last"):
        submit(course, student, toy_notebook(course, "solutions"))
    original = verdicts.decide_ahead

    def decide_ahead(submission, *args):
        if "breaks_the_grader" in str(submission):
            raise RuntimeError("a bug of the grader's, met on this submission")
        return original(submission, *args)

    monkeypatch.setattr(verdicts, "decide_ahead", decide_ahead)
    results = {r.student: r for r in grading.grade_class(course, workers=2, feedback=False)}
    assert results["first"].cells == results["last"].cells == FULL_MARKS
    broken = results["breaks_the_grader"]
    assert broken.status is model.Status.GRADER_ERROR
    assert "a bug of the grader's" in broken.status_text() and broken.score == 0
    assert "The grader failed on breaks_the_grader / toy" in capsys.readouterr().err


def test_edited_test_cell_is_overwritten_by_the_original(graded):
    _, results = graded
    assert results["edited_test"].cells == FULL_MARKS


def test_unreadable_or_missing_notebooks_get_a_status_and_zero(graded):
    _, results = graded
    assert results["invalid_json"].status_text().startswith("invalid notebook toy.ipynb")
    assert results["misnamed"].status_text() == "missing notebook toy.ipynb (found Toy (1).ipynb)"
    assert results["empty_folder"].status_text() == "missing notebook toy.ipynb"
    for student in ("invalid_json", "misnamed", "empty_folder"):
        assert results[student].score == 0 and results[student].max_score == 3


def test_student_without_the_assignment_gets_a_missing_row_with_zero(graded):
    _, results = graded
    missing = results["other_assignment_only"]
    assert (missing.status, missing.score, missing.max_score) == ("missing", 0, 3)


def test_invalid_notebook_status_says_where_the_json_breaks(graded):
    _, results = graded
    assert results["invalid_json"].status_text() == (
        "invalid notebook toy.ipynb: NotJSONError at line 1, column 13"
    )


def test_table_lines_have_no_trailing_padding(graded):
    _, results = graded
    table = report.format_table(list(results.values()))
    assert all(line == line.rstrip() for line in table.splitlines())


def test_feedback_html_is_written_per_student(graded):
    course, _ = graded
    assert (course.root / "feedback" / "reference" / "toy" / "toy.html").exists()


def test_feedback_html_shows_no_absolute_path_of_the_grading_machine(graded):
    course, results = graded
    assert results["prints_machine_paths"].cells == FULL_MARKS
    html = (course.root / "feedback" / "prints_machine_paths" / "toy" / "toy.html").read_text()
    assert "site-packages/numpy/__init__.py" in html  # printed paths, made relative
    assert "helpers/checking.py" in html  # the traceback is still there
    for folder in {str(REPO_ROOT), sys.prefix, tempfile.gettempdir(), str(Path.home())}:
        assert folder not in html
    autograded = course.root / "autograded" / "prints_machine_paths" / "toy" / "toy.ipynb"
    assert str(REPO_ROOT) in autograded.read_text()  # the instructor's copy keeps them


def test_gradebook_report_gives_each_exercises_mean_and_most_common_failure(graded):
    course, results = graded
    summary = report.summarize(list(results.values()), course)
    add, scale = summary.exercises
    scored = [r.cells["test_add"] for r in results.values() if r.cells]
    assert (add.exercise, add.graded) == ("add", len(scored))
    assert add.mean == pytest.approx(sum(scored) / len(scored))
    # The toy course has no registry: its outcomes come from the kernel, with no check label
    # (the registry courses' labels: test_adversarial.py, test_solution_cells.py).
    assert add.common_failure == scale.common_failure == report.NO_VERDICT


def test_make_grade_prints_table_and_report_with_the_roster_and_writes_the_chart(
    graded, tmp_path, monkeypatch, capsys
):
    course, _ = graded
    root = tmp_path / "course"
    shutil.copytree(course.root, root)
    (root / "roster.txt").write_text("# the class\nreference\nabsent  # never submitted\n")
    monkeypatch.setattr(cli, "Course", functools.partial(model.Course, root=root))
    csv_path = tmp_path / "grades.csv"
    arguments = ["grade", "--student", "reference", "--student", "absent", "--csv", str(csv_path)]
    assert cli.main(arguments) == 0
    printed = capsys.readouterr().out
    assert "reference / toy: 3 of 3" in printed  # the line per finished submission
    assert re.search(r"^absent +toy +0 / 3 +missing$", printed, re.MULTILINE)
    assert "Gradebook report, per exercise" in printed
    rows = {row["student"]: row for row in csv.DictReader(csv_path.open())}
    assert rows["absent"]["status"] == "missing"
    assert (tmp_path / "grades_by_exercise.png").read_bytes()[:4] == b"\x89PNG"


def test_a_roster_lists_one_student_per_line(tmp_path):
    roster = tmp_path / "roster.txt"
    roster.write_text("# class of 2026\nada\n\nbo  # late\nada\n")
    assert submissions.read_roster(roster) == ["ada", "bo"]
    roster.write_text("ada\nsubmitted/bo\n")
    with pytest.raises(ValueError, match="line 2"):
        submissions.read_roster(roster)


def test_table_and_csv_list_every_student(graded, tmp_path):
    _, results = graded
    table = report.format_table(list(results.values()))
    for student in results:
        assert student in table
    path = tmp_path / "grades.csv"
    report.write_csv(list(results.values()), path)
    rows = {row["student"]: row for row in csv.DictReader(path.open())}
    assert set(rows) == set(results)
    assert float(rows["reference"]["score"]) == 3
    assert json.loads(rows["reference"]["cells"]) == FULL_MARKS


def test_regrading_chosen_students_gives_the_same_results(graded):
    course, first = graded
    chosen = ["reference", "untouched", "deleted_tests", "misnamed"]
    again = grading.grade_class(course, workers=2, students=chosen, feedback=False)
    assert {r.student: (r.status, r.cells) for r in again} == {
        s: (first[s].status, first[s].cells) for s in chosen
    }
    graded_notebook = course.root / "autograded" / "reference" / "toy" / "toy.ipynb"
    assert graded_notebook.exists()


def test_without_bubblewrap_grading_still_works_and_every_row_says_unsandboxed(graded):
    course, _ = graded
    again = grading.grade_class(
        course, students=["reference", "untouched"], feedback=False, sandboxed=False
    )
    assert {r.student: (r.status, r.status_text()) for r in again} == {
        "reference": (model.Status.OK, "unsandboxed"),
        "untouched": (model.Status.OK, "unsandboxed"),
    }
    assert {r.student: r.cells for r in again} == {"reference": FULL_MARKS, "untouched": NO_MARKS}


def test_a_course_file_changed_during_grading_stops_before_any_grade(graded, monkeypatch):
    course, _ = graded
    calls = []

    def fingerprint(root):  # the repository and the course: two calls before, two after
        calls.append(root)
        return {"helpers/x.py": "before" if len(calls) <= 2 else "after"}

    monkeypatch.setattr(integrity, "fingerprint", fingerprint)
    with pytest.raises(integrity.IntegrityError, match="helpers/x.py"):
        grading.grade_class(course, students=[], feedback=False)


def test_grading_an_unknown_student_is_a_clear_error(graded):
    course, _ = graded
    with pytest.raises(ValueError, match="No submissions .* for: nobody"):
        grading.grade_class(course, students=["nobody"])


def test_a_submission_stopped_at_the_time_limit_leaves_no_notebook_or_feedback(
    tmp_path, monkeypatch
):
    """nbgrader, killed mid-way, leaves its sanitized copy of the notebook, hidden tests in
    it: the grader shows nothing of it."""
    import dataclasses

    from instructor import batch

    course = released_toy_course(tmp_path)
    notebook = toy_notebook(course, "solutions")
    _with_cell("import time\ntime.sleep(600)")(notebook)
    submit(course, "slow", notebook)
    limits = dataclasses.replace(batch.SETTINGS.limits, submission_timeout_s=8)
    monkeypatch.setattr(batch, "SETTINGS", dataclasses.replace(batch.SETTINGS, limits=limits))
    [result] = grading.grade_class(course, workers=1)
    assert (result.status, result.score) == (model.Status.GRADING_TIMED_OUT, 0)
    left = [p for p in (course.root / "autograded").rglob("*") if p.is_file()]
    left += [p for p in (course.root / "feedback").rglob("*") if p.is_file()]
    assert left == []


def test_in_a_batch_where_one_submission_fails_the_others_still_get_their_feedback(tmp_path):
    """Feedback is made in autograde's own process once the whole batch went through; where
    one submission failed, the others get theirs from a second nbgrader process, and the
    failed one gets none."""
    course = released_toy_course(tmp_path)
    reference = toy_notebook(course, "solutions")
    submit(course, "reference", reference)
    dies = copy.deepcopy(reference)
    SUBMISSIONS["exits_kernel"](dies)
    submit(course, "exits_kernel", dies)
    results = {r.student: r for r in grading.grade_class(course, workers=1, batch_size=2)}
    assert (results["reference"].status, results["reference"].cells) == (
        model.Status.OK, FULL_MARKS
    )
    assert results["exits_kernel"].status is model.Status.KERNEL_DIED
    feedback = course.root / "feedback"
    assert [p.relative_to(feedback).parts[0] for p in feedback.rglob("*.html")] == ["reference"]
