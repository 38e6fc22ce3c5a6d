"""The embedded demo: an admin user and the `quick-start` project running real groups.

The project's code is the repo's demo/ folder (model.py, a small numpy training script, and its
polyaxonfiles), registered as the project's upload; its groups are the reference page's random
search, a hyperband and a bo group over that script.
"""

import secrets
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ExperimentGroup, Project, RepoUpload, User
from dashboard.services.group import groups
from dashboard.services.project import projects
from dashboard.services.project.access import project_access
from dashboard.services.user import users
from dashboard.storage import paths

ADMIN = "root"
DEMO_PROJECT = "quick-start"
DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_FILE = DEMO_DIR / "polyaxonfile.yml"
# (name, polyaxonfile, description); the reference group keeps no name, as it always had none.
DEMO_GROUPS = (
    (None, "polyaxonfile.yml", "Random search over learning rate, dropout, activation."),
    (
        "hyperband-demo",
        "hyperband.yml",
        "Hyperband (max_iter 9, eta 3) over num_epochs, minimising loss.",
    ),
    (
        "bo-demo",
        "bo.yml",
        "Bayesian optimisation: 4 random trials, then 6 suggestions, maximising accuracy.",
    ),
)


def _admin_password(instance_path):
    path = Path(instance_path) / "admin-password.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_demo(instance_path):
    """Create (once) the admin user and the demo project, its code and groups; returns the login."""
    password = _admin_password(instance_path)
    admin = db.session.execute(select(User).where(User.username == ADMIN)).scalar_one_or_none()
    if admin is None:
        admin = users.create_user(ADMIN, password, is_staff=True)
    project = db.session.execute(
        select(Project).where(Project.owner_id == admin.id, Project.name == DEMO_PROJECT)
    ).scalar_one_or_none()
    if project is None:
        project = projects.create_project(
            actor=admin,
            name=DEMO_PROJECT,
            description="The reference page's random search, a hyperband and a bo group.",
        )
        _register_demo_code(project, admin)
        access = project_access(ADMIN, DEMO_PROJECT, actor=admin)
        for name, filename, description in DEMO_GROUPS:
            groups.create_group(
                access,
                content=(DEMO_DIR / filename).read_text(),
                name=name,
                description=description,
            )
    has_group = db.session.execute(
        select(ExperimentGroup.id).where(ExperimentGroup.project_id == project.id)
    ).first()
    return ADMIN, password, bool(has_group)


def _register_demo_code(project, admin):
    """Copy demo/ into a new upload of the project, as `polyaxon upload` would; one commit."""
    upload = RepoUpload(project_id=project.id, user_id=admin.id, path="", size=0)
    db.session.add(upload)
    db.session.flush()
    folder = paths.repo_dir(current_app.config, admin.username, project.name, upload.id)
    # A folder left by an earlier database with the same ids is not ours to reuse.
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    upload.path = str(folder)
    upload.size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    db.session.commit()
    return upload
