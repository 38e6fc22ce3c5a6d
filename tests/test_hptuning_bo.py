"""Bayesian optimisation: initial trials, the encoded space and the GP suggestions."""

import textwrap

import numpy as np
import pytest

from dashboard.hptuning import SearchError, parse_group_spec
from dashboard.hptuning import bo as bo_module
from dashboard.hptuning.bo import Space, fitted_observations
from dashboard.hptuning.iterations import first_iteration, next_iteration

MIXED = """\
lr: {uniform: [0.0001, 0.1]}
units: {values: [32, 64, 128, 256]}
layers: {linspace: [1, 5, 5]}
decay: {logspace: [-4, -1, 4]}
activation: {values: [relu, tanh, sigmoid]}
"""


def bo(matrix=MIXED, initial=4, iterations=3, optimization="maximize", seed=5, utility=""):
    header = f"""\
    version: 1
    kind: group
    hptuning:
      seed: {seed}
      bo:
        n_initial_trials: {initial}
        n_iterations: {iterations}
        metric: {{name: accuracy, optimization: {optimization}}}
        utility_function: {{n_warmup: 1000, n_iter: 5{utility}}}
      matrix:
    """
    footer = "params: {batch_size: 64}\nrun: {cmd: echo}\n"
    content = textwrap.dedent(header) + textwrap.indent(matrix, "    ") + footer
    return parse_group_spec(content)


def drive(spec, metric):
    """Run every iteration with `metric(params)`; return the iterations and all results."""
    iterations, everything = [first_iteration(spec)], []
    while True:
        last = [(p, metric(p)) for p in iterations[-1].suggestions]
        everything += last
        following = next_iteration(spec, iterations[-1], last, everything)
        if following is None:
            return iterations, everything
        iterations.append(following)


def in_domain(params):
    return (
        0.0001 <= params["lr"] <= 0.1
        and params["units"] in (32, 64, 128, 256)
        and params["layers"] in (1.0, 2.0, 3.0, 4.0, 5.0)
        and params["decay"]
        == pytest.approx(min((1e-4, 1e-3, 1e-2, 1e-1), key=lambda v: abs(v - params["decay"])))
        and params["activation"] in ("relu", "tanh", "sigmoid")
    )


def score(params):
    return params["units"] / 256 - abs(params["lr"] - 0.05) + (params["activation"] == "tanh")


def test_initial_trials_are_distinct_and_in_the_domain():
    iteration = first_iteration(bo(initial=12))
    assert iteration.number == 0 and iteration.data == {"kind": "initial"}
    assert len(iteration.suggestions) == 12
    assert len({tuple(p.values()) for p in iteration.suggestions}) == 12
    assert all(in_domain(p) and p["batch_size"] == 64 for p in iteration.suggestions)


def test_gp_suggestions_lie_in_the_domain_and_snap_to_allowed_values():
    iterations, _ = drive(bo(iterations=4), score)
    assert len(iterations) == 5
    for iteration in iterations[1:]:
        assert iteration.data["kind"] == "gp"
        assert iteration.data["acquisition"] == "ucb"
        assert len(iteration.suggestions) == 1
        params = iteration.suggestions[0]
        assert in_domain(params) and params["batch_size"] == 64
        assert list(params) == ["batch_size", "lr", "units", "layers", "decay", "activation"]


def test_space_encodes_into_the_unit_box_and_decodes_to_allowed_values():
    space = Space(bo().matrix)
    assert space.width == 4 + 3  # four numbers, three one-hot activations
    params = {"lr": 0.0001, "units": 256, "layers": 3.0, "decay": 0.01, "activation": "tanh"}
    assert space.encode(params).tolist() == pytest.approx([0, 1, 0.5, 2 / 3, 0, 1, 0])
    assert space.decode(space.encode(params)) == pytest.approx(params)
    noisy = space.decode(np.array([0.5, 0.3, 0.6, 0.4, 0.2, 0.1, 0.7]))
    assert noisy["units"] == 128  # 0.3 of 32..256 is 99.2, nearest 128
    assert noisy["layers"] == 3.0 and noisy["decay"] == pytest.approx(0.001)
    assert noisy["activation"] == "sigmoid"


def test_categorical_values_are_one_hot_and_found_by_the_gp():
    matrix = "kind: {values: [a, b, c, d, true]}\nx: {uniform: [0, 1]}\n"
    spec = bo(matrix=matrix, initial=5, iterations=5, seed=2)
    assert Space(spec.matrix).width == 6
    iterations, results = drive(spec, lambda p: (p["kind"] == "c") - (p["x"] - 0.5) ** 2)
    for iteration in iterations[1:]:
        assert iteration.suggestions[0]["kind"] in ("a", "b", "c", "d", True)
    best = max(results, key=lambda item: item[1])[0]
    assert best["kind"] == "c"


def quadratic(spec_kwargs, sign):
    spec = bo(
        matrix="x: {uniform: [-5, 5]}\n",
        initial=3,
        iterations=12,
        utility=", acquisition_function: ei",
        **spec_kwargs,
    )
    _, results = drive(spec, lambda p: sign * (p["x"] - 1.3) ** 2)
    return [p["x"] for p, _ in results]


