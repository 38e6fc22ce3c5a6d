"""The matrix as Optuna sees it (tpe, cmaes): each option as an Optuna distribution, and the
way back from a sampled value to the matrix's own value.

    option                   Optuna distribution                       why
    range (ints)             IntDistribution(start, last, step)        the same points, ints
    range (floats), linspace FloatDistribution(start, last, step)      the same evenly spaced
                                                                       points
    logspace                 FloatDistribution(start, stop, step)      HPTUNING's bounds are
                             over the exponent of base                 exponents: log, stepped
    geomspace                FloatDistribution over log10 abs(value),  evenly spaced in log
                             stepped
    values: evenly spaced    IntDistribution / FloatDistribution with  an ordered axis, not
    numbers                  their step                                unordered choices
    values: 3+ numbers in    FloatDistribution over log10 abs(value),  e.g. 32, 64, 128, 256
    geometric progression    stepped                                   are evenly spaced in log
    values: anything else    CategoricalDistribution                   unordered choices
                                                                       (cmaes: refused)
    uniform                  FloatDistribution(low, high)              the same interval
    quniform                 Int- (int q) or FloatDistribution from    the values round(uniform
                             the first to the last reachable multiple  / q) * q takes
                             of q, step q
    loguniform               FloatDistribution(exp(low), exp(high),    HPTUNING's bounds are
                             log=True)                                 natural logs
    qloguniform              as loguniform, the value then rounded to  HPTUNING's definition;
                             a multiple of q                           Optuna has no log + step
    pvalues                  refused                                   Optuna's categorical
                                                                       cannot weight choices
    normal, qnormal,         refused                                   Optuna's distributions
    lognormal, qlognormal                                              are bounded and flat,
                                                                       these priors unbounded

Every sampled value goes back to the matrix's own value: discrete options give their values
exactly as the matrix lists them (ints stay ints, range steps exact, categorical values as
written), q options the rounding random search applies. A one-value `values` is a constant axis
(for cmaes only if it is a number). Pure Python until a distribution is built: optuna takes
about a second to import.
"""

import decimal
import json
import math
import warnings

from .errors import Problems, SpecError
from .fields import is_number
from .options import _quantise, discrete_values, option_length
from .search import _fresh

UNBOUNDED = ("normal", "qnormal", "lognormal", "qlognormal")
# Relative tolerance for "evenly spaced" numeric values (float noise such as 0.1 + 0.2).
SPACING_TOLERANCE = 1e-9
PRIMITIVES = (str, int, float, bool)
# What `encode` answers for a value the axis cannot hold (None is a valid choice).
UNKNOWN = object()


def check_matrix(matrix, algorithm):
    """Refuse, at `hptuning.matrix.<name>`, every param `algorithm` (tpe or cmaes) cannot search."""
    space(matrix, algorithm)


def distributions(matrix):
    """{name: Optuna distribution} of a normalised matrix (categorical params included)."""
    return {name: axis.distribution() for name, axis in space(matrix, "tpe").items()}


def space(matrix, algorithm, path="hptuning.matrix"):
    """{name: axis} of the matrix for `algorithm`; raises SpecError listing every refused param."""
    problems = Problems()
    axes = {}
    for name, entry in matrix.items():
        option, spec = next(iter(entry.items()))
        axis = problems.check(_axis, name, option, spec, algorithm, f"{path}.{name}")
        if axis is not None:
            axes[name] = axis
    problems.raise_if_any()
    return axes


def _axis(name, option, spec, algorithm, path):
    if option == "pvalues":
        raise SpecError.at(
            path,
            f"'{name}' uses pvalues, which {algorithm} cannot search: Optuna's categorical "
            "distribution cannot weight its choices; use values",
        )
    if option in UNBOUNDED:
        raise SpecError.at(
            path,
            f"'{name}' uses {option}, which {algorithm} cannot search: Optuna's distributions "
            "are bounded with a flat prior and this prior is unbounded; use "
            f"{'loguniform' if 'log' in option else 'uniform'} over the range to search",
        )
    if option == "uniform":
        return Interval(spec["low"], spec["high"])
    if option == "loguniform":
        return Interval(*_exp_bounds(spec, path), log=True)
    if option == "qloguniform":
        return Interval(*_exp_bounds(spec, path), log=True, q=spec["q"])
    if option == "quniform":
        return _quniform(spec)
    if option == "values":
        axis = _values(spec)
        if isinstance(axis, Choice) and algorithm == "cmaes":
            raise SpecError.at(path, _categorical_message(name, spec))
        return axis
    return _range(option, spec)


