"""Reading the course's notebooks: topics, exercise cells, and the setup a solution cell needs.

``helpers`` is imported only where a function needs it: it imports torch (seconds), and
nbgrader's grading process imports this module to find cells, which needs no torch.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import nbformat

from instructor.settings import REPO_ROOT

if TYPE_CHECKING:
    from helpers.exercise import Registry



def nbgrader_metadata(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_of(grade_id: str, exercise: str) -> bool:
    """Whether a test cell's ``grade_id`` belongs to ``exercise``: ``test_<exercise>`` or
    ``test_<exercise>_<anything>`` (so ``test_AdamW`` is not one of ``Adam``'s)."""
    return grade_id == f"test_{exercise}" or grade_id.startswith(f"test_{exercise}_")


def find_cell(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if nbgrader_metadata(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


# Display machinery that a solution cell never needs and that takes seconds to import.
DISPLAY_MODULES = ("matplotlib", "ipywidgets", "IPython", "tqdm", "helpers.widgets")


def _is_display_import(line: str) -> bool:
    words = line.replace(",", " ").split()
    module, names = words[1], words[3:] if words[0] == "from" else []
    if module.rpartition(".")[2] == "demos" or "demos" in names:
        return True
    return any(module == name or module.startswith(name + ".") for name in DISPLAY_MODULES)


def setup_imports(notebook: nbformat.NotebookNode) -> list[str]:
    """The import statements of every code cell that is not a solution cell, in order.

    They are the setup a solution cell may rely on (``torch``, ``np``, ``nn``, ...). The grader
    takes them from the *release*, never from a submission, and leaves out the display
    machinery (plots, widgets, demos), which only slows each sandboxed check down.
    """
    from helpers.solution_cells import imports_only

    lines: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and not nbgrader_metadata(cell).get("solution"):
            for line in imports_only(cell.source):
                if line not in lines and not _is_display_import(line):
                    lines.append(line)
    return lines


@dataclass(frozen=True)
class Topic:
    """One notebook and its ``helpers`` subpackage, found by the naming rule in CONTRIBUTING."""

    package: ModuleType
    assignment: str

    @property
    def name(self) -> str:
        return self.package.__name__.rpartition(".")[2]

    @property
    def exercises(self) -> Registry:
        return importlib.import_module(f"{self.package.__name__}.checks").EXERCISES

    def solution_path(self, root: Path = REPO_ROOT) -> Path:
        return root / "solutions" / self.assignment / f"{self.notebook_name}"

    def release_path(self, root: Path = REPO_ROOT) -> Path:
        return root / "notebooks" / self.assignment / f"{self.notebook_name}"

    @property
    def notebook_name(self) -> str:
        return self.assignment.split("_", 1)[1] + ".ipynb"


def topics() -> list[Topic]:
    """Every ``helpers`` subpackage that declares ``ASSIGNMENT``, in notebook order."""
    import helpers

    found = []
    for info in pkgutil.iter_modules(helpers.__path__):
        if not info.ispkg:
            continue
        package = importlib.import_module(f"helpers.{info.name}")
        if hasattr(package, "ASSIGNMENT"):
            found.append(Topic(package, package.ASSIGNMENT))
    return sorted(found, key=lambda topic: topic.assignment)
