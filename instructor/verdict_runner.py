"""The process that runs a submission's solution cells on the grader's cases, in the sandbox.

    python -m instructor.verdict_runner        # frames on stdin and stdout (instructor.channel)

The grader first sends the job (the topic), then one exercise at a time: a frame with its
time limit and a frame with its task (the exercise, the solution cells of every source to
judge, the cases drawn for this run). The runner is a small fork server: before any student
code runs, it imports torch, the topic's checks, the notebook's setup imports and whatever
the exercises forbid (trusted code only), and notes what the forbidden modules' code looks
like. Then, per exercise, it forks a fresh child that alone receives that exercise's task
(the runner keeps no parsed copy, and zeroes the bytes it forwarded), waits for it, and sends
back its outcome and what it wrote to its own pipe (at most ``MAX_FRAME_BYTES``). It decides
nothing: the grader compares the outputs with the reference in its own process.

A child, before any student code:

1. keeps no file descriptor but its own result pipe (stdin, stdout and stderr read and write
   ``/dev/null``), and leads its own process group, which is killed when it ends;
2. makes the exercise's forbidden capabilities (``helpers.capabilities``) unusable: their
   Python functions get code that raises; modules of theirs not imported yet cannot be; the
   fused optimizer kernels, every overload found by asking torch's dispatcher, raise; where
   automatic differentiation is forbidden, everything runs in inference mode (autograd's
   dispatch keys excluded, so no graph is recorded and no tangent carried, whatever route
   reaches the engine) and every way out of it is removed, threads included;
3. installs an audit hook (it cannot be removed) that refuses: writing, renaming, linking or
   deleting any file (the sandbox has nothing writable anyway), reading the reference, the
   forbidden modules' files or other notebooks' packages, other processes' ``/proc`` files,
   running code that is a copy of a forbidden module (recognised by its bytecode, wherever
   it was loaded from and whatever it is called), subprocesses, sockets, ``ctypes``, the
   garbage collector's lists, and rebuilding code objects or functions.

Then it loads the solution cells by the grader's rule (``helpers.solution_cells``), runs every
case, and writes the result (``instructor.channel``) to its pipe.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import importlib.abc
import inspect
import json
import os
import resource
import select
import signal
import sys
import time
import types
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from instructor import channel
from instructor.settings import SETTINGS

# A function whose bytecode is at least this long is recognised wherever a copy of it turns
# up; shorter ones (accessors, one-line wrappers) could match honest code by chance.
FINGERPRINT_MIN_BYTES = 160
# Audit events that only serve to dig out what the child disabled (the garbage collector's
# object lists, rebuilding code or functions, raw memory) or to reach outside the process.
# (Unmarshalling stays allowed: every import from a .pyc file needs it; what it loads is
# checked when it runs.)
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
    "ctypes.call_function",
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
    "socket.connect",
    "socket.bind",
    "socket.__new__",
    "os.kill",
    "os.killpg",
    "signal.pthread_kill",
    "sys.setprofile",
    "sys.settrace",
    "sys.addaudithook",
    "mmap.__new__",
}
# File system changes, whatever the path (the sandbox mounts nothing writable for a child).
FILE_CHANGES = {
    "os.rename",
    "os.remove",
    "os.rmdir",
    "os.mkdir",
    "os.link",
    "os.symlink",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.utime",
    "os.chflags",
    "os.mkfifo",
    "os.mknod",
    "os.setxattr",
    "os.removexattr",
    "shutil.copyfile",
    "shutil.copymode",
    "shutil.copystat",
    "shutil.copytree",
    "shutil.move",
    "shutil.rmtree",
    "shutil.chown",
}
# torch's C++ switches that could bring autograd back inside inference mode: replaced by stubs.
AUTOGRAD_SWITCHES = (
    "_InferenceMode",
    "_set_grad_enabled",
    "_set_fwd_grad_enabled",
    "_enter_dual_level",
    "_dispatch_tls_set_dispatch_key_excluded",
    "_dispatch_tls_set_dispatch_key_included",
    "_IncludeDispatchKeyGuard",
    "_ForceDispatchKeyGuard",
    "_SetExcludeDispatchKeyGuard",
    "_RestorePythonTLSSnapshot",
    "_dynamo_restore_local_dispatch_key_set",
)
FUNCTORCH_SWITCHES = (
    "_grad_increment_nesting",
    "_jvp_increment_nesting",
    "_func_increment_nesting",
    "_wrap_for_grad",
    "_set_dynamic_layer_keys_included",
    "push_dynamic_layer_stack",
    "set_inplace_requires_grad_allowed",
)
THREAD_STARTERS = (("_thread", "start_new_thread"), ("_thread", "start_new"),
                   ("threading", "_start_new_thread"))
DISPATCH_KEYS = ("CPU", "CUDA", "Meta", "CompositeExplicitAutograd",
                 "CompositeImplicitAutograd", "Autograd")


class ShortcutError(RuntimeError):
    """Raised inside the sandbox when the student's code reaches for a forbidden capability."""


