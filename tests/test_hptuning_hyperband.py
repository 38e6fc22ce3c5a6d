"""Hyperband: the bracket schedule, promotion by the metric and the injected resource."""

import math
import textwrap

from dashboard.hptuning import parse_group_spec
from dashboard.hptuning.hyperband import cast_resource, s_max, schedule, total_experiments
from dashboard.hptuning.iterations import first_iteration, next_iteration


def hyperband(max_iter=9, eta=3, kind="int", optimization="minimize", seed=1, params=""):
    content = f"""\
    version: 1
    kind: group
    hptuning:
      seed: {seed}
      hyperband:
        max_iter: {max_iter}
        eta: {eta}
        resource: {{name: epochs, type: {kind}}}
        metric: {{name: loss, optimization: {optimization}}}
      matrix:
        lr: {{uniform: [0.001, 0.1]}}
        units: {{values: [16, 32, 64]}}
    {params}
    run: {{cmd: echo}}
    """
    return parse_group_spec(textwrap.dedent(content))


def sizes(max_iter, eta):
    return [[rung.n_configs for rung in bracket] for bracket in schedule(max_iter, eta)]


def drive(spec, metric):
    """Run every iteration with `metric(params)` as the result; return the iterations."""
    iterations, everything = [first_iteration(spec)], []
    while True:
        last = [(p, metric(p)) for p in iterations[-1].suggestions]
        everything += last
        following = next_iteration(spec, iterations[-1], last, everything)
        if following is None:
            return iterations
        iterations.append(following)


def test_brackets_for_81_and_eta_3_start_with_81_34_15_8_5_configs():
    assert [bracket[0] for bracket in sizes(81, 3)] == [81, 34, 15, 8, 5]


def test_the_full_schedule_for_81_and_eta_3():
    assert sizes(81, 3) == [[81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1], [8, 2], [5]]
    first = schedule(81, 3)[0]
    assert [cast_resource(rung.resource, "int") for rung in first] == [1, 3, 9, 27, 81]
    resources = [[cast_resource(r.resource, "int") for r in b] for b in schedule(81, 3)]
    assert [bracket[0] for bracket in resources] == [1, 3, 9, 27, 81]
    assert all(bracket[-1] == 81 for bracket in resources)


def test_s_max_is_exact_where_float_logs_are_not():
    assert math.floor(math.log(243, 3)) == 4  # the float trap
    assert s_max(243, 3) == 5
    assert len(schedule(243, 3)) == 6
    assert sizes(243, 3)[0] == [243, 81, 27, 9, 3, 1]


def test_float_eta_gives_a_schedule_that_never_exceeds_max_iter():
    assert s_max(81, 2.5) == 4  # 2.5**4 = 39.06 <= 81 < 97.66
    assert sizes(81, 2.5) == [[40, 16, 6, 2, 1], [20, 8, 3, 1], [11, 4, 1], [7, 2], [5]]
    for bracket in schedule(81, 2.5):
        assert all(rung.resource <= 81 for rung in bracket)
        assert bracket[-1].resource == 81
        assert all(rung.n_configs >= 1 for rung in bracket)


def test_total_experiments_counts_every_rung_of_every_bracket():
    for max_iter, eta in [(81, 3), (243, 3), (81, 2.5), (9, 3), (1, 2), (9997, 9997)]:
        total = sum(map(sum, sizes(max_iter, eta)))
        assert total_experiments(max_iter, eta, limit=10**6) == total
        assert total_experiments(max_iter, eta, limit=total) == total
        assert total_experiments(max_iter, eta, limit=total - 1) is None


def test_total_experiments_stops_counting_past_the_limit():
    assert total_experiments(10**9, 3, limit=10_000) is None
    assert total_experiments(10**400, 3, limit=10_000) is None  # s_max 838: refused by estimate
    assert total_experiments(2, 1.0000000000000002, limit=10_000) is None
    assert total_experiments(10**400, 10**401, limit=10_000) == 1


def test_float_eta_is_read_as_written():
    assert s_max(1.21, 1.1) == 2  # 1.1**2 == 1.21 exactly as decimals, not as binary floats


def test_int_resources_round_half_up_and_stay_at_least_one():
    assert [cast_resource(r.resource, "int") for r in schedule(100, 3)[0]] == [1, 4, 11, 33, 100]
    assert isinstance(cast_resource(schedule(10, 3)[0][0].resource, "int"), int)


