"""The iteration interface the scheduler drives, for every algorithm and the example groups."""

import json

import numpy as np

from dashboard.hptuning import Iteration, first_iteration, next_iteration, parse_group_spec
from dashboard.hptuning.base import iteration_rng, sample_configs
from dashboard.hptuning.iterations import iteration_of, work_out
from tests.factories import EXAMPLES

RANDOM = """\
version: 1
kind: group
hptuning:
  seed: 3
  random_search: {n_experiments: 4}
  matrix:
    lr: {uniform: [0, 1]}
params: {epochs: 2}
run: {cmd: echo}
"""


def load(name):
    return parse_group_spec((EXAMPLES / name).read_text())


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


def test_random_makes_every_suggestion_in_the_first_iteration():
    spec = parse_group_spec(RANDOM)
    first = first_iteration(spec)
    assert isinstance(first, Iteration) and first.number == 0
    assert len(first.suggestions) == 4
    assert all(p["epochs"] == 2 and 0 <= p["lr"] < 1 for p in first.suggestions)
    assert next_iteration(spec, first, [], []) is None


def test_grid_makes_every_suggestion_in_the_first_iteration():
    spec = parse_group_spec(
        RANDOM.replace("random_search: {n_experiments: 4}", "").replace(
            "{uniform: [0, 1]}", "{values: [1, 2, 3]}"
        )
    )
    first = first_iteration(spec)
    assert [p["lr"] for p in first.suggestions] == [1, 2, 3]
    assert next_iteration(spec, first, [], []) is None


def test_iteration_generators_depend_on_seed_and_number():
    draw = lambda seed, number: iteration_rng(seed, number).uniform()
    assert draw(1, 0) == draw(1, 0)
    assert len({draw(1, 0), draw(1, 1), draw(2, 0), draw(-1, 0), draw(0, 0)}) == 5


def test_sample_configs_are_distinct_and_skip_excluded_ones():
    matrix = parse_group_spec(RANDOM.replace("{uniform: [0, 1]}", "{values: [1, 2, 3]}")).matrix
    rng = np.random.default_rng(0)
    assert sorted(c["lr"] for c in sample_configs(matrix, 10, rng)) == [1, 2, 3]
    assert sample_configs(matrix, 10, rng, exclude={"[2]"}) != []
    assert sorted(c["lr"] for c in sample_configs(matrix, 10, rng, exclude={"[2]"})) == [1, 3]


def test_hyperband_example_drives_to_completion():
    spec = load("hyperband.yml")
    iterations = drive(spec, lambda p: p["lr"] * 10 + 1 / p["num_epochs"])
    starts = [len(it.suggestions) for it in iterations if it.data["rung"] == 0]
    assert starts == [81, 34, 15, 8, 5]
    assert len(iterations) == 5 + 4 + 3 + 2 + 1
    assert [it.data["resource"] for it in iterations[:5]] == [1, 3, 9, 27, 81]
    assert all(type(p["num_epochs"]) is int for it in iterations for p in it.suggestions)
    assert iterations == drive(spec, lambda p: p["lr"] * 10 + 1 / p["num_epochs"])


def test_bo_example_drives_to_completion():
    spec = load("bo.yml")
    accuracy = lambda p: 1 - abs(p["lr"] - 0.03) - (p["activation"] != "tanh") * 0.1
    iterations = drive(spec, accuracy)
    assert [len(it.suggestions) for it in iterations] == [5] + [1] * 15
    assert [it.data["kind"] for it in iterations] == ["initial"] + ["gp"] * 15
    assert all(it.data["acquisition"] == "ei" for it in iterations[1:])
    params = [p for it in iterations for p in it.suggestions]
    assert len({(p["lr"], p["units"], p["activation"]) for p in params}) == 20
    assert max(map(accuracy, params)) > 0.99


def test_a_search_request_is_answered_as_the_iteration_interface_answers():
    content = (EXAMPLES / "hyperband.yml").read_text() + "params: {data: [1, 2, 3]}\n"
    spec = parse_group_spec(content)
    first = first_iteration(spec)
    answer = work_out({"content": content, "last": None, "results": []})
    assert answer["ok"]["params"] == {"data": [1, 2, 3]}
    assert all("data" not in suggestion for suggestion in answer["ok"]["suggestions"])
    assert iteration_of(answer) == first
    # The runner sends matrix params only, and the answer crosses a pipe as JSON.
    results = [[{name: p[name] for name in spec.matrix}, p["lr"], 0] for p in first.suggestions]
    request = {"content": content, "last": {"number": 0, "data": first.data}, "results": results}
    answer = json.loads(json.dumps(work_out(request)))
    full = [(p, p["lr"]) for p in first.suggestions]
    expected = next_iteration(spec, first, full, full)
    assert iteration_of(answer) == expected
    assert [list(p) for p in iteration_of(answer).suggestions] == [
        list(p) for p in expected.suggestions
    ]


def test_a_complete_search_answers_none():
    content = (EXAMPLES / "bo.yml").read_text().replace("n_iterations: 15", "n_iterations: 0")
    spec = parse_group_spec(content)
    first = first_iteration(spec)
    results = [[p, 1.0, 0] for p in first.suggestions]
    answer = work_out(
        {"content": content, "last": {"number": 0, "data": first.data}, "results": results}
    )
    assert answer == {"ok": None} and iteration_of(answer) is None
