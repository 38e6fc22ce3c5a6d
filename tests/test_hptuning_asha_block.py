"""ASHA's block: every field of parse_asha and its 400s, the rungs and the experiment bound."""

import pytest

from dashboard.hptuning import SpecError
from dashboard.hptuning.asha import MAX_RUNGS, parse_asha, rungs, total_experiments
from dashboard.hptuning.spec import parse_group_spec

PATH = "hptuning.asha"


def block(**fields):
    """An asha block (min 1, max 9, eta 3 unless given); a field given as None is left out."""
    raw = {
        "n_experiments": 6,
        "min_resource": 1,
        "max_resource": 9,
        "reduction_factor": 3,
        "resource": {"name": "epochs", "type": "int"},
        "metric": {"name": "loss", "optimization": "minimize"},
    }
    raw.update(fields)
    return {key: value for key, value in raw.items() if value is not None}


def errors_of(raw):
    with pytest.raises(SpecError) as info:
        parse_asha(raw, PATH)
    return info.value.errors


def test_the_block_is_normalised():
    raw = block(
        n_experiments="100",
        min_resource=0.5,
        max_resource=27,
        resource={"name": "epochs", "type": "FLOAT"},
        metric={"name": "acc", "optimization": "Maximize"},
    )
    assert parse_asha(raw, PATH) == {
        "n_experiments": 100,
        "min_resource": 0.5,
        "max_resource": 27,
        "reduction_factor": 3,
        "resource": {"name": "epochs", "type": "float"},
        "metric": {"name": "acc", "optimization": "maximize"},
    }


def test_reduction_factor_defaults_to_three():
    assert parse_asha(block(reduction_factor=None), PATH)["reduction_factor"] == 3
    assert parse_asha({**block(), "reduction_factor": None}, PATH)["reduction_factor"] == 3


def test_a_float_reduction_factor_is_kept():
    assert parse_asha(block(reduction_factor=2.5), PATH)["reduction_factor"] == 2.5


def test_resource_type_defaults_to_float_and_optimization_to_maximize():
    parsed = parse_asha(block(resource={"name": "steps"}, metric={"name": "acc"}), PATH)
    assert parsed["resource"] == {"name": "steps", "type": "float"}
    assert parsed["metric"] == {"name": "acc", "optimization": "maximize"}


@pytest.mark.parametrize("key", ["n_experiments", "min_resource", "max_resource"])
def test_numbers_are_required(key):
    assert errors_of({k: v for k, v in block().items() if k != key}) == [
        f"{PATH}.{key}: is required"
    ]


@pytest.mark.parametrize("key", ["resource", "metric"])
def test_resource_and_metric_are_required(key):
    assert errors_of({k: v for k, v in block().items() if k != key}) == [
        f"{PATH}.{key}: is required"
    ]


def test_the_block_must_be_a_mapping():
    assert errors_of([1, 2]) == [f"{PATH}: must be a mapping, got a list"]
    assert errors_of(None) == [f"{PATH}: must be a mapping, got null"]


def test_an_unknown_key_is_named():
    assert errors_of(block(max_iter=9)) == [
        f"{PATH}: unknown key 'max_iter' (allowed: n_experiments, min_resource, max_resource, "
        "reduction_factor, resource, metric)"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be >= 1, got 0"),
        (-3, "must be >= 1, got -3"),
        (1.5, "must be an integer, got a float 1.5"),
        ("many", "must be an integer, got a string 'many'"),
        (True, "must be an integer, got a bool True"),
    ],
)
def test_n_experiments_is_an_int_of_at_least_one(value, message):
    assert errors_of(block(n_experiments=value)) == [f"{PATH}.n_experiments: {message}"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be greater than 0, got 0"),
        (-1, "must be greater than 0, got -1"),
        ("one", "must be a number, got a string 'one'"),
        (False, "must be a number, got a bool False"),
        (float("nan"), "must be a number, got a float nan"),
    ],
)
def test_min_resource_is_a_positive_number(value, message):
    assert errors_of(block(min_resource=value)) == [f"{PATH}.min_resource: {message}"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be greater than 0, got 0"),
        ([9], "must be a number, got a list [9]"),
        (float("inf"), "must be a number, got a float inf"),
    ],
)
def test_max_resource_is_a_positive_number(value, message):
    assert errors_of(block(max_resource=value)) == [f"{PATH}.max_resource: {message}"]


def test_max_resource_below_min_resource_is_refused():
    assert errors_of(block(min_resource=10, max_resource=9)) == [
        f"{PATH}.max_resource: must be >= min_resource 10, got 9"
    ]


