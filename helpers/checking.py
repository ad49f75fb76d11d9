"""Comparisons and shortcut detection shared by every notebook's checks.

- ``no_shortcuts`` watches a student's function while a test runs it and fails the test,
  with a clear message, when it calls the reference in ``helpers`` or torch's ready-made
  version of what the exercise asks the student to write. It detects *calls* (through
  ``sys.setprofile``), so renaming an import does not hide a shortcut and merely mentioning
  a name in a comment costs nothing.
- ``assert_close`` compares with a tolerance derived from the dtype and the problem size.
- ``compare_outputs`` compares every named output of one case with the reference's.
- ``resolve`` turns a dotted name (``"torch.optim"``, ``"helpers.basics.reference:fit"``) into
  the object, so that registries can name references and shortcuts without importing them.
"""

from __future__ import annotations

import importlib
import inspect
import math
import sys
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

# --------------------------------------------------------------------------------------
# Shortcut detection
# --------------------------------------------------------------------------------------


def _code_objects(target: Any) -> dict[int, tuple[types.CodeType, str]]:
    """Map the code objects that running ``target`` enters (by id) to a readable name for it.

    A function gives its own code; a class gives every function defined in its body (so both
    ``SGD(...)`` and ``.step()`` are seen); a module gives every function and class defined in
    it or in its submodules.
    """
    found: dict[int, tuple[types.CodeType, str]] = {}  # by identity (see no_shortcuts)
    if isinstance(target, types.ModuleType):
        prefix = target.__name__
        for name, module in list(sys.modules.items()):
            if module is None or not (name == prefix or name.startswith(prefix + ".")):
                continue
            for value in vars(module).values():
                owner = getattr(value, "__module__", None)
                if owner == name and (inspect.isfunction(value) or inspect.isclass(value)):
                    found.update(_code_objects(value))
        return found
    label = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
    if inspect.isclass(target):
        for value in vars(target).values():
            function = getattr(value, "__func__", value)
            function = getattr(function, "fget", function)  # properties
            function = inspect.unwrap(function) if callable(function) else function
            if inspect.isfunction(function):
                found[id(function.__code__)] = (function.__code__, label)
        return found
    function = inspect.unwrap(getattr(target, "__func__", target))
    if inspect.isfunction(function):
        found[id(function.__code__)] = (function.__code__, label)
        return found
    raise TypeError(f"Cannot watch {target!r}: pass a Python function, class or module.")


class CheckFailed(AssertionError):
    """A check that failed. ``check`` is a short label of what is wrong, the same for every
    student who made that mistake (the gradebook report counts them); the message explains."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(message)
        self.check = check


def check_of(error: AssertionError) -> str:
    """The short label of a failed check (a plain ``AssertionError`` has none of its own)."""
    return getattr(error, "check", None) or "wrong answer"


class ShortcutError(CheckFailed):
    """Raised when a student's function relied on what the exercise asks them to write."""

    def __init__(self, message: str) -> None:
        super().__init__("used what the exercise asks to write", message)


def resolve(dotted: str) -> Any:
    """The object a dotted name points to: ``"torch.optim"`` or ``"helpers.x.reference:f"``.

    A colon separates the module from an attribute path inside it; without one, the longest
    importable prefix is the module.
    """
    if ":" in dotted:
        module_name, _, attribute_path = dotted.partition(":")
        value: Any = importlib.import_module(module_name)
    else:
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                value = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            attribute_path = ".".join(parts[cut:])
            break
        else:
            raise ImportError(f"cannot import any part of {dotted!r}")
    for attribute in filter(None, attribute_path.split(".")):
        value = getattr(value, attribute)
    return value


