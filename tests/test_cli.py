"""Operator commands: create-user, set-password, create-token, create-project, add-member,
seed-demo."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ApiToken, Membership, Project, User
from dashboard.models.users import hash_key
from dashboard.services.user import users
from tests.factories import make_user
from tests.support.backup import run_cli
from tests.support.web import sign_in


def test_create_user_hashes_the_password_and_sets_staff(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "alice", "--password", "s3cret-pw", "--staff"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.username == "alice")).scalar_one()
    assert user.is_staff is True
    assert "s3cret-pw" not in user.password_hash
    assert user.check_password("s3cret-pw")


def test_create_user_follows_the_password_rule_of_the_settings_form(app):
    result = app.test_cli_runner().invoke(args=["create-user", "alice", "--password", "short"])
    assert result.exit_code != 0
    assert "password: Use at least 8 characters." in result.output
    assert db.session.execute(select(User)).first() is None


def test_create_user_refuses_a_reserved_name(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "tensorboard", "--password", "long-enough-pw"]
    )
    assert result.exit_code != 0
    assert "reserved" in result.output
    assert db.session.execute(select(User)).first() is None


def test_create_token_prints_only_the_key_and_stores_only_its_hash(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--password", "password"])
    result = runner.invoke(args=["create-token", "alice"])
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert len(key) == 40 and "\n" not in key
    token = db.session.execute(select(ApiToken)).scalar_one()
    assert token.key_hash == hash_key(key)
    assert key not in token.key_hash


def test_create_project_private_and_add_member(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--password", "password"])
    runner.invoke(args=["create-user", "bob", "--password", "password"])
    assert runner.invoke(args=["create-project", "alice", "secret", "--private"]).exit_code == 0
    result = runner.invoke(args=["add-member", "alice/secret", "bob", "viewer"])
    assert result.exit_code == 0, result.output
    project = db.session.execute(select(Project)).scalar_one()
    assert project.is_public is False
    membership = db.session.execute(select(Membership)).scalar_one()
    assert membership.role == "viewer"


def test_add_member_refuses_an_unknown_role(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--password", "password"])
    runner.invoke(args=["create-project", "alice", "demo"])
    result = runner.invoke(args=["add-member", "alice/demo", "alice", "boss"])
    assert result.exit_code != 0
    assert db.session.execute(select(Membership)).first() is None


def test_seed_demo_creates_admin_and_reference_group_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.output == second.output
    assert "Sign in as root / " in first.output
    from dashboard.models import ExperimentGroup

    groups = db.session.execute(select(ExperimentGroup)).scalars().all()
    assert sorted(g.search_algorithm for g in groups) == ["bo", "hyperband", "random"]


def _has_password(user, password):
    db.session.refresh(user)
    return user.check_password(password)


def test_set_password_lets_the_user_sign_in_with_the_new_password_only(app):
    make_user("alice", "old-password")
    result = run_cli(app, "set-password", "alice", stdin="new-password\nnew-password\n")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Set a new password for alice.\n"
    assert "new-password" not in result.output
    client = app.test_client()
    assert sign_in(client, "alice", "old-password").status_code == 401
    assert sign_in(client, "alice", "new-password").status_code == 302


def test_set_password_reads_one_line_from_stdin_with_password_stdin(app):
    alice = make_user("alice", "old-password")
    result = run_cli(app, "set-password", "alice", "--password-stdin", stdin="from a script\n")
    assert result.exit_code == 0, result.output
    assert "New password" not in result.output
    assert _has_password(alice, "from a script")


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        pytest.param("bob", "new-password", "No user named 'bob'.", id="unknown-user"),
        # The rule of the Settings password form, not a copy of it.
        pytest.param("alice", "short", users.password_problem("short"), id="too-short"),
    ],
)
def test_set_password_refuses_and_changes_nothing(app, name, password, message):
    alice = make_user("alice", "old-password")
    result = run_cli(app, "set-password", name, stdin=f"{password}\n{password}\n")
    assert result.exit_code == 1
    assert message in result.stderr
    assert _has_password(alice, "old-password")


def test_set_password_lets_an_imported_user_sign_in(app, restored, tmp_path):
    make_user("alice", "old-password")
    backup = tmp_path / "backup.jsonl"
    assert run_cli(app, "export", str(backup)).exit_code == 0
    assert run_cli(restored, "import", str(backup)).exit_code == 0
    with restored.app_context():
        assert sign_in(restored.test_client(), "alice", "old-password").status_code == 401
    result = run_cli(restored, "set-password", "alice", "--password-stdin", stdin="restored-pw\n")
    assert result.exit_code == 0, result.output
    with restored.app_context():
        assert sign_in(restored.test_client(), "alice", "restored-pw").status_code == 302
