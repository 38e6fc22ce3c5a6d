"""Bayesian optimisation: random initial trials, then one Gaussian-process suggestion per iteration.

Iteration 0 runs `n_initial_trials` distinct random configs; iterations 1 .. n_iterations each
suggest the config maximising the acquisition function (ucb, ei or poi) of a scikit-learn
GaussianProcessRegressor fitted to the experiments that reported the metric (at most
MAX_GP_OBSERVATIONS of them). The matrix is searched in a continuous encoding (`Space`): numbers
scaled to [0, 1], categories one-hot.
"""

import copy
import json
import math
import warnings

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.special import ndtr
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

from .base import (
    Iteration,
    SearchError,
    config_key,
    iteration_rng,
    metric_value,
    sample_configs,
    with_params,
)
from .fields import is_number
from .options import RANGES, discrete_values, option_length

# Kernel hyperparameter bounds, in the [0, 1]-scaled space the GP sees.
LENGTH_SCALE_BOUNDS = (1e-2, 1e2)
AMPLITUDE_BOUNDS = (1e-3, 1e3)
NOISE = 1e-6  # a deterministic objective by default; WhiteKernel may raise it for noisy metrics
NOISE_BOUNDS = (1e-9, 1e-1)
WARMUP_CHUNK = 10_000
RUNNERS_UP = 100
# The GP's fit grows as the cube of its points (on 2 cores 1,000 took ~25 s and 2,000 ~100 s;
# 200 take under 1 s): past this many observations it is fitted to the best half and a random
# spread of the rest.
MAX_GP_OBSERVATIONS = 200


def first_iteration(spec):
    """Iteration 0: `n_initial_trials` distinct random suggestions."""
    block = spec.algorithm_block
    configs = sample_configs(spec.matrix, block["n_initial_trials"], iteration_rng(spec.seed, 0))
    return Iteration(0, {"kind": "initial"}, [with_params(spec, c) for c in configs])


def next_iteration(spec, last, last_results, all_results):
    """One GP suggestion, or None after `n_iterations` of them (or once every config was run)."""
    block = spec.algorithm_block
    number = last.number + 1
    if number > block["n_iterations"]:
        return None
    suggestion = suggest(spec, all_results, iteration_rng(spec.seed, number))
    if suggestion is None:
        return None
    config, data = suggestion
    return Iteration(number, {"kind": "gp", **data}, [with_params(spec, config)])


def suggest(spec, results, rng):
    """(config, data) maximising the acquisition given `results`; None if no new config is left."""
    block = spec.algorithm_block
    metric = block["metric"]
    space = Space(spec.matrix)
    names = list(spec.matrix)
    observed = {config_key(params, names) for params, _ in results}
    points, values = [], []
    for params, value in results:
        value = metric_value(value)
        if value is not None and all(name in params for name in names):
            points.append(space.encode(params))
            values.append(value if metric["optimization"] == "maximize" else -value)
    if not values:
        raise SearchError(
            f"no experiment reported the metric '{metric['name']}'; the bo search cannot continue"
        )
    utility = block["utility_function"]
    X, y = fitted_observations(np.array(points), np.array(values), rng)
    gp = fit_gp(X, y, utility["gaussian_process"], rng)
    acquisition = Acquisition(gp, utility, max(values))
    candidates = maximise(acquisition, space, utility["n_warmup"], utility["n_iter"], rng)
    # Rank by the utility of the config each point snaps to: that is what would run.
    configs = [space.decode(x) for x in candidates]
    utilities = acquisition(np.array([space.encode(config) for config in configs]))
    for index in np.argsort(-utilities, kind="stable"):
        if config_key(configs[index], names) not in observed:
            return configs[index], _data(utility, float(utilities[index]), len(values))
    # Every candidate was already run: fall back to an unseen random config, if one is left.
    fallback = sample_configs(spec.matrix, 1, rng, exclude=observed)
    if not fallback:
        return None
    x = space.encode(fallback[0])[None, :]
    return fallback[0], _data(utility, float(acquisition(x)[0]), len(values))


def _data(utility, value, n_observations):
    return {
        "acquisition": utility["acquisition_function"],
        "n_observations": n_observations,
        "utility": value,
    }