def _categorical_message(name, values):
    numeric = all(is_number(v) for v in values)
    why = (
        "its numbers are not evenly spaced (linearly or geometrically), so they can only be "
        "unordered choices"
        if numeric
        else "its values are not numbers"
    )
    return (
        f"'{name}' is a categorical param ({why}); cmaes searches numbers only "
        "(use tpe, or a numeric option such as range, linspace or uniform)"
    )


def _exp_bounds(spec, path):
    low, high = math.exp(spec["low"]), math.exp(spec["high"])
    if low <= 0:
        raise SpecError.at(
            path, f"low is a natural log and exp({spec['low']}) is 0 as a float; raise low"
        )
    return low, high


def _quniform(spec):
    """The multiples of q that round(uniform(low, high) / q) * q reaches (high excluded)."""
    low, high, q = spec["low"], spec["high"], spec["q"]
    first = round(low / q)
    last = max(first, math.ceil(high / q + 0.5) - 1)
    integer = isinstance(q, int)
    return Grid(
        low=_quantise(first * q, q),
        step=q,
        count=last - first + 1,
        value_of=lambda k: _quantise((first + k) * q, q),
        to_axis=float,
        integer=integer,
    )


def _range(option, spec):
    """range, linspace, logspace, geomspace: an evenly spaced axis over their own values."""
    values = discrete_values(option, spec)
    count = option_length(option, spec)
    if option == "range":
        start, step = spec["start"], spec["step"]
        integer = all(isinstance(v, int) for v in (start, spec["stop"], step))
        return Grid(start, step, count, values.__getitem__, float, integer=integer)
    if option == "linspace":
        step = _even_step(spec["start"], spec["stop"], count)
        return Grid(spec["start"], step, count, values.__getitem__, float)
    if option == "logspace":
        base = spec["base"]
        step = (spec["stop"] - spec["start"]) / max(count - 1, 1)
        to_axis = (
            (lambda v: math.log(v) / math.log(base) if v > 0 else -math.inf)
            if base != 1
            else (lambda v: 0.0)
        )
        return Grid(spec["start"], step, count, values.__getitem__, to_axis)
    first, last = math.log10(abs(spec["start"])), math.log10(abs(spec["stop"]))
    return _log10_grid(first, last, count, values.__getitem__)


def _log10_grid(first, last, count, value_of):
    """Values evenly spaced in log10 abs(value), from `first` to `last` (either order)."""
    step = (last - first) / max(count - 1, 1)
    if step < 0:
        return Grid(last, -step, count, lambda k: value_of(count - 1 - k), _log10)
    return Grid(first, step, count, value_of, _log10)


def _log10(value):
    return math.log10(abs(value)) if value else -math.inf


def _values(spec):
    """Evenly spaced numbers (linearly or in log) as a stepped axis, anything else as choices."""
    distinct = list({json.dumps(v, sort_keys=True): v for v in spec}.values())
    if not all(is_number(v) for v in distinct):
        return Choice(distinct)
    by_float = {}
    for v in distinct:
        by_float.setdefault(float(v), v)
    numbers = sorted(by_float.items())
    floats, given = [f for f, _ in numbers], [v for _, v in numbers]
    count = len(floats)
    if count == 1:
        return Grid(given[0], 1, 1, given.__getitem__, float, integer=isinstance(given[0], int))
    if all(isinstance(v, int) for v in given):
        step, remainder = divmod(given[-1] - given[0], count - 1)
        if remainder == 0 and all(v == given[0] + k * step for k, v in enumerate(given)):
            return Grid(given[0], step, count, given.__getitem__, float, integer=True)
    elif _evenly_spaced(floats):
        step = _even_step(floats[0], floats[-1], count)
        return Grid(floats[0], step, count, given.__getitem__, float)
    same_sign = all(f > 0 for f in floats) or all(f < 0 for f in floats)
    if count >= 3 and same_sign:
        logs = [math.log10(abs(f)) for f in floats]
        if floats[0] < 0:
            logs, given = logs[::-1], given[::-1]
        if _evenly_spaced(logs):
            return _log10_grid(logs[0], logs[-1], count, given.__getitem__)
    return Choice(distinct)


