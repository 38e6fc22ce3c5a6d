"""Operator commands: `flask --app wsgi create-user|create-token|create-project|add-member`."""

import click
from sqlalchemy import select

from dashboard.errors import DomainError
from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import projects, users


def _fail(exc):
    message = exc.detail
    if getattr(exc, "fields", None):
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
    raise click.ClickException(message)


def _user(name):
    user = db.session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"No user named '{name}'.")
    return user


@click.command("create-user")
@click.argument("name")
@click.option("--password", required=True, help="The user's password.")
@click.option("--email", default=None)
@click.option("--staff", is_flag=True, help="Staff users may do everything.")
def create_user(name, password, email, staff):
    """Create a user."""
    try:
        users.create_user(name, password, email=email, is_staff=staff)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created user {name}{' (staff)' if staff else ''}.", err=True)


@click.command("create-token")
@click.argument("name")
@click.option("--token-name", default="cli", help="A label for the token.")
def create_token(name, token_name):
    """Create an API token for a user; prints only the new key on stdout."""
    _, key = users.create_token(_user(name), token_name)
    click.echo(key)


@click.command("create-project")
@click.argument("owner")
@click.argument("name")
@click.option("--private", is_flag=True, help="Visible to members only.")
@click.option("--description", default=None)
def create_project(owner, name, private, description):
    """Create a project owned by OWNER."""
    try:
        projects.create_project(
            actor=_user(owner), name=name, description=description, is_public=not private
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created project {owner}/{name}.", err=True)


@click.command("add-member")
@click.argument("project")
@click.argument("user")
@click.argument("role", type=click.Choice(["viewer", "member", "admin"]))
def add_member(project, user, role):
    """Give USER a ROLE in OWNER/PROJECT."""
    owner, _, name = project.partition("/")
    if not name:
        raise click.ClickException("PROJECT must be OWNER/NAME.")
    try:
        projects.add_member(owner, name, user, role, actor=_user(owner))
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{user} is now {role} of {owner}/{name}.", err=True)


@click.command("seed-demo")
def seed_demo():
    """Create (once) the admin user and the demo project, code and groups; print the login."""
    from flask import current_app

    from dashboard.demo import DEMO_PROJECT, ensure_demo

    username, password, _ = ensure_demo(current_app.instance_path)
    click.echo(f"Sign in as {username} / {password} (demo project: {username}/{DEMO_PROJECT})")


@click.command("worker")
@click.option("--capacity", type=int, default=None, help="Experiments run at once (default 8).")
def worker(capacity):
    """Run the scheduler and the local runner until interrupted."""
    from dashboard.runner.worker import Worker

    Worker(capacity=capacity).run()


def register(app):
    """Attach the commands to the app's CLI."""
    for command in (create_user, create_token, create_project, add_member, seed_demo, worker):
        app.cli.add_command(command)