def test_first_iteration_samples_the_first_bracket_with_the_resource_injected():
    iteration = first_iteration(hyperband())
    assert iteration.number == 0
    assert iteration.data == {"bracket": 2, "rung": 0, "resource": 1, "n_configs": 9}
    assert len(iteration.suggestions) == 9
    for params in iteration.suggestions:
        assert list(params) == ["lr", "units", "epochs"]
        assert params["epochs"] == 1 and type(params["epochs"]) is int
        assert 0.001 <= params["lr"] < 0.1 and params["units"] in (16, 32, 64)
    assert len({(p["lr"], p["units"]) for p in iteration.suggestions}) == 9


def test_float_resource_is_injected_as_a_float():
    iteration = first_iteration(hyperband(max_iter=10, kind="float"))
    assert all(type(p["epochs"]) is float for p in iteration.suggestions)
    assert iteration.suggestions[0]["epochs"] == 10 / 9


def test_group_params_are_merged_into_every_suggestion():
    iteration = first_iteration(hyperband(params="params: {batch_size: 128}"))
    assert all(p["batch_size"] == 128 for p in iteration.suggestions)


def test_promotion_keeps_the_lowest_loss_when_minimizing():
    spec = hyperband(optimization="minimize")
    first = first_iteration(spec)
    results = [(p, float(i)) for i, p in enumerate(first.suggestions)]
    second = next_iteration(spec, first, results, results)
    assert second.data == {"bracket": 2, "rung": 1, "resource": 3, "n_configs": 3}
    assert [p["lr"] for p in second.suggestions] == [p["lr"] for p in first.suggestions[:3]]
    assert all(p["epochs"] == 3 for p in second.suggestions)


def test_promotion_keeps_the_highest_metric_when_maximizing():
    spec = hyperband(optimization="maximize")
    first = first_iteration(spec)
    results = [(p, float(i)) for i, p in enumerate(first.suggestions)]
    second = next_iteration(spec, first, results, results)
    assert [p["lr"] for p in second.suggestions] == [p["lr"] for p in first.suggestions[:-4:-1]]


def test_missing_metrics_rank_last():
    spec = hyperband(optimization="maximize")
    first = first_iteration(spec)
    values = [None, 0.5, None, float("nan"), None, 0.1, None, None, None]
    results = list(zip(first.suggestions, values, strict=True))
    second = next_iteration(spec, first, results, results)
    kept = [p["lr"] for p in second.suggestions]
    assert kept == [first.suggestions[i]["lr"] for i in (1, 5, 0)]


def test_promotion_ranks_within_the_rung_only():
    spec = hyperband()
    first = first_iteration(spec)
    results = [(p, float(i)) for i, p in enumerate(first.suggestions)]
    second = next_iteration(spec, first, results, results)
    # An excellent result from another rung must not be promoted into this one.
    outsider = ({**first.suggestions[8], "epochs": 1}, -100.0)
    last = [(p, float(10 - i)) for i, p in enumerate(second.suggestions)]
    third = next_iteration(spec, second, last, [*results, outsider, *last])
    assert [p["lr"] for p in third.suggestions] == [second.suggestions[2]["lr"]]
    assert third.suggestions[0]["epochs"] == 9


def test_a_bracket_ends_into_the_next_one_with_fresh_configs():
    spec = hyperband()
    iterations = drive(spec, lambda p: p["lr"])
    assert [(it.data["bracket"], it.data["rung"]) for it in iterations] == [
        (2, 0), (2, 1), (2, 2), (1, 0), (1, 1), (0, 0)
    ]  # fmt: skip
    assert [it.number for it in iterations] == list(range(6))
    assert [len(it.suggestions) for it in iterations] == [9, 3, 1, 5, 1, 3]
    assert [it.data["resource"] for it in iterations] == [1, 3, 9, 3, 9, 9]


def test_the_search_completes_after_the_last_bracket():
    spec = hyperband()
    iterations = drive(spec, lambda p: p["lr"])
    last = iterations[-1]
    results = [(p, 1.0) for p in last.suggestions]
    assert next_iteration(spec, last, results, results) is None


def test_the_same_seed_reproduces_every_iteration():
    def run(seed):
        return [it.suggestions for it in drive(hyperband(seed=seed), lambda p: p["lr"])]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_seed_zero_and_negative_seeds_are_reproducible():
    for seed in (0, -2):
        assert first_iteration(hyperband(seed=seed)) == first_iteration(hyperband(seed=seed))
    assert first_iteration(hyperband(seed=2)) != first_iteration(hyperband(seed=-2))
