"""Comparing experiments (params, metrics, histories) or groups (specs, counts, best metrics)."""

import json
from dataclasses import dataclass, field

from dashboard.errors import ValidationError
from dashboard.ids import MAX_ID
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.services.experiment import experiments as experiment_service
from dashboard.services.experiment import metrics
from dashboard.services.group import groups as group_service
from dashboard.services.group import tallies

MAX_IDS = 20
# Metric names that read as "lower is better" when no objective says otherwise.
LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "perplexity")


@dataclass(frozen=True)
class Row:
    """One compared name and its value per column (None: absent); differs when they are not
    all equal."""

    name: str
    values: list

    @property
    def differs(self):
        return len({json.dumps(v, sort_keys=True, default=str) for v in self.values}) > 1


@dataclass
class ExperimentComparison:
    experiments: list
    params: list
    metrics: list
    # {metric name: [(experiment id, [values in report order])]}
    histories: dict = field(default_factory=dict)


@dataclass
class GroupComparison:
    groups: list
    spec: list
    counts: list
    best: list  # Rows of best values, named "metric (maximize)"


def parse_ids(raw, what):
    """Comma-separated ids from the query string: 400 when not integers, none, or over 20."""
    parts = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not parts:
        raise ValidationError(f"Give the {what} to compare, e.g. ?{what}=1,2.")
    try:
        ids = list(dict.fromkeys(int(part) for part in parts))
    except ValueError:
        raise ValidationError(f"{what} must be comma-separated ids, not '{raw}'.") from None
    outside = [number for number in ids if not 0 < number <= MAX_ID]
    if outside:  # past the id columns' range: the database could not even compare them
        raise ValidationError(f"{what}: {str(outside[0])[:30]} is not an id (1 to {MAX_ID}).")
    if len(ids) > MAX_IDS:
        raise ValidationError(f"At most {MAX_IDS} {what} can be compared at once ({len(ids)}).")
    return ids


def _rows(names, columns, value_of):
    return [Row(name, [value_of(column, name) for column in columns]) for name in names]


def compare_experiments(access, ids):
    """Params and latest metrics of the experiments side by side, and their metric histories.

    Two queries: the experiments, then all their reports.
    """
    experiments = experiment_service.experiments_by_id(access, ids)
    param_names = sorted({n for e in experiments for n in e.params or {}})
    metric_names = sorted({n for e in experiments for n in e.last_metric or {}})
    series = {e.id: {} for e in experiments}
    for experiment_id, values in metrics.reported_values(ids):
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                series[experiment_id].setdefault(name, []).append(value)
    histories = {}
    for name in sorted({n for per in series.values() for n in per}):
        histories[name] = [(e.id, series[e.id].get(name, [])) for e in experiments]
    return ExperimentComparison(
        experiments=experiments,
        params=_rows(param_names, experiments, lambda e, n: (e.params or {}).get(n)),
        metrics=_rows(metric_names, experiments, lambda e, n: (e.last_metric or {}).get(n)),
        histories=histories,
    )


def _option_text(entry):
    kind, spec = next(iter(entry.items()))
    if isinstance(spec, dict):
        spec = ", ".join(f"{k}={v}" for k, v in spec.items())
    elif isinstance(spec, list):
        spec = ", ".join(str(v) for v in spec)
    return f"{kind}: {spec}"


def _spec_items(group):
    hptuning = group.hptuning or {}
    items = {"algorithm": group.search_algorithm, "concurrency": group.concurrency}
    for name, entry in (hptuning.get("matrix") or {}).items():
        items[f"matrix.{name}"] = _option_text(entry)
    for key, value in hptuning.items():
        if key in ("matrix", "concurrency") or value is None:
            continue
        if isinstance(value, dict):
            for setting, setting_value in value.items():
                items[f"{key}.{setting}"] = setting_value
        else:
            items[key] = value
    return items


def _direction(name, groups):
    for group in groups:
        objective = group.objective or {}
        if objective.get("metric") == name:
            return objective.get("optimization", "maximize")
        for rule in (group.hptuning or {}).get("early_stopping") or []:
            if rule.get("metric") == name:
                return rule.get("optimization", "maximize")
    lowered = name.lower()
    return "minimize" if any(word in lowered for word in LOWER_IS_BETTER) else "maximize"


def compare_groups(access, ids):
    """Spec differences, counts by status and best shared metrics of the groups: three queries."""
    groups = group_service.groups_by_id(access, ids)
    specs = {g.id: _spec_items(g) for g in groups}
    spec_names = list(dict.fromkeys(n for g in groups for n in specs[g.id]))
    counts = {g.id: {} for g in groups}
    counts.update(tallies.experiment_counts_of(ids))
    statuses = [s for s in EXPERIMENT_STATUSES.statuses if any(s in c for c in counts.values())]
    count_rows = _rows(statuses, groups, lambda g, s: counts[g.id].get(s, 0))
    count_rows.append(Row("total", [sum(counts[g.id].values()) for g in groups]))
    extremes = metrics.metric_ranges(ids)
    best = []
    for name in sorted(n for n, per in extremes.items() if len(per) == len(groups)):
        direction = _direction(name, groups)
        pick = 0 if direction == "minimize" else 1
        best.append(Row(f"{name} ({direction})", [extremes[name][g.id][pick] for g in groups]))
    return GroupComparison(
        groups=groups,
        spec=_rows(spec_names, groups, lambda g, n: specs[g.id].get(n)),
        counts=count_rows,
        best=best,
    )
