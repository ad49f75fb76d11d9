"""A class on the course hub, end to end: a JupyterHub started here (``make hub``), real Unix
accounts, nbgrader's exchange, JupyterLab in Debian's Chromium.

One hub serves the whole module, with two students: ``ada`` works in the browser (fetch
03_optimization, type one solution, submit; later fetch her feedback and read her score),
``bob`` through the same server API the Assignments tab calls, after the due date. The
instructor's steps are the commands ``make hub-collect`` and ``make hub-feedback`` run, and
``grade_class`` (what ``make grade`` runs). Then the students try to read what is not theirs.

Needs root (accounts), bubblewrap, configurable-http-proxy (``make hub`` installs it with npm)
and Debian's chromium.
"""

from __future__ import annotations

import datetime
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import CHROMIUM, LAB_SETTINGS
from hubs import RUNUSER, HubClient, course_hub, solution_source

from instructor import exchange, hub
from instructor.grading import grade_class
from instructor.report import write_csv

pytestmark = [
    pytest.mark.nbgrader,
    pytest.mark.kernel,
    pytest.mark.bubblewrap,
    pytest.mark.browser,
    pytest.mark.network,
    pytest.mark.skipif(os.geteuid() != 0, reason="the hub creates Unix accounts: needs root"),
    pytest.mark.skipif(not hub.PROXY.exists(), reason="no configurable-http-proxy (npm)"),
]
ASSIGNMENT = "03_optimization"
NOTEBOOK = "optimization.ipynb"
SOLVED = "gradient_update"  # 2 of the notebook's 11 points
TIMEOUT = 300.0  # seconds: a hang, not a speed limit


@pytest.fixture(scope="module")
def class_hub():
    with course_hub(["ada", "bob"]) as running:
        place = exchange.Place(running.settings.course_id, running.settings.exchange)
        exchange.release(running.course, place, [ASSIGNMENT])
        yield running


@pytest.fixture(scope="module")
def place(class_hub) -> exchange.Place:
    return exchange.Place(class_hub.settings.course_id, class_hub.settings.exchange)


@pytest.fixture(scope="module")
def ada(class_hub) -> str:
    return class_hub.settings.students[0]


@pytest.fixture(scope="module")
def bob(class_hub) -> str:
    return class_hub.settings.students[1]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def home(account: str) -> Path:
    return Path(pwd.getpwnam(account).pw_dir)


