"""Widget wiring shared by every notebook's demos.

A demo is three pieces: a *compute* function (numbers in, numbers out, tested headless), a
*plot* function (numbers in, a matplotlib ``Figure`` out) and a thin *widget* function,
decorated with ``@demo``, that only wires controls to the two. Helpers never call
``plt.show()``: plot functions return figures and ``show`` displays them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

SKIPPED_WHILE_GRADING = "Interactive demo skipped while grading."
Widget = TypeVar("Widget")


def grading_mode() -> bool:
    """True while nbgrader executes the notebook (autograde or validate): skip heavy work."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def demo(build: Callable[..., Widget]) -> Callable[..., Widget | None]:
    """Skip a widget while grading (demos earn no points; grading should not wait for them)."""

    @functools.wraps(build)
    def build_unless_grading(*args: Any, **kwargs: Any) -> Widget | None:
        if grading_mode():
            print(SKIPPED_WHILE_GRADING)
            return None
        return build(*args, **kwargs)

    return build_unless_grading


def show(figure: Figure) -> None:
    """Display a figure in the current output (a widget's Output or the cell's), then free it."""
    display(figure)
    plt.close(figure)


def run_button(controls: dict[str, widgets.Widget], run: Callable[..., None]) -> widgets.VBox:
    """Controls, a Run button and an output area; runs once at once with the initial values.

    ``controls`` maps each argument of ``run`` to the widget that sets it. A button rather
    than live updates, because these demos train: recomputing on every move would lag.
    """
    for control in controls.values():
        control.style = {"description_width": "initial"}
    button = widgets.Button(description="Run", button_style="primary", icon="play")
    output = widgets.Output()

    def on_click(_: object = None) -> None:
        output.clear_output(wait=True)
        with output:
            run(**{key: control.value for key, control in controls.items()})

    button.on_click(on_click)
    box = widgets.VBox([widgets.HBox(list(controls.values())), button, output])
    display(box)
    on_click()
    return box
