"""Widget wiring shared by every notebook's demos.

A demo is three pieces: a *compute* function (numbers in, numbers out, tested headless), a
*plot* function (numbers in, a matplotlib ``Figure`` out) and a thin *widget* function,
decorated with ``@demo``, that only wires controls to the two.

Who displays what (the one contract): plot functions return figures and ``show`` displays
them; a widget function returns its widget and never displays it, and the notebook cell
ends with the call, so Jupyter shows the widget once, as the cell's value. A ``@demo``
without controls shows its figures with ``show`` and returns ``None``. Helpers never call
``plt.show()`` or ``display`` on a widget.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers.mode import grading_mode

SKIPPED_WHILE_GRADING = "Interactive demo skipped while grading."
CANNOT_RUN = "Cannot run with these settings: "
Widget = TypeVar("Widget")


class InvalidSetting(ValueError):
    """A setting a demo cannot run with (text that is not a number, lists of different
    lengths); the widget shows the message as one line instead of a traceback."""


def explain_invalid_settings(run: Callable[..., None]) -> Callable[..., None]:
    """``run``, printing ``InvalidSetting``'s message as one line instead of raising it.

    Only ``InvalidSetting``: an error in the student's code keeps its traceback, which is
    what the student needs to fix it.
    """

    @functools.wraps(run)
    def run_or_explain(**settings: Any) -> None:
        try:
            run(**settings)
        except InvalidSetting as error:
            print(f"{CANNOT_RUN}{error}")

    return run_or_explain


def diverged_at(values: Any, limit: float) -> int | None:
    """The first index whose value is not finite or above ``limit`` (a run that blew up)."""
    values = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~(np.abs(values) <= limit))  # NaN compares false: it counts too
    return int(bad[0]) if bad.size else None


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
    """Display a figure in the current output (a widget's Output or the cell's), then free it.

    Rendered here as one PNG with a single draw: IPython's display would lay the figure out in
    one draw and paint it in a second (bbox "tight"), about 0.15 s more per redraw. A figure
    its plot function did not lay out gets ``tight_layout`` first, as "tight" would crop it.
    """
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    png = io.BytesIO()
    matplotlib.image.imsave(png, np.asarray(canvas.buffer_rgba()), format="png")
    plt.close(figure)
    display(Image(data=png.getvalue(), format="png"))


def run_button(controls: dict[str, widgets.Widget], run: Callable[..., None]) -> widgets.VBox:
    """Controls, a Run button and an output area, run once with the initial values.

    ``controls`` maps each argument of ``run`` to the widget that sets it. A button rather
    than live updates, because these demos train: recomputing on every move would lag. The
    first run's output waits in the output area until the cell shows the returned box.
    """
    for control in controls.values():
        control.style = {"description_width": "initial"}
    button = widgets.Button(description="Run", button_style="primary", icon="play")
    output = widgets.Output()

    run = explain_invalid_settings(run)

    def on_click(_: object = None) -> None:
        output.clear_output(wait=True)
        with output:
            run(**{key: control.value for key, control in controls.items()})

    button.on_click(on_click)
    # Wrapping: six controls in one row would squeeze each slider to a dot.
    row = widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
    on_click()
    return widgets.VBox([row, button, output])