@contextmanager
def no_shortcuts(exercise: str, *forbidden: Any) -> Iterator[None]:
    """Fail, after the block, if code inside it called anything in ``forbidden``.

    ``forbidden`` holds capabilities (``helpers.capabilities``), functions, classes, modules
    or their dotted names. Use it around the call of the student's function only; compute the
    expected values with the reference *outside* the block. It protects checks that run
    beside the student's code (self-checks, in-process mutation suites): it sees Python calls
    only, and the grading sandbox closes the rest (see ``instructor.verdict_runner``).
    Calls are recorded rather than interrupted, so the student's code runs exactly as written
    and the message can name what it used.
    """
    # Keyed by identity: code objects compare equal by content, so a student's dataclass
    # ``__init__`` would otherwise match the reference's generated one. The forbidden objects
    # (and so their code) stay alive while the block runs, so no id is reused.
    watched: dict[int, str] = {}
    for entry in forbidden:
        description = getattr(entry, "description", None)
        for target in getattr(entry, "python", (entry,)):
            found = _code_objects(resolve(target) if isinstance(target, str) else target)
            watched.update(
                {key: _used(description, label) for key, (_, label) in found.items()}
            )
    used: list[str] = []

    def profiler(frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call" and id(frame.f_code) in watched:
            label = watched[id(frame.f_code)]
            if label not in used:
                used.append(label)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if used:
        raise ShortcutError(shortcut_message(exercise, used[0]))


def _used(description: str | None, label: str) -> str:
    return f"{description} ({label})" if description else label


def shortcut_message(exercise: str, what: str) -> str:
    """The message for an exercise that used what it asks the student to write."""
    return (
        f"`{exercise}` uses {what}, which does the exercise for you and earns no points "
        "here. Write the computation yourself."
    )


# --------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------


def tolerance(dtype: torch.dtype | np.dtype, size: int = 1) -> float:
    """Relative tolerance for results of ``size`` accumulated floating-point operations.

    Rounding errors of independent operations grow like the square root of their number;
    a factor of 50 covers the different but equally valid orders of summation a correct
    implementation may use. float32 gives about 6e-6 for a single operation.
    """
    if isinstance(dtype, torch.dtype):
        eps = torch.finfo(dtype).eps
    else:
        eps = float(np.finfo(dtype).eps)
    return 50.0 * eps * math.sqrt(max(size, 1))


def _as_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    return torch.as_tensor(np.asarray(value))


def assert_close(actual: Any, expected: Any, what: str, size: int = 1) -> None:
    """Assert ``actual`` matches ``expected`` in shape and value, naming ``what`` if not.

    ``size`` is the number of operations that produced each value (for example the inner
    dimension of a matrix product); the tolerance grows with it and with the dtype's epsilon.
    The message tells the student what is wrong without printing the expected numbers.
    """
    expected_t = _as_tensor(expected)
    try:
        actual_t = _as_tensor(actual)
    except (TypeError, ValueError, RuntimeError) as error:
        raise CheckFailed(
            f"{what} is not a tensor", f"{what} should be a tensor or array, got {type(actual)}."
        ) from error
    if tuple(actual_t.shape) != tuple(expected_t.shape):
        raise CheckFailed(
            f"{what} has the wrong shape",
            f"{what} has shape {tuple(actual_t.shape)}, expected {tuple(expected_t.shape)}."
        )
    if not (actual_t.is_floating_point() or actual_t.is_complex()):
        actual_t = actual_t.to(torch.float64)
    compute_dtype = torch.promote_types(actual_t.dtype, expected_t.dtype)
    expected_t = expected_t.to("cpu", compute_dtype)
    actual_t = actual_t.to("cpu", compute_dtype)
    low_precision = actual_t.dtype if actual_t.dtype != torch.float64 else expected_t.dtype
    rtol = tolerance(low_precision if low_precision.is_floating_point else torch.float64, size)
    scale = float(expected_t.abs().max()) if expected_t.numel() else 0.0
    atol = rtol * max(scale, 1e-12)
    if not torch.isfinite(actual_t).all():
        raise CheckFailed(
            f"{what} contains NaN or infinite values", f"{what} contains NaN or infinite values."
        )
    if not torch.allclose(actual_t, expected_t, rtol=rtol, atol=atol):
        worst = float((actual_t - expected_t).abs().max())
        raise CheckFailed(
            f"{what} is not right",
            f"{what} is not right: it differs from the correct value by up to {worst:.3g}."
        )


def compare_outputs(
    actual: Mapping[str, Any], expected: Mapping[str, Any], size: int = 1
) -> None:
    """Compare every named output of an implementation with the reference's outputs.

    Keys are readable descriptions ("parameter 0 after call 2 (lr=0.1)"), used in the message
    as the start of a sentence. A key that starts with a word is capitalised ("Parameter 0
    ..."); one that starts with a code name keeps the name's spelling ("gd_step for ...",
    "b after step 1"): a first word is taken for a name unless it is two or more lowercase
    letters.
    """
    for what, value in expected.items():
        first_word = what.split(" ", 1)[0]
        is_word = len(first_word) > 1 and first_word.isalpha() and first_word.islower()
        start = what[0].upper() + what[1:] if is_word else what
        if what not in actual:
            raise CheckFailed(f"{start} is missing", f"{start} is missing from the result.")
        assert_close(actual[what], value, start, size=size)
