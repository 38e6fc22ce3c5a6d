"""Operator commands: create-user, create-token, create-project, add-member, seed-demo."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ApiToken, Membership, Project, User
from dashboard.models.users import hash_key


def test_create_user_hashes_the_password_and_sets_staff(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "alice", "--password", "s3cret", "--staff"])
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.username == "alice")).scalar_one()
    assert user.is_staff is True
    assert "s3cret" not in user.password_hash
    assert user.check_password("s3cret")


def test_create_user_refuses_a_reserved_name(app):
    result = app.test_cli_runner().invoke(args=["create-user", "tensorboard", "--password", "x"])
    assert result.exit_code != 0
    assert "reserved" in result.output
    assert db.session.execute(select(User)).first() is None


def test_create_token_prints_only_the_key_and_stores_only_its_hash(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--password", "pw"])
    result = runner.invoke(args=["create-token", "alice"])
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert len(key) == 40 and "\n" not in key
    token = db.session.execute(select(ApiToken)).scalar_one()
    assert token.key_hash == hash_key(key)
    assert key not in token.key_hash


def test_create_project_private_and_add_member(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--password", "pw"])
    runner.invoke(args=["create-user", "bob", "--password", "pw"])
    assert runner.invoke(args=["create-project", "alice", "secret", "--private"]).exit_code == 0
    result = runner.invoke(args=["add-member", "alice/secret", "bob", "viewer"])
    assert result.exit_code == 0, result.output
    project = db.session.execute(select(Project)).scalar_one()
    assert project.is_public is False
    membership = db.session.execute(select(Membership)).scalar_one()
    assert membership.role == "viewer"


def test_add_member_refuses_an_unknown_role(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--password", "pw"])
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
