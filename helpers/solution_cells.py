"""What a solution cell may rely on, and loading it exactly as the grader does.

The grader never runs a student's notebook to find their answer: it takes the solution cell
of an exercise and runs what the rule below allows, in a fresh namespace. The notebook's
self-check loads the cell the same way (``Registry.self_check``), from the code the kernel
ran, so a green self-check means the grader sees the same code.

The rule (``RULE``): a solution cell may use the notebook's setup imports, its own imports,
functions, classes and plain constants, and the functions and classes of earlier exercises'
solution cells. Statements that act (calls, prints, other assignments) are dropped, so a
cell cannot do anything before its definition is checked.
"""

from __future__ import annotations

import ast
import linecache
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

RULE = (
    "A solution cell may use the notebook's setup imports, its own imports, functions, "
    "classes and plain constants (numbers, strings, tuples of them), and the functions and "
    "classes of earlier exercises' solution cells; anything else is invisible to the grader."
)

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_PLAIN_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def _without_magics(source: str) -> str:
    """IPython magics and shell escapes (``%...``, ``!...``) are not Python: drop them."""
    lines = source.splitlines()
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _parse(source: str) -> ast.Module:
    return ast.parse(textwrap.dedent(_without_magics(source)))


def _is_plain(node: ast.expr, constants: set[str]) -> bool:
    """A number, string, bytes, bool or None; a tuple, list, set or dict of them; arithmetic
    on them; or a constant assigned earlier in the same cell."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_plain(element, constants) for element in node.elts)
    if isinstance(node, ast.Dict):
        parts = [*node.values, *(key for key in node.keys if key is not None)]
        return None not in node.keys and all(_is_plain(part, constants) for part in parts)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.UAdd, ast.USub, ast.Not)) and _is_plain(
            node.operand, constants
        )
    if isinstance(node, ast.BinOp):
        return (
            isinstance(node.op, _PLAIN_OPERATORS)
            and _is_plain(node.left, constants)
            and _is_plain(node.right, constants)
        )
    return False


def _constant_names(statement: ast.stmt, constants: set[str]) -> list[str] | None:
    """The names a plain-constant assignment binds (``EPS = 1e-8``, ``A, B = 1, 2``), or None
    when ``statement`` is not one."""
    if isinstance(statement, ast.AnnAssign):
        targets, value = [statement.target], statement.value
    elif isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
    else:
        return None
    if value is None or not _is_plain(value, constants):
        return None
    names: list[str] = []
    for target in targets:
        elements = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(element, ast.Name) for element in elements):
            return None
        names += [element.id for element in elements]
    return names


def runnable_statements(source: str) -> list[ast.stmt]:
    """The statements of a cell the rule keeps: imports, function and class definitions,
    and plain constants, in their order. Raises ``SyntaxError`` for a cell that is not Python."""
    kept: list[ast.stmt] = []
    constants: set[str] = set()
    for statement in _parse(source).body:
        if isinstance(statement, DEFINITIONS):
            kept.append(statement)
            continue
        names = _constant_names(statement, constants)
        if names is not None:
            constants.update(names)
            kept.append(statement)
    return kept


def runnable_part(source: str) -> str:
    """The source the grader runs of a cell (see ``runnable_statements``)."""
    return ast.unparse(ast.Module(body=runnable_statements(source), type_ignores=[]))


def defined_names(source: str) -> set[str]:
    """The names the runnable part of a cell defines at its top level."""
    names: set[str] = set()
    for statement in runnable_statements(source):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        else:  # a plain constant
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                names.update(node.id for node in ast.walk(target) if isinstance(node, ast.Name))
    return names


def imports_only(source: str) -> list[str]:
    """Each top-level import statement of a cell, as its own line of source."""
    try:
        tree = _parse(source)
    except SyntaxError:
        return []
    return [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]


def _run(code: str, label: str, namespace: dict[str, Any]) -> None:
    # dont_inherit: this module's `from __future__ import annotations` must not leak into the
    # student's code (it turns dataclass annotations into strings).
    exec(compile(code, label, "exec", dont_inherit=True), namespace)


def run_setup(setup: Sequence[str], namespace: dict[str, Any]) -> None:
    """Run each import line of ``setup`` in ``namespace``; one that fails is skipped (an
    import the grading sandbox hides, such as the reference, or lacks)."""
    for line in setup:
        try:
            _run(line, "<setup>", namespace)
        except Exception:  # a line that fails is skipped (see the docstring)
            continue


def load_solution(name: str, cells: Sequence[str], setup: Sequence[str] = ()) -> Any:
    """What the solution cell ``cells[-1]`` defines as ``name``, loaded by the rule.

    ``cells[:-1]`` are earlier exercises' solution cells: each of their statements the rule
    keeps runs on its own, and one that fails is skipped, so an earlier exercise left undone
    or broken costs this one nothing unless it relies on it. The exercise's own cell runs
    whole and must define ``name``.
    """
    namespace: dict[str, Any] = {"__name__": "__exercise__"}
    run_setup(setup, namespace)
    for number, earlier in enumerate(cells[:-1]):
        try:
            statements = runnable_statements(earlier)
        except SyntaxError:
            continue
        for statement in statements:
            try:
                _run(ast.unparse(statement), f"<earlier cell {number}>", namespace)
            except Exception:  # an earlier exercise's broken definition (see the docstring)
                continue
    own = cells[-1]
    if name not in defined_names(own):
        raise NameError(f"the solution cell does not define `{name}`.")
    _run(runnable_part(own), f"<{name}>", namespace)
    return namespace[name]


def explain_missing_name(exercise: str, error: NameError) -> str:
    """What to tell a student whose solution uses a name the grader does not see."""
    missing = getattr(error, "name", None) or str(error)
    return (
        f"`{exercise}` uses `{missing}`, which is not defined where the grader runs it. "
        f"{RULE} Define `{missing}` in this cell (or import it here)."
    )


# --------------------------------------------------------------------------------------
# In the notebook's kernel: the cells the kernel ran, as the grader will read them
# --------------------------------------------------------------------------------------


def _code_of(value: Any) -> Any:
    """A code object of the student's own that defines ``value`` (a function, or a method of
    a class), or None."""
    candidates = [value]
    if isinstance(value, type):
        candidates = list(vars(value).values())
    for candidate in candidates:
        function = getattr(candidate, "__func__", candidate)  # static and class methods
        function = getattr(function, "fget", function)  # properties
        function = getattr(function, "__wrapped__", function)  # functools.wraps
        code = getattr(function, "__code__", None)
        if code is not None:
            return code
    return None


def kernel_cell(value: Any) -> str | None:
    """The source of the notebook cell that defined ``value`` in this kernel, as IPython
    compiled it, or None when ``value`` does not come from a cell of this kernel."""
    if getattr(value, "__module__", None) != "__main__":
        return None
    code = _code_of(value)
    if code is None:
        return None
    lines = linecache.getlines(code.co_filename)
    return "".join(lines) or None


def kernel_cells(names: Sequence[str], name: str, implementation: Any) -> list[str] | None:
    """The cells the grader would load for exercise ``name`` (``names``: every exercise of
    the notebook, in order), read from the kernel: the cells that defined the earlier
    exercises as the kernel has them now, then the one that defined ``implementation``.
    None when ``implementation`` was not defined in a notebook cell (a test, a script)."""
    own = kernel_cell(implementation)
    if own is None:
        return None
    main = vars(sys.modules["__main__"])
    earlier = [kernel_cell(main.get(other)) for other in names[: list(names).index(name)]]
    return [cell for cell in earlier if cell is not None] + [own]
