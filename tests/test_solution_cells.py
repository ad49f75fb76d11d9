"""What a solution cell may rely on; the notebook's self-check sees what the grader sees."""

from __future__ import annotations

import linecache
import sys
import types

import pytest

from helpers.exercise import Exercise, Registry
from helpers.solution_cells import (
    RULE,
    defined_names,
    kernel_cells,
    load_solution,
    runnable_part,
)


def test_runnable_part_keeps_imports_definitions_and_plain_constants_only():
    cell = (
        "import math\n"
        "SCALE = 2.0\n"
        "PAIR = (1, -SCALE)\n"
        "EXPONENTS = {'square': 2, 'cube': 3 * 1}\n"
        "state = compute()\n"
        "print('hello')\n"
        "%timeit f(1)\n"
        "def f(x):\n"
        "    return SCALE * x\n"
        "class C:\n"
        "    pass\n"
        "f(3)\n"
    )
    kept = runnable_part(cell)
    assert "SCALE = 2.0" in kept and "PAIR = (1, -SCALE)" in kept and "EXPONENTS" in kept
    assert "compute" not in kept and "print" not in kept and "timeit" not in kept
    assert "f(3)" not in kept.replace("def f(x)", "")
    assert defined_names(cell) == {"math", "SCALE", "PAIR", "EXPONENTS", "f", "C"}


def test_a_constant_computed_by_a_call_is_not_a_plain_constant():
    assert "LIMIT" not in defined_names("import math\nLIMIT = math.sqrt(2)\n")
    assert "DATA" not in defined_names("DATA = load()\n")


def test_a_solution_may_use_a_constant_above_it_and_helpers_of_earlier_exercises():
    earlier = "def square(x):\n    return x * x\n\nclass Base:\n    power = 2\n"
    own = (
        "OFFSET = 1.5\n\n\nclass Shifted(Base):\n"
        "    def __call__(self, x):\n        return square(x) + OFFSET\n"
    )
    shifted = load_solution("Shifted", [earlier, own])
    assert shifted()(2.0) == 5.5
    assert shifted.power == 2


def test_an_earlier_exercise_left_undone_or_broken_costs_nothing_unless_it_is_used():
    undone = "def first(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    broken = "def second(x:\n    return x\n"  # not Python
    failing = "import not_a_module_anywhere\n\ndef third(x):\n    return x\n"
    own = "def fourth(x):\n    return 4 * x\n"
    fourth = load_solution("fourth", [undone, broken, failing, own])
    assert fourth(1) == 4


def test_the_exercises_own_cell_must_define_it_and_be_python():
    with pytest.raises(NameError, match="does not define `answer`"):
        load_solution("answer", ["def answer(x):\n    return x\n", "def other(x):\n    return x\n"])
    with pytest.raises(SyntaxError):
        load_solution("answer", ["def answer(x:\n"])


def test_statements_that_act_never_run_when_a_cell_is_loaded():
    own = "import sys\nsys.exit(3)\nLEFT = open('/nowhere')\ndef f():\n    return 1\n"
    assert load_solution("f", [own])() == 1


# --------------------------------------------------------------------------------------
# In a notebook's kernel: the cells IPython ran, read back from linecache
# --------------------------------------------------------------------------------------


@pytest.fixture
def kernel(monkeypatch):
    """A stand-in for a kernel: cells compiled under their own file names (kept in linecache,
    as IPython does) and run in a ``__main__`` namespace."""
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    names: list[str] = []

    def run_cell(source: str) -> None:
        filename = f"<cell-{len(names)}>"
        names.append(filename)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), vars(main))

    yield types.SimpleNamespace(run=run_cell, namespace=vars(main))
    for filename in names:
        linecache.cache.pop(filename, None)


def _registry() -> Registry:
    """Two exercises: ``Rate`` (a class) and ``scaled`` (a function), checked on one case."""

    def check_scaled(implementation, reference):
        assert implementation(3.0) == reference(3.0), "`scaled` is not right."
        print("`scaled` passes the visible checks.")

    def check_rate(implementation, reference):
        assert implementation().value == 0.5, "`Rate` is not right."

    def scaled_reference(x):
        return 2 * x + 1

    class RateReference:
        value = 0.5

    module = types.ModuleType("scratch_reference")
    module.scaled, module.Rate = scaled_reference, RateReference
    sys.modules["scratch_reference"] = module
    common = {"draw_cases": lambda rng: [], "run_case": lambda implementation, case: {}}
    return Registry(
        "00_scratch",
        Exercise("Rate", "scratch_reference:Rate", 1, check_rate, **common),
        Exercise("scaled", "scratch_reference:scaled", 1, check_scaled, **common),
        setup=("import math",),
    )


def test_kernel_cells_are_the_cells_that_defined_the_exercises(kernel):
    kernel.run("class Rate:\n    value = 0.5\n    def get(self):\n        return self.value\n")
    kernel.run("OFFSET = 1\n\ndef scaled(x):\n    return 2 * x + OFFSET\n")
    cells = kernel_cells(["Rate", "scaled"], "scaled", kernel.namespace["scaled"])
    assert cells is not None and len(cells) == 2
    assert cells[0].startswith("class Rate") and "OFFSET = 1" in cells[1]


def test_outside_a_notebook_the_object_is_checked_as_it_is():
    assert kernel_cells(["scaled"], "scaled", lambda x: x) is None


def test_a_green_self_check_needs_the_code_the_grader_sees(kernel, capsys):
    registry = _registry()
    kernel.run("OFFSET = 1\n")  # a demo cell, not a solution cell: the grader never sees it
    kernel.run("def scaled(x):\n    return 2 * x + OFFSET\n")
    assert kernel.namespace["scaled"](3.0) == 7.0  # works in the kernel...
    with pytest.raises(AssertionError) as failed:  # ...but not where the grader runs it
        registry.self_check("scaled", kernel.namespace["scaled"])
    assert "`scaled` uses `OFFSET`" in str(failed.value) and RULE in str(failed.value)
    kernel.run("OFFSET = 1\n\n\ndef scaled(x):\n    return 2 * x + OFFSET\n")
    registry.self_check("scaled", kernel.namespace["scaled"])
    assert "`scaled` passes the visible checks." in capsys.readouterr().out


def test_the_self_check_loads_earlier_exercises_cells_as_the_grader_does(kernel, capsys):
    registry = _registry()
    kernel.run("class Rate:\n    value = 0.5\n\n    def half(self, x):\n        return x / 2\n")
    kernel.run("def scaled(x):\n    return 4 * Rate().half(x) + 1\n")
    registry.self_check("scaled", kernel.namespace["scaled"])
    assert "passes the visible checks" in capsys.readouterr().out


def test_an_unstarted_exercise_fails_under_nbgrader_but_lets_run_all_go_on(
    kernel, monkeypatch, capsys
):
    registry = _registry()
    kernel.run("def scaled(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    registry.self_check("scaled", kernel.namespace["scaled"])
    assert "`scaled` is not done yet" in capsys.readouterr().out
    for mode in ("validate", "autograde"):
        monkeypatch.setenv("NBGRADER_EXECUTION", mode)
        with pytest.raises(AssertionError, match="`scaled` is not done yet"):
            registry.self_check("scaled", kernel.namespace["scaled"])
