"""tpe and cmaes: their blocks, which matrix options they accept and how each maps to Optuna.

parse_group_spec does not accept tpe and cmaes yet: the blocks are parsed alone and the matrix
normalised by parse_matrix, as the spec parser will.
"""

import math

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from dashboard.hptuning import SpecError
from dashboard.hptuning.matrix import parse_matrix
from dashboard.hptuning.options import matrix_values
from dashboard.hptuning.sampler_space import check_matrix, distributions, space
from dashboard.hptuning.samplers import parse_cmaes, parse_tpe

METRIC = {"name": "loss", "optimization": "minimize"}


def errors_of(func, *args):
    with pytest.raises(SpecError) as caught:
        func(*args)
    return caught.value.errors


def matrix(**options):
    return parse_matrix(options, "hptuning.matrix", "random")


def axis(option, value):
    return space(matrix(p={option: value}), "tpe")["p"]


def mapped(option, value):
    return distributions(matrix(p={option: value}))["p"]


# tpe and cmaes blocks


def test_tpe_block_is_normalised():
    block = parse_tpe(
        {"n_experiments": 50, "n_initial_trials": 5, "metric": METRIC}, "hptuning.tpe"
    )
    assert block == {"n_experiments": 50, "n_initial_trials": 5, "metric": METRIC}


def test_tpe_defaults_to_ten_initial_trials_and_maximize():
    block = parse_tpe({"n_experiments": 50, "metric": {"name": "acc"}}, "hptuning.tpe")
    assert block == {
        "n_experiments": 50,
        "n_initial_trials": 10,
        "metric": {"name": "acc", "optimization": "maximize"},
    }


def test_tpe_default_initial_trials_are_lowered_to_n_experiments():
    block = parse_tpe({"n_experiments": 4, "metric": METRIC}, "hptuning.tpe")
    assert block["n_initial_trials"] == 4


def test_tpe_initial_trials_above_n_experiments_are_refused():
    raw = {"n_experiments": 4, "n_initial_trials": 5, "metric": METRIC}
    assert errors_of(parse_tpe, raw, "hptuning.tpe") == [
        "hptuning.tpe.n_initial_trials: must be <= n_experiments (4), got 5"
    ]


def test_tpe_initial_trials_equal_to_n_experiments_are_accepted():
    raw = {"n_experiments": 4, "n_initial_trials": 4, "metric": METRIC}
    assert parse_tpe(raw, "hptuning.tpe")["n_initial_trials"] == 4


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"metric": METRIC}, "hptuning.tpe.n_experiments: is required"),
        ({"n_experiments": 5}, "hptuning.tpe.metric: is required"),
        (
            {"n_experiments": 0, "metric": METRIC},
            "hptuning.tpe.n_experiments: must be >= 1, got 0",
        ),
        (
            {"n_experiments": "many", "metric": METRIC},
            "hptuning.tpe.n_experiments: must be an integer, got a string 'many'",
        ),
        (
            {"n_experiments": 5, "n_initial_trials": 0, "metric": METRIC},
            "hptuning.tpe.n_initial_trials: must be >= 1, got 0",
        ),
        (
            {"n_experiments": 5, "n_initial_trials": 1.5, "metric": METRIC},
            "hptuning.tpe.n_initial_trials: must be an integer, got a float 1.5",
        ),
        (
            {"n_experiments": 5, "metric": {"optimization": "minimize"}},
            "hptuning.tpe.metric.name: is required",
        ),
        (
            {"n_experiments": 5, "metric": {"name": "loss", "optimization": "lowest"}},
            "hptuning.tpe.metric.optimization: must be one of maximize, minimize, got 'lowest'",
        ),
        (
            {"n_experiments": 5, "metric": "loss"},
            "hptuning.tpe.metric: must be a mapping, got a string",
        ),
        (
            {"n_experiments": 5, "metric": METRIC, "n_iterations": 3},
            "hptuning.tpe: unknown key 'n_iterations' (allowed: n_experiments, "
            "n_initial_trials, metric)",
        ),
    ],
)
def test_tpe_block_errors_name_their_path(raw, expected):
    assert errors_of(parse_tpe, raw, "hptuning.tpe") == [expected]


