"""Running a whole notebook headless, top to bottom, as the tests and `make bench` do.

nbclient waits for each kernel message with one long ``zmq.asyncio`` poll. With widget cells
(a demo drawing into an ``Output`` widget) that poll was seen to miss the message's wake-up:
the kernel had replied and gone idle, and the client slept until its timeout (5 minutes a
cell in the tests), then found the reply waiting. It happened with ipykernel 6 and 7 and
pyzmq 26 and 27. ``SlicedPollChannel`` polls in short slices instead, so a missed wake-up
costs at most one slice. Grading uses the same client (``SlicedPollExecute``): there a missed
wake-up would run into the cell timeout and turn a correct cell into an error.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient
from nbgrader.preprocessors import Execute
from traitlets import DottedObjectName, Type

POLL_SLICE_S = 0.2


class SlicedPollChannel(AsyncZMQSocketChannel):
    """A kernel channel whose ``get_msg`` polls in slices of ``POLL_SLICE_S`` seconds."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = POLL_SLICE_S if deadline is None else deadline - time.monotonic()
            # Rounded up: a poll of 0 ms would spin through the deadline's last millisecond.
            if await self.socket.poll(math.ceil(1000 * max(0.0, min(POLL_SLICE_S, remaining)))):
                return await self._recv()
            if deadline is not None and deadline - time.monotonic() < 0.001:
                raise Empty


class SlicedPollKernelClient(AsyncKernelClient):
    shell_channel_class = Type(SlicedPollChannel)
    iopub_channel_class = Type(SlicedPollChannel)

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = True,
                       hb: bool = True, control: bool = True) -> None:
        """Every channel but the heartbeat's: nbclient asks the kernel manager whether the
        kernel lives, and a kernel whose file descriptors a submission overwrote left the
        heartbeat's thread impossible to join, nbgrader waiting on it until the time limit."""
        super().start_channels(shell, iopub, stdin, False, control)


class SlicedPollKernelManager(AsyncKernelManager):
    """A kernel manager whose clients poll in slices (see the module's docstring)."""

    client_class = DottedObjectName(f"{__name__}.SlicedPollKernelClient")
    client_factory = Type(SlicedPollKernelClient)  # what ``client()`` builds


class SlicedPollExecute(Execute):
    """nbgrader's ``Execute`` step (configured as ``Execute``) with the sliced-poll client.

    It also notes every cell it interrupts at the time limit in
    ``resources["course"]["timed_out_cells"]`` (grade_id, or the cell's number), where
    ``ApplyVerdicts`` finds them: the status comes from what happened, never from what a
    cell printed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SlicedPollKernelManager)
        super().__init__(*args, **kwargs)

    async def _async_handle_timeout(
        self, timeout: int, cell: nbformat.NotebookNode | None = None
    ) -> None | dict[str, Any]:
        if cell is not None:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            label = grade_id or f"cell {self.nb.cells.index(cell) + 1}"
            course = self.resources.setdefault("course", {})
            course.setdefault("timed_out_cells", []).append(label)
        return await super()._async_handle_timeout(timeout, cell)


def execute_notebook(
    notebook: nbformat.NotebookNode,
    folder: Path,
    *,
    kernel_name: str = "python3",
    environment: Mapping[str, str] | None = None,
    timeout: int = 300,
) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` (in place) in a fresh kernel started in ``folder``.

    Errors are kept in the cells' outputs rather than raised. The kernel gets ``environment``
    (default: this process's environment without ``NBGRADER_EXECUTION``, so that demos run).
    """
    if environment is None:
        environment = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    client = NotebookClient(
        notebook,
        timeout=timeout,
        allow_errors=True,
        kernel_name=kernel_name,
        kernel_manager_class=SlicedPollKernelManager,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env=dict(environment))
    return notebook


def error_outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def printed_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed (their stream outputs), in order."""
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )
