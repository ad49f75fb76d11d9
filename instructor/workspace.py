"""A learner's own working copy of the notebooks, which no command ever overwrites.

``make lab`` runs ``python -m instructor.workspace [JupyterLab options]``: on first use it
copies the release (``notebooks/``) into ``work/`` (git-ignored) and the solutions into
``work/solutions/`` (for readers who peek), then opens JupyterLab there, as a student's:
without nbgrader's instructor tools.
Later runs copy only notebooks that ``work/`` does not have yet, and name those whose release
changed since they were copied, leaving the learner's copy as it is. ``work/.copied.json``
records the release each copy came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instructor.settings import REPO_ROOT

RELEASE = REPO_ROOT / "notebooks"
SOLUTIONS = REPO_ROOT / "solutions"
WORK = REPO_ROOT / "work"
RECORD = ".copied.json"
# A student's JupyterLab: nbgrader's Assignments and Validate, no instructor tools (Formgrader,
# Create Assignment, Course List); the hub's student servers read the same configuration.
STUDENT_JUPYTER_CONFIG = Path(__file__).parent / "student_jupyter"


@dataclass
class Update:
    """What bringing a work folder up to date with the release did and found."""

    added: list[str] = field(default_factory=list)  # copied now (new to the work folder)
    changed_upstream: list[str] = field(default_factory=list)  # release differs from the copy's


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def update(release: Path = RELEASE, work: Path = WORK) -> Update:
    """Copy into ``work`` every release notebook it does not have; never overwrite one."""
    record_path = work / RECORD
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    done = Update()
    for source in sorted(release.glob("*/*.ipynb")):
        name = source.relative_to(release).as_posix()
        target = work / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            record[name] = _digest(source)
            done.added.append(name)
        elif name in record and record[name] != _digest(source):
            done.changed_upstream.append(name)
    work.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return done


def describe(done: Update, release: Path = RELEASE, work: Path = WORK) -> str:
    """What to tell the learner about an update, in a few lines."""
    lines = []
    if done.added:
        lines.append(f"Copied into {_shown(work)}/: {', '.join(done.added)}.")
    if done.changed_upstream:
        lines.append(
            f"Changed in {_shown(release)}/ since you copied them (your copies are untouched): "
            f"{', '.join(done.changed_upstream)}. To start one afresh, rename your copy and "
            "run `make lab` again."
        )
    return "\n".join(lines)


def _shown(path: Path) -> str:
    try:
        return path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def lab_command(work: Path, options: Sequence[str], uid: int | None = None) -> list[str]:
    """The command that opens JupyterLab in ``work``, with the learner's own ``options``.

    JupyterLab refuses to start as root unless told to (containers and cloud machines often
    run as root).
    """
    uid = os.geteuid() if uid is None else uid
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={work}"]
    if uid == 0 and "--allow-root" not in options:
        command.append("--allow-root")
    return [*command, *options]


def main(argv: Sequence[str] | None = None) -> int:
    # JupyterLab's own options: `make lab LAB_ARGS="--port 8899 --no-browser"` passes them.
    options = list(sys.argv[1:] if argv is None else argv)
    if not any(RELEASE.glob("*/*.ipynb")):
        print(f"No notebooks in {RELEASE}: run `make release` first.", file=sys.stderr)
        return 1
    message = describe(update(RELEASE, WORK), RELEASE, WORK)
    if message:
        print(message)
    # The solutions too, for readers who peek when stuck: copies in work/solutions/.
    message = describe(update(SOLUTIONS, WORK / "solutions"), SOLUTIONS, WORK / "solutions")
    if message:
        print(message)
    command = lab_command(WORK, options)
    print(f"Opening JupyterLab in {_shown(WORK)}/ (your own copies; no command overwrites them).")
    sys.stdout.flush()
    os.execve(command[0], command, lab_environment())  # JupyterLab replaces this process


def lab_environment() -> dict[str, str]:
    """This environment, with the student's Jupyter configuration read first."""
    paths = [str(STUDENT_JUPYTER_CONFIG), os.environ.get("JUPYTER_CONFIG_PATH", "")]
    return {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(p for p in paths if p)}


if __name__ == "__main__":
    sys.exit(main())
