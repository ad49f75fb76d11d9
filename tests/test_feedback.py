"""Students' feedback shows no absolute path of the grading machine (instructor/feedback.py).

The end-to-end check, on feedback HTML that nbgrader wrote for a graded submission, is in
test_classroom.py (`test_feedback_html_shows_no_absolute_path_of_the_grading_machine`).
"""

from __future__ import annotations

import sys
import sysconfig
import tempfile

import nbformat

from instructor.feedback import HideMachinePaths, hide_paths, machine_paths
from instructor.notebook import REPO_ROOT

SITE_PACKAGES = sysconfig.get_paths()["purelib"]


def _notebook_with_outputs() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("...")
    cell.outputs = [
        nbformat.v4.new_output(
            "stream", name="stdout", text=f"{tempfile.gettempdir()}/grade-x1y2/scratch\n"
        ),
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue=f"see {REPO_ROOT}/helpers/checking.py",
            traceback=[
                f"\x1b[0;32m{REPO_ROOT}/helpers/checking.py:189\x1b[0m, in assert_close",
                f"File {SITE_PACKAGES}/torch/nn/modules/module.py:1751, in _call_impl",
            ],
        ),
        nbformat.v4.new_output(
            "display_data", data={"text/plain": f"PosixPath('{sys.prefix}/bin/python')"}
        ),
    ]
    return nbformat.v4.new_notebook(cells=[cell])


def test_outputs_keep_their_meaning_with_the_machines_folders_rewritten():
    notebook, _ = HideMachinePaths().preprocess(_notebook_with_outputs(), {})
    stream, error, display = notebook.cells[0].outputs
    assert stream.text == "<tmp>\n"
    assert error.evalue == "see ./helpers/checking.py"
    assert error.traceback == [
        "\x1b[0;32m./helpers/checking.py:189\x1b[0m, in assert_close",
        "File site-packages/torch/nn/modules/module.py:1751, in _call_impl",
    ]
    assert display.data["text/plain"] == "PosixPath('<python>/bin/python')"


def test_a_folder_is_only_replaced_where_its_name_ends():
    patterns = machine_paths()
    # (not "./frame/notes.txt"; a temporary folder may still hide it, where the course is one)
    assert not hide_paths(f"{REPO_ROOT}frame/notes.txt", patterns).startswith(".")
    assert hide_paths(f"cd {REPO_ROOT}", patterns) == "cd ."
