"""Operator commands: `flask --app wsgi create-user|set-password|create-token|...`."""

import socket
import sys
from pathlib import Path

import click
from sqlalchemy import select

from dashboard.errors import DomainError, field_error
from dashboard.extensions import db
from dashboard.models import User
from dashboard.services.project import projects
from dashboard.services.user import users


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
    """Create a user (the password follows the Settings form's rule)."""
    try:
        if problem := users.password_problem(password):
            raise field_error("password", problem)
        users.create_user(name, password, email=email, is_staff=staff)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created user {name}{' (staff)' if staff else ''}.", err=True)


@click.command("set-password")
@click.argument("name")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of asking twice.",
)
def set_password(name, password_stdin):
    """Give user NAME a new password, e.g. after `import` or when it is forgotten.

    Asked for without echo (never an option: it would show in `ps` and the shell history).
    Every session signed in as NAME ends; API tokens stay valid (revoke them on the tokens page).
    """
    user = _user(name)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        users.reset_password(user, password)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Set a new password for {name}.", err=True)


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
@click.option(
    "--celery",
    "celery_worker",
    is_flag=True,
    help="Be a Celery worker that runs what the scheduler sends (RUNNER=celery).",
)
@click.option("--name", default=None, help="The Celery worker's node name (default celery@host).")
@click.option(
    "--gpus",
    default=None,
    help="The GPU ids experiments may be given here, e.g. 0,1,2,3 (default WORKER_GPUS).",
)
def worker(capacity, celery_worker, name, gpus):
    """Run the scheduler and the local runner (RUNNER=celery: the scheduler alone) until
    interrupted; with --celery, a Celery worker instead (it needs no database)."""
    from flask import current_app

    from dashboard.runner.gpus import parse_gpus
    from dashboard.runner.sandbox import Sandbox, SandboxUnavailable

    try:
        declared = parse_gpus(current_app.config["WORKER_GPUS"] if gpus is None else gpus)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--gpus / WORKER_GPUS") from None
    sandbox = Sandbox.from_config(current_app.config, share=capacity)
    try:
        sandbox.check(
            Path(current_app.config["OUTPUTS_ROOT"]) / ".sandbox-check" / socket.gethostname()
        )
    except SandboxUnavailable as exc:
        raise click.ClickException(f"No experiment will run here: {exc}") from None
    if celery_worker:  # it says what its experiments' limits are (dashboard/runner/tasks.py)
        from dashboard.runner.tasks import SETTINGS
        from dashboard.runner.tasks import app as celery_app

        SETTINGS["WORKER_GPUS"] = ",".join(map(str, declared))

        concurrency = capacity or current_app.config["WORKER_CAPACITY"]
        argv = ["worker", "--loglevel=INFO", f"--concurrency={concurrency}"]
        celery_app.worker_main(argv + ([f"--hostname={name}"] if name else []))
        return
    if current_app.config["RUNNER"] == "celery":
        from dashboard.runner.dispatch import CeleryScheduler

        CeleryScheduler(capacity=capacity).run()
        return
    from dashboard.runner.worker import Worker

    for line in sandbox.limits.describe():
        click.echo(f"Experiment limits: {line}", err=True)
    if declared:
        click.echo(f"GPUs: {', '.join(map(str, declared))}", err=True)
    Worker(capacity=capacity, gpus=declared).run()


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def export_data(file):
    """Write every table to FILE as JSON lines (password and token hashes left out)."""
    from dashboard.backup import export

    with open(file, "w", encoding="utf-8") as handle:
        counts = export(handle)
    click.echo(f"Exported {sum(counts.values())} rows of {len(counts)} tables to {file}.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_data(file):
    """Read a FILE written by `export` into an empty, upgraded database, all or nothing.

    Passwords and API tokens are not in backups: imported users have unusable passwords that
    must be reset (set-password) before they can sign in, and imported tokens never match a
    key (create new ones with create-token).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from dashboard.backup import BackupError, import_

    try:
        with open(file, encoding="utf-8") as handle:
            counts = import_(handle)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except (SQLAlchemyError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"Nothing was imported: {exc}") from None
    click.echo(
        f"Imported {sum(counts.values())} rows of {len(counts)} tables from {file}.", err=True
    )


def register(app):
    """Attach the commands to the app's CLI."""
    for command in (
        create_user,
        set_password,
        create_token,
        create_project,
        add_member,
        seed_demo,
        worker,
        export_data,
        import_data,
    ):
        app.cli.add_command(command)
