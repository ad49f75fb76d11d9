"""Headless notebook runs (``instructor.execution``): kernel messages are polled in short
slices, so a missed wake-up cannot stall a run until the cell timeout."""

from __future__ import annotations

import asyncio
from queue import Empty

import nbformat
import pytest

from instructor.execution import (
    POLL_SLICE_S,
    SlicedPollChannel,
    SlicedPollExecute,
    SlicedPollKernelClient,
    SlicedPollKernelManager,
    error_outputs,
    execute_notebook,
    printed_text,
)


class FakeSocket:
    """A socket whose message is ready from the ``ready_at``-th poll on (never if None).

    Its polls wait on ``clock`` (a fake ``time.monotonic``), so timings are exact even on a
    loaded machine.
    """

    def __init__(self, ready_at: int | None, clock: FakeClock) -> None:
        self.ready_at = ready_at
        self.clock = clock
        self.polls: list[int] = []

    async def poll(self, timeout_ms: int) -> int:
        self.polls.append(timeout_ms)
        if len(self.polls) > 100:
            raise AssertionError("get_msg kept polling past its deadline")
        if self.ready_at is not None and len(self.polls) >= self.ready_at:
            return 1
        self.clock.now += timeout_ms / 1000
        return 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("instructor.execution.time.monotonic", fake)
    return fake


def _channel(socket: FakeSocket) -> SlicedPollChannel:
    channel = SlicedPollChannel.__new__(SlicedPollChannel)
    channel.socket = socket

    async def receive() -> dict:
        return {"msg_type": "execute_reply"}

    channel._recv = receive
    return channel


def test_get_msg_polls_again_every_slice_until_the_message_is_there(clock):
    socket = FakeSocket(ready_at=4, clock=clock)
    message = asyncio.run(_channel(socket).get_msg(timeout=300))
    assert message == {"msg_type": "execute_reply"}
    assert socket.polls == [1000 * POLL_SLICE_S] * 4  # never one long poll of 300 s


def test_get_msg_gives_up_at_its_timeout_and_waits_in_slices_without_one(clock):
    socket = FakeSocket(ready_at=None, clock=clock)
    with pytest.raises(Empty):
        asyncio.run(_channel(socket).get_msg(timeout=0.5))
    assert socket.polls == [200, 200, 100]
    socket = FakeSocket(ready_at=3, clock=clock)
    assert asyncio.run(_channel(socket).get_msg(timeout=None))  # no timeout: polls until ready
    assert socket.polls == [1000 * POLL_SLICE_S] * 3


def test_get_msg_does_not_spin_on_zero_ms_polls_when_less_than_a_millisecond_remains(clock):
    socket = FakeSocket(ready_at=None, clock=clock)
    with pytest.raises(Empty):
        asyncio.run(_channel(socket).get_msg(timeout=0.4985))
    assert socket.polls == [200, 200, 99]  # 98.5 ms rounded up, not down to 98 and then 0s


def test_kernels_of_the_tests_bench_and_grader_get_the_sliced_poll_client(
    course_nbgrader_config,
):
    manager = SlicedPollKernelManager(kernel_name="python3")
    assert isinstance(manager.client(), SlicedPollKernelClient)
    config = course_nbgrader_config()
    assert "instructor.execution.SlicedPollExecute" in config.Autograde.autograde_preprocessors
    execute = SlicedPollExecute(config=config)
    assert execute.kernel_manager_class is SlicedPollKernelManager
    assert execute.timeout == 120  # the course's nbgrader settings still apply


@pytest.mark.kernel
def test_execute_notebook_runs_widget_cells_and_keeps_errors_in_the_outputs(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import ipywidgets\nout = ipywidgets.Output()\ndisplay(out)\n"
                "with out:\n    print('inside')\nprint('after')"
            ),
            nbformat.v4.new_code_cell("1 / 0"),
            nbformat.v4.new_code_cell("import os; print(os.getcwd())"),
        ]
    )
    execute_notebook(notebook, tmp_path)
    assert [e.ename for e in error_outputs(notebook)] == ["ZeroDivisionError"]
    assert printed_text(notebook).splitlines()[-2:] == ["after", str(tmp_path)]
