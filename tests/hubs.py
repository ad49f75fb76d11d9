"""A course hub for the tests: a throw-away course, fresh Unix accounts, and the hub stopped and
the accounts removed afterwards, with a check that no process of theirs is left.

Account names start with a random prefix (``h3f9a2-ada``), so that test runs side by side, or
a real hub on the same machine, never share an account.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from instructor import hub
from instructor.model import Course
from instructor.release import read_manifest, release
from instructor.settings import REPO_ROOT

RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


@dataclass
class CourseHub:
    settings: hub.HubSettings
    course: Course
    passwords: dict[str, str]
    process: subprocess.Popen
    started_in: float  # seconds from nothing to the hub answering

    def run_as(self, account: str, command: str,
               timeout: float = 120) -> subprocess.CompletedProcess:
        """``command`` (bash) as ``account`` does it on the hub: a student's inside the same
        sandbox as their server, in their home."""
        home = Path(hub.pwd.getpwnam(account).pw_dir)
        environment = {
            "HOME": str(home), "USER": account, "LANG": "C.UTF-8",
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": str(self.settings.public / (
                "instructor" if account == self.settings.instructor else "student")),
        }
        prefix = hub.server_sandbox(self.settings, account)
        return subprocess.run(
            [RUNUSER, "-u", account, "--", *prefix, "bash", "-c", command],
            env=environment, cwd=home, capture_output=True, text=True, timeout=timeout,
        )


def make_course(root: Path) -> Course:
    """A course of this repository's solutions at ``root``, released, readable by everyone
    (its parts that are the instructor's are what the students' sandbox leaves out)."""
    root.mkdir(parents=True)
    (root / "solutions").symlink_to(REPO_ROOT / "solutions")
    # a course folder is a checkout: the instructor's Formgrader reads its nbgrader settings
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    course = Course(root=root)
    release(course, course_repo=read_manifest(Course())["course_repo"] or "")
    return course


@contextlib.contextmanager
def course_hub(students: list[str], base: Path | None = None) -> Iterator[CourseHub]:
    prefix = "h" + secrets.token_hex(3)
    base = Path(tempfile.mkdtemp(prefix="course-hub-", dir=base))
    os.chmod(base, 0o755)
    course = make_course(base / "course")
    settings = hub.HubSettings(
        course_root=course.root,
        students=[f"{prefix}-{name}" for name in students],
        course_id=f"course-{prefix}",
        instructor=f"{prefix}-teacher",
        exchange=base / "exchange",
        port=hub.free_port(),
    )
    process = None
    try:
        started = time.perf_counter()
        passwords_path = hub.prepare(settings)
        process = hub.launch(settings)
        hub.wait_until_up(settings, process)
        elapsed = time.perf_counter() - started
        passwords = hub.read_passwords(passwords_path)
        yield CourseHub(settings, course, passwords, process, elapsed)
    except BaseException:
        log = settings.state / "jupyterhub.log"
        if log.exists():  # the hub's own account of what went wrong
            kept = Path(tempfile.gettempdir()) / f"{prefix}-jupyterhub.log"
            shutil.copy(log, kept)
            print(f"The hub's log: {kept}", file=sys.stderr)
        raise
    finally:
        left = hub.stop(settings, process) if process is not None else []
        hub.remove_accounts(settings.accounts())
        shutil.rmtree(base, ignore_errors=True)
        if left:
            raise RuntimeError(f"processes of the hub's accounts outlived it: {left}")


class HubClient:
    """One person's browser-less session on the hub: log in, start the server, call its API."""

    def __init__(self, course_hub: CourseHub, account: str):
        self.hub = course_hub
        self.account = account
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _xsrf(self, path: str = "/hub/") -> str:
        found = [c for c in self.cookies if c.name == "_xsrf" and path.startswith(c.path)]
        return max(found, key=lambda c: len(c.path)).value if found else ""

    def login(self) -> None:
        url = self.hub.settings.url + "hub/login"
        self.opener.open(url, timeout=30).read()
        form = urllib.parse.urlencode({
            "username": self.account, "password": self.hub.passwords[self.account],
            "_xsrf": self._xsrf(),
        }).encode()
        self.opener.open(url, data=form, timeout=60).read()

    def login_with(self, password: str) -> int:
        url = self.hub.settings.url + "hub/login"
        self.opener.open(url, timeout=30).read()
        form = urllib.parse.urlencode({
            "username": self.account, "password": password, "_xsrf": self._xsrf()}).encode()
        try:
            with self.opener.open(url, data=form, timeout=60) as response:
                return response.status if "/hub/login" not in response.url else 403
        except urllib.error.HTTPError as error:
            return error.code

    def start_server(self, timeout: float = 60) -> None:
        """Open /hub/spawn, and wait until the server answers under /user/<name>/."""
        self.opener.open(self.hub.settings.url + f"hub/spawn/{self.account}", timeout=timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.server_get("lab")  # through the hub's OAuth: the server's own cookie
                self.server_api("GET", "status")
                return
            except (OSError, json.JSONDecodeError):
                time.sleep(1)
        raise TimeoutError(f"{self.account}'s server did not start in {timeout} s")

    def server_api(self, method: str, path: str, body: dict | None = None) -> object:
        url = self.hub.settings.url + f"user/{self.account}/api/{path}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={
            "X-XSRFToken": self._xsrf(f"/user/{self.account}/"),
            "Content-Type": "application/json"})
        with self.opener.open(request, timeout=120) as response:
            text = response.read()
        return json.loads(text) if text else None

    def server_get(self, path: str) -> str:
        url = self.hub.settings.url + f"user/{self.account}/{path}"
        with self.opener.open(url, timeout=120) as response:
            return response.read().decode()

    def assignments(self, action: str | None = None, assignment: str | None = None) -> object:
        """What the Assignments tab does: list, or ``fetch``, ``submit``, ``fetch_feedback``."""
        course_id = self.hub.settings.course_id
        if action is None:
            return json.loads(self.server_get(f"assignments?course_id={course_id}"))
        url = self.hub.settings.url + f"user/{self.account}/assignments/{action}"
        body = json.dumps({"course_id": course_id, "assignment_id": assignment}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "X-XSRFToken": self._xsrf(f"/user/{self.account}/"),
            "Content-Type": "application/json"})
        with self.opener.open(request, timeout=300) as response:
            return json.loads(response.read())


SOLVED_EXERCISE = "gradient_update"  # 2 points of 03_optimization


def solution_source(assignment: str, exercise: str) -> str:
    """The solution's code of ``exercise`` (its cell, from solutions/), markers removed."""
    import nbformat

    from instructor.notebook import find_cell

    path = next((REPO_ROOT / "solutions" / assignment).glob("*.ipynb"))
    cell = find_cell(nbformat.read(path, as_version=4), exercise)
    return "\n".join(line for line in cell.source.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def solve_in_place(path: Path, assignment: str, exercise: str) -> None:
    """Write the solution of ``exercise`` into the notebook at ``path`` (a fetched copy)."""
    import nbformat

    from instructor.notebook import find_cell

    notebook = nbformat.read(path, as_version=4)
    find_cell(notebook, exercise).source = solution_source(assignment, exercise)
    nbformat.write(notebook, path)