def test_tpe_block_must_be_a_mapping():
    assert errors_of(parse_tpe, None, "hptuning.tpe") == [
        "hptuning.tpe: must be a mapping, got null"
    ]


def test_tpe_block_errors_are_collected():
    raw = {"n_experiments": 0, "n_initial_trials": -1, "metric": {"name": ""}}
    assert errors_of(parse_tpe, raw, "hptuning.tpe") == [
        "hptuning.tpe.n_experiments: must be >= 1, got 0",
        "hptuning.tpe.n_initial_trials: must be >= 1, got -1",
        "hptuning.tpe.metric.name: must be a non-empty string, got a string ''",
    ]


def test_cmaes_block_is_normalised():
    block = parse_cmaes({"n_experiments": "20", "metric": {"name": "acc"}}, "hptuning.cmaes")
    assert block == {"n_experiments": 20, "metric": {"name": "acc", "optimization": "maximize"}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"metric": METRIC}, ["hptuning.cmaes.n_experiments: is required"]),
        ({"n_experiments": 5}, ["hptuning.cmaes.metric: is required"]),
        (
            {"n_experiments": -2, "metric": METRIC},
            ["hptuning.cmaes.n_experiments: must be >= 1, got -2"],
        ),
        (
            {"n_experiments": True, "metric": METRIC},
            ["hptuning.cmaes.n_experiments: must be an integer, got a bool True"],
        ),
        (
            {"n_experiments": 5, "n_initial_trials": 2, "metric": METRIC},
            ["hptuning.cmaes: unknown key 'n_initial_trials' (allowed: n_experiments, metric)"],
        ),
        (
            {"n_experiments": 5, "metric": {"name": "loss", "optimization": 1}},
            ["hptuning.cmaes.metric.optimization: must be one of maximize, minimize, got 1"],
        ),
        (
            {"n_experiments": 0, "metric": {"name": 3}},
            [
                "hptuning.cmaes.n_experiments: must be >= 1, got 0",
                "hptuning.cmaes.metric.name: must be a non-empty string, got an int 3",
            ],
        ),
        ([], ["hptuning.cmaes: must be a mapping, got a list"]),
    ],
)
def test_cmaes_block_errors_name_their_path(raw, expected):
    assert errors_of(parse_cmaes, raw, "hptuning.cmaes") == expected


# options with no Optuna equivalent


@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
def test_pvalues_are_refused_naming_the_param(algorithm):
    assert errors_of(
        check_matrix, matrix(act={"pvalues": [["a", 0.5], ["b", 0.5]]}), algorithm
    ) == [
        f"hptuning.matrix.act: 'act' uses pvalues, which {algorithm} cannot search: Optuna's "
        "categorical distribution cannot weight its choices; use values"
    ]


@pytest.mark.parametrize(
    ("option", "value", "instead"),
    [
        ("normal", [0, 1], "uniform"),
        ("qnormal", [0, 1, 0.1], "uniform"),
        ("lognormal", [0, 1], "loguniform"),
        ("qlognormal", [0, 1, 1], "loguniform"),
    ],
)
@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
def test_unbounded_priors_are_refused(option, value, instead, algorithm):
    assert errors_of(check_matrix, matrix(lr={option: value}), algorithm) == [
        f"hptuning.matrix.lr: 'lr' uses {option}, which {algorithm} cannot search: Optuna's "
        "distributions are bounded with a flat prior and this prior is unbounded; use "
        f"{instead} over the range to search"
    ]


