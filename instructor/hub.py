"""A JupyterHub for the course on this machine: ``make hub`` and ``make hub-stop``.

``python -m instructor.hub start`` (run as root: it creates Unix accounts and starts servers as
them) sets up and runs, in the foreground until Ctrl-C or ``make hub-stop``:

- one Unix account per student of ``roster.txt`` and one for the instructor (``instructor`` by
  default), so that the permissions of nbgrader's exchange mean something. Accounts are made
  with ``useradd`` and marked in their comment field; an existing account without that mark
  is never taken over (except the checkout's owner as the instructor).
- local logins: a password per account, generated once, kept in ``hub-passwords.txt`` in the
  instructor's home (readable by the instructor alone); the hub keeps only their scrypt
  hashes (``CourseAuthenticator``). A real deployment swaps the authenticator (PAM, OAuth).
- nbgrader's exchange: a root-owned folder (``/srv/nbgrader/exchange``, sticky and writable
  by all, as nbgrader requires) holding the course's folder, owned by whoever runs the
  instructor's commands (``instructor.exchange``), and the course id, for every account.
- JupyterLab 4 for each: the instructor's opens on the course checkout with nbgrader's
  Formgrader, Create Assignment, Course List and Assignments; a student's opens in their home
  with Assignments (and Validate) only, inside bubblewrap, where the checkout shows only what
  a kernel needs (the ``.venv``, ``helpers`` and ``data``): no ``solutions/``,
  ``submitted/``, gradebook or ``grades.csv``, and no other home.

Everything the hub writes lives in ``hub/`` of the course (git-ignored): its configuration,
database, cookie secret, logs and the password hashes; ``hub/public/`` holds the Jupyter
configuration each role's servers read.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from jupyterhub.auth import Authenticator
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode

from instructor import sandbox
from instructor.settings import REPO_ROOT, SETTINGS
from instructor.submissions import read_roster
from instructor.workspace import STUDENT_JUPYTER_CONFIG  # what `make lab` reads too

COURSE_ID = "dl-optimization"
INSTRUCTOR = "instructor"
EXCHANGE = Path("/srv/nbgrader/exchange")
STATE_FOLDER = "hub"
SETTINGS_FILE = "settings.json"
PASSWORDS_FILE = "hub-passwords.txt"  # in the instructor's home
HASHES_FILE = "password-hashes.json"  # in the hub's state folder, root's alone
ACCOUNT_MARK = "dl-optimization-course"  # the comment field of every account make hub made
PROXY = REPO_ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
# Unix account names (Debian's useradd rule), which are also nbgrader's student ids: no '+'.
ACCOUNT_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")

class HubError(RuntimeError):
    """The hub cannot be set up as asked; the message says why and what to do."""


@dataclass
class HubSettings:
    """Everything about one course hub, saved as ``hub/settings.json`` in the course."""

    course_root: Path
    students: list[str]
    course_id: str = COURSE_ID
    instructor: str = INSTRUCTOR
    exchange: Path = EXCHANGE
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 0  # 0: a free port, chosen when the hub starts
    proxy_api_port: int = 0
    environment_root: Path = REPO_ROOT  # the checkout whose .venv, helpers and data serve kernels

    @property
    def state(self) -> Path:
        return self.course_root / STATE_FOLDER

    @property
    def public(self) -> Path:
        return self.state / "public"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}/"

    def accounts(self) -> list[str]:
        return [self.instructor, *self.students]

    def save(self) -> None:
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        _write_private(self.state / SETTINGS_FILE, json.dumps(data, indent=1) + "\n", mode=0o644)

    @classmethod
    def load(cls, course_root: Path) -> HubSettings:
        path = course_root / STATE_FOLDER / SETTINGS_FILE
        if not path.exists():
            raise HubError(f"No hub set up in {course_root}: run `make hub` first.")
        data = json.loads(path.read_text())
        for key in ("course_root", "exchange", "environment_root"):
            data[key] = Path(data[key])
        return cls(**data)


# --------------------------------------------------------------------------------------
# Accounts and passwords
# --------------------------------------------------------------------------------------


def check_account_name(name: str) -> None:
    if not ACCOUNT_NAME.match(name):
        raise HubError(
            f"{name!r} cannot be a Unix account (and nbgrader student id): use lowercase "
            "letters, digits, '-' and '_', starting with a letter, at most 32 characters. "
            f"Rename the student's line in {SETTINGS.folders.roster} (and their folder under "
            "submitted/)."
        )


def _owner(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


def ensure_account(name: str, settings: HubSettings) -> pwd.struct_passwd:
    """The Unix account ``name``, created (home 0700) if it does not exist.

    An existing account is used only if ``make hub`` made it (its comment field says so), or
    if it is the instructor's and owns the course checkout; any other (a system account, a
    person's) is refused, so that no roster line can open the hub to an account it names.
    """
    check_account_name(name)
    mark = f"{ACCOUNT_MARK} {settings.course_id}"
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
             "--comment", mark, name],
            check=True, capture_output=True, text=True,
        )
        entry = pwd.getpwnam(name)
        os.chmod(entry.pw_dir, 0o700)
        return entry
    course_owner = name == settings.instructor and _owner(settings.course_root) == name
    if not entry.pw_gecos.startswith(ACCOUNT_MARK) and not course_owner:
        raise HubError(
            f"A Unix account {name!r} already exists and was not made by `make hub` "
            f"(its comment is {entry.pw_gecos!r}): rename the student, or choose another "
            "instructor account with HUB_INSTRUCTOR."
        )
    return entry


def remove_accounts(names: Iterable[str]) -> None:
    """Delete accounts (and their homes) that ``make hub`` made; others are left alone."""
    for name in names:
        with contextlib.suppress(KeyError):
            if pwd.getpwnam(name).pw_gecos.startswith(ACCOUNT_MARK):
                subprocess.run(["userdel", "--remove", name], capture_output=True)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
        expected = hash_password(password, bytes.fromhex(salt))
    except ValueError:
        return False
    return hmac.compare_digest(expected, stored)


def _write_private(path: Path, text: str, mode: int = 0o600, owner: int | None = None,
                   group: int | None = None) -> None:
    """Write ``text`` through a new file with ``mode`` from the start, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(temporary, mode)
    if owner is not None:
        os.chown(temporary, owner, group if group is not None else -1)
    os.replace(temporary, path)