def _even_step(first, last, count):
    """(last - first) / (count - 1) in decimal, so 0.25 to 0.3 steps by 0.05, not 0.0499..."""
    if count == 1:
        return 1
    return float((decimal.Decimal(repr(last)) - decimal.Decimal(repr(first))) / (count - 1))


def _evenly_spaced(points):
    step = (points[-1] - points[0]) / (len(points) - 1)
    scale = max(abs(points[0]), abs(points[-1]), abs(step))
    return all(
        abs(p - (points[0] + k * step)) <= SPACING_TOLERANCE * scale for k, p in enumerate(points)
    )


class Grid:
    """A finite, evenly spaced axis: the point low + k * step stands for `value_of(k)`.

    `to_axis` maps a matrix value onto the axis (identity or a log) to tell Optuna a trial.
    """

    def __init__(self, low, step, count, value_of, to_axis, *, integer=False):
        self.low, self.step, self.count = low, step, count
        self.value_of, self.to_axis, self.integer = value_of, to_axis, integer
        self._distribution = None

    def distribution(self):
        """The Optuna distribution of the axis (built once)."""
        if self._distribution is None:
            self._distribution = _stepped(self.low, self.step, self.count, self.integer)
        return self._distribution

    def decode(self, sampled):
        """The matrix value Optuna's `sampled` point stands for."""
        return _fresh(self.value_of(self._index(sampled)))

    def encode(self, value):
        """The axis point of a matrix value (the nearest one), UNKNOWN if it is not a number."""
        if not is_number(value):
            return UNKNOWN
        index = self._index(self.to_axis(value))
        if self.integer:
            return self.low + index * self.step
        return min(max(self.low + index * self.step, self.low), self.distribution().high)

    def _index(self, point):
        if self.count == 1 or not math.isfinite(point):
            return 0 if self.count == 1 or point < self.low else self.count - 1
        return min(max(round((point - self.low) / self.step), 0), self.count - 1)


class Interval:
    """A continuous axis [low, high], log-scaled or not, its values rounded to q if given."""

    def __init__(self, low, high, *, log=False, q=None):
        self.low, self.high, self.log, self.q = low, high, log, q

    def distribution(self):
        """The Optuna distribution of the axis."""
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.log)

    def decode(self, sampled):
        """The matrix value of a sampled float (rounded to q as random search does)."""
        return float(sampled) if self.q is None else _quantise(float(sampled), self.q)

    def encode(self, value):
        """A matrix value clipped into the interval (a rounded value may pass a bound)."""
        if not is_number(value):
            return UNKNOWN
        return min(max(float(value), self.low), self.high)


class Choice:
    """Unordered choices: Optuna's categorical distribution over the matrix's own values."""

    def __init__(self, values):
        self.values = values
        keys = [json.dumps(v, sort_keys=True) for v in values]
        self.position = {key: i for i, key in enumerate(keys)}
        plain = all(isinstance(v, PRIMITIVES) or v is None for v in values)
        # Optuna finds a choice with ==, where 1 == 1.0 == True: such values go as JSON text.
        self.choices = tuple(values) if plain and len(set(values)) == len(values) else tuple(keys)

    def distribution(self):
        """The Optuna distribution of the choices."""
        from optuna.distributions import CategoricalDistribution

        return CategoricalDistribution(self.choices)

    def decode(self, sampled):
        """The matrix value of a sampled choice, as written."""
        return _fresh(self.values[self.choices.index(sampled)])

    def encode(self, value):
        """The choice of a matrix value; UNKNOWN if the matrix has no such value."""
        index = self.position.get(json.dumps(value, sort_keys=True))
        return UNKNOWN if index is None else self.choices[index]


def _stepped(low, step, count, integer):
    from optuna.distributions import FloatDistribution, IntDistribution

    if integer:
        return IntDistribution(low, low + (count - 1) * step, step=step)
    if count == 1:
        return FloatDistribution(low, low)
    # Optuna re-derives high from the decimal text of low, high and step and lowers it to the
    # last whole step; float noise (a step of 1/3) could drop the last point: nudge high up
    # until Optuna keeps `count` points, and silence its note about the adjustment.
    high = low + (count - 1) * step
    for _ in range(64):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            distribution = FloatDistribution(low, high, step=step)
        if round((distribution.high - low) / step) == count - 1:
            return distribution
        high = math.nextafter(high, math.inf)
    raise ValueError(f"no Optuna distribution keeps {count} points from {low} by {step}")