def test_every_refused_param_is_reported():
    bad = matrix(a={"normal": [0, 1]}, b={"uniform": [0, 1]}, c={"pvalues": [[1, 1.0]]})
    errors = errors_of(check_matrix, bad, "tpe")
    assert [error.split(":")[0] for error in errors] == ["hptuning.matrix.a", "hptuning.matrix.c"]


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (["relu", "tanh"], "its values are not numbers"),
        ([True, False], "its values are not numbers"),
        ([1, "two"], "its values are not numbers"),
        (["relu"], "its values are not numbers"),
        (
            [1, 2, 5, 10],
            "its numbers are not evenly spaced (linearly or geometrically), so they can only "
            "be unordered choices",
        ),
    ],
)
def test_cmaes_refuses_categorical_params(values, why):
    assert errors_of(check_matrix, matrix(act={"values": values}), "cmaes") == [
        f"hptuning.matrix.act: 'act' is a categorical param ({why}); cmaes searches numbers "
        "only (use tpe, or a numeric option such as range, linspace or uniform)"
    ]


def test_tpe_accepts_categorical_params():
    check_matrix(matrix(act={"values": ["relu", "tanh"]}, n={"values": [1, 2, 5]}), "tpe")


def test_loguniform_whose_low_underflows_is_refused():
    assert errors_of(check_matrix, matrix(lr={"loguniform": [-800, 0]}), "tpe") == [
        "hptuning.matrix.lr: low is a natural log and exp(-800) is 0 as a float; raise low"
    ]


def test_cmaes_accepts_every_numeric_option():
    check_matrix(
        matrix(
            a={"values": [1, 2, 3]},
            b={"values": [32, 64, 128]},
            c={"values": [7]},
            d={"range": "0:10:2"},
            e={"linspace": "0:1:5"},
            f={"logspace": "-3:0:4"},
            g={"geomspace": "1:1000:4"},
            h={"uniform": [0, 1]},
            i={"quniform": [0, 10, 2]},
            j={"loguniform": [-5, 0]},
            k={"qloguniform": [0, 3, 1]},
        ),
        "cmaes",
    )


# the mapping of each option


def test_int_range_is_an_int_distribution_with_its_step():
    assert mapped("range", "0:10:2") == IntDistribution(0, 8, step=2)


def test_float_range_keeps_its_step():
    assert mapped("range", [0, 1, 0.1]) == FloatDistribution(0, 0.9, step=0.1)


def test_linspace_keeps_its_step():
    assert mapped("linspace", "0.001:0.1:5") == FloatDistribution(0.001, 0.1, step=0.02475)


def test_logspace_is_a_stepped_axis_of_exponents():
    assert mapped("logspace", "-4:-1:4") == FloatDistribution(-4, -1, step=1)
    assert mapped("logspace", {"start": 1, "stop": 3, "num": 3, "base": 2}) == (
        FloatDistribution(1, 3, step=1)
    )


def test_geomspace_is_a_stepped_axis_in_log10():
    assert mapped("geomspace", "1:1000:4") == FloatDistribution(0, 3, step=1)
    assert mapped("geomspace", "-100:-1:3") == FloatDistribution(0, 2, step=1)


def test_evenly_spaced_values_are_a_stepped_axis():
    assert mapped("values", [3, 1, 5]) == IntDistribution(1, 5, step=2)
    assert mapped("values", [0.25, 0.3]) == FloatDistribution(0.25, 0.3, step=0.05)
    assert mapped("values", [0.1, 0.2, 0.3]) == FloatDistribution(0.1, 0.3, step=0.1)


def test_geometric_values_are_a_stepped_log_axis():
    distribution = mapped("values", [32, 64, 128, 256])
    assert isinstance(distribution, FloatDistribution) and not distribution.log
    assert distribution.low == pytest.approx(math.log10(32))
    assert distribution.high == pytest.approx(math.log10(256))
    assert distribution.step == pytest.approx(math.log10(2))


def test_other_values_are_categorical_as_written():
    assert mapped("values", ["relu", "tanh"]) == CategoricalDistribution(["relu", "tanh"])
    assert mapped("values", [1, 2, 5, 10]) == CategoricalDistribution([1, 2, 5, 10])
    assert mapped("values", [True, False]) == CategoricalDistribution([True, False])