def passwords_file(settings: HubSettings) -> Path:
    return Path(pwd.getpwnam(settings.instructor).pw_dir) / PASSWORDS_FILE


def read_passwords(path: Path) -> dict[str, str]:
    """``account password`` per line (the file ``ensure_passwords`` writes)."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, password = line.partition(" ")
            found[name] = password.strip()
    return found


def ensure_passwords(settings: HubSettings) -> Path:
    """A password for every account: kept if it has one, generated if not.

    Written to the instructor's ``hub-passwords.txt`` (mode 0600, the instructor's); the hub
    keeps their hashes only. Returns the file's path.
    """
    path = passwords_file(settings)
    passwords = read_passwords(path)
    for name in settings.accounts():
        passwords.setdefault(name, secrets.token_urlsafe(12))
    wanted = {name: passwords[name] for name in settings.accounts()}
    instructor = pwd.getpwnam(settings.instructor)
    text = (
        f"# Logins for {settings.url} (course {settings.course_id}): account password.\n"
        "# Hand each student their line. Delete a line and run `make hub` again for a new one.\n"
        + "".join(f"{name} {password}\n" for name, password in wanted.items())
    )
    _write_private(path, text, owner=instructor.pw_uid, group=instructor.pw_gid)
    hashes = {name: hash_password(password) for name, password in wanted.items()}
    _write_private(settings.state / HASHES_FILE, json.dumps(hashes, indent=1))
    return path


# --------------------------------------------------------------------------------------
# The exchange and the Jupyter configuration of each role
# --------------------------------------------------------------------------------------


def ensure_exchange(settings: HubSettings) -> Path:
    """The exchange, laid out so that no student can reach another's submission.

    The root is root's, mode 1777: nbgrader's commands need it writable by every account,
    and the sticky bit keeps anyone from renaming another's folder. The course's folder and
    its ``inbound`` belong to the checkout's owner, who runs the instructor's commands. Each
    student submits into ``inbound/<student>/`` (the owner's, the student's group, mode
    3770): inside a student's sandbox that folder *is* ``inbound``, so nbgrader's ``submit``
    works unchanged, and no other student can enter it even knowing a submission's name.
    """
    root = settings.exchange
    root.mkdir(parents=True, exist_ok=True)
    os.chown(root, 0, 0)
    os.chmod(root, 0o1777)
    owner = settings.course_root.stat()
    course = root / settings.course_id
    inbound = course / "inbound"
    for folder, mode in ((course, 0o755), (inbound, 0o3733)):
        folder.mkdir(exist_ok=True)
        os.chown(folder, owner.st_uid, owner.st_gid)
        os.chmod(folder, mode)
    for student in settings.students:
        folder = inbound / student
        folder.mkdir(exist_ok=True)
        os.chown(folder, owner.st_uid, pwd.getpwnam(student).pw_gid)
        os.chmod(folder, 0o3770)
    return course


def nbgrader_settings(settings: HubSettings, role: str) -> str:
    lines = [
        "# Written by `make hub` (instructor/hub.py): the course and its exchange.",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.course_id = {settings.course_id!r}",
        f"c.Exchange.root = {str(settings.exchange)!r}",
    ]
    if role == "instructor":
        lines.append(f"c.CourseDirectory.root = {str(settings.course_root)!r}")
    return "\n".join(lines) + "\n"


def write_jupyter_configs(settings: HubSettings) -> None:
    """``hub/public/<role>/``: what each role's server reads through ``JUPYTER_CONFIG_PATH``.

    Students get the course's student configuration (no instructor tools, the same as
    ``make lab``); the instructor's server may frame its own Formgrader (JupyterHub forbids
    frames by default since 4.1, which leaves Formgrader's panel blank).
    """
    for role in ("student", "instructor"):
        folder = settings.public / role
        shutil.rmtree(folder, ignore_errors=True)
        if role == "student":
            shutil.copytree(STUDENT_JUPYTER_CONFIG, folder)
        else:
            folder.mkdir(parents=True)
            server = {"ServerApp": {"tornado_settings": {
                "headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}}}
            (folder / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))
        (folder / "nbgrader_config.py").write_text(nbgrader_settings(settings, role))
    for path in [settings.state, settings.public, *settings.public.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(settings.state, 0o711)  # the public part can be reached, nothing listed


def write_hub_config(settings: HubSettings) -> Path:
    path = settings.state / "jupyterhub_config.py"
    path.write_text(
        "# Written by `make hub`: the course hub's configuration is instructor.hub.configure.\n"
        "from instructor.hub import configure\n\n"
        f"configure(c, {str(settings.course_root)!r})  # noqa: F821\n"
    )
    return path


# --------------------------------------------------------------------------------------
# JupyterHub's side: authenticator, spawner, configuration
# --------------------------------------------------------------------------------------

class CourseAuthenticator(Authenticator):
    """Logins checked against the scrypt hashes of the passwords ``make hub`` generated."""

    hashes_file = Unicode(help="JSON file: account -> scrypt hash").tag(config=True)

    async def authenticate(self, handler, data):
        name = (data or {}).get("username", "")
        password = (data or {}).get("password", "")
        hashes = json.loads(Path(self.hashes_file).read_text())
        stored = hashes.get(name)
        if stored is None or not password_matches(password, stored):
            return None
        return name


class CourseSpawner(LocalProcessSpawner):
    """Each account's server as its own Unix user, inside bubblewrap (``server_sandbox``)."""

    course_root = Unicode().tag(config=True)

    @property
    def settings(self) -> HubSettings:
        return HubSettings.load(Path(self.course_root))

    def role(self) -> str:
        return "instructor" if self.user.name == self.settings.instructor else "student"

    def get_env(self):
        env = super().get_env()
        settings = self.settings
        role = self.role()
        venv_bin = Path(sandbox.python()).parent
        env["PATH"] = f"{venv_bin}:/usr/local/bin:/usr/bin:/bin"
        env["JUPYTER_CONFIG_PATH"] = str(settings.public / role)
        env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        env.pop("NBGRADER_EXECUTION", None)
        return env

    async def start(self):
        settings = self.settings
        singleuser = str(Path(sandbox.python()).parent / "jupyterhub-singleuser")
        self.cmd = [*server_sandbox(settings, self.user.name), singleuser]
        if self.role() == "instructor":
            self.notebook_dir = str(settings.course_root)
        else:
            self.notebook_dir = pwd.getpwnam(self.user.name).pw_dir
        return await super().start()


