"""Tools the notebooks' self-checks and autograder tests share.

- ``no_shortcuts`` watches a student's function while a test runs it and fails the test,
  with a clear message, when it calls the reference in ``helpers`` or torch's ready-made
  version of what the exercise asks the student to write. It detects *calls* (through
  ``sys.setprofile``), so renaming an import does not hide a shortcut and merely mentioning
  a name in a comment costs nothing.
- ``assert_close`` compares with a tolerance derived from the dtype and the problem size.
- ``implementation_or_reference`` lets demos run on the student's code once it exists and on
  the reference, with a one-line notice, while the exercise is still undone.
- ``grading_mode`` tells long-running cells that nbgrader is executing the notebook.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


def grading_mode() -> bool:
    """True while nbgrader executes the notebook (autograde or validate): skip heavy work."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


# --------------------------------------------------------------------------------------
# Shortcut detection
# --------------------------------------------------------------------------------------


def _code_objects(target: Any) -> dict[types.CodeType, str]:
    """Map the code objects that running ``target`` enters to a readable name for it.

    A function gives its own code; a class gives every function defined in its body (so both
    ``SGD(...)`` and ``.step()`` are seen); a module gives every function and class defined in
    it or in its submodules.
    """
    found: dict[types.CodeType, str] = {}
    if isinstance(target, types.ModuleType):
        prefix = target.__name__
        for name, module in list(sys.modules.items()):
            if module is None or not (name == prefix or name.startswith(prefix + ".")):
                continue
            for value in vars(module).values():
                owner = getattr(value, "__module__", None)
                if owner == name and (inspect.isfunction(value) or inspect.isclass(value)):
                    for code, label in _code_objects(value).items():
                        found[code] = label
        return found
    label = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
    if inspect.isclass(target):
        for value in vars(target).values():
            function = getattr(value, "__func__", value)
            function = getattr(function, "fget", function)  # properties
            function = inspect.unwrap(function) if callable(function) else function
            if inspect.isfunction(function):
                found[function.__code__] = label
        return found
    function = inspect.unwrap(getattr(target, "__func__", target))
    if inspect.isfunction(function):
        found[function.__code__] = label
        return found
    raise TypeError(f"Cannot watch {target!r}: pass a Python function, class or module.")


class ShortcutError(AssertionError):
    """Raised when a student's function relied on what the exercise asks them to write."""


@contextmanager
def no_shortcuts(exercise: str, *forbidden: Any) -> Iterator[None]:
    """Fail, after the block, if code inside it called anything in ``forbidden``.

    Use it around the call of the student's function only; compute the expected values with
    the reference *outside* the block. Calls are recorded rather than interrupted, so the
    student's code runs exactly as written and the message can name what it used.
    """
    watched: dict[types.CodeType, str] = {}
    for target in forbidden:
        watched.update(_code_objects(target))
    used: list[str] = []

    def profiler(frame: types.FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in watched:
            label = watched[frame.f_code]
            if label not in used:
                used.append(label)

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield
    finally:
        sys.setprofile(previous)
    if used:
        raise ShortcutError(
            f"`{exercise}` calls {used[0]}, which does the exercise for you. "
            "Write the computation yourself to earn these points."
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
        raise AssertionError(f"{what} should be a tensor or array, got {type(actual)}.") from error
    if tuple(actual_t.shape) != tuple(expected_t.shape):
        raise AssertionError(
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
        raise AssertionError(f"{what} contains NaN or infinite values.")
    if not torch.allclose(actual_t, expected_t, rtol=rtol, atol=atol):
        worst = float((actual_t - expected_t).abs().max())
        raise AssertionError(
            f"{what} is not right: it differs from the correct value by up to {worst:.3g}."
        )


# --------------------------------------------------------------------------------------
# Demos that run before the exercise is done
# --------------------------------------------------------------------------------------


def implementation_or_reference(student: Callable | None, reference: Callable) -> Callable:
    """Return a function that runs ``student``, or ``reference`` while ``student`` is undone.

    An exercise is undone while its body still raises ``NotImplementedError`` (the release
    notebook's scaffold) or while it is not defined at all (pass ``None``). The switch happens
    on the first call, with a one-line notice, and sticks, so a demo uses one implementation
    throughout. The scaffold raises before touching any argument, so retrying is safe.
    """
    name = getattr(reference, "__name__", "this exercise")
    notice = f"Note: `{name}` is not implemented yet; this demo uses the reference from helpers."
    if student is None:
        print(notice)
        return reference
    chosen: list[Callable] = []

    @functools.wraps(reference)
    def run(*args: Any, **kwargs: Any) -> Any:
        if chosen:
            return chosen[0](*args, **kwargs)
        try:
            result = student(*args, **kwargs)
        except NotImplementedError:
            print(notice)
            chosen.append(reference)
            return reference(*args, **kwargs)
        chosen.append(student)
        return result

    return run
