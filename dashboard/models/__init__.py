"""All models, importable from one place (Alembic autogenerate sees them all)."""

from dashboard.models.experiments import (
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    ExperimentValue,
)
from dashboard.models.groups import (
    Bookmark,
    ExperimentGroup,
    GroupEvent,
    GroupStatus,
    GroupStatusChange,
    GroupStatusCount,
    GroupVersion,
    SearchIteration,
    TablePreference,
)
from dashboard.models.notes import Note
from dashboard.models.projects import Membership, Project, RepoUpload
from dashboard.models.standings import MetricStanding
from dashboard.models.tensorboards import TensorboardJob, TensorboardStatus
from dashboard.models.users import ApiToken, LoginSession, User
from dashboard.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery
from dashboard.models.workers import Worker

__all__ = [
    "ApiToken",
    "Bookmark",
    "Experiment",
    "ExperimentGroup",
    "ExperimentMetric",
    "GroupEvent",
    "ExperimentStatus",
    "ExperimentValue",
    "GroupStatus",
    "GroupStatusChange",
    "GroupStatusCount",
    "GroupVersion",
    "LoginSession",
    "Membership",
    "MetricStanding",
    "Note",
    "Project",
    "RepoUpload",
    "SearchIteration",
    "TablePreference",
    "TensorboardJob",
    "TensorboardStatus",
    "User",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "Worker",
]
