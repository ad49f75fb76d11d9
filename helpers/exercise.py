"""Exercises as data: every notebook declares its graded exercises once, in a ``Registry``.

An ``Exercise`` says everything the course needs to know about one graded function or class:

- ``name``: the function or class the student writes, and the ``grade_id`` of its solution
  cell; its test cells are ``test_<name>...``;
- ``reference``: the dotted name of the answer in ``helpers/<topic>/reference.py``, resolved
  only when needed, so that a grading sandbox never imports it;
- the hidden check, split in three so that it can run where no student code runs:
  ``draw_cases(rng)`` draws fresh problems as plain data (seeds, shapes, hyperparameters),
  ``run_case(implementation, case)`` builds the problem from the case, calls the
  implementation and returns its raw outputs as ``{description: array}``, and
  ``compare(case, actual, expected)`` raises ``AssertionError`` with a friendly message when
  the outputs are wrong (both sides arrive as detached CPU tensors, see ``as_tensors``).
  The grader draws the cases, runs the student's ``run_case`` in a sandboxed process, runs
  the reference's itself, and compares (see ``instructor.verdicts``);
  ``hidden_check`` does the same in one process, for the notebook and the tests;
- ``visible``: what the visible check (the notebook's self-check) adds: it runs the same
  loop as the hidden check (the same ``run_case`` and ``compare``, the same conversion of
  both sides), on its own cases (by default the hidden kind drawn on a fixed seed), so it
  catches what the hidden check catches and cannot drift from it (see ``Visible``);
- ``forbids``: the capabilities the exercise asks the student to provide themselves
  (``helpers.capabilities``: a ready-made optimizer step, automatic differentiation, ...);
  the reference answers are always forbidden.

A notebook's test cell is then ``checks.self_check("name", name)``, with
``checks.hidden_check("name", name)`` between the hidden-test markers, and a demo finds the
student's code with ``EXERCISES.implementation("name", globals())``. Both checks load the
student's cell again by the grader's rule (``helpers.solution_cells``) from the code the
kernel ran, so they judge what the grader will see.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from helpers.capabilities import Capability, the_reference
from helpers.checking import CheckFailed, compare_outputs, no_shortcuts, resolve
from helpers.solution_cells import explain_missing_name, kernel_cells, load_solution

Case = dict[str, Any]
Outputs = dict[str, Any]


def to_arrays(outputs: Outputs) -> dict[str, np.ndarray]:
    """Outputs as plain numpy arrays of real numbers or booleans: the one conversion both
    sides of a comparison go through.

    The grading sandbox sends a student's outputs back to the grader in this form
    (``instructor.channel``), and the reference's outputs are converted the same way, so
    ``compare`` cannot tell the two paths apart. Half precision becomes float64; anything that
    is not a number (strings, objects, complex numbers) raises ``TypeError``.
    """
    converted = {}
    for what, value in outputs.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype in (torch.float16, torch.bfloat16):
                value = value.double()
            if value.is_complex():
                raise TypeError(f"{what} should be real numbers, not complex ones.")
            array = value.numpy()
        else:
            array = np.asarray(value)
        if array.dtype == np.float16:
            array = array.astype(np.float64)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{what} should be a number, an array or a tensor.")
        converted[what] = array
    return converted


def as_tensors(outputs: Outputs) -> dict[str, torch.Tensor]:
    """Outputs as CPU tensors, the form ``compare`` always receives on both sides (see
    ``to_arrays``)."""
    return {what: torch.from_numpy(array) for what, array in to_arrays(outputs).items()}


# The fixed seed of the visible checks' cases: a student sees the same example every time.
SELF_CHECK_SEED = 101


@dataclass(frozen=True)
class Visible:
    """What an exercise's visible check adds to its hidden check.

    - ``success``: the line it prints when every case passes;
    - ``cases``: its cases (default: the hidden kind, drawn on ``SELF_CHECK_SEED``);
    - ``explain(case, expected, actual)``: prints something about a case before it is
      judged (the expected first update, the condition number to compare with);
    - ``extra(implementation)``: a further check only a notebook can run (``gradcheck``
      needs autograd, which the grading sandbox withholds from some exercises).
    """

    success: str
    cases: Callable[[], list[Case]] | None = None
    explain: Callable[[Case, Outputs, Outputs], None] | None = None
    extra: Callable[[Any], None] | None = None


def _compare_all(case: Case, actual: Outputs, expected: Outputs) -> None:
    compare_outputs(actual, expected, size=int(case.get("operations", 1)))


@dataclass(frozen=True)
class Exercise:
    """One graded exercise (see the module docstring for each field)."""

    name: str
    reference: str
    points: int
    visible: Visible
    draw_cases: Callable[[np.random.Generator], list[Case]]
    run_case: Callable[[Any, Case], Outputs]
    compare: Callable[[Case, Outputs, Outputs], None] = _compare_all
    forbids: tuple[Capability, ...] = ()

    @property
    def reference_module(self) -> str:
        return self.reference.partition(":")[0]

    @property
    def forbidden(self) -> tuple[Capability, ...]:
        """Everything the student's code must not use: the reference, and what it forbids."""
        return (the_reference(self.reference_module), *self.forbids)

    def load_reference(self) -> Any:
        return resolve(self.reference)

    def judge(
        self,
        implementation: Any,
        case: Case,
        reference: Any,
        explain: Callable[[Case, Outputs, Outputs], None] | None = None,
    ) -> None:
        """One case, in this process: the reference outside, the implementation inside a guard
        against shortcuts, both sides converted alike (``as_tensors``), then ``compare``."""
        expected = as_tensors(self.run_case(reference, case))
        try:
            with no_shortcuts(self.name, *self.forbidden):
                outputs = self.run_case(implementation, case)
        except (NotImplementedError, NameError, AssertionError):
            raise
        except Exception as error:  # a crash deserves a message, not a traceback maze
            message = f"`{self.name}` raised {type(error).__name__}: {error}"
            raise CheckFailed("raised an error", message) from error
        try:
            actual = as_tensors(outputs)
        except TypeError as error:
            raise CheckFailed("outputs not numbers", str(error)) from None
        if explain is not None:
            explain(case, expected, actual)
        self.compare(case, actual, expected)

    def run_self_check(self, implementation: Any) -> None:
        """The visible check. An exercise not started yet prints one line and lets Run All go
        on, except under nbgrader (Validate, grading), where unfinished work must fail."""
        visible = self.visible
        cases = visible.cases or (lambda: self.draw_cases(np.random.default_rng(SELF_CHECK_SEED)))
        try:
            reference = self.load_reference()
            for case in cases():
                self.judge(implementation, case, reference, visible.explain)
            if visible.extra is not None:
                visible.extra(implementation)
        except NotImplementedError:
            if os.environ.get("NBGRADER_EXECUTION"):
                raise CheckFailed("not done yet", f"`{self.name}` is not done yet.") from None
            print(f"`{self.name}` is not done yet: the demos below use the reference.")
            return
        except NameError as error:
            message = explain_missing_name(self.name, error)
            raise CheckFailed("used a name the grader does not see", message) from None
        print(visible.success)

    def run_hidden_check(self, implementation: Any, seed: int | None = None) -> None:
        """Every hidden case, in this process. The cases are drawn from ``seed`` (a fresh one
        when None), which a failure names, so that it can be replayed."""
        seed = int(np.random.SeedSequence().entropy % 2**32) if seed is None else seed
        reference = self.load_reference()
        try:
            for case in self.draw_cases(np.random.default_rng(seed)):
                self.judge(implementation, case, reference)
        except NameError as error:
            message = explain_missing_name(self.name, error)
            raise CheckFailed("used a name the grader does not see", message) from None
        except AssertionError as error:
            error.add_note(f"(hidden cases drawn with seed {seed}: "
                           f"checks.hidden_check(\"{self.name}\", {self.name}, seed={seed}) "
                           "replays them)")
            raise


