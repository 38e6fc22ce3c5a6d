"""tpe and cmaes next_batch: suggestions in the matrix's space, pending trials, determinism,
the n_experiments cap and improvement over the startup trials.

The specs are parsed from polyaxonfiles, as the scheduler's search process parses them.
"""

import json
import math
import warnings

import pytest

from dashboard.hptuning import SpecError, sampler_space, samplers
from dashboard.hptuning.options import matrix_values
from dashboard.hptuning.samplers import next_batch
from dashboard.hptuning.spec import parse_group_spec
from dashboard.hptuning.trials import Batch, Trial
from tests.factories import EXAMPLES

MIXED = {
    "lr": {"loguniform": [-7, -1]},
    "dropout": {"uniform": [0.0, 0.5]},
    "units": {"values": [32, 64, 128, 256]},
    "layers": {"range": "1:6:1"},
    "decay": {"logspace": "-4:-1:4"},
    "momentum": {"linspace": "0.8:0.99:5"},
    "batch": {"quniform": [16, 256, 16]},
    "warmup": {"qloguniform": [0, 5, 0.5]},
    "activation": {"values": ["relu", "tanh", "sigmoid"]},
}
NUMERIC = {name: option for name, option in MIXED.items() if name != "activation"}


def make_spec(algorithm="tpe", matrix=None, n=40, initial=5, seed=3, optimization="minimize"):
    """A parsed tpe or cmaes group, as the scheduler's search process parses it."""
    block = {"n_experiments": n, "metric": {"name": "loss", "optimization": optimization}}
    if algorithm == "tpe":
        block["n_initial_trials"] = initial
    content = {
        "version": 1,
        "kind": "group",
        "hptuning": {"seed": seed, algorithm: block, "matrix": matrix or MIXED},
        "params": {"epochs": 3},
        "run": {"cmd": "train"},
    }
    return parse_group_spec(json.dumps(content))


def score(params):
    return (math.log(params["lr"]) + 4) ** 2 + params["dropout"] + params["units"] / 256


def finished(suggestions, metric=score, start=1):
    return [
        Trial(start + i, params, "succeeded", metric(params))
        for i, params in enumerate(suggestions)
    ]


def drive(spec, count, metric=score):
    """Ask one suggestion at a time and finish it with `metric`, as concurrency 1 would."""
    trials = []
    for _ in range(count):
        batch = next_batch(spec, trials, 1)
        trials += finished(batch.suggestions, metric, start=len(trials) + 1)
    return trials


def in_space(params, spec):
    """True when every value is one the matrix's option can produce."""
    for name, entry in spec.matrix.items():
        option, value = next(iter(entry.items()))
        got = params[name]
        if option in ("values", "range", "linspace", "logspace"):
            allowed = matrix_values(option, value)
            if got not in allowed or type(got) is not type(allowed[allowed.index(got)]):
                return False
        elif (
            option == "uniform"
            and not value["low"] <= got <= value["high"]
            or option == "loguniform"
            and not (math.exp(value["low"]) <= got <= math.exp(value["high"]))
            or "q" in value
            and got != round(got / value["q"]) * value["q"]
        ):
            return False
    return set(params) == set(spec.matrix)


@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
def test_suggestions_lie_in_the_matrix_space(algorithm):
    spec = make_spec(algorithm, NUMERIC if algorithm == "cmaes" else MIXED)
    trials = drive(spec, 25)
    assert len(trials) == 25
    assert all(in_space(trial.params, spec) for trial in trials)
    assert all(isinstance(trial.params["units"], int) for trial in trials)
    assert all(isinstance(trial.params["batch"], int) for trial in trials)


def test_parallel_suggestions_differ():
    spec = make_spec()
    batch = next_batch(spec, [], 4)
    assert len(batch.suggestions) == 4 and batch.origins == [None] * 4
    assert len({params["lr"] for params in batch.suggestions}) == 4


@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
def test_pending_trials_make_parallel_suggestions_differ(algorithm):
    spec = make_spec(algorithm, {"x": {"uniform": [0, 1]}, "y": {"uniform": [0, 1]}})
    metric = lambda p: (p["x"] - 0.2) ** 2 + (p["y"] - 0.7) ** 2  # noqa: E731
    done = drive(spec, 12, metric)
    pending = [
        Trial(13 + i, params, "running", None)
        for i, params in enumerate(next_batch(spec, done, 3).suggestions)
    ]
    batch = next_batch(spec, done + pending, 3)
    points = [(p["x"], p["y"]) for p in [t.params for t in pending] + batch.suggestions]
    assert len(set(points)) == 6
    assert batch.data["pending"] == 3 and batch.iteration == 18


@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
def test_the_same_seed_and_trials_give_the_same_batch(algorithm):
    spec = make_spec(algorithm, NUMERIC)
    trials = drive(spec, 15)
    trials[-1] = Trial(15, trials[-1].params, "running", None)
    first, second = next_batch(spec, trials, 3), next_batch(spec, trials, 3)
    assert first == second
    assert drive(make_spec(algorithm, NUMERIC), 15)[:-1] == trials[:-1]


