"""Grid and random suggestions."""

import itertools
import textwrap

import pytest

from dashboard.hptuning import parse_group_spec, suggestions


def group(hptuning, cmd="echo"):
    body = textwrap.indent(textwrap.dedent(hptuning).strip(), "  ")
    return f"version: 1\nkind: group\nhptuning:\n{body}\nrun:\n  cmd: {cmd}\n"


GRID = """\
grid_search: {n_experiments: 6}
matrix:
  lr: {logspace: -3:-1:3}
  optimizer: {values: [sgd, adam]}
  layers: {range: [1, 4, 1]}
"""

RANDOM = """\
seed: 42
random_search: {n_experiments: 10}
matrix:
  learning_rate: {linspace: 0.001:0.1:5}
  dropout: {values: [0.25, 0.3]}
  activation: {values: [relu, sigmoid]}
"""


def plain(value):
    return type(value) in (int, float, str, bool, list)


def test_grid_yields_the_first_combinations_with_the_first_key_slowest():
    found = list(suggestions(parse_group_spec(group(GRID))))
    assert [(s["optimizer"], s["layers"]) for s in found] == [
        ("sgd", 1),
        ("sgd", 2),
        ("sgd", 3),
        ("adam", 1),
        ("adam", 2),
        ("adam", 3),
    ]
    assert [s["lr"] for s in found] == pytest.approx([0.001] * 6)


def test_full_grid_is_the_cartesian_product_in_matrix_order():
    spec = parse_group_spec(group(GRID.replace("grid_search: {n_experiments: 6}\n", "")))
    found = list(suggestions(spec))
    assert spec.num_combinations == len(found) == 18
    expected = itertools.product([0.001, 0.01, 0.1], ["sgd", "adam"], [1, 2, 3])
    assert [(round(s["lr"], 6), s["optimizer"], s["layers"]) for s in found] == list(expected)


def test_grid_suggestions_are_lazy():
    matrix = "".join(f"\n  p{i}: {{range: [0, 1000000, 1]}}" for i in range(3))
    spec = parse_group_spec(group("grid_search: {n_experiments: 10}\nmatrix:" + matrix))
    assert spec.num_combinations == 10**18
    found = list(suggestions(spec))
    assert len(found) == 10
    assert found[-1] == {"p0": 0, "p1": 0, "p2": 9}


def test_random_yields_n_distinct_suggestions_from_the_matrix():
    spec = parse_group_spec(group(RANDOM))
    found = list(suggestions(spec))
    assert len(found) == 10
    assert len({tuple(s.values()) for s in found}) == 10
    for s in found:
        assert list(s) == ["learning_rate", "dropout", "activation"]
        assert s["dropout"] in (0.25, 0.3)
        assert s["activation"] in ("relu", "sigmoid")
        assert s["learning_rate"] == pytest.approx(
            min([0.001, 0.02575, 0.0505, 0.07525, 0.1], key=lambda v: abs(v - s["learning_rate"]))
        )


def test_the_same_seed_gives_the_same_suggestions():
    first = list(suggestions(parse_group_spec(group(RANDOM))))
    again = list(suggestions(parse_group_spec(group(RANDOM))))
    other = list(suggestions(parse_group_spec(group(RANDOM.replace("seed: 42", "seed: 43")))))
    assert first == again
    assert first != other


def test_seed_zero_and_negative_seeds_are_reproducible():
    for seed in (0, -5):
        content = group(RANDOM.replace("seed: 42", f"seed: {seed}"))
        assert list(suggestions(parse_group_spec(content))) == list(
            suggestions(parse_group_spec(content))
        )


def test_unseeded_random_still_yields_distinct_suggestions():
    found = list(suggestions(parse_group_spec(group(RANDOM.replace("seed: 42\n", "")))))
    assert len({tuple(s.values()) for s in found}) == 10


def test_random_capped_at_the_grid_yields_every_combination_once():
    content = group(RANDOM.replace("n_experiments: 10", "n_experiments: 50"))
    spec = parse_group_spec(content)
    found = list(suggestions(spec))
    assert spec.num_experiments == len(found) == 20
    assert len({tuple(s.values()) for s in found}) == 20


def test_random_suggestions_with_distributions_are_plain_values():
    content = group(
        """\
        seed: 1
        random_search: {n_experiments: 30}
        matrix:
          lr: {loguniform: -9.2:-2.3}
          momentum: {quniform: [0.5, 0.99, 0.01]}
          wd: {qloguniform: [-13.8, -4.6, 0.00001]}
          noise: {normal: [0, 0.1]}
          dropout: {pvalues: [[0.1, 0.3], [0.3, 0.5], [0.5, 0.2]]}
          units: {range: [16, 128, 16]}
        """
    )
    found = list(suggestions(parse_group_spec(content)))
    assert len(found) == 30
    for s in found:
        assert all(plain(v) for v in s.values())
        assert s["dropout"] in (0.1, 0.3, 0.5)
        assert type(s["units"]) is int and s["units"] % 16 == 0


def test_hyperband_and_bo_suggestions_are_not_implemented_yet():
    hyperband = group(
        "hyperband: {max_iter: 9, eta: 3, resource: {name: e, type: int}, metric: {name: l}}\n"
        "matrix:\n  a: {uniform: 0:1}"
    )
    bo = group(
        "bo: {n_initial_trials: 1, n_iterations: 1, metric: {name: l}}\n"
        "matrix:\n  a: {uniform: 0:1}"
    )
    for content in (hyperband, bo):
        with pytest.raises(NotImplementedError):
            next(iter(suggestions(parse_group_spec(content))))