def _message(exercise: str, what: str) -> str:
    from helpers.checking import shortcut_message

    return shortcut_message(exercise, what)


# --------------------------------------------------------------------------------------
# The runner's trusted set-up, before any fork
# --------------------------------------------------------------------------------------


class _RefuseImports(importlib.abc.MetaPathFinder):
    """Refuse to import the reference modules (the sandbox also hides their files), and any
    module not yet imported under ``refused`` (other notebooks' packages, the submodules of a
    forbidden module that its disabling pass did not see)."""

    def __init__(self) -> None:
        self.exercise = "this exercise"
        self.refused: tuple[str, ...] = ()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.startswith("helpers.") and name.rpartition(".")[2] == "reference":
            raise ImportError(_message(self.exercise, "the reference answer from helpers"))
        for prefix in self.refused:
            if name == prefix or name.startswith(prefix + "."):
                raise ImportError(_message(self.exercise, f"`{name}`"))
        return None


@dataclass
class Zygote:
    """What every child starts with: the trusted imports and what the forbidden code is."""

    checks: Any
    setup: tuple[str, ...]
    refuse_imports: _RefuseImports
    helpers_folder: Path
    topic: str
    optimizer_names: tuple[str, ...]
    # per capability description: bytecode fingerprints of its modules' functions
    fingerprints: dict[str, set[str]] = field(default_factory=dict)


def _modules_of(target: Any) -> Iterator[types.ModuleType]:
    """A module and every submodule of it that is imported."""
    if not isinstance(target, types.ModuleType):
        return
    prefix = target.__name__
    for name, module in list(sys.modules.items()):
        if module is not None and (name == prefix or name.startswith(prefix + ".")):
            yield module