def test_another_seed_gives_other_suggestions():
    assert next_batch(make_spec(seed=1), [], 2) != next_batch(make_spec(seed=2), [], 2)


def test_an_unseeded_spec_is_random():
    spec = make_spec(seed=None)
    first, second = next_batch(spec, [], 2), next_batch(spec, [], 2)
    assert first.suggestions != second.suggestions
    assert all(in_space(params, spec) for params in first.suggestions + second.suggestions)


def test_n_experiments_is_never_exceeded():
    spec = make_spec(n=5, initial=2)
    trials = finished(next_batch(spec, [], 3).suggestions)
    batch = next_batch(spec, trials, 10)
    assert len(batch.suggestions) == 2 and batch.iteration == 5
    trials += finished(batch.suggestions, start=4)
    assert next_batch(spec, trials, 10) == Batch(
        suggestions=[],
        origins=[],
        iteration=5,
        data={
            "sampler": "tpe",
            "suggested": 5,
            "initial": 2,
            "batch_random": 0,
            "completed": 5,
            "failed": 0,
            "pending": 0,
        },
    )


def test_batch_data_counts_the_startup_and_how_trials_were_told():
    spec = make_spec(initial=5)
    trials = finished(next_batch(spec, [], 4).suggestions)
    trials[1] = Trial(2, trials[1].params, "failed", None)
    trials[2] = Trial(3, trials[2].params, "succeeded", None)  # finished without the metric
    trials[3] = Trial(4, trials[3].params, "running", None)
    batch = next_batch(spec, trials, 2)
    assert batch.iteration == 6
    assert batch.data == {
        "sampler": "tpe",
        "suggested": 6,
        "initial": 5,
        "batch_random": 2,
        "completed": 1,
        "failed": 2,
        "pending": 1,
    }


def test_cmaes_startup_is_its_first_suggestion():
    spec = make_spec("cmaes", NUMERIC)
    trials = drive(spec, 3)
    assert next_batch(spec, trials, 1).data["initial"] == 1
    assert next_batch(spec, [], 2).data["batch_random"] == 2
    assert next_batch(spec, trials, 1).data["batch_random"] == 0


@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
@pytest.mark.parametrize("optimization", ["minimize", "maximize"])
def test_searches_improve_on_their_startup_trials(algorithm, optimization):
    sign = 1 if optimization == "minimize" else -1
    spec = make_spec(
        algorithm, {"x": {"uniform": [-3, 3]}}, n=30, initial=10, optimization=optimization
    )
    trials = drive(spec, 30, lambda p: sign * (p["x"] - 1.3) ** 2)
    distances = [abs(trial.params["x"] - 1.3) for trial in trials]
    startup = sorted(distances[:10])
    late = sorted(distances[-10:])
    assert sum(late) < sum(startup) * 0.7
    assert late[0] < startup[0]


def test_a_trial_with_a_value_the_matrix_lacks_is_left_out():
    spec = make_spec()
    trials = finished(next_batch(spec, [], 3).suggestions)
    odd = Trial(4, {**trials[0].params, "activation": "gelu"}, "succeeded", 1.0)
    batch = next_batch(spec, [*trials, odd], 2)
    assert len(batch.suggestions) == 2 and batch.iteration == 6


def test_next_batch_warns_of_nothing():
    spec = make_spec(matrix={**MIXED, "ratio": {"linspace": "0:1:4"}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drive(spec, 8)


def test_a_matrix_the_sampler_cannot_search_is_refused_with_the_polyaxonfile():
    with pytest.raises(SpecError, match="hptuning.matrix.activation: 'activation' is a categ"):
        make_spec("cmaes", MIXED)


def test_next_batch_serves_only_tpe_and_cmaes():
    spec = parse_group_spec((EXAMPLES / "bo.yml").read_text())
    with pytest.raises(SpecError, match="next_batch serves tpe and cmaes, not bo"):
        next_batch(spec, [], 1)


def test_tpe_asks_what_optunas_own_sampler_asks_on_the_same_trials():
    import optuna

    spec = make_spec(matrix=MIXED, initial=5)
    trials = drive(spec, 12)
    distributions = sampler_space.distributions(spec.matrix)
    axes = sampler_space.space(spec.matrix, "tpe")
    seed = samplers._sampler_seed(spec.seed, len(trials))
    sampler = optuna.samplers.TPESampler(n_startup_trials=5, constant_liar=True, seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for trial in trials:
        params = {name: axes[name].encode(value) for name, value in trial.params.items()}
        study.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=distributions, value=trial.metric
            )
        )
    asked = study.ask(distributions).params
    expected = {name: axes[name].decode(asked[name]) for name in spec.matrix}
    assert next_batch(spec, trials, 1).suggestions == [expected]
