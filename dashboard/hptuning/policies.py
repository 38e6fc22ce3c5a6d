"""Early-stopping policies (Polyaxon 0.6.1's `median`, `average` and `truncation`): whether one
experiment of a group stops at its n-th report of a metric.

An experiment is compared at report number n with the group's other experiments that have at
least n reports of the metric, each summarised by its Standing at n: the best value and the
running average of its first n reports. A policy acts only once at least MIN_OTHERS of them
have n reports, and only at every `evaluation_interval`-th report.

- median (Google Vizier's median stopping rule): stop when its best up to n is worse than the
  median of the others' running averages up to n;
- average: the same with the mean of those running averages;
- truncation: stop when its best up to n ranks in the worst `percent`% of the experiments at
  report n (itself and the others), all ranked on their best up to n. The experiments "still
  running at report n" are those that reached report n: one that ended before its n-th report
  is not among them, one that reached it is, whatever it does later (so the decision depends
  on the reports only, not on when it is taken).

"Worse" is strict (> when minimising, < when maximising): a tie never stops an experiment, and
in truncation tied experiments all take the most favourable rank of their tie.
"""

import math
import statistics
from dataclasses import dataclass

from .fields import short

MIN_OTHERS = 3
NAMES = {"median": "Median", "average": "Average", "truncation": "Truncation"}


@dataclass(frozen=True)
class Standing:
    """An experiment at report n of a metric: the lowest and highest of its first n values and
    their running average (the best is the lowest or the highest, by optimization)."""

    lowest: float
    highest: float
    average: float

    @classmethod
    def first(cls, value):
        """The Standing at report 1."""
        return cls(lowest=value, highest=value, average=float(value))

    def then(self, value, n):
        """The Standing at report n, from this one (at n - 1) and the n-th value."""
        return Standing(
            lowest=min(self.lowest, value),
            highest=max(self.highest, value),
            average=self.average + (value - self.average) / n,
        )

    def best(self, optimization):
        """The best value up to n."""
        return self.lowest if optimization == "minimize" else self.highest


def standings(values):
    """The Standing at every report number 1..len(values) (index n - 1) of values in report
    order."""
    found = []
    for n, value in enumerate(values, start=1):
        found.append(found[-1].then(value, n) if found else Standing.first(value))
    return found


def evaluated_at(policy, n):
    """Whether the policy is evaluated at report n (every evaluation_interval-th report)."""
    return n >= 1 and n % policy["evaluation_interval"] == 0


def _worse(value, than, optimization):
    return value > than if optimization == "minimize" else value < than


def fmt(number):
    """A number short enough for a status message: an integer's digits (cut past 20), a
    float to 4 significant digits."""
    if isinstance(number, int) or (isinstance(number, float) and number.is_integer()):
        return short(int(number)) if abs(number) < 1e21 else format(number, ".4g")
    return format(number, ".4g")


def _pair(value, other):
    """Two different numbers as text, with as many digits as it takes to tell them apart."""
    shown = fmt(value), fmt(other)
    for digits in (6, 8, 12, 17):
        if shown[0] != shown[1] or value == other:
            break
        shown = format(value, f".{digits}g"), format(other, f".{digits}g")
    return shown


def should_stop(rule, n, own, others):
    """The status message if the rule's policy stops an experiment at report n, else None.

    `rule` is a normalised early_stopping entry with a policy; `own` its Standing at n;
    `others` the Standings at n of the group's other experiments that have n reports.
    """
    policy = rule.get("policy")
    if not policy or not evaluated_at(policy, n) or own is None or len(others) < MIN_OTHERS:
        return None
    kind, optimization, metric = policy["kind"], rule["optimization"], rule["metric"]
    best = own.best(optimization)
    head = f"{NAMES[kind]} stopping rule at report {n}: {metric}"
    if kind == "truncation":
        pool = len(others) + 1
        better = sum(_worse(best, other.best(optimization), optimization) for other in others)
        # Its rank counted from the worst (1: the worst); ties take the most favourable rank.
        if (pool - better) * 100 > policy["percent"] * pool:
            return None
        return f"{head} {fmt(best)} is in the worst {policy['percent']}% of {pool} experiments."
    averages = [other.average for other in others]
    if kind == "median":
        reference, name = statistics.median(averages), "median"
    else:
        reference, name = math.fsum(averages) / len(averages), "mean"
    if not _worse(best, reference, optimization):
        return None
    mine, theirs = _pair(best, reference)
    return f"{head} {mine} is worse than the {name} {theirs} of {len(others)} experiments."


def standing_of(values, n):
    """The Standing at report n of values in report order, or None with fewer than n."""
    if n < 1 or len(values) < n:
        return None
    return standings(values[:n])[-1]


def decide(rule, n, own_values, others_values):
    """should_stop from whole histories: this experiment's values of the metric in report order
    and each other experiment's (those with fewer than n reports are left out)."""
    own = standing_of(own_values, n)
    others = [standing_of(values, n) for values in others_values]
    return should_stop(rule, n, own, [other for other in others if other is not None])
