"""Narrowing a polyaxonfile around the best experiment (hptuning.around_best): every matrix
option kind round-trips through the parser with the values computed by hand."""

import math

import pytest
import yaml

from dashboard.hptuning import SpecError, parse_group_spec
from dashboard.hptuning.around_best import around_best, parse_spread


def _file(option, extra=""):
    """A random-search polyaxonfile with the param `x` of `option` (written as YAML) and a
    categorical `act`."""
    return (
        "version: 1\nkind: group\nhptuning:\n  random_search: {n_experiments: 5}\n  matrix:\n"
        f"    x: {{{option}}}\n    act: {{values: [relu, tanh]}}\n{extra}"
        "run:\n  cmd: train --x={{ x }} --act={{ act }}\n"
    )


def _narrowed(option, best, spread=0.25):
    """The normalised option of `x` once narrowed around `best`, read back by the parser."""
    result = around_best(_file(option), {"x": best, "act": "relu"}, spread)
    return parse_group_spec(result.content).matrix["x"]


def _approx(expected):
    """The normalised option with its numbers compared within float noise."""
    option, spec = next(iter(expected.items()))
    if isinstance(spec, dict):
        return {option: {key: pytest.approx(value) for key, value in spec.items()}}
    return expected


# Each case: the option as written, the best value, the option expected after (spread 0.25),
# worked out by hand in the comment.
CASES = [
    # width 16 - 1 = 15, half 3.75: [0.25, 7.75] around 4.
    ("values", "values: [1, 2, 4, 8, 16]", 4, {"values": [1, 2, 4]}),
    ("pvalues", "pvalues: [[a, 0.5], [b, 0.5]]", "a", {"pvalues": [["a", 0.5], ["b", 0.5]]}),
    # width 100, half 25: [15, 65], 10 values: step 5.
    ("range", "range: [0, 100, 10]", 40, {"range": {"start": 15, "stop": 65, "step": 5}}),
    # width 1, half 0.25: [0.25, 0.75], 10 values: step 0.05.
    (
        "range of floats",
        "range: [0.0, 1.0, 0.1]",
        0.5,
        {"range": {"start": 0.25, "stop": 0.75, "step": 0.05}},
    ),
    # width 0.099, half 0.02475: [0.02525, 0.07475], 5 values.
    (
        "linspace",
        "linspace: '0.001:0.1:5'",
        0.05,
        {"linspace": {"start": 0.02525, "stop": 0.07475, "num": 5}},
    ),
    # exponents 1..3, the best 10^2: half 0.5, [1.5, 2.5].
    (
        "logspace",
        "logspace: '1:3:5'",
        100.0,
        {"logspace": {"start": 1.5, "stop": 2.5, "num": 5, "base": 10}},
    ),
    # exponents 0..8 of 2, the best 2^4: half 2, [2, 6].
    (
        "logspace base 2",
        "logspace: {start: 0, stop: 8, num: 9, base: 2}",
        16.0,
        {"logspace": {"start": 2, "stop": 6, "num": 9, "base": 2}},
    ),
    # log10 0..3, the best 10^1: half 0.75, [10^0.25, 10^1.75].
    (
        "geomspace",
        "geomspace: '1:1000:4'",
        10.0,
        {"geomspace": {"start": 10**0.25, "stop": 10**1.75, "num": 4}},
    ),
    # the same on the negative side: magnitudes 1000..1.
    (
        "geomspace negative",
        "geomspace: [-1000, -1, 4]",
        -10.0,
        {"geomspace": {"start": -(10**1.75), "stop": -(10**0.25), "num": 4}},
    ),
    # width 1, half 0.25: [0.65, 1.15] clipped to 1.
    ("uniform", "uniform: [0, 1]", 0.9, {"uniform": {"low": 0.65, "high": 1}}),
    # width 10, half 2.5: [0, 5]; q kept.
    (
        "quniform",
        "quniform: '0:10:0.5'",
        2.5,
        {"quniform": {"low": 0, "high": 5, "q": 0.5}},
    ),
    # natural logs -9.2..-2.3 (width 6.9, half 1.725), the best e^-4: [-5.725, -2.275 -> -2.3].
    (
        "loguniform",
        "loguniform: [-9.2, -2.3]",
        math.exp(-4),
        {"loguniform": {"low": -5.725, "high": -2.3}},
    ),
    # the best 0.001 = e^-6.907755: [-8.632755, -5.182755]; q kept.
    (
        "qloguniform",
        "qloguniform: {low: -9.2, high: -2.3, q: 0.0001}",
        0.001,
        {
            "qloguniform": {
                "low": math.log(0.001) - 1.725,
                "high": math.log(0.001) + 1.725,
                "q": 0.0001,
            }
        },
    ),
    # centred on the best, scale 2 x 0.25.
    ("normal", "normal: [0, 2]", 1.5, {"normal": {"loc": 1.5, "scale": 0.5}}),
    ("qnormal", "qnormal: '0:2:1'", 3, {"qnormal": {"loc": 3, "scale": 0.5, "q": 1}}),
    # centred on ln(best) = 1, scale 1 x 0.25.
    ("lognormal", "lognormal: [0, 1]", math.e, {"lognormal": {"loc": 1, "scale": 0.25}}),
    (
        "qlognormal",
        "qlognormal: [0, 1, 0.5]",
        1.5,
        {"qlognormal": {"loc": math.log(1.5), "scale": 0.25, "q": 0.5}},
    ),
]