def _code_tree(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_tree(constant)


def _fingerprint(code: types.CodeType) -> str | None:
    """What a function's bytecode is, whatever its names, file or docstring say."""
    if len(code.co_code) < FINGERPRINT_MIN_BYTES:
        return None
    return hashlib.sha256(code.co_code).hexdigest()


def _module_fingerprints(module: types.ModuleType) -> set[str]:
    found = set()
    for value in list(vars(module).values()):
        members = vars(value).values() if inspect.isclass(value) else [value]
        for member in members:
            for function in _functions_of(member):
                if getattr(function, "__module__", None) != module.__name__:
                    continue
                unwrapped = getattr(inspect.unwrap(function), "__code__", function.__code__)
                for code in {*_code_tree(function.__code__), *_code_tree(unwrapped)}:
                    if (print_ := _fingerprint(code)) is not None:
                        found.add(print_)
    return found


def _prepare(job: dict) -> Zygote:
    """Import what every exercise needs, so that each fork starts warm, and note what the
    forbidden code looks like. No student code has run when this returns."""
    import torch

    from helpers.checking import resolve
    from helpers.solution_cells import run_setup

    torch.set_num_threads(1)
    refuse_imports = _RefuseImports()
    sys.meta_path.insert(0, refuse_imports)
    checks = importlib.import_module(f"helpers.{job['topic']}.checks")
    helpers_folder = Path(checks.__file__).resolve().parent.parent
    # Other notebooks' packages stay out of reach, the warm-up's imports included.
    refuse_imports.refused = tuple(
        f"helpers.{path.parent.name}"
        for path in helpers_folder.glob("*/checks.py")
        if path.parent.name != job["topic"]
    )
    run_setup(checks.EXERCISES.setup, {})  # the notebook's setup imports (trusted)
    fingerprints: dict[str, set[str]] = {}
    for exercise in checks.EXERCISES.values():
        for capability in exercise.forbids:
            prints = fingerprints.setdefault(capability.description, set())
            for dotted in capability.python:
                for module in _modules_of(resolve(dotted)):
                    prints |= _module_fingerprints(module)
    optimizers = tuple(
        sorted(
            value.__name__.lower()
            for value in vars(torch.optim).values()
            if inspect.isclass(value)
            and issubclass(value, torch.optim.Optimizer)
            and value is not torch.optim.Optimizer
        )
    )
    return Zygote(
        checks=checks,
        setup=checks.EXERCISES.setup,
        refuse_imports=refuse_imports,
        helpers_folder=helpers_folder,
        topic=job["topic"],
        optimizer_names=optimizers,
        fingerprints=fingerprints,
    )


# --------------------------------------------------------------------------------------
# Sealing a child: what its exercise forbids becomes unusable
# --------------------------------------------------------------------------------------


def _functions_of(member: Any) -> list[types.FunctionType]:
    """The Python functions behind a class member: methods, static and class methods, and
    the getter, setter and deleter of a property."""
    parts = [member.fget, member.fset, member.fdel] if isinstance(member, property) else [member]
    functions = [getattr(part, "__func__", part) for part in parts]
    return [function for function in functions if isinstance(function, types.FunctionType)]


def _raising_code(freevars: int, message: str) -> types.CodeType:
    """A code object that raises ``ShortcutError(message)`` (as a RuntimeError, which needs
    no globals) and has ``freevars`` free variables, so that it can replace the code of any
    function with a closure of that size."""
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
    exec(compile(source, "<forbidden>", "exec"), namespace)
    return namespace["outer"]().__code__


def _disable_object(target: Any, message: str) -> None:
    """Replace the code of one forbidden function, or of every method of one forbidden class,
    and leave the rest of its module alone (forbidding ``torch.nn.init.xavier_normal_`` must
    not take ``torch.nn.init.normal_`` down with it).

    Changing ``__code__`` in place reaches every reference to the function (subclass lists,
    closures, decorators' ``__wrapped__``), which replacing module attributes would not.
    """
    members = vars(target).values() if inspect.isclass(target) else [target]
    for function in (f for member in members for f in _functions_of(member)):
        for each in {function, inspect.unwrap(function)}:
            each.__code__ = _raising_code(len(each.__code__.co_freevars), message)


def _disable_module(module: types.ModuleType, message: str) -> None:
    """Disable every Python function and class defined in ``module`` and its submodules."""
    for submodule in _modules_of(module):
        prefix = module.__name__
        for value in list(vars(submodule).values()):
            if not str(getattr(value, "__module__", None) or "").startswith(prefix):
                continue
            if inspect.isclass(value) or isinstance(value, types.FunctionType):
                _disable_object(value, message)


def _stub(message: str, allowed: Any = None) -> types.FunctionType:
    """A function that raises ``message``, except when called with the single argument
    ``allowed`` (then it does nothing). It refers to nothing else: no original hides in it."""
    namespace: dict[str, Any] = {}
    source = (
        "def stub(*args, **kwargs):\n"
        f"    if len(args) == 1 and not kwargs and args[0] == {allowed!r}:\n"
        "        return None\n"
        f"    raise RuntimeError({message!r})\n"
    )
    exec(compile(source, "<forbidden>", "exec"), namespace)
    return namespace["stub"]


def _replace_everywhere(replacements: dict[int, Any]) -> None:
    """Wherever a module holds an object whose id is a key of ``replacements``, put that
    key's value instead (one pass over every module)."""
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for key, value in list(namespace.items()):
            if id(value) in replacements:
                namespace[key] = replacements[id(value)]


def _keep_alive(value: Any) -> None:
    """Keep an object alive where Python code cannot reach or drop it: its finalizer (which
    would undo a ``torch.library`` registration) is detached, and one reference is leaked on
    purpose, so that no object the student's code can find owns it."""
    for finalizer in list(weakref.finalize._registry):  # type: ignore[attr-defined]
        alive = finalizer.peek()
        if alive is not None and alive[0] is value:
            finalizer.detach()
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))


