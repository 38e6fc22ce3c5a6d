"""early_stopping entries: a value (the group-level rule), a policy (single experiments), or
both; every bad field reported with its path."""

import pytest

from dashboard.hptuning import SpecError, parse_group_spec

PATH = "hptuning.early_stopping[0]"


def content(entries):
    return (
        "version: 1\nkind: group\nhptuning:\n"
        f"  early_stopping: {entries}\n"
        "  matrix: {a: {values: [1]}}\nrun: {cmd: echo}\n"
    )


def entries_of(entries):
    return parse_group_spec(content(entries)).hptuning["early_stopping"]


def errors_of(entries):
    with pytest.raises(SpecError) as info:
        parse_group_spec(content(entries))
    return info.value.errors


def test_a_policy_without_a_value_is_accepted_with_value_none():
    entries = entries_of(
        "[{metric: loss, optimization: minimize, policy: {kind: median, evaluation_interval: 1}}]"
    )
    assert entries == [
        {
            "metric": "loss",
            "value": None,
            "optimization": "minimize",
            "policy": {"kind": "median", "evaluation_interval": 1},
        }
    ]


def test_a_value_and_a_policy_together_keep_both():
    entries = entries_of(
        "[{metric: acc, value: 0.99, policy: {kind: average, evaluation_interval: 3}}]"
    )
    assert entries[0]["value"] == 0.99
    assert entries[0]["policy"] == {"kind": "average", "evaluation_interval": 3}


def test_truncation_keeps_its_percent_in_polyaxon_order():
    entries = entries_of(
        "[{metric: loss, policy: {evaluation_interval: '2', percent: 25.0, kind: TRUNCATION}}]"
    )
    assert list(entries[0]["policy"].items()) == [
        ("kind", "truncation"),
        ("percent", 25),
        ("evaluation_interval", 2),
    ]


def test_without_a_policy_the_value_is_still_required():
    assert errors_of("[{metric: acc}]") == [f"{PATH}.value: is required"]


def test_a_null_policy_is_no_policy_so_the_value_is_required():
    assert errors_of("[{metric: acc, policy: null}]") == [f"{PATH}.value: is required"]


def test_the_metric_is_required_with_a_policy():
    errors = errors_of("[{policy: {kind: median, evaluation_interval: 1}}]")
    assert errors == [f"{PATH}.metric: is required"]


def test_a_bad_metric_is_named():
    errors = errors_of("[{metric: [1], policy: {kind: median, evaluation_interval: 1}}]")
    assert errors == [f"{PATH}.metric: must be a non-empty string, got a list [1]"]


def test_a_bad_value_beside_a_policy_is_named():
    errors = errors_of("[{metric: m, value: high, policy: {kind: median, evaluation_interval: 1}}]")
    assert errors == [f"{PATH}.value: must be a number, got a string 'high'"]


def test_a_bad_optimization_is_named():
    errors = errors_of(
        "[{metric: m, optimization: lowest, policy: {kind: median, evaluation_interval: 1}}]"
    )
    assert errors == [f"{PATH}.optimization: must be one of maximize, minimize, got 'lowest'"]


def test_a_policy_that_is_not_a_mapping_is_named():
    assert errors_of("[{metric: m, policy: median}]") == [
        f"{PATH}.policy: must be a mapping, got a string"
    ]


def test_a_policy_without_a_kind_is_named():
    assert errors_of("[{metric: m, policy: {evaluation_interval: 1}}]") == [
        f"{PATH}.policy.kind: is required (one of median, average, truncation)"
    ]


def test_an_unknown_kind_is_named():
    assert errors_of("[{metric: m, policy: {kind: bandit, evaluation_interval: 1}}]") == [
        f"{PATH}.policy.kind: must be one of median, average, truncation, got 'bandit'"
    ]


def test_an_unknown_policy_key_is_named():
    errors = errors_of("[{metric: m, policy: {kind: median, evaluation_interval: 1, percent: 5}}]")
    assert errors == [f"{PATH}.policy: unknown key 'percent' (allowed: kind, evaluation_interval)"]


def test_the_evaluation_interval_is_required():
    assert errors_of("[{metric: m, policy: {kind: average}}]") == [
        f"{PATH}.policy.evaluation_interval: is required"
    ]


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ("0", "must be >= 1, got 0"),
        ("-2", "must be >= 1, got -2"),
        ("1.5", "must be an integer, got a float 1.5"),
        ("often", "must be an integer, got a string 'often'"),
        ("true", "must be an integer, got a bool True"),
    ],
)
def test_a_bad_evaluation_interval_is_named(interval, message):
    errors = errors_of(
        f"[{{metric: m, policy: {{kind: median, evaluation_interval: {interval}}}}}]"
    )
    assert errors == [f"{PATH}.policy.evaluation_interval: {message}"]


def test_truncation_needs_its_percent():
    assert errors_of("[{metric: m, policy: {kind: truncation, evaluation_interval: 1}}]") == [
        f"{PATH}.policy.percent: is required"
    ]


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("0", "must be >= 1, got 0"),
        ("100", "must be <= 99, got 100"),
        ("12.5", "must be an integer, got a float 12.5"),
        ("half", "must be an integer, got a string 'half'"),
    ],
)
def test_a_bad_percent_is_named(percent, message):
    errors = errors_of(
        f"[{{metric: m, policy: {{kind: truncation, percent: {percent}, evaluation_interval: 1}}}}]"
    )
    assert errors == [f"{PATH}.policy.percent: {message}"]


def test_a_bad_percent_and_a_bad_interval_are_reported_together():
    errors = errors_of(
        "[{metric: m, policy: {kind: truncation, percent: 0, evaluation_interval: 0}}]"
    )
    assert errors == [
        f"{PATH}.policy.percent: must be >= 1, got 0",
        f"{PATH}.policy.evaluation_interval: must be >= 1, got 0",
    ]


def test_errors_of_several_entries_name_each_entry():
    errors = errors_of(
        "[{metric: a, value: 1}, {metric: b, policy: {kind: x, evaluation_interval: 1}},"
        " {metric: c}]"
    )
    assert errors == [
        "hptuning.early_stopping[1].policy.kind: must be one of median, average, truncation,"
        " got 'x'",
        "hptuning.early_stopping[2].value: is required",
    ]
