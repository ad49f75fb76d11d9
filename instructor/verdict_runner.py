"""The process that runs a submission's definitions on the grader's cases (in the sandbox).

    python -m instructor.verdict_runner JOB_FOLDER

``JOB_FOLDER/job.json`` holds the topic, the release's setup imports and, per exercise, its
name, the solution-cell sources (the student's; several only for trusted test variants), the
cases the grader drew and a time limit. The runner is a small fork server: it imports torch,
the topic's checks and the setup imports once (trusted code only), then forks one fresh child
per exercise, which runs no other exercise's code and exits after its own. For exercise ``k``
and source ``s`` the child writes ``exercise_<k>/source_<s>/result.json`` (per case: ``ok`` or
the error the code raised) and ``case_<i>.npz`` beside it (the raw outputs, plain arrays, read
back without pickle). The runner prints one line per exercise (finished, crashed or timed
out). It decides nothing: the grader compares the outputs with the reference in its own
process.

Before any student code runs, each child makes the shortcuts useless there: the reference
modules cannot be imported or read, every Python function of a forbidden module (such as
``torch.optim``) has its code replaced by one that raises, torch's fused optimizer kernels
raise at the dispatcher, and an audit hook (which cannot be removed) refuses what would dig
the originals back out: reading the hidden files, the garbage collector's object lists,
rebuilding code or functions, ``ctypes``, subprocesses, sockets.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import inspect
import json
import os
import resource
import shutil
import signal
import sys
import time
import types
import weakref
from pathlib import Path
from typing import Any, NoReturn

MEMORY_LIMIT_BYTES = 4 * 2**30
FUSED_KERNELS = ("_fused_sgd_", "_fused_adam_", "_fused_adamw_", "_fused_adagrad_")
# Audit events that only serve to dig out what the runner disabled (the garbage collector's
# object lists, rebuilding code or functions, raw memory) or to reach outside the process.
# (Unmarshalling stays allowed: every import from a .pyc file needs it, and the reference's
# compiled files cannot be opened.)
REFUSED_EVENTS = {
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "code.__new__",
    "function.__new__",
    "ctypes.dlopen",
    "ctypes.dlsym",
    "ctypes.addressof",
    "ctypes.cdata",
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
    "socket.connect",
    "socket.bind",
    "os.kill",
    "os.killpg",
}


class ShortcutError(RuntimeError):
    """Raised inside the sandbox when the student's code reaches for a forbidden shortcut."""


def _shortcut_message(exercise: str, what: str) -> str:
    return (
        f"`{exercise}` uses {what}, which does the exercise for you and is not available "
        "while grading. Write the computation yourself to earn these points."
    )


class _RefuseImports(importlib.abc.MetaPathFinder):
    """Refuse to import the reference modules (the sandbox also hides their files), and any
    not yet imported module under ``refused`` (other notebooks' packages, the submodules of a
    forbidden module that its disabling pass did not see)."""

    def __init__(self, exercise: str) -> None:
        self.exercise = exercise
        self.refused: tuple[str, ...] = ()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.startswith("helpers.") and name.rpartition(".")[2] == "reference":
            raise ImportError(_shortcut_message(self.exercise, f"`{name}`"))
        if any(name == prefix or name.startswith(prefix + ".") for prefix in self.refused):
            raise ImportError(_shortcut_message(self.exercise, f"`{name}`"))
        return None


def _functions_of(member: Any) -> list[types.FunctionType]:
    """The Python functions behind a class member: methods, static and class methods, and
    the getter, setter and deleter of a property."""
    parts = [member.fget, member.fset, member.fdel] if isinstance(member, property) else [member]
    functions = [getattr(part, "__func__", part) for part in parts]
    return [function for function in functions if isinstance(function, types.FunctionType)]


def _sealed_paths(targets: list[Any], helpers_folder: Path, topic: str) -> list[str]:
    """Files whose source or bytecode would rebuild what the runner disabled: the folders of
    forbidden packages, the files of forbidden modules, and other notebooks' packages."""
    paths = [
        str(path.parent.resolve())
        for path in helpers_folder.glob("*/checks.py")
        if path.parent.name != topic
    ]
    for target in targets:
        module = target if isinstance(target, types.ModuleType) else inspect.getmodule(target)
        if module is None:
            continue
        folders = getattr(module, "__path__", None)
        if folders:
            paths += [str(Path(folder).resolve()) for folder in folders]
        elif getattr(module, "__file__", None):
            paths.append(str(Path(module.__file__).resolve()))
    return paths


def _raising_code(freevars: int, message: str) -> types.CodeType:
    """A code object that raises ``RuntimeError(message)`` and has ``freevars`` free variables,
    so that it can replace the code of any function with a closure of that size. It needs no
    globals: it runs with those of the function it replaces."""
    names = [f"_free{index}" for index in range(freevars)]
    touch = "; ".join(names) if names else "pass"
    source = (
        "def outer():\n"
        + "".join(f"    {name} = None\n" for name in names)
        + "    def stub(*args, **kwargs):\n"
        + f"        {touch}\n"
        + f"        raise RuntimeError({message!r})\n"
        + "    return stub\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<shortcut>", "exec"), namespace)
    return namespace["outer"]().__code__


