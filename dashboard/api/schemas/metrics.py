"""Metric reports: one or a batch in, the stored rows out."""

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, RootModel, field_validator

from dashboard.api.schemas.base import Request, Response, Timestamp

# Metric names: what the query language can name after `metric.` (no , : | ~ or spaces).
METRIC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,127}$")


MAX_METRICS = 100


MAX_METRIC_REPORTS = 1000


def check_metric_values(values):
    """A flat object of at most 100 sane names, each a finite number (not a boolean)."""
    if not values:
        raise ValueError("Report at least one metric.")
    if len(values) > MAX_METRICS:
        raise ValueError(f"At most {MAX_METRICS} metrics per report, not {len(values)}.")
    problems = []
    for name, value in values.items():
        if not METRIC_NAME.match(name):
            problems.append(
                f"'{name[:140]}' is not a valid metric name (letters, digits, "
                "_ . - /, at most 128)."
            )
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{name}: {json_repr(value)} is not a number.")
        elif not _finite(value):
            problems.append(f"{name}: {json_repr(value)} is not a finite number.")
    if problems:
        raise ValueError(" ".join(problems))
    return values


def _finite(number):
    """Whether a number is a finite float (an integer past a float's range is not)."""
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def json_repr(value):
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def check_report_time(value):
    """An ISO 8601 string (T or a space before the time); a naive time is UTC."""
    if value is None:
        return value
    if not isinstance(value, str):
        raise ValueError("Enter an ISO 8601 date and time, e.g. 2026-11-26T22:37:47.820000+00:00.")
    return value


class MetricIn(Request):
    values: dict[str, Any]
    created_at: Annotated[datetime | None, Field(strict=False)] = None

    _values = field_validator("values")(check_metric_values)
    _created_at = field_validator("created_at", mode="before")(check_report_time)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class MetricListIn(
    RootModel[Annotated[list[MetricIn], Field(min_length=1, max_length=MAX_METRIC_REPORTS)]]
):
    """The tracking client's batch: a list of metric reports."""


class MetricOut(Response):
    id: int
    uuid: str
    experiment: int
    created_at: Timestamp
    values: dict


class MetricListOut(RootModel[list[MetricOut]]):
    """Rows stored from one batch, in the order they were sent."""
