"""All models, importable from one place (Alembic autogenerate sees them all)."""

from dashboard.models.experiments import Experiment, ExperimentStatus, ExperimentValue
from dashboard.models.groups import Bookmark, ExperimentGroup, GroupStatus, SearchIteration
from dashboard.models.projects import Membership, Project
from dashboard.models.tensorboards import TensorboardJob, TensorboardStatus
from dashboard.models.users import ApiToken, User

__all__ = [
    "ApiToken", "Bookmark", "Experiment", "ExperimentGroup", "ExperimentStatus",
    "ExperimentValue", "GroupStatus", "Membership", "Project", "SearchIteration",
    "TensorboardJob", "TensorboardStatus", "User",
]
