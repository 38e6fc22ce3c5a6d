"""A project's TensorBoards: a selection's start body, and a job as the project's routes answer
it (a group's or a selection's)."""

from pydantic import Field

from dashboard.api.schemas.base import Request
from dashboard.api.schemas.groups import TensorboardOut
from dashboard.services.project.tensorboards import MAX_SELECTION


class SelectionIn(Request):
    # Distinct ids of the project's experiments; the service names duplicates and strangers.
    experiments: list[int] = Field(min_length=1, max_length=MAX_SELECTION)


class ProjectTensorboardOut(TensorboardOut):
    """CONTRACT section 5's job, plus the experiments a selection serves (a group's: None)."""

    experiment_group: int | None  # None for a selection
    experiments: list[int] | None
