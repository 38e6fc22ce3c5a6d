"""ASHA's next_batch and rung_table: promotions, new configurations, the group page's data.

The specs are parsed from polyaxonfiles, as the scheduler's search process parses them.
"""

import json

import numpy as np

from dashboard.hptuning.asha import next_batch, rung_table, rungs, total_experiments
from dashboard.hptuning.spec import parse_group_spec
from dashboard.hptuning.trials import Trial

MATRIX = {"lr": {"uniform": "0:1"}, "units": {"values": [16, 32, 64]}}


def spec(seed=1, matrix=None, **fields):
    """A parsed asha group (min 1, max 9, eta 3, minimize loss)."""
    block = {
        "n_experiments": 6,
        "min_resource": 1,
        "max_resource": 9,
        "resource": {"name": "epochs", "type": "int"},
        "metric": {"name": "loss", "optimization": "minimize"},
        **fields,
    }
    hptuning = {"seed": seed, "asha": block, "matrix": matrix or MATRIX}
    content = {
        "version": 1,
        "kind": "group",
        "hptuning": hptuning,
        "params": {"batch_size": 128},
        "run": {"cmd": "train"},
    }
    return parse_group_spec(json.dumps(content))


def add(trials, metric, original=None, status="succeeded"):
    """Append a trial: a new configuration, or the continuation of `original`; return its id."""
    number = len(trials) + 1
    if original is None:
        params = {"lr": number / 100, "units": 32, "epochs": 1, "batch_size": 128}
    else:
        params = dict(trials[original - 1].params)
    trials.append(Trial(number, params, status, metric, original))
    return number


def rung0(values, **kwargs):
    trials = []
    for value in values:
        add(trials, value, **kwargs)
    return trials


HAND = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2]  # best: 2 (0.1), 6 (0.2), then 4 (0.3)


def test_six_results_in_rung_zero_promote_the_best_two_and_not_a_third():
    trials = rung0(HAND)
    batch = next_batch(spec(), trials, 5)
    assert batch.origins == [2, 6]
    assert batch.suggestions == [
        {"lr": 0.02, "units": 32, "epochs": 3},
        {"lr": 0.06, "units": 32, "epochs": 3},
    ]


def test_five_results_promote_only_the_best_one():
    assert next_batch(spec(n_experiments=5), rung0(HAND[:5]), 5).origins == [2]


def test_fewer_than_eta_results_promote_nothing():
    batch = next_batch(spec(n_experiments=2), rung0([0.1, 0.2]), 3)
    assert batch.suggestions == [] and batch.origins == []


def test_maximize_promotes_the_largest_values():
    batch = next_batch(spec(metric={"name": "acc", "optimization": "maximize"}), rung0(HAND), 5)
    assert batch.origins == [3, 5]


def test_ties_go_to_the_older_experiment():
    assert next_batch(spec(n_experiments=3), rung0([0.4, 0.1, 0.1]), 5).origins == [2]


def test_a_promoted_configuration_is_not_promoted_again():
    trials = rung0(HAND)
    add(trials, None, original=2, status="running")
    assert next_batch(spec(), trials, 5).origins == [6]
    add(trials, None, original=6, status="running")
    assert next_batch(spec(), trials, 5).origins == []


def test_promotion_prefers_the_highest_rung():
    trials = rung0([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])  # top 3: 9, 8, 7
    for original, value in [(9, 0.05), (8, 0.5), (7, 0.6)]:
        add(trials, value, original=original)  # ids 10, 11, 12 at rung 1
    for value in [0.01, 0.02, 0.03]:
        add(trials, value)  # ids 13, 14, 15: rung 0 now holds 12 results, its top 4 is new
    many = spec(n_experiments=12)
    assert next_batch(many, trials, 1).origins == [10]
    assert next_batch(many, trials, 1).suggestions[0]["epochs"] == 9
    batch = next_batch(many, trials, 5)
    assert batch.origins == [10, 13, 14, 15]
    assert [s["epochs"] for s in batch.suggestions] == [9, 3, 3, 3]


def test_several_free_slots_take_promotions_then_new_configurations():
    trials = rung0(HAND)
    batch = next_batch(spec(n_experiments=10), trials, 4)
    assert batch.origins == [2, 6, None, None]
    assert [s["epochs"] for s in batch.suggestions] == [3, 3, 1, 1]
    for suggestion in batch.suggestions[2:]:
        assert list(suggestion) == ["lr", "units", "epochs"]
        assert 0 <= suggestion["lr"] < 1 and suggestion["units"] in (16, 32, 64)


