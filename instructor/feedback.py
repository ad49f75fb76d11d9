"""Feedback for students shows no absolute path of the grading machine.

A graded notebook's outputs name the machine's folders: tracebacks go through the virtual
environment and the course's ``helpers``, and a student's code may print its working folder
(a temporary folder of the grader's). ``HideMachinePaths`` runs in ``nbgrader
generate_feedback`` (``nbgrader_config.py``) and rewrites them before the HTML is written:
the course's files become relative (``helpers/checking.py``), installed packages start at
``site-packages/``, the standard library at ``python/``, and temporary folders and the home
folder read ``<tmp>`` and ``~``. The autograded notebooks keep the full paths, for the
instructor.

``ReadableFeedback`` then makes the page readable anywhere: its math becomes MathML (no
MathJax from a CDN: the page works offline and in JupyterLab's HTML viewer, which runs no
scripts), and long messages wrap instead of running off the right edge.
"""

from __future__ import annotations

import html
import re
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from instructor.settings import REPO_ROOT

# The rest of a path after a temporary folder: up to whitespace, a quote or a line number.
_PATH_TAIL = r"[^\s'\"<>:,;()\[\]]*"


def _variants(path: str | Path) -> set[str]:
    """A folder as given and with its symbolic links resolved (both may appear in outputs)."""
    text = str(path).rstrip("/")
    return {text, str(Path(text).resolve())} - {"", "/"}


def machine_paths() -> list[tuple[re.Pattern, str]]:
    """(pattern, replacement) pairs for this machine's folders, the longest folder first."""
    paths = sysconfig.get_paths()
    replacements: dict[str, str] = {}
    for folder in {*site.getsitepackages(), paths["purelib"], paths["platlib"]}:
        replacements |= dict.fromkeys(_variants(folder), "site-packages")
    for folder in {paths["stdlib"], paths["platstdlib"]}:
        replacements |= dict.fromkeys(_variants(folder), "python")
    replacements |= dict.fromkeys(_variants(REPO_ROOT), ".")
    for folder in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        replacements |= {v: "<python>" for v in _variants(folder) if v not in replacements}
    replacements |= {v: "~" for v in _variants(Path.home()) if v not in replacements}
    by_length = sorted(replacements.items(), key=lambda item: -len(item[0]))
    # A folder's name must end where the match ends: /work/main is not /work/mainframe.
    patterns = [(re.compile(re.escape(f) + r"(?![\w.-])"), r) for f, r in by_length]
    # Temporary folders (the grader's work folder, the kernel's scratch folder) last: the
    # course or the environment may live under one, as in the tests.
    for temporary in _variants(tempfile.gettempdir()) | {"/tmp", "/var/tmp"}:
        patterns.append((re.compile(re.escape(temporary) + f"(?:/{_PATH_TAIL})?"), "<tmp>"))
    return patterns


def hide_paths(text: str, patterns: Iterable[tuple[re.Pattern, str]]) -> str:
    """``text`` with every folder of ``patterns`` replaced (``machine_paths()``)."""
    for pattern, replacement in patterns:
        text = pattern.sub(replacement, text)
    return text


class HideMachinePaths(NbGraderPreprocessor):  # nbgrader's base: enabled by default
    """Rewrite the grading machine's folders in every output of a notebook (see above)."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple:
        patterns = machine_paths()
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                _hide_in_output(output, patterns)
        return nb, resources


def _hide_in_output(output: nbformat.NotebookNode, patterns: list) -> None:
    if "text" in output:
        output["text"] = hide_paths(_joined(output["text"]), patterns)
    if output.get("output_type") == "error":
        output["evalue"] = hide_paths(output.get("evalue", ""), patterns)
        output["traceback"] = [hide_paths(line, patterns) for line in output.get("traceback", [])]
    for kind, value in output.get("data", {}).items():
        if kind.startswith("text/"):
            output["data"][kind] = hide_paths(_joined(value), patterns)


def _joined(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------------------
# Readable offline: math as MathML, long messages wrapped
# --------------------------------------------------------------------------------------

# nbgrader's feedback template, with the MathJax script left out (feedback_templates/).
TEMPLATE_NAME = "course_feedback"
FEEDBACK_TEMPLATES = Path(__file__).parent / "feedback_templates"

# Outputs are <pre> blocks that nbgrader's stylesheet cuts off at the right edge: a check's
# message or a traceback line longer than the page would hide its end.
WRAPPING_CSS = """
div.output_area pre, div.output_subarea pre, div.output_text pre, .output pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
math[display="block"] { display: block; margin: 0.6em 0; overflow-x: auto; }
"""

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)
_MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$"
    r"|\\\[(?P<display_bracket>.+?)\\\]"
    r"|\\\((?P<inline_paren>.+?)\\\)"
    r"|(?<![\\$\w])\$(?!\s)(?P<inline>[^$\n]+?)(?<!\s)\$(?![\w$])",
    re.DOTALL,
)
# Characters markdown would read inside the MathML's text (emphasis, links, escapes, math).
_MARKDOWN_SPECIAL = {c: f"&#{ord(c)};" for c in "*_`\\[]$~|"}


def template_basedirs() -> list[str]:
    """Where nbconvert finds the course's feedback template and nbgrader's, which it extends."""
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    return [str(FEEDBACK_TEMPLATES), str(nbgrader_templates / "templates")]


def _mathml(tex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    try:
        markup = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # TeX that latex2mathml cannot read: show the source, still readable
        return f"<code>{html.escape(tex)}</code>"
    markup = re.sub(
        r">([^<]+)<",
        lambda m: ">" + "".join(_MARKDOWN_SPECIAL.get(c, c) for c in m[1]) + "<",
        markup,
    )
    return markup.replace("\n", " ")


def markdown_math_to_mathml(source: str) -> str:
    """``source`` (markdown) with every ``$...$``, ``$$...$$``, ``\\(...\\)`` and ``\\[...\\]``
    outside code replaced by MathML."""

    def convert_text(text: str) -> str:
        def replace(match: re.Match) -> str:
            display = match["display"] or match["display_bracket"]
            if display is not None:
                return "\n\n" + _mathml(display, True) + "\n\n"
            return _mathml(match["inline"] or match["inline_paren"], False)

        pieces, last = [], 0
        for code in _CODE_SPAN.finditer(text):
            pieces += [_MATH.sub(replace, text[last:code.start()]), code[0]]
            last = code.end()
        return "".join(pieces) + _MATH.sub(replace, text[last:])

    pieces, last = [], 0
    for fence in _FENCE.finditer(source):
        pieces += [convert_text(source[last:fence.start()]), fence[0]]
        last = fence.end()
    return "".join(pieces) + convert_text(source[last:])


class ReadableFeedback(NbGraderPreprocessor):
    """Math in markdown cells as MathML, and outputs that wrap (see ``WRAPPING_CSS``)."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple:
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = markdown_math_to_mathml(cell.source)
        resources.setdefault("inlining", {}).setdefault("css", []).append(WRAPPING_CSS)
        return nb, resources
