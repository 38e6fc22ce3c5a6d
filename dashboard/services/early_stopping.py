"""Early stopping (HPTUNING.md): a reported metric reaching a rule's value stops the group."""

from dashboard.services.statuses import request_stop


def reached(rule, values):
    """Whether the metric values reach the rule (>= when maximising, <= when minimising)."""
    value = values.get(rule["metric"])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if rule.get("optimization", "maximize") == "minimize":
        return value <= rule["value"]
    return value >= rule["value"]


def has_rules(group):
    """Whether the group has early-stopping rules (a report may then stop it)."""
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