def readable_python(settings: HubSettings) -> Path | None:
    """A copy of this Python installation that every account can read, where they cannot
    read the original (a Python installed under /root, as pyenv does for root); else None.

    The copy is made of hard links where the file system allows it (instant, no space), in
    ``hub/python``, without the installation's own site-packages (the course's ``.venv``
    does not use them); servers see it at the original's path, inside their sandbox.
    """
    prefix = Path(sys.base_prefix).resolve()
    if _everyone_can_read(prefix):
        return None
    image = settings.state / "python"
    done = image / ".complete"
    if not done.exists():
        shutil.rmtree(image, ignore_errors=True)

        def link_or_copy(source: str, target: str) -> None:
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)

        shutil.copytree(prefix, image, symlinks=True, copy_function=link_or_copy,
                        ignore=lambda folder, names: {"site-packages"} & set(names))
        done.touch()
    os.chmod(image, 0o755)
    return image


# A server is a working environment (a terminal, git, compilers), so it sees the system's
# programs and libraries; not /opt or /srv, which hold the host's own extra packages.
SERVER_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")


def _everyone_can_read(path: Path) -> bool:
    """Whether an account with no special rights can reach ``path`` and read it."""
    for folder in [*reversed(path.parents), path]:
        if not folder.stat().st_mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


