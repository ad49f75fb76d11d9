"""JupyterLab in headless Chromium, driven like a student would: the machinery of test_browser.

- ``jupyter_lab(root)`` starts JupyterLab on a free localhost port with a token, serving a
  throw-away copy of the notebooks (the browser may save them), and stops it afterwards,
  kernels included, reporting any process left behind.
- ``NotebookPage`` opens one notebook, runs all cells from the Run menu, waits for the kernel
  to go idle, and finds the interactive demos: every cell whose output holds widget controls.
- ``check_demo`` moves or presses each control of a demo once (a Run button after a change
  when the demo has one) and fails, naming the demo and the control, unless a new figure
  appears in the demo's output; it records how long each new figure took.

Playwright drives Debian's ``chromium`` (``CHROMIUM``): Playwright's own browser downloads are
not available in CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
VENV_BIN = Path(sys.executable).parent
# Settings a fresh JupyterLab would ask about in a pop-up, or that would change the files:
# start the notebook's own kernel without asking, no news prompt, never save (the notebooks
# are copies anyway), and every cell attached to the page so that all of them can be read.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True,
                                               "windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
CONTROLS = ".widget-hslider, .widget-dropdown, .widget-text, .widget-button"
# A demo is named by the `demos.<name>(` its cell calls, else by the cell's last call.
DEMO_CALL = re.compile(r"demos\.(\w+)\(")
BARE_CALL = re.compile(r"^(\w+)\(", re.MULTILINE)


class DemoFailure(AssertionError):
    """A demo that does not behave in the browser; the message names the demo and control."""


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


@dataclass
class LabServer:
    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for kernel in self.api("GET", "kernels"):
            self.api("DELETE", f"kernels/{kernel['id']}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (kernels run in sessions of their own, not its group)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop_with_parent() -> None:
    """In the server's process: receive SIGTERM when the test process dies, however it dies,
    so that an interrupted test run leaves no server (and, through its shutdown, no kernel)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _write_settings(directory: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = directory / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def jupyter_lab(root: Path, log: Path, start_timeout: float = 120.0) -> Iterator[LabServer]:
    """JupyterLab serving ``root``; on exit every process it started is gone.

    Raises ``RuntimeError`` on exit, naming them, if any process outlived the shutdown.
    """
    port, token = _free_port(), os.urandom(16).hex()
    state = root.parent / f".lab-state-{port}"
    _write_settings(state / "settings")
    environment = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "TQDM_DISABLE": "1",  # progress bars would only slow Run All down
    }
    environment.pop("NBGRADER_EXECUTION", None)  # a student's kernel: demos run in full
    command = [
        str(VENV_BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, env=environment, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_stop_with_parent,
        )
    server = LabServer(root, port, token, process, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start; see {log}")
            try:
                server.api("GET", "status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer; see {log}") from None
                time.sleep(0.5)
        yield server
    finally:
        left = _stop(server)
    if left:
        raise RuntimeError(f"processes left running after JupyterLab stopped: {sorted(left)}")


def _stop(server: LabServer) -> set[int]:
    """Shut the kernels and the server down; kill what is still there; return what survived."""
    started = _descendants(server.process.pid) | {server.process.pid}
    with contextlib.suppress(OSError):
        server.shut_down_kernels()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = {pid for pid in started if _alive(pid)}
    for pid in survivors:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return survivors


# --------------------------------------------------------------------------------------
# A notebook in the browser
# --------------------------------------------------------------------------------------


@dataclass
class Demo:
    """An interactive demo: the cell whose output holds its controls."""

    notebook: str
    name: str
    cell: int  # index among the notebook's cells

    def __str__(self) -> str:
        return f"{self.notebook}: {self.name}"


@dataclass
class Redraw:
    demo: str
    control: str
    seconds: float


_FIGURES_JS = """(cell) => {
    const node = document.querySelectorAll('.jp-Notebook .jp-Cell')[cell];
    const images = node ? node.querySelectorAll('.widget-output img') : [];
    return Array.from(images, (image) => image.src).join('|');
}"""
_NEW_FIGURE_JS = """([cell, before]) => {
    const node = document.querySelectorAll('.jp-Notebook .jp-Cell')[cell];
    const images = node.querySelectorAll('.widget-output img');
    const now = Array.from(images, (image) => image.src).join('|');
    return images.length > 0 && now !== before;
}"""
_OUTPUT_SAYS_JS = """([cell, text]) => {
    const node = document.querySelectorAll('.jp-Notebook .jp-Cell')[cell];
    const outputs = node.querySelector('.widget-output');
    return outputs !== null && outputs.querySelectorAll('img').length > 0
        && outputs.innerText.includes(text);
}"""
_IDLE_JS = """([settle]) => {
    // Idle, nothing running or queued, for `settle` ms on end: Run All sends one cell at a
    // time, so the kernel is briefly idle between two cells.
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    const prompts = document.querySelectorAll('.jp-Notebook .jp-InputPrompt');
    const running = Array.from(prompts).some((prompt) => prompt.textContent.includes('*'));
    const now = performance.now();
    if (!indicator || indicator.dataset.status !== 'idle' || running) {
        window.idleSince = null;
        return false;
    }
    window.idleSince = window.idleSince ?? now;
    return now - window.idleSince >= settle;
}"""


@dataclass
class NotebookPage:
    """One notebook open in JupyterLab, its kernel started."""

    page: object  # playwright.sync_api.Page
    path: Path  # relative to the server's root
    label: str  # how failures and files name this notebook, e.g. "03_optimization (release)"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: object, server: LabServer, path: Path, label: str,
             timeout: float = 120.0) -> NotebookPage:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        opened = cls(page, path, label)
        page.on("pageerror", lambda error: opened.errors.append(f"uncaught: {error}"))
        page.set_default_timeout(timeout * 1000)
        # reset: without it JupyterLab reopens the notebooks of earlier pages beside this one
        page.goto(server.url(f"lab/tree/{path.as_posix()}") + "&reset")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        # The status reads "idle" before the kernel exists: wait for the kernel itself first.
        deadline = time.monotonic() + timeout
        while not any(
            session["path"] == path.as_posix() and session["kernel"]["execution_state"] == "idle"
            for session in server.api("GET", "sessions")
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{label}: the kernel did not start in {timeout:.0f} s")
            time.sleep(0.5)
        opened.wait_until_idle(timeout, settle=1.0)
        return opened

    def close(self) -> None:
        self.page.close()

    # ---- cells ------------------------------------------------------------------------

    def cells(self):
        return self.page.locator(".jp-Notebook .jp-Cell")

    def source(self, cell: int) -> str:
        return self.cells().nth(cell).locator(".jp-InputArea-editor").inner_text()

    def output_text(self, cell: int) -> str:
        return self.cells().nth(cell).locator(".jp-Cell-outputWrapper").inner_text()

    def all_output_text(self) -> str:
        return "\n".join(self.page.locator(".jp-OutputArea").all_inner_texts())

    def prompts(self) -> list[str]:
        code = self.page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt")
        return [text.strip() for text in code.all_inner_texts()]

    def wait_until_idle(self, timeout: float, settle: float = 0.5) -> None:
        self.page.evaluate("() => { window.idleSince = null; }")
        self.page.wait_for_function(
            _IDLE_JS, arg=[settle * 1000], timeout=timeout * 1000, polling=100
        )

    def run_all(self, timeout: float) -> None:
        """Run > Run All Cells, as a person would, and wait until the kernel is idle."""
        before = self.prompts()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        self.page.wait_for_function(
            "(before) => Array.from(document.querySelectorAll("
            "'.jp-Notebook .jp-CodeCell .jp-InputPrompt'), (p) => p.textContent.trim())"
            ".join('|') !== before",
            arg="|".join(before),
        )
        self.wait_until_idle(timeout, settle=2.0)

    def replace_cell_source(self, cell: int, source: str) -> None:
        """Type ``source`` over a cell's code (inserted as text: no auto-indent or brackets)."""
        editor = self.cells().nth(cell).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.insert_text(source)

    def run_cell(self, cell: int, timeout: float) -> None:
        self.cells().nth(cell).locator(".cm-content").click()
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_timeout(200)
        self.wait_until_idle(timeout)

    # ---- demos ------------------------------------------------------------------------

    def demos(self, sources: list[str]) -> list[Demo]:
        """The cells whose output holds widget controls; ``sources`` are the cells' code, from
        the file, to name each demo by the function its cell calls."""
        found = []
        for index in range(self.cells().count()):
            if self.cells().nth(index).locator(f".widget-output, {CONTROLS}").count():
                calls = DEMO_CALL.findall(sources[index]) or BARE_CALL.findall(sources[index])
                name = calls[-1] if calls else f"cell {index}"
                found.append(Demo(self.label, name, index))
        return found

    def widget_errors(self) -> list[str]:
        problems = list(self.errors)
        if self.page.get_by_text("Error displaying widget").count():
            problems.append("'Error displaying widget' on the page")
        return problems

    def figures(self, demo: Demo) -> str:
        return self.page.evaluate(_FIGURES_JS, demo.cell)

    def wait_for_new_figure(self, demo: Demo, control: str, before: str, action: Callable,
                            timeout: float) -> Redraw:
        """Do ``action``; the seconds from its end until the demo's figure changes."""
        action()
        start = time.perf_counter()
        try:
            self.page.wait_for_function(
                _NEW_FIGURE_JS, arg=[demo.cell, before], timeout=timeout * 1000, polling="raf"
            )
        except Exception as error:  # playwright's TimeoutError
            raise DemoFailure(
                f"{demo}: {control} did not produce a new figure within {timeout:.0f} s"
                f"\n{self.output_text(demo.cell)[-1500:]}"
            ) from error
        seconds = time.perf_counter() - start
        self.wait_until_idle(timeout)
        return Redraw(demo.name, control, seconds)

    def wait_for_output(self, demo: Demo, text: str, action: Callable, timeout: float) -> None:
        """Do ``action``; wait until the demo shows a figure and ``text`` (a run's last line).

        For a rerun that may well draw the very same figure (the same computation by other
        code), where ``wait_for_new_figure`` could not tell that anything happened."""
        action()
        try:
            self.page.wait_for_function(
                _OUTPUT_SAYS_JS, arg=[demo.cell, text], timeout=timeout * 1000, polling=100
            )
        except Exception as error:  # playwright's TimeoutError
            raise DemoFailure(
                f"{demo}: no figure with {text!r} within {timeout:.0f} s"
                f"\n{self.output_text(demo.cell)[-1500:]}"
            ) from error
        self.wait_until_idle(timeout)

    def controls(self, demo: Demo):
        return self.cells().nth(demo.cell).locator(CONTROLS)


def _label(control) -> str:
    if "widget-button" in (control.get_attribute("class") or ""):
        return f"button {control.inner_text().strip()!r}"
    description = control.locator(".widget-label").first.inner_text().strip()
    return description or "an unlabelled control"


def _drag_slider(page, slider) -> None:
    """Drag the handle a fifth of the track towards the middle, as a person would."""
    slider.scroll_into_view_if_needed()
    track = slider.locator(".slider").bounding_box()
    handle = slider.locator(".noUi-handle").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    towards_middle = 1 if x < track["x"] + track["width"] / 2 else -1
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + towards_middle * track["width"] / 5, y, steps=5)
    page.mouse.up()


def _choose_other_option(select) -> None:
    options = select.locator("option").all_inner_texts()
    current = select.input_value()
    select.select_option(next(option for option in options if option != current))


def set_control(notebook: NotebookPage, demo: Demo, description: str, value: str) -> None:
    """Set the control labelled ``description`` to ``value`` by typing, as a person would:
    a slider through its editable readout, a text box directly, a dropdown by choosing."""
    control = notebook.controls(demo).filter(
        has=notebook.page.locator(".widget-label", has_text=description)
    ).first
    if not control.count():
        raise DemoFailure(f"{demo}: no control labelled {description!r}")
    classes = control.get_attribute("class") or ""
    if "widget-dropdown" in classes:
        control.locator("select").select_option(value)
    elif "widget-text" in classes:
        field = control.locator("input")
        field.fill(value)
        field.press("Enter")
    else:
        readout = control.locator(".widget-readout")
        readout.click()
        notebook.page.keyboard.press("ControlOrMeta+a")
        notebook.page.keyboard.type(value)
        notebook.page.keyboard.press("Enter")


def press_run(notebook: NotebookPage, demo: Demo) -> None:
    notebook.controls(demo).filter(has_text=re.compile(r"^\s*Run\s*$")).first.click()


def check_demo(notebook: NotebookPage, demo: Demo, timeout: float,
               text_values: dict[str, str] | None = None) -> list[Redraw]:
    """Each control of ``demo`` once: controls render, and every change (followed by Run in a
    demo with a Run button) or press draws a new figure; no widget or JavaScript error.

    ``text_values`` gives a valid new value for each text box, by its description.
    """
    page = notebook.page
    controls = notebook.controls(demo)
    if not controls.count():
        raise DemoFailure(f"{demo}: no controls rendered")
    if not notebook.figures(demo):
        raise DemoFailure(f"{demo}: no figure in the demo's output before any change\n"
                          f"{notebook.output_text(demo.cell)[-1500:]}")
    labels = [_label(controls.nth(index)) for index in range(controls.count())]
    has_run_button = "button 'Run'" in labels
    redraws = []
    for index, label in enumerate(labels):
        if label == "button 'Run'":
            continue
        control = controls.nth(index)
        classes = control.get_attribute("class") or ""
        if "widget-button" in classes:
            change = control.click
        elif "widget-dropdown" in classes:
            def change(control=control):
                _choose_other_option(control.locator("select"))
        elif "widget-text" in classes:
            if label not in (text_values or {}):
                raise DemoFailure(f"{demo}: no valid value given for the text box {label!r}")
            def change(label=label):
                set_control(notebook, demo, label, text_values[label])
        else:
            def change(control=control):
                _drag_slider(page, control)
        if has_run_button and "widget-button" not in classes:
            change()
            action = lambda: press_run(notebook, demo)  # noqa: E731
            what = f"{label}, then Run"
        else:
            action, what = change, label
        redraws.append(
            notebook.wait_for_new_figure(demo, what, notebook.figures(demo), action, timeout)
        )
        problems = notebook.widget_errors()
        if problems:
            raise DemoFailure(f"{demo}: after {what}: {'; '.join(problems)}")
    return redraws
