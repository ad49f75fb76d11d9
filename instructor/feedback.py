"""Feedback for students shows no absolute path of the grading machine.

A graded notebook's outputs name the machine's folders: tracebacks go through the virtual
environment and the course's ``helpers``, and a student's code may print its working folder
(a temporary folder of the grader's). ``HideMachinePaths`` runs in ``nbgrader
generate_feedback`` (``nbgrader_config.py``) and rewrites them before the HTML is written:
the course's files become relative (``helpers/checking.py``), installed packages start at
``site-packages/``, the standard library at ``python/``, and temporary folders and the home
folder read ``<tmp>`` and ``~``. The autograded notebooks keep the full paths, for the
instructor.
"""

from __future__ import annotations

import re
import site
import sys
import sysconfig
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from instructor.notebook import REPO_ROOT

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