class Registry(Mapping[str, Exercise]):
    """The graded exercises of one notebook, in the order they appear."""

    def __init__(
        self, assignment: str, *exercises: Exercise, setup: Sequence[str] = ()
    ) -> None:
        self.assignment = assignment
        # The notebook's setup imports, the only ones a solution cell may rely on besides its
        # own (a layout test keeps them equal to the notebook's).
        self.setup = tuple(setup)
        self._exercises = {exercise.name: exercise for exercise in exercises}
        if len(self._exercises) != len(exercises):
            raise ValueError(f"{assignment}: two exercises share a name.")

    def __getitem__(self, name: str) -> Exercise:
        try:
            return self._exercises[name]
        except KeyError:
            known = ", ".join(self._exercises)
            message = f"{self.assignment} has no exercise {name!r} (it has {known})."
            raise KeyError(message) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._exercises)

    def __len__(self) -> int:
        return len(self._exercises)

    def load(self, name: str, cells: Sequence[str]) -> Any:
        """Exercise ``name`` from its solution cell ``cells[-1]``, after the earlier
        exercises' cells ``cells[:-1]``, exactly as the grader loads it."""
        return load_solution(self[name].name, cells, self.setup)

    def as_the_grader_sees_it(self, name: str, implementation: Any) -> Any:
        """``implementation`` loaded again from the notebook cells that defined it (and the
        earlier exercises) by the grader's rule; as it is outside a notebook."""
        cells = kernel_cells(list(self), name, implementation)
        return implementation if cells is None else self.load(name, cells)

    def self_check(self, name: str, implementation: Any) -> None:
        self[name].run_self_check(self.as_the_grader_sees_it(name, implementation))

    def hidden_check(self, name: str, implementation: Any, seed: int | None = None) -> None:
        """The hidden check; ``seed`` replays the cases a failure named."""
        implementation = self.as_the_grader_sees_it(name, implementation)
        self[name].run_hidden_check(implementation, seed)

    def implementation(self, name: str, namespace: MutableMapping[str, Any]) -> StudentOrReference:
        return StudentOrReference(self[name], namespace)