def _refuse_fused_optimizer_kernels(zygote: Zygote, message: str) -> None:
    """Every dispatcher operator named after one of torch.optim's optimizers
    (``aten::_fused_adam_`` and all its overloads) raises, whichever route reaches it."""
    import torch

    fused = {f"_fused_{name}" for name in zygote.optimizer_names}
    library = torch.library.Library("aten", "IMPL")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ShortcutError(message)

    for qualified in torch._C._dispatch_get_all_op_names():
        namespace, _, operator = qualified.partition("::")
        if namespace != "aten" or operator.partition(".")[0].rstrip("_") not in fused:
            continue
        for key in DISPATCH_KEYS:
            if torch._C._dispatch_has_kernel_for_dispatch_key(qualified, key):
                library.impl(operator, refuse, key)
    _keep_alive(library)


def _lock_autograd_away(exercise: str, description: str) -> None:
    """From now on this process runs in inference mode, and cannot leave it.

    Inference mode takes autograd's dispatch keys out of every operator call, so no graph is
    recorded and no tangent is carried, even where gradient recording is switched on (as the
    ``aten::set_grad_enabled`` operator of TorchScript and ``torch.ops`` can). The switches
    that could bring the keys back are replaced by stubs that refuse, as are thread starters
    (a new thread would start outside inference mode). The stubs keep no original.
    """
    import _thread
    import threading

    import torch

    message = _message(exercise, f"{description} (it tried to switch autograd back on)")
    threads = _message(exercise, f"{description} (it started a thread, where autograd is on)")
    _keep_alive(torch._C._InferenceMode(True))
    harmless = {"_set_grad_enabled": False, "_set_fwd_grad_enabled": False, "_InferenceMode": True}
    stubs: dict[int, Any] = {}
    for name in AUTOGRAD_SWITCHES:
        if (original := getattr(torch._C, name, None)) is not None:
            stubs[id(original)] = _stub(message, harmless.get(name))
    for name in FUNCTORCH_SWITCHES:
        if (original := getattr(torch._C._functorch, name, None)) is not None:
            stubs[id(original)] = _stub(message)
    owners = {"_thread": _thread, "threading": threading}
    for module, name in THREAD_STARTERS:
        if (original := getattr(owners[module], name, None)) is not None:
            stubs[id(original)] = _stub(threads)
    _replace_everywhere(stubs)
    # the operator that TorchScript compiles `torch._C._set_grad_enabled` to, by its usual route
    torch.ops.aten.set_grad_enabled = _stub(message, False)


