"""Which cells of a notebook build a demo widget (the widget contract, helpers/widgets.py)."""

from __future__ import annotations

import ast
import importlib

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from helpers.widgets import demo


def widget_functions(topic) -> set[str]:
    """The demos of ``topic`` that build a widget: ``@demo`` functions that return one."""
    demos = importlib.import_module(f"{topic.package.__name__}.demos")
    wrapper = demo(lambda: None).__code__  # every @demo function is a closure of this code
    return {
        name for name, function in vars(demos).items()
        if getattr(function, "__code__", None) is wrapper
        and function.__wrapped__.__annotations__.get("return") not in (None, "None")
    }


def widget_calls(notebook: nbformat.NotebookNode, widgets: set[str]
                 ) -> list[tuple[int, ast.Module, ast.Call]]:
    """(cell index, the cell's syntax tree, the call) for each call of one of ``widgets``."""
    calls = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(TransformerManager().transform_cell(cell.source))  # magics as calls
        calls += [(index, tree, node) for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in widgets]
    return calls