def test_values_that_compare_equal_in_python_become_json_choices():
    assert mapped("values", [1, True, [2], {"a": 1}, None]) == CategoricalDistribution(
        ["1", "true", "[2]", '{"a": 1}', "null"]
    )


def test_a_single_value_is_a_constant_axis():
    assert mapped("values", [7]) == IntDistribution(7, 7)
    assert mapped("values", [0.5]) == FloatDistribution(0.5, 0.5)


def test_uniform_is_the_same_interval():
    assert mapped("uniform", [-5, 10]) == FloatDistribution(-5, 10)


def test_quniform_spans_the_multiples_of_q_it_can_reach():
    assert mapped("quniform", [0, 10, 3]) == IntDistribution(0, 9, step=3)
    # uniform in [0, 3) / 2 < 1.5 rounds to 0 or 1: 4 cannot be reached.
    assert mapped("quniform", [0, 3, 2]) == IntDistribution(0, 2, step=2)
    assert mapped("quniform", [0.05, 1, 0.1]) == FloatDistribution(0.0, 1.0, step=0.1)


def test_loguniform_bounds_are_natural_logs():
    assert mapped("loguniform", [-5, 0]) == FloatDistribution(math.exp(-5), 1.0, log=True)


def test_qloguniform_is_log_scaled_and_rounded_after():
    assert mapped("qloguniform", [0, 5, 2]) == FloatDistribution(1.0, math.exp(5), log=True)
    assert axis("qloguniform", [0, 5, 2]).decode(7.3) == 8
    assert axis("qloguniform", [0, 5, 0.5]).decode(7.3) == 7.5


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("range", "0:10:2"),
        ("range", [0, 1, 0.1]),
        ("range", [0.5, 3, 0.25]),
        ("linspace", "0:1:4"),
        ("linspace", "0.001:0.1:5"),
        ("linspace", [123.456, 124.456, 7]),
        ("linspace", "3:3.5:1"),
        ("logspace", "-4:-1:4"),
        ("logspace", {"start": 0, "stop": 3, "num": 7, "base": 0.5}),
        ("geomspace", "1:1000:4"),
        ("geomspace", "-100:-1:3"),
    ],
)
def test_every_point_of_a_range_decodes_to_the_matrix_value(option, value):
    grid, spec = axis(option, value), matrix(p={option: value})["p"][option]
    distribution = grid.distribution()
    count = round((distribution.high - distribution.low) / (distribution.step or 1)) + 1
    points = [distribution.low + k * (distribution.step or 0) for k in range(count)]
    # Points go up the axis: a geomspace from -100 to -1 goes -1, -10, -100 (up in log10 abs).
    assert sorted(grid.decode(point) for point in points) == sorted(matrix_values(option, spec))
    assert [grid.decode(grid.encode(v)) for v in matrix_values(option, spec)] == (
        matrix_values(option, spec)
    )


def test_decoded_values_keep_their_types():
    assert axis("range", "0:10:2").decode(4) == 4 and isinstance(
        axis("range", "0:10:2").decode(4), int
    )
    assert axis("values", [1, 1.5, 2]).decode(1.0) == 1
    assert isinstance(axis("values", [1, 1.5, 2]).decode(1.0), int)
    assert axis("values", [32, 64, 128]).decode(math.log10(64)) == 64
    assert axis("quniform", [0, 1, 0.1]).decode(0.30000000000000004) == 0.3
    assert axis("values", [[1], {"a": 1}]).decode('{"a": 1}') == {"a": 1}


def test_values_outside_the_axis_are_clipped_or_unknown():
    grid = axis("uniform", [0, 1])
    assert grid.encode(1.5) == 1.0 and grid.encode(-1) == 0.0
    assert axis("range", "0:10:2").encode(100) == 8
    unknown = axis("values", ["relu"]).encode("gelu")
    assert unknown is axis("uniform", [0, 1]).encode("text")
