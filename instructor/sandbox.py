"""Run a student's code in a bubblewrap sandbox.

The sandbox sees a read-only view of the system, the Python installation, the virtual
environment and the course's ``helpers`` (optionally with files hidden, such as the reference
answers) and ``data``, plus the folders it is given explicitly; it has a private ``/tmp``, no
network, its own PID namespace (nothing it starts outlives it) and a fresh session (it cannot
inject keystrokes into the grader's terminal). It never sees ``solutions/``, other
submissions, gradebooks or ``grades.csv``.

Where bubblewrap is missing (macOS, a locked-down host), ``available()`` is false and callers
run the same command without it, and say so in the status column.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from instructor.notebook import REPO_ROOT

SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/opt")
UNSANDBOXED = "unsandboxed"
MATPLOTLIB_FOLDER = "/tmp/matplotlib"  # matplotlib's configuration and cache, inside


@functools.cache
def available() -> bool:
    """True when bubblewrap is installed and can create namespaces on this host."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = subprocess.run(
        [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
        capture_output=True,
    )
    return probe.returncode == 0


def python() -> str:
    """This interpreter's path without ``..`` (the sandbox only has the folders it needs);
    not resolved through symbolic links, which would leave the virtual environment."""
    return os.path.normpath(os.path.abspath(sys.executable))


def _python_folders() -> list[Path]:
    """The interpreter's installation and the virtual environment, wherever they live."""
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    folders.add(Path(python()).parent.parent)
    return sorted(folders)


@functools.cache
def font_list() -> Path | None:
    """matplotlib's list of the system's fonts, built here once where it is missing.

    Every sandbox gets it read-only in its matplotlib folder: otherwise each one, starting
    with an empty ``/tmp``, would list the fonts again (about 0.4 s of every kernel's start).
    """
    import matplotlib
    from matplotlib import font_manager  # builds the list if this machine has none yet

    name = f"fontlist-v{font_manager.FontManager.__version__}.json"
    path = Path(matplotlib.get_cachedir()) / name
    return path if path.is_file() else None


def reference_files(root: Path = REPO_ROOT) -> list[Path]:
    """Every notebook's reference answers, which the grader's sandbox hides."""
    return sorted((root / "helpers").glob("*/reference.py"))


def command(
    argv: Sequence[str],
    *,
    writable: Iterable[Path] = (),
    readable: Iterable[Path] = (),
    hidden: Iterable[Path] = (),
    empty: Iterable[Path] = (),
    workdir: Path | None = None,
    environment: dict[str, str] | None = None,
    root: Path = REPO_ROOT,
) -> list[str]:
    """The bubblewrap command line that runs ``argv`` in the sandbox described above.

    ``hidden`` files read as empty inside, ``empty`` folders look empty; ``writable`` folders
    are shared read-write (give each sandbox its own); ``environment`` replaces the whole
    environment.
    """
    # bwrap itself starts with an empty environment: its own process is PID 1 inside the
    # sandbox, and /proc/1/environ would show the grader's environment to the student's code.
    bwrap = shutil.which("bwrap") or "bwrap"
    arguments = ["env", "-i", bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    # The fresh /tmp, /proc and /dev first: later mounts land on top of them (the course or
    # the grader's job folders may themselves live under /tmp).
    arguments += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    fonts = font_list()
    if fonts is not None:
        arguments += ["--ro-bind", str(fonts), f"{MATPLOTLIB_FOLDER}/{fonts.name}"]
    for folder in SYSTEM_FOLDERS:
        if Path(folder).exists():
            arguments += ["--ro-bind", folder, folder]
    for folder in _python_folders():
        arguments += ["--ro-bind", str(folder), str(folder)]
    for folder in (root / "helpers", root / "instructor", root / "data", *readable):
        if folder.exists():
            arguments += ["--ro-bind", str(folder), str(folder)]
    for path in hidden:
        arguments += ["--ro-bind", "/dev/null", str(path)]
    for folder in empty:
        arguments += ["--tmpfs", str(folder)]
    for folder in writable:
        arguments += ["--bind", str(folder), str(folder)]
    if workdir is not None:
        arguments += ["--chdir", str(workdir)]
    arguments += ["--clearenv"]
    for key, value in (environment or {}).items():
        arguments += ["--setenv", key, value]
    return [*arguments, "--", *argv]


def environment(threads: int = 1) -> dict[str, str]:
    """A minimal environment for sandboxed Python: nothing of the grader's leaks in."""
    return {
        "PATH": f"{Path(python()).parent}:/usr/bin:/bin",
        "HOME": "/tmp",
        "MPLCONFIGDIR": MATPLOTLIB_FOLDER,
        "MPLBACKEND": "Agg",
        "PYTHONWARNINGS": "ignore",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "TQDM_DISABLE": "1",
        "LANG": "C.UTF-8",
    }