def _seal(exercise: Any, zygote: Zygote) -> None:
    """Make everything ``exercise`` forbids unusable in this child."""
    from helpers.capabilities import AUTOGRAD_ENGINE, FUSED_OPTIMIZER_KERNELS
    from helpers.checking import resolve

    zygote.refuse_imports.exercise = exercise.name
    refused: list[str] = []
    sealed: set[str] = set()
    copies: dict[str, str] = {}  # fingerprint -> what the code is a copy of
    for capability in exercise.forbids:
        for dotted in capability.python:
            target = resolve(dotted)
            what = f"{capability.description} (`{dotted.replace(':', '.')}`)"
            if isinstance(target, types.ModuleType):
                _disable_module(target, _message(exercise.name, what))
                refused.append(target.__name__)
            else:
                _disable_object(target, _message(exercise.name, what))
            sealed |= _files_of(target)
        copy = f"{capability.description} (a copy of code that provides it)"
        copies |= dict.fromkeys(zygote.fingerprints.get(capability.description, ()), copy)
        if FUSED_OPTIMIZER_KERNELS in capability.native:
            kernels = f"{capability.description} (one of torch's fused optimizer kernels)"
            _refuse_fused_optimizer_kernels(zygote, _message(exercise.name, kernels))
        if AUTOGRAD_ENGINE in capability.native:
            _lock_autograd_away(exercise.name, capability.description)
    zygote.refuse_imports.refused += tuple(refused)
    sealed |= {
        str(path.parent.resolve())
        for path in zygote.helpers_folder.glob("*/checks.py")
        if path.parent.name != zygote.topic
    }
    _install_audit_hook(exercise.name, zygote.helpers_folder, sorted(sealed), copies)


def _files_of(target: Any) -> set[str]:
    """The files (or package folders) whose source would rebuild a forbidden target."""
    module = target if isinstance(target, types.ModuleType) else inspect.getmodule(target)
    if module is None:
        return set()
    folders = getattr(module, "__path__", None)
    if folders:
        return {str(Path(folder).resolve()) for folder in folders}
    file = getattr(module, "__file__", None)
    return {str(Path(file).resolve())} if file else set()


def _writes(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    return isinstance(flags, int) and bool(flags & write_flags)


def _install_audit_hook(
    exercise: str, helpers_folder: Path, sealed: list[str], copies: dict[str, str]
) -> None:
    """From now on, refuse what the module docstring lists.

    An audit hook cannot be removed, and nothing in Python lists the installed hooks, so the
    student's code cannot switch it off. Importing goes through ``open`` and ``exec`` too,
    so this also stops an import that got past ``_RefuseImports``.
    """
    helpers_prefix = str(helpers_folder.resolve())

    def refuse_path(raw: Any, writing: bool) -> None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw).resolve()
        text = str(path)
        if writing:
            raise PermissionError(f"writing {text} is not allowed while grading")
        if text.startswith(helpers_prefix) and "reference" in path.name:
            raise PermissionError("the reference answers are not available while grading")
        if any(text == p or text.startswith(p + os.sep) for p in sealed):
            raise PermissionError(f"reading {text} is not allowed while grading")
        if text.startswith("/proc/") and not text.startswith(f"/proc/{os.getpid()}/"):
            raise PermissionError("other processes are not available while grading")

    def hook(event: str, arguments: tuple) -> None:
        if event == "open" and arguments and isinstance(arguments[0], (str, bytes, Path)):
            mode, flags = (list(arguments[1:3]) + [None, None])[:2]
            refuse_path(arguments[0], _writes(mode, flags))
        elif event == "exec" and copies and isinstance(arguments[0], types.CodeType):
            for code in _code_tree(arguments[0]):
                what = copies.get(_fingerprint(code) or "")
                if what is not None:
                    raise ShortcutError(_message(exercise, what))
        elif event in REFUSED_EVENTS or event in FILE_CHANGES:
            raise PermissionError(f"{event} is not available while grading")

    sys.addaudithook(hook)


# --------------------------------------------------------------------------------------
# A child's life
# --------------------------------------------------------------------------------------


def _isolate(result_fd: int) -> None:
    """Keep only the result pipe; stdin, stdout and stderr become /dev/null."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, result_fd)
    os.closerange(result_fd + 1, 2**16)
    os.setpgid(0, 0)


def _error_kind(error: BaseException) -> str:
    if isinstance(error, NotImplementedError):
        return "not done"
    if isinstance(error, NameError):
        return "missing name"
    text = str(error)
    if "does the exercise for you" in text or isinstance(error, ShortcutError):
        return "shortcut"
    return "error"


def _describe(error: BaseException) -> str:
    """One line about an error: the bare message of a refused shortcut, otherwise the
    exception's type and the first line of its message."""
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else ""
    return first if _error_kind(error) == "shortcut" else f"{type(error).__name__}: {first}"