def server_sandbox(settings: HubSettings, account: str) -> list[str]:
    """bubblewrap's arguments for an account's server (then the command itself).

    A student sees the system, the Python environment, the course's ``helpers`` and ``data``,
    their own home, the exchange (of its ``inbound``, their own folder only) and the hub's
    student configuration: the rest of the
    checkout (solutions, submissions, gradebook, grades) and other homes do not exist there.
    The instructor also sees the course checkout. The network is shared (the hub must reach
    the server); processes, IPC and ``/tmp`` are the server's own, and everything in it ends
    with the server.
    """
    role = "instructor" if account == settings.instructor else "student"
    home = pwd.getpwnam(account).pw_dir
    bwrap = shutil.which("bwrap") or "bwrap"
    arguments = [
        bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
    ]
    for folder in SERVER_SYSTEM_FOLDERS:
        if Path(folder).exists():
            arguments += ["--ro-bind", folder, folder]
    base = Path(sys.base_prefix).resolve()
    image = settings.state / "python"
    arguments += ["--ro-bind", str(image if (image / ".complete").exists() else base), str(base)]
    environment = settings.environment_root
    for folder in (Path(sandbox.python()).parent.parent, environment / "helpers",
                   environment / "data"):
        if folder.exists():
            arguments += ["--ro-bind", str(folder), str(folder)]
    if role == "instructor":  # the course (and the checkout the environment comes from)
        arguments += ["--ro-bind", str(environment), str(environment)]
        arguments += ["--bind", str(settings.course_root), str(settings.course_root)]
    public = settings.public / role
    arguments += ["--ro-bind", str(public), str(public)]
    arguments += ["--bind", str(settings.exchange), str(settings.exchange)]
    if role == "student":  # their own folder of inbound is all of inbound they see
        inbound = settings.exchange / settings.course_id / "inbound"
        arguments += ["--bind", str(inbound / account), str(inbound)]
    arguments += ["--bind", home, home, "--chdir", home, "--"]
    return arguments


