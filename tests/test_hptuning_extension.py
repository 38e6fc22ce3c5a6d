"""Extending a search and retries taking their originals' places (hptuning/extension.py and
trials.in_place_of_originals), computed by hand."""

import json

import pytest

from dashboard.hptuning import SpecError, parse_group_spec
from dashboard.hptuning.asha import next_batch
from dashboard.hptuning.extension import extended, more_suggestions, most_experiments, why_not
from dashboard.hptuning.search import suggestions
from dashboard.hptuning.trials import Trial, in_place_of_originals

METRIC = {"name": "loss", "optimization": "minimize"}


def spec(algorithm, block, matrix=None, seed=5):
    content = {
        "version": 1,
        "kind": "group",
        "hptuning": {
            "seed": seed,
            algorithm: block,
            "matrix": matrix or {"x": {"values": [1, 2, 3, 4, 5, 6]}},
        },
        "run": {"cmd": "echo {{ x }}"},
    }
    return parse_group_spec(json.dumps(content))


# ---- in_place_of_originals -------------------------------------------------------------


def test_a_retry_replaces_its_original_and_keeps_what_it_continued():
    # 1 at rung 0, 2 promoted from 1, 3 failed at rung 0, 4 retries 3, 5 retries 2.
    rows = [
        (1, None, None, "a"),
        (2, 1, None, "b"),
        (3, None, None, "c"),
        (4, 3, "restart", "d"),
        (5, 2, "restart", "e"),
    ]
    assert in_place_of_originals(rows) == [(1, None, "a"), (4, None, "d"), (5, 1, "e")]


def test_a_promotion_of_a_replaced_experiment_continues_its_replacement():
    # 2 continues 1; 1 is then restarted as 3: 2 now continues 3, and 6 retries 4 retrying 3.
    rows = [
        (1, None, None, "a"),
        (2, 1, None, "b"),
        (3, 1, "resume", "c"),
        (4, 3, "copy", "d"),
        (5, 2, None, "e"),
    ]
    assert in_place_of_originals(rows) == [(2, 4, "b"), (4, None, "d"), (5, 2, "e")]


def test_a_clone_of_an_experiment_the_rows_do_not_hold_starts_over():
    assert in_place_of_originals([(7, 3, "restart", "x")]) == [(7, None, "x")]


def test_asha_sees_a_retried_promotion_in_its_rung():
    asha = spec(
        "asha",
        {
            "n_experiments": 3,
            "min_resource": 1,
            "max_resource": 9,
            "reduction_factor": 3,
            "resource": {"name": "epochs", "type": "int"},
            "metric": METRIC,
        },
        matrix={"x": {"uniform": [0, 1]}},
    )
    rows = [
        (1, None, None, {"x": 0.1, "epochs": 1}, "succeeded", 0.1),
        (2, None, None, {"x": 0.5, "epochs": 1}, "succeeded", 0.5),
        (3, None, None, {"x": 0.9, "epochs": 1}, "succeeded", 0.9),
        (4, 1, None, {"x": 0.1, "epochs": 3}, "failed", None),
        (5, 4, "restart", {"x": 0.1, "epochs": 3}, "running", None),
    ]
    trials = [
        Trial(i, params, status, metric, original)
        for i, original, params, status, metric in in_place_of_originals(rows)
    ]
    # The retry holds rung 1 for experiment 1: nothing is promoted again, no new configuration
    # is left (3 of 3 started), so the batch is empty while it runs.
    assert [t.id for t in trials] == [1, 2, 3, 5]
    assert next_batch(asha, trials, free=2).suggestions == []


# ---- extended budgets ------------------------------------------------------------------


def test_each_search_reads_its_budget_raised_by_the_extension():
    tpe = spec("tpe", {"n_experiments": 4, "metric": METRIC}, matrix={"x": {"uniform": [0, 1]}})
    assert extended(tpe, 3).algorithm_block["n_experiments"] == 7
    assert extended(tpe, 3).num_experiments == 7
    bo = spec(
        "bo",
        {"n_initial_trials": 2, "n_iterations": 3, "metric": METRIC},
        matrix={"x": {"uniform": [0, 1]}},
    )
    assert extended(bo, 4).algorithm_block["n_iterations"] == 7
    assert most_experiments(extended(bo, 4)) == 9
    assert extended(tpe, 0) is tpe
    assert tpe.algorithm_block["n_experiments"] == 4  # the spec itself is unchanged


def test_hyperband_says_why_it_cannot_be_extended():
    hyperband = spec(
        "hyperband",
        {
            "max_iter": 9,
            "eta": 3,
            "resource": {"name": "epochs", "type": "int"},
            "metric": METRIC,
        },
        matrix={"x": {"uniform": [0, 1]}},
    )
    assert why_not(hyperband).startswith("hyperband's brackets are fixed by max_iter and eta")
    assert why_not(spec("grid_search", {"n_experiments": 2})) is None


def test_a_grid_extends_with_its_next_combinations_in_order():
    grid = spec("grid_search", {"n_experiments": 2})
    assert more_suggestions(grid, 3, [{"x": 1}, {"x": 2}]) == [{"x": 3}, {"x": 4}, {"x": 5}]
    twice = extended(grid, 3)
    assert twice.num_experiments == 5
    assert more_suggestions(twice, 1, []) == [{"x": 6}]
    with pytest.raises(SpecError, match="the grid has 6 combinations and only 1 are left"):
        more_suggestions(twice, 2, [])


def test_random_draws_the_next_distinct_configurations_of_its_seeded_stream():
    matrix = {"x": {"values": [1, 2, 3, 4, 5, 6, 7, 8]}, "y": {"uniform": [0, 1]}}
    four = spec("random_search", {"n_experiments": 4}, matrix=matrix)
    seven = spec("random_search", {"n_experiments": 7}, matrix=matrix)
    existing = list(suggestions(four))
    assert existing + more_suggestions(four, 3, existing) == list(suggestions(seven))


def test_random_over_a_finite_matrix_refuses_more_than_are_left():
    small = spec("random_search", {"n_experiments": 4})
    existing = list(suggestions(small))
    fresh = more_suggestions(small, 2, existing)
    assert sorted(s["x"] for s in existing + fresh) == [1, 2, 3, 4, 5, 6]
    with pytest.raises(SpecError, match="6 distinct configurations and only 2 are left"):
        more_suggestions(small, 3, existing)
