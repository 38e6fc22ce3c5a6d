"""Early stopping: a reported metric reaching an entry's value stops the group (HPTUNING.md);
an entry's policy stops single experiments (EXTENSIONS.md section 1, hptuning/policies.py)."""

from sqlalchemy import and_, insert, or_, select, union_all

from dashboard.extensions import db
from dashboard.hptuning import policies
from dashboard.hptuning.policies import Standing
from dashboard.models import MetricStanding
from dashboard.models.statuses import EXPERIMENT_STATUSES
from dashboard.models.types import utcnow
from dashboard.services.group.statuses import request_stop, set_experiment_status


def reached(rule, values):
    """Whether the metric values reach the rule (>= when maximising, <= when minimising); an
    entry without a value (a policy alone) never does."""
    value = values.get(rule["metric"])
    if rule.get("value") is None:
        return False
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if rule.get("optimization", "maximize") == "minimize":
        return value <= rule["value"]
    return value >= rule["value"]


def has_rules(group):
    """Whether the group has early-stopping entries (a report may then stop it, or one of its
    experiments)."""
    return bool((group.hptuning or {}).get("early_stopping"))


def check_metrics(group, values, experiment=None):
    """Stop the group if the values reach one of its early-stopping rules (no commit).

    Returns the status message when it stopped the group, else None.
    """
    if group.is_final or group.status == "stopping":
        return None
    for rule in (group.hptuning or {}).get("early_stopping") or []:
        if reached(rule, values):
            comparison = "<=" if rule.get("optimization") == "minimize" else ">="
            message = (
                f"Early stopping: {rule['metric']} reached {values[rule['metric']]} "
                f"({comparison} {rule['value']})"
                + (f" in experiment {experiment.id}." if experiment is not None else ".")
            )
            request_stop(group, message=message)
            return message
    return None


# ---- policies: single experiments stopped at report n (EXTENSIONS.md section 1) ----------
#
# Each report of a metric a policy watches writes the experiment's Standing at that report
# number (lowest, highest, running average) to metric_standings, from its Standing at the
# report before. Judging report n then reads the group's other experiments at n, one index
# range of (group, metric, report): the work grows with the experiments that reached n, never
# with the reports before it. A report costs three statements more (its latest standing, the
# insert, the others at n), the third only at an evaluated report; a group without policies
# pays nothing (has_policies is read from the spec). n counts reports in the order they are
# stored (a batch by its times, then as sent): a report older than stored ones, which comes
# late, counts at its arrival (decisions already taken stand).

_STANDINGS = MetricStanding.__table__
_STANDING_COLUMNS = (_STANDINGS.c.lowest, _STANDINGS.c.highest, _STANDINGS.c.average)


def policy_rules(group):
    """The group's early-stopping entries that carry a policy."""
    rules = (group.hptuning or {}).get("early_stopping") or []
    return [rule for rule in rules if rule.get("policy")]


def has_policies(group):
    """Whether a report may stop a single experiment of the group."""
    return bool(policy_rules(group))


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _latest(experiment_id, metrics):
    """{metric: (n, Standing)} of the experiment's latest standing of each metric: one
    statement, an index step per metric."""
    parts = [
        select(_STANDINGS.c.metric, _STANDINGS.c.report, *_STANDING_COLUMNS)
        .where(_STANDINGS.c.experiment_id == experiment_id, _STANDINGS.c.metric == metric)
        .order_by(_STANDINGS.c.report.desc())
        .limit(1)
        .subquery()
        for metric in sorted(metrics)
    ]
    statement = union_all(*(select(part) for part in parts)) if len(parts) > 1 else select(parts[0])
    return {
        row.metric: (row.report, Standing(row.lowest, row.highest, row.average))
        for row in db.session.execute(statement)
    }


def _others_at(group_id, experiment_id, points):
    """{(metric, n): [Standing]} of the group's other experiments at the report numbers
    `points` ({metric: [n]}): one statement, one index range per (metric, n)."""
    rows = db.session.execute(
        select(_STANDINGS.c.metric, _STANDINGS.c.report, *_STANDING_COLUMNS).where(
            _STANDINGS.c.group_id == group_id,
            or_(
                *(
                    and_(_STANDINGS.c.metric == metric, _STANDINGS.c.report.in_(numbers))
                    for metric, numbers in sorted(points.items())
                )
            ),
            _STANDINGS.c.experiment_id != experiment_id,
        )
    )
    found = {}
    for row in rows:
        found.setdefault((row.metric, row.report), []).append(
            Standing(row.lowest, row.highest, row.average)
        )
    return found


def _record(group, experiment, reports, rules):
    """Write the experiment's standings at these reports (values in the order stored);
    returns [(metric, n, Standing)] in that order."""
    watched = {rule["metric"] for rule in rules}
    series = [
        (name, value)
        for values in reports
        for name, value in values.items()
        if name in watched and _number(value)
    ]
    if not series:
        return []
    latest = _latest(experiment.id, {name for name, _ in series})
    written = []
    for name, value in series:
        n, before = latest.get(name, (0, None))
        now = before.then(value, n + 1) if before else Standing.first(value)
        latest[name] = (n + 1, now)
        written.append((name, n + 1, now))
    db.session.execute(
        insert(_STANDINGS),
        [
            {
                "group_id": group.id,
                "metric": name,
                "report": n,
                "experiment_id": experiment.id,
                "lowest": standing.lowest,
                "highest": standing.highest,
                "average": standing.average,
            }
            for name, n, standing in written
        ],
    )
    return written


def _judged(group, experiment):
    """Whether a policy may still stop the experiment (nobody asked it to stop already)."""
    return not (
        group.is_final
        or group.status == "stopping"
        or EXPERIMENT_STATUSES.is_final(experiment.status)
        or experiment.stop_requested_at is not None
    )


def _stop(experiment, message):
    """Stop it: a pending one at once, a running one by a request its worker carries out; its
    final `stopped` status row carries the message (statuses.set_experiment_status)."""
    if experiment.status == "created":
        set_experiment_status(experiment, "stopped", message)
        return
    experiment.stop_requested_at = utcnow()
    experiment.stop_message = message


def apply_policies(group, experiment, reports):
    """Record the experiment's standings at these reports (their values, in the order
    stored) and stop it when a policy says so at one of them (no commit).

    The caller holds the group's row (key share) and the experiment's, read under the locks.
    Returns the status message when it stopped the experiment, else None.
    """
    rules = policy_rules(group)
    written = _record(group, experiment, reports, rules) if rules else []
    if not written or not _judged(group, experiment):
        return None
    checks = [
        (rule, name, n, standing)
        for name, n, standing in written
        for rule in rules
        if rule["metric"] == name and policies.evaluated_at(rule["policy"], n)
    ]
    points = {}
    for _, name, n, _ in checks:
        points.setdefault(name, set()).add(n)
    others = _others_at(group.id, experiment.id, points) if checks else {}
    for rule, name, n, standing in checks:
        message = policies.should_stop(rule, n, standing, others.get((name, n), []))
        if message:
            _stop(experiment, message)
            return message
    return None