def configure(c, course_root: str) -> None:
    """JupyterHub's configuration for the course (called by ``hub/jupyterhub_config.py``)."""
    settings = HubSettings.load(Path(course_root))
    state = settings.state
    c.JupyterHub.ip = settings.ip
    c.JupyterHub.port = settings.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = settings.hub_port
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = [str(PROXY)]
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True  # no server outlives the hub
    c.JupyterHub.authenticator_class = CourseAuthenticator
    c.CourseAuthenticator.hashes_file = str(state / HASHES_FILE)
    c.Authenticator.allowed_users = set(settings.accounts())
    c.Authenticator.admin_users = {settings.instructor}
    c.JupyterHub.load_groups = {
        f"formgrade-{settings.course_id}": {"users": [settings.instructor]},
        f"nbgrader-{settings.course_id}": {"users": list(settings.students)},
    }
    c.JupyterHub.spawner_class = CourseSpawner
    c.CourseSpawner.course_root = str(settings.course_root)
    c.Spawner.default_url = "/lab"
    c.Spawner.http_timeout = 120
    c.Spawner.start_timeout = 180
    c.JupyterHub.shutdown_on_logout = False


# --------------------------------------------------------------------------------------
# Starting and stopping
# --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(settings: HubSettings) -> Path:
    """Accounts, passwords, exchange and configuration; returns the passwords file."""
    if os.geteuid() != 0:
        raise HubError("`make hub` must run as root: it creates Unix accounts and starts "
                       "every account's server as that account (sudo make hub).")
    if not sandbox.available():
        raise HubError("bubblewrap is needed to keep students apart on the hub: "
                       "`apt-get install bubblewrap` (Debian, Ubuntu).")
    if not PROXY.exists():
        raise HubError(f"configurable-http-proxy is missing ({PROXY}): run `make hub`, "
                       "which installs it with npm (Node.js 18 or newer).")
    if not settings.students:
        raise HubError(
            f"No students: write one account name per line in {SETTINGS.folders.roster}."
        )
    if settings.instructor in settings.students:
        raise HubError(f"{settings.instructor!r} is both the instructor and a student.")
    settings.hub_port = settings.hub_port or free_port()
    settings.proxy_api_port = settings.proxy_api_port or free_port()
    settings.state.mkdir(exist_ok=True)
    for name in settings.accounts():
        ensure_account(name, settings)
    settings.save()
    write_jupyter_configs(settings)
    write_hub_config(settings)
    ensure_exchange(settings)
    readable_python(settings)
    return ensure_passwords(settings)


def instructor_note(settings: HubSettings) -> str | None:
    """What the instructor's account cannot do here, and how to change it, if anything."""
    owner = _owner(settings.course_root)
    if owner == settings.instructor:
        return None
    return (
        f"Note: the course folder belongs to {owner!r}, not to the instructor's account "
        f"{settings.instructor!r}, which can read it but not write it: Formgrader shows the "
        f"course but cannot change its gradebook. Run `make hub-release`, `hub-collect`, "
        f"`grade` and `hub-feedback` as {owner!r}. For the instructor to use Formgrader fully, "
        "clone the course as their own account and run `sudo make hub HUB_INSTRUCTOR=<it>`."
    )


def hub_command(settings: HubSettings) -> list[str]:
    return [sys.executable, "-m", "jupyterhub", "-f", str(settings.state / "jupyterhub_config.py")]


def hub_environment() -> dict[str, str]:
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {**os.environ, "PATH": path}


def launch(settings: HubSettings, log: Path | None = None) -> subprocess.Popen:
    """Start JupyterHub (after ``prepare``) as a child process; its output goes to ``log``."""
    output = open(log or settings.state / "jupyterhub.log", "ab")  # noqa: SIM115
    with output:
        return subprocess.Popen(
            hub_command(settings), cwd=settings.state, env=hub_environment(),
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,  # its database, log and tokens are root's alone (so are servers' files)
        )


