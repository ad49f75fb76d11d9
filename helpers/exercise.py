"""Exercises as data: every notebook declares its graded exercises once, in a ``Registry``.

An ``Exercise`` says everything the course needs to know about one graded function or class:

- ``name``: the function or class the student writes, and the ``grade_id`` of its solution
  cell; its test cells are ``test_<name>...``;
- ``reference``: the dotted name of the answer in ``helpers/<topic>/reference.py``, resolved
  only when needed, so that a grading sandbox never imports it;
- ``self_check(implementation, reference)``: the visible check, on one small example;
- the hidden check, split in three so that it can run where no student code runs:
  ``draw_cases(rng)`` draws fresh problems as plain data (seeds, shapes, hyperparameters),
  ``run_case(implementation, case)`` builds the problem from the case, calls the
  implementation and returns its raw outputs as ``{description: array}``, and
  ``compare(case, actual, expected)`` raises ``AssertionError`` with a friendly message when
  the outputs are wrong (both sides arrive as detached CPU tensors, see ``as_tensors``).
  The grader draws the cases, runs the student's ``run_case`` in a sandboxed process, runs
  the reference's itself, and compares (see ``instructor.verdicts``);
  ``hidden_check`` does the same in one process, for the notebook and the tests;
- ``shortcuts``: dotted names of what the student's code must not call (the reference module
  always counts).

A notebook's test cell is then ``checks.self_check("name", name)``, with
``checks.hidden_check("name", name)`` between the hidden-test markers, and a demo finds the
student's code with ``EXERCISES.implementation("name", globals())``.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import inspect
import textwrap
import weakref
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from helpers.checking import compare_outputs, no_shortcuts, resolve

Case = dict[str, Any]
Outputs = dict[str, Any]


def as_tensors(outputs: Outputs) -> dict[str, torch.Tensor]:
    """Outputs as detached CPU tensors, the form ``compare`` always receives on both sides.

    The grader gets the student's outputs back from a sandbox as plain arrays; converting
    the reference's outputs the same way means ``compare`` cannot tell the paths apart.
    """
    converted = {}
    for what, value in outputs.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
        else:
            array = np.asarray(value)
            if array.dtype == object:
                raise TypeError(f"{what} should be a number, an array or a tensor.")
            value = torch.from_numpy(array.copy())
        if value.dtype in (torch.float16, torch.bfloat16):
            value = value.double()
        converted[what] = value
    return converted


def _compare_all(case: Case, actual: Outputs, expected: Outputs) -> None:
    compare_outputs(actual, expected, size=int(case.get("operations", 1)))


@dataclass(frozen=True)
class Exercise:
    """One graded exercise (see the module docstring for each field)."""

    name: str
    reference: str
    points: int
    self_check: Callable[[Any, Any], None]
    draw_cases: Callable[[np.random.Generator], list[Case]]
    run_case: Callable[[Any, Case], Outputs]
    compare: Callable[[Case, Outputs, Outputs], None] = _compare_all
    shortcuts: tuple[str, ...] = ()

    @property
    def reference_module(self) -> str:
        return self.reference.partition(":")[0]

    @property
    def forbidden(self) -> tuple[str, ...]:
        """Everything the student's code must not call: the reference module and the shortcuts."""
        return (self.reference_module, *self.shortcuts)

    def load_reference(self) -> Any:
        return resolve(self.reference)

    def run_self_check(self, implementation: Any) -> None:
        """The visible check; an exercise not started yet prints one line and lets Run All go on."""
        try:
            self.self_check(implementation, self.load_reference())
        except NotImplementedError:
            print(f"`{self.name}` is not done yet: the demos below use the reference.")

    def run_hidden_check(self, implementation: Any, seed: int | None = None) -> None:
        """Every hidden case in this process: reference outside, implementation inside a guard."""
        rng = np.random.default_rng(seed)
        reference = self.load_reference()
        for case in self.draw_cases(rng):
            expected = as_tensors(self.run_case(reference, case))
            with no_shortcuts(self.name, *self.forbidden):
                outputs = self.run_case(implementation, case)
            try:
                actual = as_tensors(outputs)
            except TypeError as error:
                raise AssertionError(str(error)) from None
            self.compare(case, actual, expected)


class Registry(Mapping[str, Exercise]):
    """The graded exercises of one notebook, in the order they appear."""

    def __init__(self, assignment: str, *exercises: Exercise) -> None:
        self.assignment = assignment
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

    def self_check(self, name: str, implementation: Any) -> None:
        self[name].run_self_check(implementation)

    def hidden_check(self, name: str, implementation: Any) -> None:
        self[name].run_hidden_check(implementation)

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


# --------------------------------------------------------------------------------------
# Running a solution cell on its own
# --------------------------------------------------------------------------------------


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes (``%...``, ``!...``) are not Python: drop them."""
    lines = source.splitlines()
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def definitions_only(source: str) -> str:
    """The imports, function definitions and class definitions of a cell, nothing else.

    This is what the grader runs of a solution cell: statements at the top level (calls,
    prints, assignments) are dropped, so a cell cannot act before its definition is checked.
    """
    kept = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    tree = ast.parse(textwrap.dedent(_without_magics(source)))
    tree.body = [node for node in tree.body if isinstance(node, kept)]
    return ast.unparse(tree)


def imports_only(source: str) -> list[str]:
    """Each top-level import statement of a cell, as its own line of source."""
    try:
        tree = ast.parse(textwrap.dedent(_without_magics(source)))
    except SyntaxError:
        return []
    return [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]


def run_setup(prelude: Sequence[str], namespace: dict[str, Any]) -> None:
    """Run each line of ``prelude`` (import lines) in ``namespace``; one that fails is skipped
    (an import the sandbox hides, such as the reference, or lacks)."""
    for line in prelude:
        try:
            exec(compile(line, "<setup>", "exec", dont_inherit=True), namespace)
        except Exception:  # a line that fails is skipped (see the docstring)
            continue


def load_definition(source: str, name: str, prelude: Sequence[str] = ()) -> Any:
    """Run ``prelude`` (see ``run_setup``), then the definitions of the cell ``source``, in a
    fresh namespace; return what the cell defines as ``name``.
    """
    namespace: dict[str, Any] = {"__name__": "__exercise__"}
    run_setup(prelude, namespace)
    # dont_inherit: this module's `from __future__ import annotations` must not leak into the
    # student's code (it turns dataclass annotations into strings).
    exec(compile(definitions_only(source), f"<{name}>", "exec", dont_inherit=True), namespace)
    if name not in namespace:
        raise NameError(f"the solution cell does not define `{name}`.")
    return namespace[name]
