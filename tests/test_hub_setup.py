"""What `make hub` decides before any server starts: accounts, passwords, each role's view.

(tests/test_hub.py runs a real hub; these need neither root nor a hub.)
"""

from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest

from instructor import hub, workspace


@pytest.fixture
def settings(tmp_path) -> hub.HubSettings:
    return hub.HubSettings(
        course_root=tmp_path / "course", students=["ada", "bob"], instructor="teacher",
        exchange=tmp_path / "exchange", course_id="course-x",
    )


@pytest.mark.parametrize("name", ["Ada", "ada lovelace", "ada+bob", "1ada", "a" * 33, "ada/b"])
def test_a_roster_name_that_cannot_be_a_unix_account_is_refused_with_what_to_do(name):
    with pytest.raises(hub.HubError, match="lowercase letters, digits"):
        hub.check_account_name(name)


def test_an_existing_account_that_make_hub_did_not_make_is_never_taken_over(settings):
    system_account = pwd.getpwuid(0).pw_name  # root: certainly not made by make hub
    with pytest.raises(hub.HubError, match="already exists and was not made by `make hub`"):
        hub.ensure_account(system_account, settings)


def test_passwords_are_kept_as_salted_hashes_that_only_their_password_matches():
    stored = hub.hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert hub.password_matches("correct horse", stored)
    assert not hub.password_matches("correct hors", stored)
    assert stored != hub.hash_password("correct horse")  # a new salt each time
    assert not hub.password_matches("x", "not a hash")


def test_the_passwords_file_is_read_back_as_written(tmp_path):
    path = tmp_path / hub.PASSWORDS_FILE
    path.write_text("# logins\nada s3cret\nbob an0ther\n")
    assert hub.read_passwords(path) == {"ada": "s3cret", "bob": "an0ther"}
    assert hub.read_passwords(tmp_path / "none") == {}


def test_settings_survive_a_round_trip_through_the_hubs_folder(settings):
    settings.state.mkdir(parents=True)
    settings.save()
    again = hub.HubSettings.load(settings.course_root)
    assert again == settings
    with pytest.raises(hub.HubError, match="run `make hub` first"):
        hub.HubSettings.load(settings.course_root / "elsewhere")


def test_students_get_the_course_id_and_exchange_and_the_instructor_the_course_too(settings):
    student = hub.nbgrader_settings(settings, "student")
    instructor = hub.nbgrader_settings(settings, "instructor")
    for text in (student, instructor):
        assert "c.CourseDirectory.course_id = 'course-x'" in text
        assert f"c.Exchange.root = '{settings.exchange}'" in text
    assert "CourseDirectory.root" not in student
    assert f"c.CourseDirectory.root = '{settings.course_root}'" in instructor


def test_each_role_reads_its_own_jupyter_configuration(settings):
    settings.state.mkdir(parents=True)
    hub.write_jupyter_configs(settings)
    student = settings.public / "student"
    page = json.loads((student / "labconfig" / "page_config.json").read_text())
    shipped = workspace.STUDENT_JUPYTER_CONFIG / "labconfig" / "page_config.json"
    assert page == json.loads(shipped.read_text())  # the same view as `make lab`
    instructor = json.loads(
        (settings.public / "instructor" / "jupyter_server_config.json").read_text())
    assert "frame-ancestors 'self'" in json.dumps(instructor)  # Formgrader's panel shows
    assert not (settings.public / "instructor" / "labconfig").exists()
    assert settings.state.stat().st_mode & 0o777 == 0o711  # reachable, not listable


def test_a_students_server_sees_neither_the_course_nor_anothers_inbound(settings, monkeypatch):
    monkeypatch.setattr(hub.pwd, "getpwnam", lambda name: pwd.struct_passwd(
        (name, "x", 2000, 2000, "", f"/home/{name}", "/bin/bash")))
    arguments = hub.server_sandbox(settings, "ada")
    binds = {(arguments[i], arguments[i + 1], arguments[i + 2])
             for i, a in enumerate(arguments[:-2]) if a in ("--bind", "--ro-bind")}
    mounted = {target for _, _, target in binds}
    assert str(settings.course_root) not in mounted
    assert not any(t.startswith(str(settings.course_root) + "/") and "public/student" not in t
                   for t in mounted)
    inbound = settings.exchange / "course-x" / "inbound"
    assert ("--bind", str(inbound / "ada"), str(inbound)) in binds
    assert ("--bind", "/home/ada", "/home/ada") in binds
    assert not any("/home/bob" in t for t in mounted)
    assert arguments[-1] == "--" and "--unshare-pid" in arguments
    teacher = hub.server_sandbox(settings, "teacher")
    assert str(settings.course_root) in teacher  # the instructor's server has the course
    assert str(inbound / "teacher") not in teacher


def test_everyone_can_read_a_python_under_usr_but_not_one_under_a_private_home(tmp_path):
    assert hub._everyone_can_read(Path("/usr/bin"))
    private = tmp_path / "private"
    (private / "python").mkdir(parents=True)
    os.chmod(private, 0o700)
    assert not hub._everyone_can_read(private / "python")


def test_make_hub_says_when_the_instructors_account_cannot_write_the_course(settings):
    settings.course_root.mkdir(parents=True)
    owner = pwd.getpwuid(settings.course_root.stat().st_uid).pw_name
    note = hub.instructor_note(settings)
    assert f"belongs to {owner!r}" in note and "HUB_INSTRUCTOR" in note
    settings.instructor = owner
    assert hub.instructor_note(settings) is None
