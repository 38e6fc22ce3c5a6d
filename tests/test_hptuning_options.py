"""Matrix options: parsing, normalisation, discrete values and sampling."""

import math

import numpy as np
import pytest

from dashboard.hptuning import SpecError, matrix_values
from dashboard.hptuning.options import _LazyRange, discrete_values, parse_option, sample

PATH = "hptuning.matrix.p.{}"


def parse(option, raw):
    return parse_option(option, raw, PATH.format(option))


def messages(option, raw):
    with pytest.raises(SpecError) as info:
        parse(option, raw)
    return info.value.errors


def test_logspace_gives_powers_of_ten():
    assert matrix_values("logspace", parse("logspace", "-3:-1:3")) == pytest.approx(
        [0.001, 0.01, 0.1], rel=1e-12
    )


def test_range_with_ints_gives_ints_and_excludes_stop():
    values = matrix_values("range", parse("range", [1, 4, 1]))
    assert values == [1, 2, 3]
    assert all(type(v) is int for v in values)


def test_linspace_includes_both_ends():
    values = matrix_values("linspace", parse("linspace", "0.001:0.1:5"))
    assert values == pytest.approx([0.001, 0.02575, 0.0505, 0.07525, 0.1], rel=1e-12)
    assert all(type(v) is float for v in values)


def test_geomspace_gives_a_geometric_sequence():
    values = matrix_values("geomspace", parse("geomspace", "1:1000:4"))
    assert values == pytest.approx([1, 10, 100, 1000], rel=1e-12)


def test_string_list_and_dict_forms_normalise_alike():
    expected = {"start": 0.001, "stop": 0.1, "num": 5}
    assert parse("linspace", "0.001:0.1:5") == expected
    assert parse("linspace", [0.001, 0.1, 5]) == expected
    assert parse("linspace", {"num": 5, "start": 0.001, "stop": 0.1}) == expected
    assert list(parse("linspace", {"num": 5, "start": 0.001, "stop": 0.1})) == [
        "start",
        "stop",
        "num",
    ]


def test_string_parts_are_python_literals():
    spec = parse("uniform", "1e-3:1")
    assert spec == {"low": 0.001, "high": 1}
    assert type(spec["low"]) is float
    assert type(spec["high"]) is int


def test_yaml_strings_inside_a_list_are_parsed_as_literals():
    assert parse("range", ["1e-3", "0.5", "0.1"]) == {"start": 0.001, "stop": 0.5, "step": 0.1}


def test_logspace_base_defaults_to_ten_and_can_be_given():
    assert parse("logspace", "0:2:3")["base"] == 10
    spec = parse("logspace", "0:3:4:2")
    assert matrix_values("logspace", spec) == pytest.approx([1, 2, 4, 8])


def test_reversed_linspace_names_both_ends():
    assert messages("linspace", "0.1:0.001:5") == [
        "hptuning.matrix.p.linspace: stop (0.001) must be greater than start (0.1)"
    ]


def test_equal_range_ends_are_refused():
    assert "stop (1) must be greater than start (1)" in messages("range", [1, 1, 1])[0]


@pytest.mark.parametrize("step", [0, -1])
def test_range_step_must_be_positive(step):
    assert "step must be greater than 0" in messages("range", [0, 10, step])[0]


@pytest.mark.parametrize("num", [0, 2.5, "x"])
def test_num_must_be_a_positive_integer(num):
    assert any("num" in message for message in messages("linspace", [0, 1, num]))


def test_geomspace_refuses_a_zero_end():
    assert "same sign" in messages("geomspace", [0, 10, 3])[0]


def test_uniform_needs_low_below_high():
    assert messages("uniform", "1:0") == [
        "hptuning.matrix.p.uniform: high (0) must be greater than low (1)"
    ]


@pytest.mark.parametrize("option", ["normal", "lognormal"])
def test_normal_family_needs_a_positive_scale(option):
    assert "scale must be greater than 0" in messages(option, [0, 0])[0]


@pytest.mark.parametrize("option", ["quniform", "qloguniform", "qnormal", "qlognormal"])
def test_q_must_be_positive(option):
    assert "q must be greater than 0" in messages(option, [0, 1, 0])[0]


def test_bools_are_not_numbers():
    assert messages("uniform", [True, 2]) == [
        "hptuning.matrix.p.uniform: low must be a number, got True"
    ]


def test_unknown_key_in_an_option_dict_is_named():
    errors = messages("uniform", {"low": 0, "high": 1, "size": 3})
    assert errors[0].startswith("hptuning.matrix.p.uniform: unknown key 'size'")