@pytest.mark.parametrize(
    ("option", "best", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_option_is_narrowed_to_the_values_worked_out_by_hand(option, best, expected):
    assert _narrowed(option, best) == _approx(expected)


def test_every_matrix_option_kind_is_covered():
    from dashboard.hptuning.options import OPTIONS

    covered = {case[1].split(":")[0] for case in CASES}

    assert covered == set(OPTIONS)


def test_an_integer_range_stays_integers_and_holds_the_integers_of_its_window():
    # width 10, half 2.5: [1.5, 6.5] holds the integers 2..6, fewer than the 10 asked.
    assert _narrowed("range: [0, 10, 1]", 4) == {"range": {"start": 2, "stop": 7, "step": 1}}


def test_a_float_range_keeps_its_count():
    narrowed = _narrowed("range: [0.0, 1.0, 0.1]", 0.5)["range"]

    values = [narrowed["start"] + k * narrowed["step"] for k in range(10)]
    assert all(0.25 - 1e-9 <= v < 0.75 for v in values)
    assert (
        parse_group_spec(
            around_best(_file("range: [0.0, 1.0, 0.1]"), {"x": 0.5}, 0.25).content
        ).num_combinations
        == 10 * 2
    )


def test_a_window_at_the_bound_is_clipped():
    assert _narrowed("uniform: [0, 1]", 0.0) == {"uniform": {"low": 0, "high": 0.25}}


def test_values_with_a_text_are_kept_as_categorical():
    assert _narrowed("values: [1, 2, auto]", 2) == {"values": [1, 2, "auto"]}


def test_an_option_without_a_best_number_is_kept():
    result = around_best(_file("uniform: [0, 1]"), {"act": "relu"}, 0.25)

    assert parse_group_spec(result.content).matrix["x"] == {"uniform": {"low": 0, "high": 1}}
    assert result.notes[0] == "x: uniform kept: the best experiment has no number for it"


@pytest.mark.parametrize(
    ("option", "form"),
    [
        ("linspace: '0.001:0.1:5'", str),
        ("linspace: [0.001, 0.1, 5]", list),
        ("linspace: {start: 0.001, stop: 0.1, num: 5}", dict),
    ],
)
def test_the_narrowed_option_is_written_in_the_form_the_file_used(option, form):
    result = around_best(_file(option), {"x": 0.05}, 0.25)

    written = yaml.safe_load(result.content)["hptuning"]["matrix"]["x"]["linspace"]
    assert isinstance(written, form)


def test_notes_say_what_became_of_each_param():
    result = around_best(_file("linspace: '0.001:0.1:5'"), {"x": 0.05, "act": "relu"}, 0.25)

    assert result.notes == [
        "x: linspace 0.001:0.1:5 → 0.02525:0.07475:5 around 0.05",
        "act: values kept (categorical)",
    ]


def test_notes_of_log_options_give_the_log_of_the_best():
    result = around_best(_file("loguniform: [-9.2, -2.3]"), {"x": math.exp(-4)}, 0.25)

    assert result.notes[0] == "x: loguniform -9.2:-2.3 → -5.725:-2.3 around 0.0183156 (ln -4)"


def test_the_rest_of_the_document_is_kept():
    content = _file("uniform: [0, 1]", extra="declarations: {batch: 128}\ntags: [a, b]\n")

    document = yaml.safe_load(around_best(content, {"x": 0.5}, 0.25).content)

    assert document["declarations"] == {"batch": 128}
    assert document["tags"] == ["a", "b"]
    assert document["hptuning"]["random_search"] == {"n_experiments": 5}
    assert document["run"] == {"cmd": "train --x={{ x }} --act={{ act }}"}


def test_options_shared_through_a_yaml_alias_are_narrowed_each_on_its_own():
    content = (
        "version: 1\nkind: group\nhptuning:\n  random_search: {n_experiments: 2}\n  matrix:\n"
        "    x: &range {uniform: [0, 1]}\n    y: *range\nrun:\n  cmd: t {{ x }} {{ y }}\n"
    )

    result = around_best(content, {"x": 0.1, "y": 0.9}, 0.25)

    assert "&" not in result.content
    matrix = parse_group_spec(result.content).matrix
    assert matrix["x"] == {"uniform": {"low": 0, "high": pytest.approx(0.35)}}
    assert matrix["y"] == {"uniform": {"low": pytest.approx(0.65), "high": 1}}


@pytest.mark.parametrize("spread", [0, -1, 2, 1.0001, "abc", "", "nan", "inf", True, None])
def test_a_spread_outside_zero_to_one_is_refused(spread):
    with pytest.raises(SpecError, match="spread: must be a number greater than 0 and at most 1"):
        parse_spread(spread)


def test_a_huge_spread_text_is_refused_and_cut_short_in_the_message():
    with pytest.raises(SpecError) as raised:
        parse_spread("9" * 100_000)

    assert len(str(raised.value)) < 120


@pytest.mark.parametrize(("spread", "value"), [("0.25", 0.25), ("1", 1.0), (0.5, 0.5), (1, 1.0)])
def test_a_spread_in_zero_to_one_is_read(spread, value):
    assert parse_spread(spread) == value


def test_an_option_its_window_covers_is_kept_as_written():
    result = around_best(_file("uniform: [0, 1]"), {"x": 0.5}, 1)

    assert yaml.safe_load(result.content)["hptuning"]["matrix"]["x"] == {"uniform": [0, 1]}
    assert result.notes[0] == "x: uniform 0:1 kept: the window around 0.5 covers it"


def test_a_bound_clipped_to_the_original_keeps_its_written_integer():
    result = around_best(_file("uniform: '0:10'"), {"x": 9.0}, 0.25)

    assert yaml.safe_load(result.content)["hptuning"]["matrix"]["x"] == {"uniform": "6.5:10"}


def test_numbers_past_a_floats_range_are_kept():
    result = around_best(_file(f"values: [1, {10**400}]"), {"x": 1}, 0.25)

    assert result.notes[0] == "x: values kept: its numbers are too large to narrow"
