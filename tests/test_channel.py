"""What the grader reads back from a verdict child: a fixed format, trusted in nothing."""

from __future__ import annotations

import io
import json
import os
import struct
import time

import numpy as np
import pytest

from instructor import channel
from instructor.channel import MalformedResult, encode_result, read_result


def _payload(header: object, data: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack(">Q", len(encoded)) + encoded + data


def _outputs(*described: dict) -> dict:
    return {"sources": [{"cases": [{"outputs": list(described)}]}]}


def test_outputs_errors_and_load_failures_travel_intact():
    arrays = {"weight": np.arange(6, dtype=np.float32).reshape(2, 3), "done": np.array(True)}
    payload = encode_result([
        [arrays, channel.error_entry("ValueError: bad", "error")],
        channel.error_entry("the solution cell could not be loaded: SyntaxError", "error"),
    ])
    (cases, load_failure) = read_result(payload, sources=2, cases=2)
    np.testing.assert_array_equal(cases[0]["weight"], arrays["weight"])
    assert cases[0]["done"].dtype == np.bool_ and cases[0]["done"].shape == ()
    assert cases[1] == {"error": "ValueError: bad", "kind": "error"}
    assert load_failure["error"].startswith("the solution cell could not be loaded")


def test_an_unknown_error_kind_is_an_error_and_messages_are_cut_to_one_printable_line():
    entry = channel.error_entry("first\nsecond\x07" + "x" * 2000, "passed")
    assert entry["kind"] == "error"
    assert "\n" not in entry["error"] and "\x07" not in entry["error"]
    assert len(entry["error"]) == channel.MAX_TEXT


@pytest.mark.parametrize("dtype", ["object", "<U5", "complex128", "float16", "V8", "datetime64"])
def test_an_output_of_a_dtype_that_is_not_a_real_number_or_boolean_is_refused(dtype):
    header = _outputs({"name": "w", "dtype": dtype, "shape": [1]})
    with pytest.raises(MalformedResult, match="dtype"):
        read_result(_payload(header, b"\0" * 16), sources=1, cases=1)


@pytest.mark.parametrize(
    ("shape", "problem"),
    [
        ([2**40], "shape"),  # would be terabytes: refused before anything is allocated
        ([-1], "shape"),
        ([1.5], "shape"),
        (["3"], "shape"),
        ([True], "shape"),
        ([1] * 9, "shape"),
        ("3", "shape"),
        ([1000, 1000], "shorter than declared"),  # claims 8 MB, sends 8 bytes
    ],
)
def test_declared_shapes_must_be_small_sizes_that_the_bytes_sent_cover(shape, problem):
    header = _outputs({"name": "w", "dtype": "float64", "shape": shape})
    with pytest.raises(MalformedResult, match=problem):
        read_result(_payload(header, b"\0" * 8), sources=1, cases=1)


def test_bytes_beyond_what_the_header_declares_are_refused():
    header = _outputs({"name": "w", "dtype": "float64", "shape": [1]})
    with pytest.raises(MalformedResult, match="longer than declared"):
        read_result(_payload(header, b"\0" * 16), sources=1, cases=1)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\0\0\0",
        struct.pack(">Q", 2**62) + b"{}",
        struct.pack(">Q", 5) + b"{}",
        struct.pack(">Q", 4) + b"\xff\xfe{}",
        _payload([1, 2]),
        _payload({"sources": [], "extra": 1}),
        _payload({"sources": [{"cases": []}]}),  # too few cases
        _payload({"sources": [{"cases": [{"outputs": [], "more": 1}]}]}),
        _payload({"sources": [{"cases": [{"outputs": [{"name": 3, "dtype": "bool",
                                                         "shape": []}]}]}]}),
        _payload({"sources": [{"cases": [{"error": 7}]}]}),
        _payload({"sources": [{"cases": [{"error": "x", "kind": "passed"}]}]}),
        _payload({"sources": ["not an object"]}),
        _payload({"sources": [{"cases": [{"outputs": [{"name": "w", "dtype": "float64",
                                                         "shape": [1], "data": "AAAA"}]}]}]}),
    ],
    ids=range(14),
)
def test_a_result_that_does_not_follow_the_format_is_refused(payload):
    with pytest.raises(MalformedResult):
        read_result(payload, sources=1, cases=1)


def test_deeply_nested_json_is_refused_not_a_crash_of_the_grader():
    header = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(MalformedResult):
        read_result(struct.pack(">Q", len(header)) + header, sources=1, cases=1)


def test_arrays_read_back_are_views_of_the_bytes_received_not_copies():
    payload = encode_result([[{"w": np.ones(1000)}]])
    array = read_result(payload, sources=1, cases=1)[0][0]["w"]
    assert not array.flags.owndata and not array.flags.writeable


def test_a_frame_over_the_limit_is_refused_before_its_body_is_read():
    stream = io.BytesIO(struct.pack(">I", 2**31) + b"x" * 10)
    with pytest.raises(MalformedResult, match="over the limit"):
        channel.read_frame(stream)
    assert stream.tell() == 4
    read_end, write_end = os.pipe()
    reader = channel.FrameReader(read_end)
    try:
        os.write(write_end, struct.pack(">I", 10**9))
        with pytest.raises(MalformedResult, match="over the limit"):
            reader.read(time.monotonic() + 5, limit=100)
    finally:
        reader.close()
        os.close(read_end)
        os.close(write_end)


def test_the_grader_stops_waiting_at_its_deadline():
    read_end, write_end = os.pipe()
    reader = channel.FrameReader(read_end)
    try:
        os.write(write_end, struct.pack(">I", 100) + b"only part of it")
        started = time.monotonic()
        with pytest.raises(channel.ChannelTimeout):
            reader.read(time.monotonic() + 0.3)
        assert time.monotonic() - started < 5
    finally:
        reader.close()
        os.close(read_end)
        os.close(write_end)