def fitted_observations(X, y, rng, limit=MAX_GP_OBSERVATIONS):
    """At most `limit` observations (higher y is better), in their order: every one when there
    are few; else the best half, where the acquisition looks, and a random spread of the rest,
    so the GP still knows where the search has been."""
    if len(y) <= limit:
        return X, y
    order = np.argsort(-y, kind="stable")
    best = order[: limit // 2]
    spread = rng.choice(order[limit // 2 :], limit - len(best), replace=False)
    keep = np.sort(np.concatenate([best, spread]))
    return X[keep], y[keep]


def fit_gp(X, y, options, rng):
    """A GaussianProcess fitted to (X, y) with the spec's kernel, y standardised."""
    width = X.shape[1]
    length_scale = np.full(width, float(options["length_scale"]))
    if options["kernel"] == "rbf":
        shape = RBF(length_scale, LENGTH_SCALE_BOUNDS)
    else:
        shape = Matern(length_scale, LENGTH_SCALE_BOUNDS, nu=float(options["nu"]))
    kernel = ConstantKernel(1.0, AMPLITUDE_BOUNDS) * shape + WhiteKernel(NOISE, NOISE_BOUNDS)
    return GaussianProcess(kernel, options["n_restarts_optimizer"], rng).fit(X, y)


class GaussianProcess:
    """scikit-learn's GaussianProcessRegressor (normalize_y) with a lean predict for the optimiser.

    The acquisition is evaluated tens of thousands of times per suggestion; sklearn's `predict`
    validates its input on every call, which costs more than the algebra on a few dozen points.
    """

    def __init__(self, kernel, n_restarts_optimizer, rng):
        self.regressor = GaussianProcessRegressor(
            kernel,
            normalize_y=False,  # done here, so predictions are scaled back without private state
            n_restarts_optimizer=n_restarts_optimizer,
            random_state=int(rng.integers(2**31)),
        )

    def fit(self, X, y):
        """Fit to points X (n, width) and values y (n,)."""
        self.mean = float(np.mean(y))
        self.scale = float(np.std(y)) or 1.0
        with warnings.catch_warnings():
            # Bounds reached on a handful of points are expected, not actionable.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.regressor.fit(X, (y - self.mean) / self.scale)
        fitted = self.regressor
        self.kernel, self.X, self.alpha = fitted.kernel_, fitted.X_train_, fitted.alpha_
        self.L = fitted.L_
        return self

    def predict(self, X):
        """Posterior mean and standard deviation at points X (m, width)."""
        cross = self.kernel(X, self.X)
        mean = cross @ self.alpha
        v = solve_triangular(self.L, cross.T, lower=True, check_finite=False)
        variance = self.kernel.diag(X) - np.einsum("ij,ij->j", v, v)
        std = np.sqrt(np.maximum(variance, 0.0))
        return self.mean + self.scale * mean, self.scale * std


class Acquisition:
    """The utility of candidate points (higher is better) under a fitted GP."""

    def __init__(self, gp, utility, best):
        self.gp, self.best = gp, best
        self.kind = utility["acquisition_function"]
        self.kappa = utility["kappa"] if utility["kappa"] is not None else 0.0
        self.eps = utility["eps"] if utility["eps"] is not None else 0.0

    def __call__(self, X):
        mean, std = self.gp.predict(X)
        if self.kind == "ucb":
            return mean + self.kappa * std
        std = np.maximum(std, 1e-12)
        improvement = mean - self.best - self.eps
        z = improvement / std
        if self.kind == "poi":
            return ndtr(z)
        return improvement * ndtr(z) + std * np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)


def maximise(acquisition, space, n_warmup, n_iter, rng):
    """Candidate points: the best `n_warmup` random points and L-BFGS-B optima started there."""
    warmup = rng.uniform(size=(n_warmup, space.width))
    # In chunks, so a large n_warmup does not build one huge cross-covariance matrix.
    scores = np.concatenate(
        [acquisition(warmup[i : i + WARMUP_CHUNK]) for i in range(0, n_warmup, WARMUP_CHUNK)]
    )
    order = np.argsort(-scores, kind="stable")
    bounds = [(0.0, 1.0)] * space.width
    optima = []
    for i in order[:n_iter]:
        result = minimize(
            _negated_with_gradient(acquisition),
            warmup[i],
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
        )
        if np.all(np.isfinite(result.x)):
            optima.append(np.clip(result.x, 0.0, 1.0))
    # Runners-up of the warm-up are kept so a config that already ran can be skipped.
    return optima + [warmup[i] for i in order[:RUNNERS_UP]]


def _negated_with_gradient(acquisition, step=1e-6):
    """-acquisition and its forward-difference gradient, from one batched GP prediction."""

    def function(x):
        steps = np.where(x + step <= 1.0, step, -step)
        points = np.vstack([x, x + np.diag(steps)])
        values = -acquisition(points)
        return values[0], (values[1:] - values[0]) / steps

    return function


class Space:
    """The matrix as a box [0, 1]^width: one column per number, one per category (one-hot)."""

    def __init__(self, matrix):
        self.params = [
            (name, _dimension(*next(iter(entry.items())))) for name, entry in matrix.items()
        ]
        self.width = sum(dim.width for _, dim in self.params)

    def encode(self, params):
        """The point of a config (its matrix params)."""
        return np.concatenate([dim.encode(params[name]) for name, dim in self.params])

    def decode(self, x):
        """The config of a point, every value snapped to an allowed one."""
        config, start = {}, 0
        for name, dim in self.params:
            config[name] = dim.decode(x[start : start + dim.width])
            start += dim.width
        return config


def _dimension(option, spec):
    if option == "uniform":
        return Uniform(spec["low"], spec["high"])
    if option in RANGES:
        return Indexed(option, spec)
    if all(is_number(value) for value in spec):
        return Numbers(spec)
    return Categories(spec)


class Uniform:
    """`uniform` low:high, scaled to [0, 1]."""

    width = 1

    def __init__(self, low, high):
        self.low, self.high = float(low), float(high)

    def encode(self, value):
        return np.array([np.clip((value - self.low) / (self.high - self.low), 0.0, 1.0)])

    def decode(self, x):
        return float(np.clip(self.low + x[0] * (self.high - self.low), self.low, self.high))


class Indexed:
    """A range-like option by value position: linear for range/linspace, log for the others."""

    width = 1

    def __init__(self, option, spec):
        self.option, self.spec = option, spec
        self.length = option_length(option, spec)
        self.values = discrete_values(option, spec)

    def encode(self, value):
        if self.length < 2:
            return np.zeros(1)
        return np.array([np.clip(self._index(value) / (self.length - 1), 0.0, 1.0)])

    def _index(self, value):
        spec, last = self.spec, self.length - 1
        if self.option == "range":
            return (value - spec["start"]) / spec["step"]
        if self.option == "linspace":
            return (value - spec["start"]) / (spec["stop"] - spec["start"]) * last
        if value == 0:
            return 0.0
        if self.option == "logspace":
            if spec["base"] == 1 or value < 0:
                return 0.0
            exponent = math.log(value) / math.log(spec["base"])
            return (exponent - spec["start"]) / (spec["stop"] - spec["start"]) * last
        start, stop = math.log(abs(spec["start"])), math.log(abs(spec["stop"]))
        return (math.log(abs(value)) - start) / (stop - start) * last if stop != start else 0.0

    def decode(self, x):
        index = int(round(float(np.clip(x[0], 0.0, 1.0)) * (self.length - 1)))
        return self.values[index]


class Numbers:
    """`values` that are all numbers, scaled to [0, 1]; decoding snaps to the nearest one."""

    width = 1

    def __init__(self, values):
        self.values = _unique(values)
        self.numbers = np.array(self.values, dtype=float)
        self.low, span = self.numbers.min(), np.ptp(self.numbers)
        self.span = span if span > 0 else 1.0

    def encode(self, value):
        return np.array([np.clip((float(value) - self.low) / self.span, 0.0, 1.0)])

    def decode(self, x):
        target = self.low + float(x[0]) * self.span
        return self.values[int(np.argmin(np.abs(self.numbers - target)))]


class Categories:
    """`values` with strings, bools or other non-numbers, one-hot; decoding takes the argmax."""

    def __init__(self, values):
        self.values = _unique(values)
        self.keys = [json.dumps(v, sort_keys=True) for v in self.values]
        self.width = len(self.values)

    def encode(self, value):
        x = np.zeros(self.width)
        key = json.dumps(value, sort_keys=True)
        if key in self.keys:
            x[self.keys.index(key)] = 1.0
        return x

    def decode(self, x):
        return copy.deepcopy(self.values[int(np.argmax(x))])


def _unique(values):
    unique = {}
    for value in values:
        unique.setdefault(json.dumps(value, sort_keys=True), value)
    return list(unique.values())