def _run_source(exercise: Any, cells: list[str], cases: list[dict], zygote: Zygote) -> Any:
    """Load one solution source and run it on every case: an error entry, or per case an
    error entry or its outputs as arrays."""
    from helpers.exercise import to_arrays
    from helpers.solution_cells import load_solution

    try:
        implementation = load_solution(exercise.name, cells, zygote.setup)
    except BaseException as error:  # noqa: BLE001 (the student's cell may raise anything)
        kind = _error_kind(error)
        prefix = "" if kind == "shortcut" else "the solution cell could not be loaded: "
        return channel.error_entry(prefix + _describe(error), kind)
    results: list[dict] = []
    size = 0  # bytes of every output so far, counted before any is copied or sent
    for case in cases:
        try:
            arrays = to_arrays(exercise.run_case(implementation, case))
        except BaseException as error:  # noqa: BLE001
            results.append(channel.error_entry(_describe(error), _error_kind(error)))
            continue
        size += sum(array.nbytes for array in arrays.values())
        if size > channel.MAX_FRAME_BYTES:
            message = f"its outputs come to more than {channel.MAX_FRAME_BYTES // 2**20} MiB"
            results.append(channel.error_entry(message, "too large"))
        else:
            results.append(arrays)
    return results


def _child(raw_task: bytearray, result_fd: int, zygote: Zygote) -> NoReturn:
    """The fork's whole life: isolate, read its task, seal, run, write, exit."""
    status = 1
    try:
        _isolate(result_fd)
        task = json.loads(bytes(raw_task))
        exercise = zygote.checks.EXERCISES[task["exercise"]]
        _seal(exercise, zygote)
        sources = [_run_source(exercise, cells, task["cases"], zygote) for cells in task["sources"]]
        payload = channel.encode_result(sources)
        view = memoryview(payload)
        while view:
            view = view[os.write(result_fd, view) :]
        status = 0
    finally:
        os._exit(status)  # no clean-up handler of the student's may run


def _collect(pid: int, read_fd: int, timeout_s: float) -> tuple[str, bytes]:
    """Read a child's result (at most MAX_FRAME_BYTES) until it exits or its time is up,
    then kill whatever is left of its process group. Its outcome and what it wrote."""
    deadline = time.monotonic() + timeout_s
    received = bytearray()
    outcome = None
    while outcome is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcome = "timed out"
            break
        if not select.select([read_fd], [], [], min(remaining, 0.5))[0]:
            continue
        chunk = os.read(read_fd, 2**20)
        if not chunk:
            break  # the child closed its pipe (it exits)
        received += chunk
        if len(received) > channel.MAX_FRAME_BYTES:
            outcome = "too large"
    os.close(read_fd)
    if outcome is None:
        status = _exit_status(pid, deadline)
        if status is None:
            outcome = "timed out"
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            outcome = "finished"
        else:
            outcome = "crashed"
    for kill in (os.killpg, os.kill):  # the child, and anything left in its group
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    return outcome, bytes(received) if outcome == "finished" else b""


def _exit_status(pid: int, deadline: float) -> int | None:
    """The child's wait status once it exits, or None if it is still running at ``deadline``."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    memory = int(SETTINGS.limits.runner_memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    job_frame = channel.read_frame(stdin)
    if job_frame is None:
        return 0
    zygote = _prepare(json.loads(bytes(job_frame)))
    channel.write_json(stdout, {"ready": True})
    while (limits := channel.read_frame(stdin)) is not None:
        timeout_s = float(json.loads(bytes(limits))["timeout_s"])
        raw_task = channel.read_frame(stdin)
        if raw_task is None:
            break
        read_fd, write_fd = os.pipe()
        stdout.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(raw_task, write_fd, zygote)
        os.close(write_fd)
        raw_task[:] = bytes(len(raw_task))  # no later child finds this exercise's cases
        outcome, payload = _collect(pid, read_fd, timeout_s)
        channel.write_json(stdout, {"outcome": outcome})
        channel.write_frame(stdout, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