# --------------------------------------------------------------------------------------
# Demos: the student's code once it is done, the reference until then
# --------------------------------------------------------------------------------------


@dataclass
class StudentOrReference:
    """Calls the student's ``name`` from ``namespace`` (the notebook's globals), looked up anew
    on every call, or the reference while the student's version is missing or not done yet.

    An exercise is "not done" while calling it raises ``NotImplementedError`` (the release's
    scaffold raises before touching any argument, so falling back is safe). A class exercise
    is probed once on a small hidden case. ``used`` names what ran last; a notice is printed
    whenever that changes, except inside ``described_after``, with which every demo redraw
    ends on ``describe()`` instead.
    """

    exercise: Exercise
    namespace: MutableMapping[str, Any]
    used: str | None = None
    _class_done: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)

    def _done_class(self, candidate: type) -> bool:
        if candidate not in self._class_done:
            case = self.exercise.draw_cases(np.random.default_rng(0))[0]
            try:
                self.exercise.run_case(candidate, case)
                self._class_done[candidate] = True
            except NotImplementedError:
                self._class_done[candidate] = False
            except Exception:  # a started but wrong class still counts as the student's
                self._class_done[candidate] = True
        return self._class_done[candidate]

    def _note(self, used: str) -> None:
        if used != self.used:
            self.used = used
            if not _REDRAW_DESCRIBES.get():
                print(self.describe())

    def describe(self) -> str:
        name = self.exercise.name
        if self.used == "student":
            return f"This run used your `{name}`."
        return f"`{name}` is not done yet: this run used the reference from helpers."

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        candidate = self.namespace.get(self.exercise.name)
        if candidate is not None:
            if inspect.isclass(candidate):
                if self._done_class(candidate):
                    self._note("student")
                    return _call(candidate, *args, **kwargs)
            else:
                try:
                    result = candidate(*args, **kwargs)
                except NotImplementedError:
                    pass
                else:
                    self._note("student")
                    return result
        self._note("reference")
        return _call(self.exercise.load_reference(), *args, **kwargs)


# True inside a demo's redraw, which says whose code ran once, at its end.
_REDRAW_DESCRIBES = contextvars.ContextVar("redraw_describes", default=False)


@contextlib.contextmanager
def described_after(*implementations: StudentOrReference | None) -> Iterator[None]:
    """A demo redraw: no notice while it computes, then each implementation's ``describe()``.

    Without this, a redraw whose first call switches implementations would print the notice
    twice, once from the call and once under the figure.
    """
    token = _REDRAW_DESCRIBES.set(True)
    try:
        yield
    finally:
        _REDRAW_DESCRIBES.reset(token)
    for implementation in implementations:
        if implementation is not None:
            print(implementation.describe())


def _call(implementation: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a function, instantiate a class, or apply an autograd Function."""
    if inspect.isclass(implementation) and issubclass(implementation, torch.autograd.Function):
        return implementation.apply(*args, **kwargs)
    return implementation(*args, **kwargs)