def test_the_first_batch_starts_new_configurations_at_rung_zero():
    batch = next_batch(spec(), [], 4)
    assert batch.origins == [None] * 4
    assert [s["epochs"] for s in batch.suggestions] == [1] * 4
    assert len({(s["lr"], s["units"]) for s in batch.suggestions}) == 4
    assert batch.iteration == 1


def test_nothing_starts_past_n_experiments():
    trials = []
    first = next_batch(spec(n_experiments=4), trials, 10)
    assert len(first.suggestions) == 4
    for suggestion in first.suggestions:
        trials.append(Trial(len(trials) + 1, suggestion, "running", None))
    assert next_batch(spec(n_experiments=4), trials, 10).suggestions == []
    finished = [Trial(t.id, t.params, "succeeded", 0.1 * t.id) for t in trials]
    assert next_batch(spec(n_experiments=4), finished, 10).origins == [1]


def test_promotions_stop_at_the_last_rung():
    trials = rung0([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    for original in (9, 8, 7):
        add(trials, 0.01 * original, original=original)
    two_rungs = spec(n_experiments=9, max_resource=3)
    batch = next_batch(two_rungs, trials, 5)
    assert batch.suggestions == [] and batch.iteration == 2
    assert [row["resource"] for row in batch.data["rungs"]] == [1, 3]


def test_a_trial_without_a_metric_is_never_promoted_nor_counted():
    trials = rung0([None, 0.3, None, 0.2, None, 0.1])
    assert next_batch(spec(), trials, 5).origins == [6]  # 3 results: the best 1
    assert next_batch(spec(), rung0([None] * 6), 5).origins == []


def test_unfinished_trials_are_not_results():
    trials = rung0(HAND[:3]) + [Trial(4, {"lr": 0.5, "units": 16}, "running", 0.0)]
    assert next_batch(spec(n_experiments=4), trials, 5).origins == [2]


def test_failed_and_stopped_results_count_but_are_not_promoted():
    trials = rung0([0.3, 0.4, 0.5])
    add(trials, 0.01, status="failed")
    add(trials, 0.02, status="stopped")
    add(trials, 0.6)
    # Six results: the top two are the failed and the stopped one, so nothing is promoted.
    assert next_batch(spec(), trials, 5).origins == []
    add(trials, 0.7, status="failed")
    add(trials, 0.8)
    add(trials, 0.9)
    assert next_batch(spec(n_experiments=9), trials, 5).origins == [1]  # top 3 of 9


def test_a_suggestion_holds_the_matrix_params_and_the_resource_only():
    suggestion = next_batch(spec(), rung0(HAND), 1).suggestions[0]
    assert suggestion == {"lr": 0.02, "units": 32, "epochs": 3}


def test_a_float_resource_is_injected_as_a_float():
    float_spec = spec(max_resource=4, reduction_factor=2, resource={"name": "epochs"})
    assert rungs(float_spec.algorithm_block) == [1.0, 2.0, 4.0]
    new = next_batch(float_spec, [], 1).suggestions[0]["epochs"]
    promoted = next_batch(float_spec, rung0([0.2, 0.1]), 1).suggestions[0]["epochs"]
    assert (new, promoted) == (1.0, 2.0) and type(new) is type(promoted) is float


def test_a_finite_matrix_never_repeats_a_configuration():
    small = spec(n_experiments=5, matrix={"units": {"values": [16, 32, 64]}})
    batch = next_batch(small, [], 5)
    assert sorted(s["units"] for s in batch.suggestions) == [16, 32, 64]
    trials = [Trial(i, s, "running", None) for i, s in enumerate(batch.suggestions, 1)]
    assert next_batch(small, trials, 2).suggestions == []


def test_new_configurations_avoid_those_already_started():
    small = spec(n_experiments=6, matrix={"units": {"values": [16, 32, 64, 128]}})
    trials = [Trial(1, {"units": 32, "epochs": 1}, "running", None)]
    batch = next_batch(small, trials, 5)
    assert sorted(s["units"] for s in batch.suggestions) == [16, 64, 128]


def test_the_same_spec_and_trials_give_the_same_batch():
    trials = rung0(HAND)
    assert next_batch(spec(n_experiments=9), trials, 4) == next_batch(
        spec(n_experiments=9), list(trials), 4
    )
    assert next_batch(spec(), [], 3) == next_batch(spec(), [], 3)


def test_the_draws_depend_on_the_seed_and_the_number_of_trials():
    first = next_batch(spec(n_experiments=20), [], 2).suggestions
    assert next_batch(spec(seed=2, n_experiments=20), [], 2).suggestions != first
    one = [Trial(1, {"lr": 0.5, "units": 16, "epochs": 1}, "running", None)]
    assert next_batch(spec(n_experiments=20), one, 2).suggestions != first


def test_the_data_counts_each_rung_with_the_batch():
    trials = rung0(HAND)
    add(trials, None, original=2, status="running")
    batch = next_batch(spec(n_experiments=8), trials, 3)
    assert batch.origins == [6, None, None]
    assert batch.iteration == 2
    assert batch.data == {
        "rungs": [
            {"resource": 1, "started": 8, "running": 2, "finished": 6, "promoted": 2},
            {"resource": 3, "started": 2, "running": 2, "finished": 0, "promoted": 0},
            {"resource": 9, "started": 0, "running": 0, "finished": 0, "promoted": 0},
        ]
    }


def test_the_iteration_counts_the_rungs_opened():
    assert next_batch(spec(), rung0(HAND[:2]), 1).iteration == 1
    assert next_batch(spec(), rung0(HAND), 1).iteration == 2
    assert next_batch(spec(), [], 1).iteration == 1


def test_rung_table_lists_each_rungs_configurations():
    trials = rung0(HAND[:3])
    add(trials, 0.05, original=2)
    table = rung_table(spec(), trials)
    assert [row["resource"] for row in table] == [1, 3, 9]
    assert table[0]["configurations"][1] == {
        "id": 2,
        "original": None,
        "status": "succeeded",
        "metric": 0.1,
        "promoted": True,
        "promoted_to": 4,
    }
    assert [c["promoted"] for c in table[0]["configurations"]] == [False, True, False]
    assert table[1]["configurations"] == [
        {
            "id": 4,
            "original": 2,
            "status": "succeeded",
            "metric": 0.05,
            "promoted": False,
            "promoted_to": None,
        }
    ]
    assert table[2]["configurations"] == []


def can_promote(block, trials):
    """Whether some configuration may be promoted now, worked out the slow way."""
    last = len(rungs(block)) - 1
    rung, continued = {}, {t.original for t in trials}
    for t in trials:
        rung[t.id] = 0 if t.original is None else rung[t.original] + 1
    for k in range(last):
        results = [t for t in trials if rung[t.id] == k and t.finished and t.metric is not None]
        results.sort(key=lambda t: (t.metric, t.id))
        top = results[: len(results) // 3]
        if any(t.status == "succeeded" and t.id not in continued for t in top):
            return True
    return False


def test_a_recorded_timeline_never_leaves_a_slot_free_while_work_remains():
    group, concurrency = spec(n_experiments=30, max_resource=27), 4
    block, rng = group.algorithm_block, np.random.default_rng(7)
    trials, running, clock, timeline = [], {}, 0.0, []
    while True:
        free = concurrency - len(running)
        batch = next_batch(group, trials, free)
        started_at_zero = sum(t.original is None for t in trials)
        if len(batch.suggestions) < free:
            assert started_at_zero + batch.origins.count(None) == block["n_experiments"]
            assert not can_promote(block, trials)
        for suggestion, origin in zip(batch.suggestions, batch.origins, strict=True):
            trial = Trial(len(trials) + 1, suggestion, "running", None, origin)
            trials.append(trial)
            running[trial.id] = clock + suggestion["epochs"] * rng.uniform(0.5, 1.5)
            timeline.append((clock, trial.id, origin))
        if not running:
            break
        done = min(running, key=running.get)
        clock = running.pop(done)
        status = "failed" if rng.random() < 0.1 else "succeeded"
        # A configuration's quality holds across rungs (its lr), blurred by noise.
        noisy = trials[done - 1].params["lr"] + 0.1 * rng.random()
        metric = None if status == "failed" and rng.random() < 0.5 else noisy
        old = trials[done - 1]
        trials[done - 1] = Trial(old.id, old.params, status, metric, old.original)
    assert sum(t.original is None for t in trials) == 30
    assert len(trials) <= total_experiments(block)
    assert [row["started"] for row in batch.data["rungs"]][0] == 30
    assert max(t.params["epochs"] for t in trials) >= 9  # promoted twice at least
    assert len(timeline) == len(trials)


def test_results_that_keep_improving_reach_the_experiment_bound():
    group, trials = spec(matrix={"lr": {"uniform": "0:1"}}), []
    while (batch := next_batch(group, trials, 1)).suggestions:
        suggestion, origin = batch.suggestions[0], batch.origins[0]
        trials.append(Trial(len(trials) + 1, suggestion, "succeeded", 100.0 - len(trials), origin))
    assert len(trials) == total_experiments(group.algorithm_block) == 12
    assert [t.original for t in trials] == [None, None, None, 3, None, 5, None, 7, 8, None, 10, 11]
