"""Run a student's code in a bubblewrap sandbox that shows an allowlist of the host.

What a sandbox sees, read-only: the Python interpreter and its standard library (never the
interpreter's own site-packages), the course's virtual environment, the system's shared
libraries and the few files of ``/etc`` that loading them needs, and the course's ``helpers``
(optionally with files hidden, such as the reference answers), ``instructor`` and ``data``;
plus the folders it is given explicitly. Nothing else of the host exists inside: no ``/opt``,
no ``/usr/lib/python3*`` or ``/usr/local``, no home folder, no pip or conda cache, no
``solutions/``, no other submission, no gradebook, no ``grades.csv``. The sandbox has its own
user namespace with every capability dropped (as root on the host, bubblewrap would otherwise
keep root's capabilities inside, and with them ways out such as remounting or opening files
by handle), a private ``/tmp`` (read-only where ``writable_tmp`` is false), no network, its own
PID namespace (nothing it starts outlives it) and a fresh session (it cannot inject keystrokes
into the grader's terminal).

Where bubblewrap is missing (macOS, a locked-down host), ``available()`` is false and callers
run the same command without it, and say so in the status column.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from pathlib import Path

from instructor.settings import REPO_ROOT

UNSANDBOXED = "unsandboxed"
MATPLOTLIB_FOLDER = "/tmp/matplotlib"  # matplotlib's configuration and cache, inside
# Namespaces, no capabilities, nothing outliving the grader: the options of every sandbox.
ISOLATION = ("--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent")
# The files of /etc that the dynamic loader and Python's standard library read.
SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
)
# The course's own folders a sandbox may read.
COURSE_FOLDERS = ("helpers", "instructor", "data")


@functools.cache
def available() -> bool:
    """True when bubblewrap is installed and can create its namespaces on this host."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    probe = subprocess.run(
        [bwrap, *ISOLATION, "--ro-bind", "/", "/", "true"], capture_output=True
    )
    return probe.returncode == 0


def python() -> str:
    """This interpreter's path without ``..`` (the sandbox only has the folders it needs);
    not resolved through symbolic links, which would leave the virtual environment."""
    return os.path.normpath(os.path.abspath(sys.executable))


def _system_library_folders() -> list[Path]:
    """Where the system's shared libraries live: ``/usr/lib/<multiarch>`` and the loader's
    folders (``/usr/lib64``, ``/lib64`` where they are real folders)."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    candidates = [Path("/usr/lib") / multiarch if multiarch else None, Path("/usr/lib64")]
    candidates += [Path(f"/lib/{multiarch}") if multiarch else None, Path("/lib64")]
    folders = []
    for folder in candidates:
        if folder is not None and folder.is_dir() and not folder.is_symlink():
            real = folder.resolve()
            if real not in folders:
                folders.append(real)
    return folders


def _top_level_links() -> list[tuple[str, str]]:
    """``/lib -> usr/lib`` and the like on merged-/usr systems, recreated inside."""
    links = []
    for name in ("/bin", "/lib", "/lib32", "/lib64", "/sbin"):
        path = Path(name)
        if path.is_symlink():
            links.append((os.readlink(path), name))
    return links


def interpreter_paths() -> tuple[list[Path], list[Path]]:
    """The folders that make up this Python (read-only inside) and, within them, the
    interpreter's own site-packages folders (empty inside: packages come from the course's
    virtual environment only)."""
    base, prefix = Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()
    shown: list[Path] = [prefix]
    if str(base) in ("/usr", "/usr/local"):  # a system Python: its standard library only
        stdlib = sysconfig.get_paths(vars={"installed_base": str(base), "base": str(base)})
        shown += [Path(stdlib["stdlib"]), Path(stdlib["platstdlib"])]
        shown.append(Path(os.path.realpath(sys.executable)).parent)
    else:
        shown.append(base)
    scheme = sysconfig.get_paths(vars={"base": str(base), "platbase": str(base)})
    hidden = sorted({Path(scheme["purelib"]), Path(scheme["platlib"])})
    hidden = [folder for folder in hidden if folder.is_dir() and folder != prefix]
    return sorted(set(shown)), [f for f in hidden if not _inside(prefix, f)]


def _inside(folder: Path, path: Path) -> bool:
    return path == folder or folder in path.parents


@functools.cache
def font_list() -> Path | None:
    """matplotlib's list of the system's fonts, built here once where it is missing.

    Every kernel's sandbox gets it read-only in its matplotlib folder: otherwise each one,
    starting with an empty ``/tmp``, would list the fonts again (about 0.4 s of every start).
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
    writable_tmp: bool = True,
    fonts: bool = False,
    root: Path = REPO_ROOT,
) -> list[str]:
    """The bubblewrap command line that runs ``argv`` in the sandbox described above.

    ``hidden`` files read as empty inside, ``empty`` folders look empty; ``writable`` folders
    are shared read-write (give each sandbox its own); with ``writable_tmp`` false nothing at
    all is writable but those. ``fonts`` adds matplotlib's font list. ``environment``
    replaces the whole environment.
    """
    # bwrap itself starts with an empty environment: its own process is PID 1 inside the
    # sandbox, and /proc/1/environ would show the grader's environment to the student's code.
    bwrap = shutil.which("bwrap") or "bwrap"
    arguments = ["env", "-i", bwrap, *ISOLATION, "--new-session"]
    # The fresh /tmp, /proc and /dev first: later mounts land on top of them (the course or
    # the grader's job folders may themselves live under /tmp).
    arguments += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    if fonts and (font_file := font_list()) is not None:
        arguments += ["--ro-bind", str(font_file), f"{MATPLOTLIB_FOLDER}/{font_file.name}"]
    for target, name in _top_level_links():
        arguments += ["--symlink", target, name]
    for folder in _system_library_folders():
        arguments += ["--ro-bind", str(folder), str(folder)]
    for path in SYSTEM_FILES:
        if Path(path).exists():
            arguments += ["--ro-bind", path, path]
    shown, site_packages = interpreter_paths()
    for folder in shown:
        arguments += ["--ro-bind", str(folder), str(folder)]
    for folder in site_packages:
        arguments += ["--tmpfs", str(folder), "--remount-ro", str(folder)]
    for folder in (*(root / name for name in COURSE_FOLDERS), *readable):
        if folder.exists():
            arguments += ["--ro-bind", str(folder), str(folder)]
    for path in hidden:
        arguments += ["--ro-bind", "/dev/null", str(path)]
    for folder in empty:
        arguments += ["--tmpfs", str(folder), "--remount-ro", str(folder)]
    # Everything so far becomes read-only, /dev and /tmp included (/dev/null still takes
    # writes: it is a device); only the writable folders below are not.
    arguments += ["--remount-ro", "/", "--remount-ro", "/dev"]
    if not writable_tmp:
        arguments += ["--remount-ro", "/tmp"]
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
