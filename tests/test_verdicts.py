"""How verdicts become test-cell outcomes, and what the grader refuses to read back."""

import copy
import subprocess
import sys

import nbformat
import pytest

from instructor import verdicts
from instructor.model import Verdict, VerdictKind
from instructor.notebook import is_test_of
from instructor.settings import SETTINGS
from instructor.verdicts import ApplyVerdicts


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
        "passes": Verdict("passes", VerdictKind.PASSED, "passed", "`passes` passed.", True),
        "fails": Verdict("fails", VerdictKind.FAILED, "weights", "The weights are wrong.", True),
    }
    monkeypatch.setattr(verdicts.nbformat, "read", lambda *args, **kwargs: None)
    monkeypatch.setattr(verdicts, "verdicts_for", lambda nb, release, topic: decided)

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


def _solution_cell(grade_id: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "grade_id": grade_id}
    return cell


def test_verdicts_decided_ahead_apply_only_to_the_cells_they_were_decided_on(
    tmp_path, monkeypatch
):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        _solution_cell("double", "def double(x):\n    return 2 * x\n"),
        _test_cell("test_double", "kernel says: failed"),
    ]
    passed = "`double` passed every hidden check."
    decided = {"double": Verdict("double", VerdictKind.PASSED, "passed", passed, True)}
    verdicts.write_report(tmp_path / "student.json", notebook, decided)
    edited = copy.deepcopy(notebook)
    edited.cells[0].source = "def double(x):\n    return x + x\n"
    reports = verdicts.load_decided(str(tmp_path))
    assert verdicts.unchanged_verdicts(reports["student"], notebook) == decided
    assert verdicts.unchanged_verdicts(reports["student"], edited) is None
    assert verdicts.unchanged_verdicts(reports.get("nobody"), notebook) is None

    deciding = []

    def decide_again(nb, release, topic):
        deciding.append(nb.cells[0].source)
        return {"double": Verdict("double", VerdictKind.FAILED, "again", "decided again", True)}

    class FakeTopic:
        @staticmethod
        def release_path(root):
            return root

    monkeypatch.setattr(verdicts, "verdicts_for", decide_again)
    monkeypatch.setattr(verdicts, "topic_of", lambda assignment: FakeTopic())
    monkeypatch.setattr(verdicts.nbformat, "read", lambda *args, **kwargs: None)
    apply = ApplyVerdicts(decided_folder=str(tmp_path))
    resources = {"nbgrader": {"assignment": "a", "student": "student"}}
    graded, _ = apply.preprocess(notebook, resources)
    assert graded.cells[1].outputs[0].text == "`double` passed every hidden check.\n"
    assert deciding == []
    graded, _ = apply.preprocess(edited, resources)
    assert graded.cells[1].outputs[0].evalue == "decided again"
    assert deciding == [edited.cells[0].source]


def test_nbgrader_reads_the_verdicts_decided_ahead_when_it_builds_its_pipeline(
    tmp_path, course_nbgrader_config
):
    # Before any kernel runs: what a kernel writes there later changes nothing.
    notebook = nbformat.v4.new_notebook(cells=[_solution_cell("double", "def double(x): ...")])
    message = "`double` is not done yet."
    decided = {"double": Verdict("double", VerdictKind.NOT_DONE, "not done", message, True)}
    verdicts.write_report(tmp_path / "student.json", notebook, decided)
    config = course_nbgrader_config()
    config.ApplyVerdicts.decided_folder = str(tmp_path)  # as the class grader's command line
    apply = ApplyVerdicts(config=config)
    (tmp_path / "student.json").write_text("{}")
    assert verdicts.unchanged_verdicts(apply.decided["student"], notebook) == decided


def test_loading_the_course_nbgrader_config_changes_nothing_else(course_nbgrader_config):
    import os

    before = dict(os.environ)
    config = course_nbgrader_config()
    assert dict(os.environ) == before
    assert config.Execute.timeout == SETTINGS.limits.cell_timeout_s


def test_nbgrader_process_needs_no_torch_to_apply_verdicts():
    # nbgrader's process imports what nbgrader_config.py names; torch would cost it seconds.
    script = (
        "import sys\n"
        "import instructor.execution, instructor.feedback, instructor.verdicts\n"
        "print('torch' in sys.modules, 'helpers' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=SETTINGS.root
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_static_scan_flags_constructs_reached_through_modules():
    source = "import builtins\ndef f(m):\n    builtins.exec('1')\n    m.__loader__.exec_module(m)\n"
    assert verdicts.flag_constructs(source) == ["builtins", "exec", "module loaders"]


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("import os\ndef f():\n    os.rename('a', 'b')\n", "file changes"),
        ("import os\ndef f():\n    os.replace('a', 'b')\n", "file changes"),
        ("from pathlib import Path\ndef f():\n    Path('a').symlink_to('b')\n", "file changes"),
        ("import shutil\ndef f():\n    shutil.copytree('a', 'b')\n", "file changes"),
        ("import sys\ndef f():\n    sys.path.insert(0, '/opt')\n", "sys.path changes"),
        ("import sys\ndef f():\n    sys.meta_path.append(None)\n", "import machinery"),
        ("import zipimport\ndef f():\n    zipimport.zipimporter('a.whl')\n", "import machinery"),
        ("import importlib.util\ndef f():\n    importlib.util.find_spec('x')\n", "importlib"),
        ("import torch\ndef f():\n    torch._C._set_grad_enabled(True)\n", "torch internals"),
        ("import torch\ndef f():\n    return torch.ops.aten._fused_adam_\n", "torch internals"),
        ("import os\ndef f():\n    os.write(3, b'x')\n", "file access"),
    ],
)
def test_static_scan_names_file_changes_import_machinery_and_torch_internals(source, label):
    assert label in verdicts.flag_constructs(source)


def test_static_scan_leaves_ordinary_code_alone():
    source = (
        "import torch\nimport numpy as np\n\ndef f(x, text):\n"
        "    return torch.sqrt(x).sum(), text.replace('a', 'b'), np.linalg.svd(x)\n"
    )
    assert verdicts.flag_constructs(source) == []