def _disable_functions(module: types.ModuleType, exercise: str) -> None:
    """Disable every Python function and class defined in ``module`` and its submodules."""
    prefix = module.__name__
    for name, submodule in list(sys.modules.items()):
        if submodule is None or not (name == prefix or name.startswith(prefix + ".")):
            continue
        for value in list(vars(submodule).values()):
            if not str(getattr(value, "__module__", None) or "").startswith(prefix):
                continue
            if inspect.isclass(value) or isinstance(value, types.FunctionType):
                _disable_object(value, exercise)


def _disable_object(target: Any, exercise: str) -> None:
    """Replace the code of one forbidden function, or of every method of one forbidden class,
    and leave the rest of its module alone (forbidding ``torch.nn.init.xavier_normal_`` must
    not take ``torch.nn.init.normal_`` down with it).

    Changing ``__code__`` in place reaches every reference to the function (subclass lists,
    closures, decorators' ``__wrapped__``), which replacing module attributes would not.
    """
    label = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
    message = _shortcut_message(exercise, f"`{label}`")
    members = vars(target).values() if inspect.isclass(target) else [target]
    for function in (f for member in members for f in _functions_of(member)):
        for each in {function, inspect.unwrap(function)}:
            each.__code__ = _raising_code(len(each.__code__.co_freevars), message)


def _disable_fused_kernels(exercise: str) -> Any:
    """Make torch's fused optimizer kernels raise, whichever route reaches them."""
    import torch

    library = torch.library.Library("aten", "IMPL")
    for kernel in FUSED_KERNELS:
        message = _shortcut_message(exercise, f"torch's fused optimizer kernel `{kernel}`")

        def refuse(*args: Any, _message: str = message, **kwargs: Any) -> None:
            raise ShortcutError(_message)

        for key in ("CPU", "CUDA", "CompositeExplicitAutograd"):
            try:
                library.impl(kernel, refuse, key)
            except (RuntimeError, AttributeError):
                continue
    return library  # kept alive by the caller: dropping it would undo the registration


def _writes(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


def _install_audit_hook(helpers_folder: Path, job_folder: Path, sealed: list[str]) -> None:
    """From now on, refuse reading the reference answers, writing outside the job folder,
    and the events in REFUSED_EVENTS.

    An audit hook cannot be removed, and nothing in Python lists the installed hooks, so the
    student's code cannot switch it off. Importing goes through ``open`` too, so this also
    stops an import that got past ``_RefuseImports``. (The bubblewrap sandbox enforces the
    same limits on files from outside; this keeps them where bubblewrap is missing.)
    """
    helpers_prefix = str(helpers_folder.resolve())
    job_prefix = str(job_folder.resolve())

    def hook(event: str, arguments: tuple) -> None:
        if event == "open" and arguments and isinstance(arguments[0], (str, bytes, Path)):
            raw = arguments[0]
            path = Path(raw.decode() if isinstance(raw, bytes) else raw).resolve()
            if str(path).startswith(helpers_prefix) and "reference" in path.name:
                raise PermissionError("the reference answers are not available while grading")
            if any(str(path) == p or str(path).startswith(p + os.sep) for p in sealed):
                raise PermissionError(f"reading {path} is not allowed while grading")
            if str(path).startswith("/proc/") and not str(path).startswith("/proc/self/"):
                raise PermissionError("other processes are not available while grading")
            mode, flags = (list(arguments[1:3]) + [None, None])[:2]
            if _writes(mode, flags) and not str(path).startswith(job_prefix):
                raise PermissionError(f"writing {path} is not allowed while grading")
        elif event in REFUSED_EVENTS:
            raise PermissionError(f"{event} is not available while grading")

    sys.addaudithook(hook)


def _keep_alive(library: Any) -> None:
    """Keep a ``torch.library.Library`` registered where Python code cannot undo it.

    Its finalizer (which would deregister it) is detached, and one reference is leaked on
    purpose, so no object that the student's code can find owns it.
    """
    for finalizer in list(weakref.finalize._registry):  # type: ignore[attr-defined]
        alive = finalizer.peek()
        if alive is not None and alive[0] is library:
            finalizer.detach()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))


def _as_array(value: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point() and value.dtype not in (torch.float32, torch.float64):
            value = value.double()
        return value.numpy()
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"an output of type {type(value).__name__} is not a number or a tensor")
    return array


