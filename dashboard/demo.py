"""The embedded demo: an admin user and the `quick-start` project with the reference group."""

import secrets
from pathlib import Path

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ExperimentGroup, Project, User
from dashboard.services import groups, projects, users
from dashboard.services.access import project_access

ADMIN = "root"
DEMO_PROJECT = "quick-start"
DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "polyaxonfile.yml"


def _admin_password(instance_path):
    path = Path(instance_path) / "admin-password.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_demo(instance_path):
    """Create (once) the admin user and the demo project with its group; returns the login."""
    password = _admin_password(instance_path)
    admin = db.session.execute(select(User).where(User.username == ADMIN)).scalar_one_or_none()
    if admin is None:
        admin = users.create_user(ADMIN, password, is_staff=True)
    project = db.session.execute(
        select(Project).where(Project.owner_id == admin.id, Project.name == DEMO_PROJECT)
    ).scalar_one_or_none()
    if project is None:
        project = projects.create_project(
            actor=admin, name=DEMO_PROJECT, description="The reference page's random search."
        )
        access = project_access(ADMIN, DEMO_PROJECT, actor=admin)
        groups.create_group(access, content=DEMO_FILE.read_text(),
                            description="Random search over learning rate, dropout, activation.")
    has_group = db.session.execute(
        select(ExperimentGroup.id).where(ExperimentGroup.project_id == project.id)
    ).first()
    return ADMIN, password, bool(has_group)
