"""The status transition tables of CONTRACT.md section 4."""

import pytest

from dashboard.models.statuses import (
    EXPERIMENT_STATUSES,
    GROUP_STATUSES,
    TENSORBOARD_STATUSES,
    IllegalTransition,
)


@pytest.mark.parametrize(
    "current,new",
    [
        ("created", "running"),
        ("running", "succeeded"),
        ("running", "failed"),
        ("created", "stopping"),
        ("running", "stopping"),
        ("stopping", "stopped"),
        ("created", "stopped"),
    ],
)
def test_group_transitions_of_the_contract_are_allowed(current, new):
    assert GROUP_STATUSES.check(current, new) is True


@pytest.mark.parametrize(
    "current,new",
    [
        ("succeeded", "running"),
        ("stopped", "running"),
        ("created", "succeeded"),
        ("stopping", "running"),
        ("failed", "stopping"),
    ],
)
def test_group_transitions_outside_the_table_are_refused_naming_both(current, new):
    with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
        GROUP_STATUSES.check(current, new)


def test_a_transition_that_already_happened_is_done_not_an_error():
    assert GROUP_STATUSES.check("stopped", "stopped") is False
    assert EXPERIMENT_STATUSES.check("stopped", "succeeded") is False


def test_strict_checks_refuse_even_races():
    with pytest.raises(IllegalTransition):
        GROUP_STATUSES.check("stopped", "succeeded", strict=True)


def test_experiment_statuses_follow_the_lifecycle():
    chain = ["created", "scheduled", "starting", "running", "succeeded"]
    for current, new in zip(chain, chain[1:], strict=False):
        assert EXPERIMENT_STATUSES.check(current, new)
    for unfinished in chain[:-1]:
        assert EXPERIMENT_STATUSES.check(unfinished, "stopped")
        assert EXPERIMENT_STATUSES.check(unfinished, "failed")
    with pytest.raises(IllegalTransition):
        EXPERIMENT_STATUSES.check("created", "running")


def test_tensorboard_statuses():
    assert TENSORBOARD_STATUSES.check("created", "running")
    assert TENSORBOARD_STATUSES.check("running", "stopped")
    with pytest.raises(IllegalTransition):
        TENSORBOARD_STATUSES.check("stopped", "running")
