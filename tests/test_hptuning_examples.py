"""The example polyaxonfiles of examples/ parse and give what their README says."""

import pytest

from dashboard.hptuning import matrix_values, parse_group_spec, suggestions
from tests.factories import EXAMPLES


def load(name):
    return parse_group_spec((EXAMPLES / name).read_text())


def test_random_example_is_the_reference_group():
    spec = load("random.yml")
    assert spec.search_algorithm == "random"
    assert (spec.num_combinations, spec.num_experiments, spec.concurrency) == (20, 10, 5)
    found = list(suggestions(spec))
    assert len({tuple(s.values()) for s in found}) == 10


def test_grid_example_yields_the_first_six_of_eighteen():
    spec = load("grid.yml")
    lr, layers = spec.matrix["lr"], spec.matrix["layers"]
    assert matrix_values("logspace", lr["logspace"]) == pytest.approx([0.001, 0.01, 0.1])
    assert matrix_values("range", layers["range"]) == [1, 2, 3]
    assert spec.num_combinations == 18
    found = list(suggestions(spec))
    assert [(s["optimizer"], s["layers"]) for s in found] == [
        ("sgd", 1),
        ("sgd", 2),
        ("sgd", 3),
        ("adam", 1),
        ("adam", 2),
        ("adam", 3),
    ]
    assert spec.params == {"epochs": 3}


def test_hyperband_example_parses():
    spec = load("hyperband.yml")
    assert spec.search_algorithm == "hyperband"
    assert spec.seed == 0
    assert spec.hptuning["hyperband"]["resource"] == {"name": "num_epochs", "type": "int"}
    assert spec.hptuning["hyperband"]["metric"] == {"name": "loss", "optimization": "minimize"}


def test_bo_example_parses():
    spec = load("bo.yml")
    assert spec.search_algorithm == "bo"
    block = spec.hptuning["bo"]
    assert (block["n_initial_trials"], block["n_iterations"]) == (5, 15)
    assert block["utility_function"]["acquisition_function"] == "ei"
    assert block["metric"] == {"name": "accuracy", "optimization": "maximize"}


def test_early_stopping_example_parses_and_samples():
    spec = load("early_stopping.yml")
    assert [
        (e["metric"], e["value"], e["optimization"]) for e in spec.hptuning["early_stopping"]
    ] == [
        ("accuracy", 0.97, "maximize"),
        ("loss", 0.05, "minimize"),
    ]
    assert len(list(suggestions(spec))) == spec.num_experiments == 30


def test_asha_tpe_cmaes_and_policies_examples_parse():
    asha, tpe, cmaes = load("asha.yml"), load("tpe.yml"), load("cmaes.yml")
    assert (asha.search_algorithm, tpe.search_algorithm, cmaes.search_algorithm) == (
        "asha",
        "tpe",
        "cmaes",
    )
    assert asha.algorithm_block["reduction_factor"] == 3
    assert (tpe.num_experiments, tpe.algorithm_block["n_initial_trials"]) == (50, 10)
    assert cmaes.num_experiments == 50
    policies = load("policies.yml").hptuning["early_stopping"]
    assert [(rule["value"], rule["policy"]["kind"]) for rule in policies] == [
        (None, "median"),
        (0.99, "truncation"),
    ]