def test_max_resource_equal_to_min_resource_makes_one_rung():
    parsed = parse_asha(block(min_resource=5, max_resource=5), PATH)
    assert rungs(parsed) == [5]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1, "must be greater than 1, got 1"),
        (0.5, "must be greater than 1, got 0.5"),
        ("fast", "must be a number, got a string 'fast'"),
    ],
)
def test_reduction_factor_is_a_number_above_one(value, message):
    assert errors_of(block(reduction_factor=value)) == [f"{PATH}.reduction_factor: {message}"]


def test_resource_fields_are_checked():
    assert errors_of(block(resource={"name": "epochs", "type": "str"})) == [
        f"{PATH}.resource.type: must be one of int, float, got 'str'"
    ]
    assert errors_of(block(resource={"type": "int"})) == [f"{PATH}.resource.name: is required"]
    assert errors_of(block(resource={})) == [f"{PATH}.resource.name: is required"]
    assert errors_of(block(resource={"name": ""})) == [
        f"{PATH}.resource.name: must be a non-empty string, got a string ''"
    ]
    assert errors_of(block(resource="epochs")) == [
        f"{PATH}.resource: must be a mapping, got a string"
    ]
    assert errors_of(block(resource={"name": "e", "unit": "s"})) == [
        f"{PATH}.resource: unknown key 'unit' (allowed: name, type)"
    ]


def test_metric_fields_are_checked():
    assert errors_of(block(metric={"name": "loss", "optimization": "lowest"})) == [
        f"{PATH}.metric.optimization: must be one of maximize, minimize, got 'lowest'"
    ]
    assert errors_of(block(metric={"optimization": "minimize"})) == [
        f"{PATH}.metric.name: is required"
    ]
    assert errors_of(block(metric=["loss"])) == [f"{PATH}.metric: must be a mapping, got a list"]


def test_every_bad_field_is_reported_at_once():
    raw = block(
        n_experiments=0,
        min_resource=-1,
        max_resource="x",
        reduction_factor=1,
        resource={"name": "e", "type": "bool"},
        metric={"name": "loss", "optimization": "up"},
    )
    assert errors_of(raw) == [
        f"{PATH}.n_experiments: must be >= 1, got 0",
        f"{PATH}.min_resource: must be greater than 0, got -1",
        f"{PATH}.max_resource: must be a number, got a string 'x'",
        f"{PATH}.reduction_factor: must be greater than 1, got 1",
        f"{PATH}.resource.type: must be one of int, float, got 'bool'",
        f"{PATH}.metric.optimization: must be one of maximize, minimize, got 'up'",
    ]


def test_a_ladder_of_more_than_a_hundred_rungs_is_refused():
    ok = parse_asha(block(min_resource=1, max_resource=2**99, reduction_factor=2), PATH)
    assert len(rungs(ok)) == MAX_RUNGS == 100
    assert errors_of(block(min_resource=1, max_resource=2**100, reduction_factor=2)) == [
        f"{PATH}.reduction_factor: 2 from min_resource 1 to max_resource "
        "12676506... (31 digits) makes more than 100 rungs; raise reduction_factor"
    ]


def test_an_eta_barely_above_one_is_refused_without_walking_the_ladder():
    errors = errors_of(block(max_resource=1e300, reduction_factor=1.0000000000000002))
    assert errors == [
        f"{PATH}.reduction_factor: 1.0000000000000002 from min_resource 1 to max_resource "
        "1e+300 makes more than 100 rungs; raise reduction_factor"
    ]


def test_int_rungs_that_round_to_the_same_resource_are_refused():
    assert errors_of(block(max_resource=9.4)) == [
        f"{PATH}.reduction_factor: with an int resource the rungs are 1, 3, 9, 9 "
        "(min_resource * eta^k rounded): 9 repeats; raise reduction_factor or min_resource, "
        "or use type float"
    ]
    assert errors_of(block(min_resource=0.2, max_resource=4, reduction_factor=2)) == [
        f"{PATH}.reduction_factor: with an int resource the rungs are 1, 1, 1, 2, 3, 4 "
        "(min_resource * eta^k rounded): 1 repeats; raise reduction_factor or min_resource, "
        "or use type float"
    ]
    float_type = block(max_resource=9.4, resource={"name": "epochs", "type": "float"})
    assert rungs(parse_asha(float_type, PATH)) == [1.0, 3.0, 9.0, 9.4]


