"""Students' feedback shows no absolute path of the grading machine (instructor/feedback.py).

The end-to-end check, on feedback HTML that nbgrader wrote for a graded submission, is in
test_classroom.py (`test_feedback_html_shows_no_absolute_path_of_the_grading_machine`).
"""

from __future__ import annotations

import sys
import sysconfig
import tempfile
from pathlib import Path

import nbformat

from instructor import feedback
from instructor.feedback import HideMachinePaths, hide_paths, machine_paths
from instructor.settings import REPO_ROOT

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


def test_math_in_markdown_becomes_mathml_outside_code_only():
    source = (
        "A step: $\\theta_{t+1} = \\theta_t - \\eta g_t$, at a price of $5 and $6.\n\n"
        "$$\\frac{a*b}{c_1}$$\n\nIn code, `$x$` stays.\n```\n$y$\n```\n"
    )
    converted = feedback.markdown_math_to_mathml(source)
    assert converted.count("<math") == 2
    assert 'display="block"' in converted and "<mfrac>" in converted
    assert "$5 and $6" in converted  # dollars that are money, not math
    assert "`$x$`" in converted and "```\n$y$\n```" in converted
    assert "*" not in converted.split("`$x$`")[0].replace("&#42;", "")  # no emphasis marks


def test_feedback_html_draws_math_offline_and_wraps_long_messages(course_nbgrader_config):
    """The course's feedback template and preprocessors, as nbgrader generate_feedback uses
    them: no script from a CDN, math as MathML, long output lines wrapped."""
    import nbgrader
    from nbconvert import HTMLExporter

    config = course_nbgrader_config()
    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    # what nbgrader's GenerateFeedback adds itself: its copy of bootstrap's stylesheet
    config.HTMLExporter.extra_template_paths = [
        str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    exporter = HTMLExporter(config=config)
    exporter.register_preprocessor(feedback.ReadableFeedback(config=config), enabled=True)
    long_message = "AssertionError: " + "the velocity after call 2 is not right " * 20
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The update is $v \\leftarrow \\beta v + g$."),
        nbformat.v4.new_code_cell("check()", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=long_message)]),
    ])
    resources = {"nbgrader": {"notebook": "toy", "score": 1, "max_score": 2, "late_penalty": 0}}
    page, _ = exporter.from_notebook_node(notebook, resources=resources)
    assert config.HTMLExporter.template_name == feedback.TEMPLATE_NAME
    assert "MathJax.Hub" not in page and "cdnjs" not in page
    assert "<script src=" not in page
    assert "<math " in page and 'xmlns="http://www.w3.org/1998/Math/MathML"' in page
    assert "<mo>←</mo>" in page
    assert "white-space: pre-wrap" in page and long_message in page