def instructor_step(class_hub, step: str) -> str:
    """``make hub-collect`` / ``make hub-feedback`` on the test's course: the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "instructor.exchange", step, "--assignment", ASSIGNMENT,
         "--course", str(class_hub.course.root)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def log_in(browser, class_hub, account: str):
    """A page of ``account``'s JupyterLab, logged in through the hub's login form."""
    settings_folder = home(account) / ".jupyter" / "lab" / "user-settings"
    for plugin, values in LAB_SETTINGS.items():  # no news pop-up, every cell on the page
        path = settings_folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    entry = pwd.getpwnam(account)
    for path in [home(account) / ".jupyter", *(home(account) / ".jupyter").rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT * 1000)
    page.goto(class_hub.settings.url + "hub/login")
    page.fill("#username_input", account)
    page.fill("#password_input", class_hub.passwords[account])
    page.click("#login_submit")
    page.wait_for_selector(".lm-MenuBar-itemLabel")
    return page


def nbgrader_menu(page) -> list[str]:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    return [item for item in items if item.strip()]


def open_assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    page.wait_for_selector("#released_assignments_list")


# --------------------------------------------------------------------------------------


def test_each_account_logs_in_with_its_own_password_and_only_the_instructor_reads_them(
    class_hub, ada
):
    passwords = hub.passwords_file(class_hub.settings)
    instructor = pwd.getpwnam(class_hub.settings.instructor)
    assert passwords.stat().st_uid == instructor.pw_uid
    assert passwords.stat().st_mode & 0o777 == 0o600
    assert set(hub.read_passwords(passwords)) == set(class_hub.settings.accounts())
    hashes = class_hub.settings.state / hub.HASHES_FILE
    assert hashes.stat().st_uid == 0 and hashes.stat().st_mode & 0o777 == 0o600
    assert class_hub.passwords[ada] not in hashes.read_text()
    bob_password = class_hub.passwords[class_hub.settings.students[1]]
    assert HubClient(class_hub, ada).login_with(bob_password) == 403
    assert HubClient(class_hub, ada).login_with(class_hub.passwords[ada]) == 200


def test_the_instructors_jupyterlab_has_the_instructor_tools_and_a_students_has_not(
    class_hub, browser, ada
):
    instructor = log_in(browser, class_hub, class_hub.settings.instructor)
    try:
        assert nbgrader_menu(instructor) == [
            "Assignment List", "Course List", "Formgrader", "Formgrader (local)",
            "Create assignment",
        ]
    finally:
        instructor.close()
    student = log_in(browser, class_hub, ada)
    try:
        assert nbgrader_menu(student) == ["Assignment List"]
        # nor behind the menu: the server has no Formgrader to open
        response = student.request.get(class_hub.settings.url + f"user/{ada}/formgrader")
        assert response.status == 404
    finally:
        student.close()


def test_a_student_fetches_solves_submits_and_reads_her_feedback_in_the_browser(
    class_hub, browser, place, ada, bob
):
    page = log_in(browser, class_hub, ada)
    try:
        open_assignment_list(page)
        released = page.locator("#released_assignments_list .list_item", has_text=ASSIGNMENT)
        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT)
        fetched.first.wait_for()
        notebook = home(ada) / ASSIGNMENT / NOTEBOOK
        assert notebook.stat().st_uid == pwd.getpwnam(ada).pw_uid

        # type the solution into its cell, as she would, and save
        page.goto(class_hub.settings.url + f"user/{ada}/lab/tree/{ASSIGNMENT}/{NOTEBOOK}")
        cell = page.locator(".jp-Notebook .jp-Cell", has_text=f"def {SOLVED}(").first
        editor = cell.locator(".cm-content")
        editor.click()
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.insert_text(solution_source(ASSIGNMENT, SOLVED))
        page.keyboard.press("ControlOrMeta+s")
        deadline = time.monotonic() + TIMEOUT
        while "par -= lr * par.grad" not in notebook.read_text():
            assert time.monotonic() < deadline, "the notebook was not saved"
            time.sleep(0.5)

        open_assignment_list(page)
        fetched = page.locator("#fetched_assignments_list .list_item", has_text=ASSIGNMENT)
        fetched.get_by_role("button", name="Submit").first.click()
        page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT).first.wait_for()

        # the due date passes; then bob submits the release as it is, through the same API
        time.sleep(1.0)
        now = datetime.datetime.now(datetime.timezone.utc)
        due = f"{now:%Y-%m-%d %H:%M:%S.%f} UTC"
        exchange.release(class_hub.course, place, [ASSIGNMENT], due=due)
        time.sleep(1.0)
        bobs = HubClient(class_hub, bob)
        bobs.login()
        bobs.start_server()
        assert bobs.assignments("fetch", ASSIGNMENT)["success"]
        assert bobs.assignments("submit", ASSIGNMENT)["success"]

        # the instructor: collect, grade (what `make grade` does), release the feedback
        collected = instructor_step(class_hub, "collect")
        assert f"Collected {ada} {ASSIGNMENT}" in collected
        assert f"Collected {bob} {ASSIGNMENT}" in collected
        results = {r.student: r for r in grade_class(class_hub.course, assignments=[ASSIGNMENT])}
        write_csv(list(results.values()), class_hub.course.root / "grades.csv")
        assert (results[ada].score, results[ada].max_score) == (2.0, 11.0)
        assert results[ada].status_text() == "ok"
        assert results[bob].score == 0.0
        assert re.fullmatch(r"late \(.+ after the due date\)", results[bob].status_text())
        released_feedback = instructor_step(class_hub, "feedback")
        assert "released feedback to 2 student(s)" in released_feedback

        # ada fetches her feedback in the Assignments tab and opens it
        open_assignment_list(page)
        submitted = page.locator("#submitted_assignments_list .list_item", has_text=ASSIGNMENT)
        submitted.get_by_role("button", name="Fetch Feedback").first.click()
        view = page.locator("#submitted_assignments_list a", has_text="view feedback").first
        view.wait_for()
        view.click()  # the file browser goes to the feedback's folder
        feedback_file = page.locator(".jp-DirListing-item", has_text=NOTEBOOK.replace(
            ".ipynb", ".html")).first
        feedback_file.dblclick()
        frame = page.frame_locator(".jp-HTMLViewer iframe").last
        frame.locator("body").get_by_text("Score: 2.0 / 11.0").first.wait_for()
        page.screenshot(path=str(class_hub.course.root.parent / "feedback.png"))
    finally:
        page.close()
    # bob's own feedback says 0, and nothing of ada's reached him
    bobs.assignments("fetch_feedback", ASSIGNMENT)
    bob_feedback = list((home(bob) / ASSIGNMENT / "feedback").rglob("*.html"))
    assert len(bob_feedback) == 1
    assert "Score: 0.0 / 11.0" in bob_feedback[0].read_text()


def test_students_cannot_read_each_others_submission_or_feedback(class_hub, ada, bob):
    course = class_hub.settings.exchange / class_hub.settings.course_id
    adas = next((course / "inbound" / ada).glob(f"{ada}+{ASSIGNMENT}+*"))
    # what bob sees of inbound is his own folder; ada's is neither listed nor reachable
    seen = class_hub.run_as(bob, f"ls -1 {course / 'inbound'}").stdout.splitlines()
    assert seen and all(name.startswith(f"{bob}+") for name in seen)
    for target in (adas / NOTEBOOK, course / "inbound" / ada / adas.name / NOTEBOOK):
        attempt = class_hub.run_as(bob, f"cat '{target}'")
        assert attempt.returncode != 0 and "gradient_update" not in attempt.stdout
    # outside the sandbox too, the Unix permissions keep him out of her folder
    outside = subprocess.run([RUNUSER, "-u", bob, "--", "cat", str(adas / NOTEBOOK)],
                             capture_output=True, text=True)
    assert outside.returncode != 0 and "Permission denied" in outside.stderr
    # feedback in the exchange is named by a hash of each submission's secret: not listable
    listing = class_hub.run_as(bob, f"ls {course / 'feedback'}")
    assert listing.returncode != 0 and "Permission denied" in listing.stderr
    secret = class_hub.run_as(bob, f"cat {home(ada)}/.local/share/jupyter/nbgrader_cache/*/*")
    assert secret.returncode != 0
    assert "Score: 2.0" not in "".join(p.read_text() for p in home(bob).rglob("*.html"))


def test_students_see_no_solutions_submissions_gradebook_or_grades(class_hub, bob):
    root = class_hub.course.root
    assert (root / "grades.csv").exists() and (root / "submitted").exists()
    for name in ("solutions", "submitted", "autograded", "feedback", "gradebook.db",
                 "grades.csv", "hub/jupyterhub.sqlite", "hub/password-hashes.json"):
        attempt = class_hub.run_as(bob, f"test -e '{root / name}' && echo visible")
        assert attempt.stdout.strip() != "visible", name
    solutions = class_hub.run_as(bob, "ls /work 2>&1; find / -name optimization.py -path "
                                      "'*solutions*' 2>/dev/null")
    assert "solutions/03_optimization" not in solutions.stdout
    # and the course's code still works for him: helpers import, data load
    kernel = class_hub.run_as(bob, "python -c 'from helpers.data import mnist; "
                                   "print(len(mnist.load_mnist()[0]))'")
    assert kernel.returncode == 0, kernel.stderr


def test_a_submission_that_names_another_student_is_refused(class_hub, place, ada, bob):
    before = (class_hub.course.root / "submitted" / ada / ASSIGNMENT / "timestamp.txt").read_text()
    forged = class_hub.run_as(
        bob, f"cd ~ && nbgrader submit {ASSIGNMENT} --student={ada}"
    )
    assert forged.returncode == 0, forged.stderr
    collected = instructor_step(class_hub, "collect")
    assert f"Refused {ada}+{ASSIGNMENT}+" in collected
    after = (class_hub.course.root / "submitted" / ada / ASSIGNMENT / "timestamp.txt").read_text()
    assert after == before


def _submitted_state(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text(errors="replace")
        for path in sorted((root / "submitted").rglob("*")) if path.is_file()
    }


def test_a_collect_killed_midway_loses_nothing_and_a_rerun_finishes_it(class_hub, bob):
    root = class_hub.course.root
    # a newer submission of bob's waits in the exchange
    assert class_hub.run_as(bob, f"cd ~ && nbgrader submit {ASSIGNMENT}").returncode == 0
    command = [sys.executable, "-m", "instructor.exchange", "collect", "--assignment",
               ASSIGNMENT, "--course", str(root)]
    before = _submitted_state(root)
    for delay in (0.3, 1.0, 2.0):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # every submission is whole where it was, or set aside whole for the rerun
        for student in class_hub.settings.students:
            assert (root / "submitted" / student / ASSIGNMENT / NOTEBOOK).exists() or any(
                (root / "submitted" / student).glob(f".{ASSIGNMENT}.replaced")
            )
    instructor_step(class_hub, "collect")
    finished = _submitted_state(root)
    instructor_step(class_hub, "collect")
    assert _submitted_state(root) == finished  # a rerun changes nothing more
    assert not list((root / "submitted").rglob(".*.collecting"))
    assert finished != before  # bob's newer submission is in
    assert {k: v for k, v in finished.items() if f"/{bob}/" not in f"/{k}"} == {
        k: v for k, v in before.items() if f"/{bob}/" not in f"/{k}"
    }


def test_a_restarted_hub_keeps_every_submission_and_feedback(class_hub, place, bob):
    exchanged = sorted(p.relative_to(place.root) for p in place.root.rglob("*"))
    assert hub.stop(class_hub.settings, class_hub.process) == []
    class_hub.process = hub.launch(class_hub.settings)
    hub.wait_until_up(class_hub.settings, class_hub.process)
    assert sorted(p.relative_to(place.root) for p in place.root.rglob("*")) == exchanged
    again = HubClient(class_hub, bob)
    again.login()
    again.start_server()
    listed = again.assignments("fetch_feedback", ASSIGNMENT)["value"]
    submitted = [a for a in listed if a["status"] == "submitted"]
    assert submitted and '"has_local_feedback": true' in json.dumps(submitted)


def test_stopping_the_hub_leaves_no_process_of_its_accounts(class_hub, bob):
    assert hub.account_processes(class_hub.settings)  # bob's server is running
    assert hub.stop(class_hub.settings, class_hub.process) == []
    assert hub.account_processes(class_hub.settings) == []