def parsed(**fields):
    return parse_asha(block(**fields), PATH)


def test_rungs_of_the_issue():
    assert rungs(parsed()) == [1, 3, 9]


def test_rungs_end_at_max_resource_and_go_no_further():
    assert rungs(parsed(max_resource=81)) == [1, 3, 9, 27, 81]
    assert rungs(parsed(max_resource=10)) == [1, 3, 9, 10]
    assert rungs(parsed(max_resource=100)) == [1, 3, 9, 27, 81, 100]
    assert rungs(parsed(min_resource=2, max_resource=5)) == [2, 5]


def test_int_rungs_round_half_up_and_are_ints():
    resources = rungs(parsed(max_resource=20, reduction_factor=2.5))
    assert resources == [1, 3, 6, 16, 20]  # 1, 2.5, 6.25, 15.625, then 20
    assert all(type(resource) is int for resource in resources)


def test_float_rungs_are_floats_and_exact():
    resources = rungs(
        parsed(min_resource=0.5, max_resource=4, reduction_factor=2, resource={"name": "e"})
    )
    assert resources == [0.5, 1.0, 2.0, 4.0]
    assert all(type(resource) is float for resource in resources)
    # 1.1 * 1.1 is 1.2100000000000002 as binary floats: read as written, 1.21 is rung 2 itself.
    exact = parsed(max_resource=1.21, reduction_factor=1.1, resource={"name": "e"})
    assert rungs(exact) == [1.0, 1.1, 1.21]


def test_total_experiments_of_the_issue():
    # Rung 0 holds 6; at most 6 - 3 + 1 = 4 of them are ever promoted, then 4 - 2 = 2.
    assert total_experiments(parsed()) == 12


def test_total_experiments_stops_at_the_last_rung():
    assert total_experiments(parsed(n_experiments=100, max_resource=3)) == 100 + 98
    assert total_experiments(parsed(n_experiments=10, min_resource=9)) == 10


def test_total_experiments_without_enough_results_to_promote():
    assert total_experiments(parsed(n_experiments=2)) == 2
    assert total_experiments(parsed(n_experiments=3)) == 3 + 1


def test_total_experiments_with_a_float_eta_steps_by_its_ceiling():
    # eta 2.5: a first promotion needs 3 results, so 2 of a rung are never promoted.
    eta = parsed(n_experiments=10, reduction_factor=2.5)
    assert rungs(eta) == [1, 3, 6, 9]
    assert total_experiments(eta) == 10 + 8 + 6 + 4


def test_total_experiments_of_a_large_block_is_quick():
    huge = parsed(n_experiments=10**12, max_resource=2**99, reduction_factor=2)
    assert total_experiments(huge) == sum(10**12 - k for k in range(100))


# ---- in a polyaxonfile --------------------------------------------------------------------


def polyaxonfile(asha, matrix="x: {uniform: 0:1}", cmd="train --x {{ x }} --epochs {{ epochs }}"):
    return (
        "version: 1\nkind: group\nhptuning:\n  concurrency: 4\n"
        f"  asha: {asha}\n  matrix:\n    {matrix}\nrun:\n  cmd: {cmd}\n"
    )


ASHA = (
    "{n_experiments: 20, min_resource: 1, max_resource: 9, "
    "resource: {name: epochs, type: int}, metric: {name: loss, optimization: minimize}}"
)


def test_a_polyaxonfile_with_asha_parses_and_its_command_may_name_the_resource():
    spec = parse_group_spec(polyaxonfile(ASHA))

    assert spec.search_algorithm == "asha"
    assert spec.algorithm_block["reduction_factor"] == 3
    assert spec.num_experiments is None  # promotions depend on results


def test_an_asha_group_past_the_experiment_cap_is_refused_naming_n_experiments():
    with pytest.raises(SpecError) as info:
        parse_group_spec(polyaxonfile(ASHA.replace("n_experiments: 20", "n_experiments: 9000")))

    assert info.value.errors == [
        "hptuning.asha.n_experiments: 9000 configurations can make up to 26994 experiments with "
        "their promotions, at most 10000 are allowed; lower n_experiments or the number of rungs"
    ]


def test_the_resource_may_not_also_be_a_matrix_param():
    with pytest.raises(SpecError) as info:
        parse_group_spec(polyaxonfile(ASHA, matrix="epochs: {values: [1, 2]}", cmd="train"))

    assert info.value.errors == ["hptuning.asha.resource.name: 'epochs' is also a matrix param"]
