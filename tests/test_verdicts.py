"""How verdicts become test-cell outcomes, and what the grader refuses to read back."""

import os

import nbformat

from instructor import verdicts
from instructor.notebook import is_test_of
from instructor.verdicts import ApplyVerdicts, Verdict


def _test_cell(grade_id: str, printed: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("checks.self_check(...)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    return cell


def test_a_test_cell_belongs_to_its_exercise_only():
    assert is_test_of("test_Adam", "Adam")
    assert is_test_of("test_Adam_moments", "Adam")
    assert not is_test_of("test_AdamW", "Adam")


def test_every_test_cell_outcome_comes_from_a_verdict_and_unknown_cells_fail(monkeypatch):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        _test_cell("test_passes", "kernel says: passed"),
        _test_cell("test_fails", "kernel says: passed"),
        _test_cell("test_nothing_checks_me", "kernel says: passed"),
    ]
    decided = {
        "passes": Verdict("passes", True, "`passes` passed every hidden check.", True),
        "fails": Verdict("fails", False, "The weights are not right.", True),
    }
    monkeypatch.setattr(verdicts.nbformat, "read", lambda *args, **kwargs: None)
    monkeypatch.setattr(verdicts, "verdicts_for", lambda nb, release, topic: decided)
    monkeypatch.delenv(verdicts.REPORT_FOLDER_VARIABLE, raising=False)

    class FakeTopic:
        @staticmethod
        def release_path(root):
            return root

    monkeypatch.setattr(verdicts, "topic_of", lambda assignment: FakeTopic())
    resources = {"nbgrader": {"assignment": "a", "student": "s"}}
    graded, _ = ApplyVerdicts().preprocess(notebook, resources)
    outputs = [cell.outputs for cell in graded.cells]
    assert [o[0].output_type for o in outputs] == ["stream", "error", "error"]
    assert "kernel says" not in "".join(str(o) for o in outputs)
    assert "tests no exercise" in outputs[2][0].evalue


def test_planted_fifo_or_link_is_not_read_back(tmp_path):
    job = tmp_path / "source_0"
    job.mkdir()
    os.mkfifo(job / "result.json")
    assert verdicts._student_outputs(job, 2) == [
        "the code did not finish (it crashed, ran out of memory or exited early)"
    ] * 2
    (job / "result.json").unlink()
    (job / "result.json").symlink_to("/dev/zero")
    assert len(verdicts._student_outputs(job, 1)) == 1


def test_static_scan_flags_constructs_reached_through_modules():
    source = "import builtins\ndef f(m):\n    builtins.exec('1')\n    m.__loader__.exec_module(m)\n"
    assert verdicts.flag_constructs(source) == ["builtins", "exec", "module loaders"]