def _prepare(job: dict) -> tuple[Any, _RefuseImports, Path]:
    """The zygote's trusted set-up, before any fork: import what every exercise needs, so that
    each fork starts warm. No student code has run when this returns."""
    import torch

    from helpers.exercise import run_setup

    torch.set_num_threads(1)
    refuse_imports = _RefuseImports("this exercise")
    sys.meta_path.insert(0, refuse_imports)
    checks = importlib.import_module(f"helpers.{job['topic']}.checks")
    helpers_folder = Path(checks.__file__).resolve().parent.parent
    # Other notebooks' packages stay out of reach, the warm-up's imports included.
    refuse_imports.refused = tuple(
        f"helpers.{path.parent.name}"
        for path in helpers_folder.glob("*/checks.py")
        if path.parent.name != job["topic"]
    )
    # The release's setup imports (trusted): each fork finds these modules loaded.
    run_setup(job["prelude"], {})
    return checks, refuse_imports, helpers_folder


def _seal(
    exercise: Any, refuse_imports: _RefuseImports, helpers_folder: Path, job: dict, folder: Path
) -> None:
    """In a fork, before the student's code: disable the exercise's forbidden shortcuts and
    install the audit hook (which outlives nothing: the fork exits after this exercise)."""
    from helpers.checking import resolve

    refuse_imports.exercise = exercise.name
    targets = [resolve(dotted) for dotted in exercise.shortcuts]
    for target in targets:  # a module, or one function or class inside one
        if isinstance(target, types.ModuleType):
            _disable_functions(target, exercise.name)
        else:
            _disable_object(target, exercise.name)
        if getattr(target, "__name__", None) == "torch.optim":
            _keep_alive(_disable_fused_kernels(exercise.name))
    # What is left of the forbidden modules cannot be imported, and no source or bytecode of
    # them (or of other notebooks' packages) can be read to rebuild what was disabled.
    refuse_imports.refused += tuple(
        target.__name__ for target in targets if isinstance(target, types.ModuleType)
    )
    sealed = _sealed_paths(targets, helpers_folder, job["topic"])
    _install_audit_hook(helpers_folder, folder, sealed)


def _wait(pid: int, timeout_s: float) -> str:
    """Wait for one fork; kill it at its time limit. Its outcome, for the grader's report."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "finished" if os.WIFEXITED(status) else "crashed"
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timed out"
        time.sleep(0.01)


def _run_exercise(
    checks: Any,
    refuse_imports: _RefuseImports,
    helpers_folder: Path,
    job: dict,
    task: dict,
    out: Path,
) -> NoReturn:
    """The fork's whole life: seal, run the student's sources on the cases, write, exit."""
    import numpy as np

    status = 1
    try:
        # The student's prints must not reach the zygote's report on stdout.
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        os.chdir(out)  # the only folder it may write to (tempfile falls back to the cwd)
        exercise = checks.EXERCISES[task["exercise"]]
        _seal(exercise, refuse_imports, helpers_folder, job, out)
        for number, source in enumerate(task["sources"]):
            results = _run_source(
                exercise, source, job["prelude"], task["cases"], out / f"source_{number}", np
            )
            (out / f"source_{number}" / "result.json").write_text(json.dumps(results))
        status = 0
    finally:
        os._exit(status)  # no clean-up handler of the student's may run


def _fresh_folder(path: Path) -> Path:
    """An empty folder at ``path``, whatever an earlier exercise's child left there (a planted
    folder, file or link must not stop or feed the next exercise)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return path


def main(job_folder: str) -> int:
    folder = Path(job_folder)
    job = json.loads((folder / "job.json").read_text())
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    checks, refuse_imports, helpers_folder = _prepare(job)
    for number, task in enumerate(job["exercises"]):
        out = _fresh_folder(folder / f"exercise_{number}")
        sys.stdout.flush()  # a fork must not inherit (and repeat) unwritten report lines
        pid = os.fork()
        if pid == 0:
            _run_exercise(checks, refuse_imports, helpers_folder, job, task, out)
        outcome = _wait(pid, task["timeout_s"])
        print(json.dumps({"exercise": number, "outcome": outcome}), flush=True)
    return 0


def _run_source(
    exercise: Any, source: str, prelude: list[str], cases: list[dict], out: Path, np: Any
) -> list[dict]:
    """Load one solution cell and run it on every case; write each case's outputs in ``out``."""
    from helpers.exercise import load_definition

    out.mkdir()
    try:
        implementation = load_definition(source, exercise.name, prelude)
    except BaseException as error:  # noqa: BLE001 (the student's cell may raise anything)
        message = f"the solution cell could not be loaded: {type(error).__name__}: {error}"
        return [{"error": message} for _ in cases]
    results: list[dict] = []
    for index, case in enumerate(cases):
        try:
            outputs = exercise.run_case(implementation, case)
            arrays = {key: _as_array(value) for key, value in outputs.items()}
            keys = list(arrays)
            np.savez(
                out / f"case_{index}.npz",
                **{f"output_{i}": arrays[key] for i, key in enumerate(keys)},
            )
            results.append({"ok": "", "keys": keys})
        except BaseException as error:  # noqa: BLE001
            text = str(error).strip().splitlines()
            results.append({"error": f"{type(error).__name__}: {text[0] if text else ''}"})
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