def wait_until_up(settings: HubSettings, process: subprocess.Popen, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise HubError(f"JupyterHub exited at start; see {settings.state / 'jupyterhub.log'}")
        try:
            with urllib.request.urlopen(settings.url + "hub/api/", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise HubError("JupyterHub did not answer in time; see "
                               f"{settings.state / 'jupyterhub.log'}") from None
            time.sleep(0.5)


def account_processes(settings: HubSettings) -> list[int]:
    """Processes that run as one of the hub's accounts (servers, kernels, terminals)."""
    uids = set()
    for name in settings.accounts():
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(name).pw_uid)
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) in uids:
                        found.append(int(status.parent.name))
                    break
    return sorted(found)


def stop(settings: HubSettings, process: subprocess.Popen | None = None,
         timeout: float = 60) -> list[int]:
    """Stop the hub (its servers and proxy with it); return any account process left over,
    after killing it."""
    pid = process.pid if process is not None else _read_pid(settings.state / "jupyterhub.pid")
    if process is None and pid is not None and "jupyterhub" not in _cmdline(pid):
        pid = None  # a pid file left behind: that number is no hub (any more)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid, process) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid, process):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    proxy = _read_pid(settings.state / "proxy.pid")
    if proxy is not None and _alive(proxy, None) and "proxy" in _cmdline(proxy):
        os.kill(proxy, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while account_processes(settings) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = account_processes(settings)
    for leftover in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(leftover, signal.SIGKILL)
    return left


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int, process: subprocess.Popen | None) -> bool:
    if process is not None:
        return process.poll() is None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def settings_from_arguments(arguments: argparse.Namespace) -> HubSettings:
    course_root = arguments.course.resolve()
    roster = arguments.roster or course_root / SETTINGS.folders.roster
    students = read_roster(roster)
    for name in students:
        check_account_name(name)
    return HubSettings(
        course_root=course_root, students=students, course_id=arguments.course_id,
        instructor=arguments.instructor, exchange=arguments.exchange.resolve(),
        ip=arguments.ip, port=arguments.port,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_command = commands.add_parser("start", help="set up and run the hub (Ctrl-C stops)")
    stop_command = commands.add_parser("stop", help="stop a hub started by `make hub`")
    for command in (start_command, stop_command):
        command.add_argument("--course", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    start_command.add_argument("--roster", type=Path, help=f"default: {SETTINGS.folders.roster}")
    start_command.add_argument("--course-id", default=COURSE_ID)
    start_command.add_argument("--instructor", default=INSTRUCTOR)
    start_command.add_argument("--exchange", type=Path, default=EXCHANGE)
    start_command.add_argument("--ip", default="127.0.0.1")
    start_command.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "stop":
            settings = HubSettings.load(arguments.course.resolve())
            pid = _read_pid(settings.state / "jupyterhub.pid")
            if pid is None or "jupyterhub" not in _cmdline(pid):
                print("No hub is running.")
                return 0
            left = stop(settings)
            print("Stopped the hub" + (f"; killed leftover processes {left}." if left else "."))
            return 0
        settings = settings_from_arguments(arguments)
        started = time.perf_counter()
        passwords = prepare(settings)
        process = launch(settings)
    except (HubError, FileNotFoundError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    interrupted = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: interrupted.append(number))
    try:
        wait_until_up(settings, process)
    except HubError as error:
        stop(settings, process)
        print(error, file=sys.stderr)
        return 1
    print(
        f"The course hub is up at {settings.url} ({time.perf_counter() - started:.1f} s): "
        f"{len(settings.students)} student(s) and the instructor {settings.instructor!r}.\n"
        f"Passwords: {passwords} (the instructor's alone). Log: "
        f"{settings.state / 'jupyterhub.log'}.\nCtrl-C or `make hub-stop` stops it.",
        flush=True,
    )
    note = instructor_note(settings)
    if note:
        print(note, flush=True)
    while process.poll() is None and not interrupted:
        time.sleep(0.5)
    left = stop(settings, process)
    print("The hub stopped" + (f"; killed leftover processes {left}." if left else "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