def test_missing_key_in_an_option_dict_is_named():
    assert messages("range", {"start": 0, "stop": 3}) == [
        "hptuning.matrix.p.range.step: is required"
    ]


def test_wrong_number_of_parts_is_refused():
    assert "needs 3 values" in messages("linspace", "0:1")[0]


def test_unquoted_sexagesimal_gets_a_hint():
    assert "quote it" in messages("range", 3841)[0]


def test_values_must_be_a_non_empty_list():
    assert messages("values", []) == ["hptuning.matrix.p.values: must not be empty"]
    assert "must be a list" in messages("values", "a,b")[0]


def test_values_keep_numbers_strings_bools_and_lists():
    assert parse("values", [1, 0.5, "relu", True, [1, 2]]) == [1, 0.5, "relu", True, [1, 2]]


def test_pvalues_must_sum_to_one():
    assert "must sum to 1" in messages("pvalues", [["a", 0.5], ["b", 0.4]])[0]


def test_pvalues_sum_is_tolerant_to_round_off():
    spec = parse("pvalues", [["a", 0.1], ["b", 0.2], ["c", 0.7000001]])
    assert spec == [["a", 0.1], ["b", 0.2], ["c", 0.7000001]]


def test_pvalues_probabilities_must_be_positive():
    assert "probability" in messages("pvalues", [["a", 0], ["b", 1.0]])[0]


def test_distributions_have_no_matrix_values():
    assert matrix_values("uniform", {"low": 0, "high": 1}) is None
    assert matrix_values("pvalues", [["a", 1.0]]) is None


def test_quniform_samples_are_multiples_of_q():
    spec = parse("quniform", [0.5, 0.99, 0.01])
    rng = np.random.default_rng(1)
    for _ in range(200):
        value = sample("quniform", spec, rng)
        assert value == pytest.approx(round(value / 0.01) * 0.01, abs=1e-12)
        assert value == round(value, 2)


def test_quniform_with_an_int_q_gives_ints():
    rng = np.random.default_rng(1)
    values = [sample("quniform", {"low": 0, "high": 100, "q": 5}, rng) for _ in range(50)]
    assert all(type(v) is int and v % 5 == 0 for v in values)


def test_loguniform_bounds_are_natural_logs():
    rng = np.random.default_rng(2)
    low, high = -9.2, -2.3
    for _ in range(200):
        value = sample("loguniform", {"low": low, "high": high}, rng)
        assert math.exp(low) <= value < math.exp(high)


def test_qlognormal_exponentiates_once():
    rng = np.random.default_rng(3)
    values = [sample("qlognormal", {"loc": 0, "scale": 0.1, "q": 0.01}, rng) for _ in range(200)]
    # exp(normal(0, 0.1)) stays near 1; exponentiating twice would give values near e.
    assert 0.5 < sum(values) / len(values) < 1.5


def test_samples_are_plain_python_values():
    rng = np.random.default_rng(4)
    specs = {
        "values": [1, 2],
        "range": {"start": 0, "stop": 5, "step": 1},
        "linspace": {"start": 0, "stop": 1, "num": 3},
        "pvalues": [[3, 0.5], [4, 0.5]],
        "uniform": {"low": 0, "high": 1},
        "normal": {"loc": 0, "scale": 1},
        "lognormal": {"loc": 0, "scale": 1},
    }
    for option, spec in specs.items():
        assert type(sample(option, spec, rng)) in (int, float)


def test_a_huge_range_is_not_materialised():
    values = discrete_values("range", {"start": 0, "stop": 10**12, "step": 1})
    assert len(values) == 10**12
    assert values[123_456_789] == 123_456_789


@pytest.mark.parametrize(
    ("option", "spec"),
    [
        ("range", {"start": 0.5, "stop": 3.3, "step": 0.1}),
        ("linspace", {"start": 0.001, "stop": 0.1, "num": 37}),
        ("logspace", {"start": -3, "stop": 2, "num": 23, "base": 10}),
        ("geomspace", {"start": 1, "stop": 1000, "num": 19}),
        ("geomspace", {"start": -1000, "stop": -1, "num": 7}),
    ],
)
def test_lazy_values_match_numpy(option, spec):
    expected = matrix_values(option, spec)
    lazy = _LazyRange(option, spec, len(expected))
    assert [lazy[i] for i in range(len(expected))] == pytest.approx(expected, rel=1e-12)