def test_bo_finds_the_optimum_of_a_quadratic_when_minimizing():
    xs = quadratic({"optimization": "minimize"}, 1)
    assert len(xs) == 15
    assert min(abs(x - 1.3) for x in xs) < 0.05


def test_bo_finds_the_optimum_of_a_quadratic_when_maximizing():
    xs = quadratic({"optimization": "maximize"}, -1)
    assert min(abs(x - 1.3) for x in xs) < 0.05


def test_the_direction_matters():
    # Maximizing a bowl that should be minimized runs to the edges of the domain instead.
    xs = quadratic({"optimization": "maximize"}, 1)
    assert max(abs(x) for x in xs[3:]) > 4.5


def test_experiments_without_the_metric_are_left_out_of_the_fit():
    spec = bo(iterations=2)
    first = first_iteration(spec)
    results = [(p, None if i % 2 else score(p)) for i, p in enumerate(first.suggestions)]
    following = next_iteration(spec, first, results, results)
    assert following.data["n_observations"] == 2


def test_no_metric_at_all_fails_with_a_clear_error():
    spec = bo()
    first = first_iteration(spec)
    results = [(p, None) for p in first.suggestions]
    with pytest.raises(SearchError) as info:
        next_iteration(spec, first, results, results)
    assert str(info.value) == (
        "no experiment reported the metric 'accuracy'; the bo search cannot continue"
    )


def test_observed_configs_are_not_suggested_again():
    matrix = "a: {values: [1, 2, 3]}\nb: {values: [x, y]}\n"
    iterations, results = drive(bo(matrix=matrix, initial=2, iterations=10), lambda p: p["a"])
    configs = [(p["a"], p["b"]) for p, _ in results]
    assert len(configs) == len(set(configs)) == 6
    assert len(iterations) == 5  # the search ends once every config has run


@pytest.mark.parametrize("function", ["ucb", "ei", "poi"])
def test_every_acquisition_function_suggests(function):
    spec = bo(iterations=1, utility=f", acquisition_function: {function}")
    iterations, _ = drive(spec, score)
    assert len(iterations) == 2 and iterations[1].data["acquisition"] == function


@pytest.mark.parametrize("kernel", ["matern", "rbf"])
def test_both_kernels_fit(kernel):
    utility = f", gaussian_process: {{kernel: {kernel}, n_restarts_optimizer: 1}}"
    iterations, _ = drive(bo(iterations=1, utility=utility), score)
    assert in_domain(iterations[1].suggestions[0])


def test_the_same_seed_reproduces_the_suggestions():
    def run(seed):
        return [it.suggestions for it in drive(bo(seed=seed), score)[0]]

    assert run(9) == run(9)
    assert run(9) != run(10)


def test_no_iterations_after_the_initial_trials_completes_at_once():
    spec = bo(iterations=0)
    first = first_iteration(spec)
    results = [(p, score(p)) for p in first.suggestions]
    assert next_iteration(spec, first, results, results) is None


def test_few_observations_are_all_fitted():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    kept_X, kept_y = fitted_observations(X, y, np.random.default_rng(0), limit=10)
    assert kept_X is X and kept_y is y


def test_past_the_limit_the_gp_is_fitted_to_the_best_half_and_a_spread_of_the_rest():
    y = np.random.default_rng(1).permutation(1000).astype(float)
    X = y[:, None] / 1000
    kept_X, kept_y = fitted_observations(X, y, np.random.default_rng(0), limit=200)
    assert len(kept_y) == 200 and len(set(kept_y)) == 200
    assert set(range(900, 1000)) <= set(kept_y)  # the best 100
    assert kept_y[kept_y < 900].min() < 300  # the other 100 spread over the rest
    assert (kept_X[:, 0] == kept_y / 1000).all()  # points stay with their values, in order
    assert list(kept_y) == [v for v in y if v in set(kept_y)]
    again = fitted_observations(X, y, np.random.default_rng(0), limit=200)[1]
    assert (again == kept_y).all()


def test_a_suggestion_from_thousands_of_observations_fits_at_most_the_cap(monkeypatch):
    spec = bo(matrix="x: {uniform: [0, 1]}\ny: {uniform: [0, 1]}\n", initial=3000, iterations=1)
    first = first_iteration(spec)
    results = [(p, -((p["x"] - 0.3) ** 2) - (p["y"] - 0.6) ** 2) for p in first.suggestions]
    fitted, fit_gp = [], bo_module.fit_gp

    def counting_fit(X, y, options, rng):
        fitted.append(len(y))
        return fit_gp(X, y, options, rng)

    monkeypatch.setattr(bo_module, "fit_gp", counting_fit)
    following = next_iteration(spec, first, results, results)
    assert fitted == [bo_module.MAX_GP_OBSERVATIONS]
    assert following.data["n_observations"] == 3000
    suggestion = following.suggestions[0]
    assert abs(suggestion["x"] - 0.3) < 0.1 and abs(suggestion["y"] - 0.6) < 0.1
