"""How the grader and the sandboxed verdict runner talk: frames on pipes, outputs as raw bytes.

The grader writes frames to the runner's stdin and reads frames from its stdout; nothing goes
through the file system. A frame is a 4-byte big-endian length and that many bytes, never more
than the reader's limit (it refuses a larger length before reading the body).

What a child sends back for one exercise is a *result*: an 8-byte length, a JSON header, then
the raw bytes of every output array, in the header's order::

    {"sources": [                                       # one per solution source judged
        {"error": "...", "kind": "..."}                  # the cell could not be loaded, or
        {"cases": [                                      # one per hidden case:
            {"error": "...", "kind": "..."} |            #   the code raised, or
            {"outputs": [{"name": "...", "dtype": "float64", "shape": [3, 2]}, ...]}
        ]}
    ]}

The child is student code's process, so ``read_result`` trusts nothing in it: the header
must parse and match a fixed schema, every dtype must be a real number or boolean type, every
shape must be small and non-negative, the declared sizes must add up to exactly the bytes that
follow, and arrays are views of those bytes (nothing is decompressed or allocated from what
the header claims). Anything else raises ``MalformedResult``.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import struct
import time
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

from instructor.settings import SETTINGS

MAX_FRAME_BYTES = SETTINGS.limits.result_bytes  # one exercise's result, or one task
MAX_HEADER_BYTES = 2**20
MAX_TEXT = 500  # characters of an error message kept
MAX_NAME = 200
MAX_DIMENSIONS = 8
# Real numbers and booleans, in the byte order of this machine (the runner's too).
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")
# Kinds of error a child reports for a case; only labels (a wrong answer still fails).
ERROR_KINDS = ("not done", "shortcut", "missing name", "too large", "error")

_LENGTH = struct.Struct(">I")
_HEADER_LENGTH = struct.Struct(">Q")


class MalformedResult(ValueError):
    """What a child sent back does not follow the protocol."""


class ChannelTimeout(TimeoutError):
    """The other side sent nothing complete in time."""


# --------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------


def write_frame(stream: BinaryIO, body: bytes) -> None:
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def write_json(stream: BinaryIO, value: Any) -> None:
    write_frame(stream, json.dumps(value).encode())


def read_frame(stream: BinaryIO, limit: int = MAX_FRAME_BYTES) -> bytearray | None:
    """The next frame from a blocking stream (the runner's stdin); None at its end."""
    prefix = stream.read(_LENGTH.size)
    if not prefix:
        return None
    if len(prefix) != _LENGTH.size:
        raise MalformedResult("a frame was cut off")
    (length,) = _LENGTH.unpack(prefix)
    if length > limit:
        raise MalformedResult(f"a frame of {length} bytes is over the limit of {limit}")
    body = bytearray(stream.read(length))
    if len(body) != length:
        raise MalformedResult("a frame was cut off")
    return body


class FrameReader:
    """Reads frames from a pipe with a deadline and a byte limit (the grader's side)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)
        self.closed = False

    def _fill(self, needed: int, deadline: float) -> None:
        while len(self.buffer) < needed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout("no answer in time")
            if not self.selector.select(timeout=remaining):
                continue
            chunk = os.read(self.fd, min(2**20, needed - len(self.buffer)))
            if not chunk:
                self.closed = True
                raise EOFError("the other side closed the channel")
            self.buffer += chunk

    def read(self, deadline: float, limit: int = MAX_FRAME_BYTES) -> bytes:
        self._fill(_LENGTH.size, deadline)
        (length,) = _LENGTH.unpack(self.buffer[: _LENGTH.size])
        if length > limit:
            raise MalformedResult(f"a frame of {length} bytes is over the limit of {limit}")
        self._fill(_LENGTH.size + length, deadline)
        body = bytes(self.buffer[_LENGTH.size : _LENGTH.size + length])
        del self.buffer[: _LENGTH.size + length]
        return body

    def close(self) -> None:
        self.selector.close()


# --------------------------------------------------------------------------------------
# Results: written by the child, read by the grader
# --------------------------------------------------------------------------------------


def _short(text: Any) -> str:
    shown = "".join(c if c.isprintable() else " " for c in str(text))
    return shown[:MAX_TEXT]


def error_entry(message: str, kind: str) -> dict:
    return {"error": _short(message), "kind": kind if kind in ERROR_KINDS else "error"}


def encode_result(sources: Sequence[dict | list[dict[str, np.ndarray] | dict]]) -> bytes:
    """A result: per source, an error entry, or per case an error entry or its outputs as
    ``{name: array}`` (arrays already converted by ``helpers.exercise.to_arrays``)."""
    header_sources: list[dict] = []
    data: list[bytes] = []
    for source in sources:
        if isinstance(source, dict):
            header_sources.append(source)
            continue
        cases = []
        for case in source:
            if isinstance(case.get("error"), str):  # an error_entry, not outputs
                cases.append(case)
                continue
            described = []
            for name, array in case.items():
                contiguous = np.ascontiguousarray(array)
                described.append(
                    {"name": name, "dtype": contiguous.dtype.name, "shape": list(array.shape)}
                )
                data.append(contiguous.tobytes())
            cases.append({"outputs": described})
        header_sources.append({"cases": cases})
    header = json.dumps({"sources": header_sources}).encode()
    return _HEADER_LENGTH.pack(len(header)) + header + b"".join(data)


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise MalformedResult(problem)


def _shape(value: Any) -> tuple[int, ...]:
    _check(isinstance(value, list) and len(value) <= MAX_DIMENSIONS, "a shape is not a short list")
    _check(
        all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31 for n in value),
        "a shape holds something other than sizes",
    )
    return tuple(value)


def _error(entry: dict) -> dict:
    _check(set(entry) <= {"error", "kind"}, "an error entry has unknown fields")
    _check(isinstance(entry.get("error"), str), "an error entry has no message")
    kind = entry.get("kind", "error")
    _check(kind in ERROR_KINDS, "an error entry has an unknown kind")
    return {"error": _short(entry["error"]), "kind": kind}


def read_result(payload: bytes, sources: int, cases: int) -> list[dict | list[dict]]:
    """Per source: an error ``{"error", "kind"}``, or per case an error or ``{name: array}``.

    Raises ``MalformedResult`` when ``payload`` does not follow the protocol for ``sources``
    solution sources of ``cases`` cases each. Arrays are read-only views of ``payload``.
    """
    _check(len(payload) >= _HEADER_LENGTH.size, "the result has no header")
    (header_length,) = _HEADER_LENGTH.unpack(payload[: _HEADER_LENGTH.size])
    _check(header_length <= MAX_HEADER_BYTES, "the result's header is too long")
    start = _HEADER_LENGTH.size + header_length
    _check(start <= len(payload), "the result's header is cut off")
    try:
        header = json.loads(bytes(payload[_HEADER_LENGTH.size : start]))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MalformedResult("the result's header is not JSON") from None
    _check(isinstance(header, dict) and set(header) == {"sources"}, "the header's fields differ")
    entries = header["sources"]
    _check(isinstance(entries, list) and len(entries) == sources, "the sources do not match")
    data = memoryview(payload)[start:]
    offset = 0
    read: list[dict | list[dict]] = []
    for entry in entries:
        _check(isinstance(entry, dict), "a source entry is not an object")
        if "error" in entry:
            read.append(_error(entry))
            continue
        _check(set(entry) == {"cases"}, "a source entry has unknown fields")
        _check(
            isinstance(entry["cases"], list) and len(entry["cases"]) == cases,
            "the cases do not match",
        )
        per_case: list[dict] = []
        for case in entry["cases"]:
            _check(isinstance(case, dict), "a case entry is not an object")
            if "error" in case:
                per_case.append(_error(case))
                continue
            _check(set(case) == {"outputs"} and isinstance(case["outputs"], list),
                   "a case entry has unknown fields")
            arrays: dict[str, np.ndarray] = {}
            for output in case["outputs"]:
                _check(
                    isinstance(output, dict) and set(output) == {"name", "dtype", "shape"},
                    "an output entry has unknown fields",
                )
                name, dtype = output["name"], output["dtype"]
                _check(isinstance(name, str) and len(name) <= MAX_NAME, "an output has no name")
                _check(dtype in DTYPES, f"an output has the dtype {_short(dtype)!r}")
                shape = _shape(output["shape"])
                size = math.prod(shape) * np.dtype(dtype).itemsize
                _check(offset + size <= len(data), "the outputs are shorter than declared")
                array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset)
                arrays[name] = array.reshape(shape)
                offset += size
            per_case.append(arrays)
        read.append(per_case)
    _check(offset == len(data), "the outputs are longer than declared")
    return read
