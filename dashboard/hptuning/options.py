"""The 14 matrix options: parse and normalise, list discrete values, sample distributions."""

import ast
import decimal
import math

import numpy as np

from .errors import SpecError
from .fields import is_number, type_name

# Key order of each range-like option, as normalised (logspace's base is optional, default 10).
KEYS = {
    "range": ("start", "stop", "step"),
    "linspace": ("start", "stop", "num"),
    "logspace": ("start", "stop", "num", "base"),
    "geomspace": ("start", "stop", "num"),
    "uniform": ("low", "high"),
    "quniform": ("low", "high", "q"),
    "loguniform": ("low", "high"),
    "qloguniform": ("low", "high", "q"),
    "normal": ("loc", "scale"),
    "qnormal": ("loc", "scale", "q"),
    "lognormal": ("loc", "scale"),
    "qlognormal": ("loc", "scale", "q"),
}
DEFAULTS = {"logspace": {"base": 10}}
RANGES = ("range", "linspace", "logspace", "geomspace")
DISCRETE = ("values", *RANGES)
CONTINUOUS = (
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)
DISTRIBUTIONS = ("pvalues", *CONTINUOUS)
OPTIONS = (*DISCRETE, *DISTRIBUTIONS)

# Below this many values a range is materialised with numpy; above it values are computed by index.
MATERIALISE_LIMIT = 100_000
PVALUES_TOLERANCE = 1e-6
MAX_EXPONENT = 709  # exp(709) is near the largest float


def is_finite(option):
    """True when the option has a finite list of outcomes (discrete options and pvalues)."""
    return option in DISCRETE or option == "pvalues"


def parse_option(option, raw, path):
    """Validate one option's written value and return its normalised form."""
    if option == "values":
        return _parse_values(raw, path)
    if option == "pvalues":
        return _parse_pvalues(raw, path)
    spec = _parse_numbers(option, raw, path)
    _check_numbers(option, spec, path)
    return spec


def _parse_values(raw, path):
    if not isinstance(raw, list):
        raise SpecError.at(path, f"must be a list, got {type_name(raw)}")
    if not raw:
        raise SpecError.at(path, "must not be empty")
    errors = [f"{path}[{i}]: {msg}" for i, v in enumerate(raw) if (msg := _json_problem(v))]
    if errors:
        raise SpecError(errors)
    return list(raw)


def _parse_pvalues(raw, path):
    if not isinstance(raw, list) or not raw:
        raise SpecError.at(path, "must be a non-empty list of [value, probability] pairs")
    errors = []
    for i, pair in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            errors.append(f"{where}: must be a [value, probability] pair, got {pair!r}")
        elif msg := _json_problem(pair[0]):
            errors.append(f"{where}[0]: {msg}")
        elif not is_number(pair[1]) or not 0 < pair[1] <= 1:
            errors.append(
                f"{where}[1]: the probability must be a number > 0 and <= 1, got {pair[1]!r}"
            )
    if not errors:
        total = math.fsum(p for _, p in raw)
        if abs(total - 1) > PVALUES_TOLERANCE:
            errors.append(f"{path}: the probabilities must sum to 1, they sum to {total:g}")
    if errors:
        raise SpecError(errors)
    return [list(pair) for pair in raw]


def _json_problem(value):
    """Why `value` cannot be a matrix value (None if it can)."""
    if value is None or isinstance(value, (bool, str, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"must be a finite number, got {value}"
    if isinstance(value, list):
        return next(filter(None, map(_json_problem, value)), None)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return "mapping keys must be strings"
        return next(filter(None, map(_json_problem, value.values())), None)
    return f"must be a number, string, bool, null, list or mapping, got {type_name(value)}"


def _parse_numbers(option, raw, path):
    keys = KEYS[option]
    required = keys[:-1] if option in DEFAULTS else keys
    written = ":".join(required)
    if isinstance(raw, str):
        parts = raw.split(":")
    elif isinstance(raw, list):
        parts = list(raw)
    elif isinstance(raw, dict):
        unknown = [
            f"{path}: unknown key '{k}' (allowed: {', '.join(keys)})" for k in raw if k not in keys
        ]
        missing = [f"{path}.{k}: is required" for k in required if k not in raw]
        if unknown or missing:
            raise SpecError(unknown + missing)
        parts = [raw[k] for k in keys if k in raw]
    elif is_number(raw):
        hint = ""
        if isinstance(raw, int):
            hint = " (YAML 1.1 reads an unquoted a:b:c of small numbers as base 60: quote it)"
        raise SpecError.at(
            path, f"must be a string '{written}', a list or a mapping, got the number {raw}{hint}"
        )
    else:
        raise SpecError.at(
            path, f"must be a string '{written}', a list or a mapping, got {type_name(raw)}"
        )
    if len(parts) not in (len(required), len(keys)):
        expected = " or ".join(sorted({str(len(required)), str(len(keys))}))
        raise SpecError.at(path, f"needs {expected} values ({', '.join(keys)}), got {len(parts)}")
    errors, spec = [], {}
    for key, part in zip(keys, parts, strict=False):
        value = _literal(part)
        if not is_number(value) or not math.isfinite(value):
            errors.append(f"{path}: {key} must be a number, got {part!r}")
        spec[key] = value
    if errors:
        raise SpecError(errors)
    for key, default in DEFAULTS.get(option, {}).items():
        spec.setdefault(key, default)
    return spec


def _literal(part):
    if not isinstance(part, str):
        return part
    try:
        return ast.literal_eval(part.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return part


def _check_numbers(option, spec, path):
    errors = []
    if option in RANGES and not spec["start"] < spec["stop"]:
        errors.append(f"stop ({spec['stop']}) must be greater than start ({spec['start']})")
    if option == "range" and not spec["step"] > 0:
        errors.append(f"step must be greater than 0, got {spec['step']}")
    if "num" in spec and (not isinstance(spec["num"], int) or spec["num"] < 1):
        errors.append(f"num must be an integer >= 1, got {spec['num']}")
    if option == "logspace" and not spec["base"] > 0:
        errors.append(f"base must be greater than 0, got {spec['base']}")
    if option == "geomspace" and not (spec["start"] > 0 or spec["stop"] < 0):
        errors.append(
            "start and stop must have the same sign and neither be 0, "
            f"got {spec['start']} and {spec['stop']}"
        )
    if "low" in spec and not spec["low"] < spec["high"]:
        errors.append(f"high ({spec['high']}) must be greater than low ({spec['low']})")
    if option in ("loguniform", "qloguniform") and spec["high"] > MAX_EXPONENT:
        errors.append(f"high is a natural log and must be <= {MAX_EXPONENT}, got {spec['high']}")
    if "scale" in spec and not spec["scale"] > 0:
        errors.append(f"scale must be greater than 0, got {spec['scale']}")
    if "q" in spec and not spec["q"] > 0:
        errors.append(f"q must be greater than 0, got {spec['q']}")
    if errors:
        raise SpecError([f"{path}: {message}" for message in errors])


def option_length(option, spec):
    """How many values a finite option has, computed without building them (None otherwise)."""
    if option in ("values", "pvalues"):
        return len(spec)
    if option == "range":
        start, stop, step = spec["start"], spec["stop"], spec["step"]
        if all(isinstance(v, int) for v in (start, stop, step)):
            return -((start - stop) // step)
        return max(0, math.ceil((stop - start) / step))
    if option in RANGES:
        return spec["num"]
    return None


def matrix_values(option, spec):
    """The concrete values of a discrete option as plain Python values; None for distributions."""
    if option == "values":
        return list(spec)
    if option not in RANGES:
        return None
    return [value.item() for value in _numpy_values(option, spec)]


def _numpy_values(option, spec):
    if option == "range":
        return np.arange(spec["start"], spec["stop"], spec["step"])
    if option == "linspace":
        return np.linspace(spec["start"], spec["stop"], spec["num"])
    if option == "logspace":
        return np.logspace(spec["start"], spec["stop"], spec["num"], base=spec["base"])
    return np.geomspace(spec["start"], spec["stop"], spec["num"])


def discrete_values(option, spec):
    """An indexable sequence of a discrete option's values, built lazily when it is large."""
    length = option_length(option, spec)
    if option == "values" or length <= MATERIALISE_LIMIT:
        return matrix_values(option, spec)
    return _LazyRange(option, spec, length)


class _LazyRange:
    """The values of a huge range-like option, computed one index at a time like numpy does."""

    def __init__(self, option, spec, length):
        self.option, self.spec, self.length = option, spec, length

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        if not 0 <= index < self.length:
            raise IndexError(index)
        spec = self.spec
        if self.option == "range":
            start, step = spec["start"], spec["step"]
            if isinstance(start, int) and isinstance(step, int):
                return start + index * step
            return float(start + index * ((start + step) - start))
        if self.option == "geomspace":
            return self._geometric(index)
        exponent = self._linear(spec["start"], spec["stop"], index)
        if self.option == "linspace":
            return exponent
        return float(np.power(float(spec["base"]), exponent))

    def _linear(self, start, stop, index):
        if index == self.length - 1:
            return float(stop)
        return float(index * ((stop - start) / (self.length - 1)) + start)

    def _geometric(self, index):
        start, stop = self.spec["start"], self.spec["stop"]
        if index in (0, self.length - 1):
            return float(start if index == 0 else stop)
        sign = 1.0 if start > 0 else -1.0
        exponent = self._linear(math.log10(abs(start)), math.log10(abs(stop)), index)
        return sign * float(np.power(10.0, exponent))


def sample(option, spec, rng, values=None):
    """One random value of the option drawn with the numpy Generator `rng`, as a plain value.

    `values` may pass the option's `discrete_values` so repeated draws do not rebuild them.
    """
    if option == "pvalues":
        probabilities = np.array([p for _, p in spec], dtype=float)
        return spec[int(rng.choice(len(spec), p=probabilities / probabilities.sum()))][0]
    if option in DISCRETE:
        values = discrete_values(option, spec) if values is None else values
        return values[int(rng.integers(len(values)))]
    if option in ("uniform", "quniform"):
        draw = rng.uniform(spec["low"], spec["high"])
    elif option in ("loguniform", "qloguniform"):
        draw = _exp(rng.uniform(spec["low"], spec["high"]))
    elif option in ("normal", "qnormal"):
        draw = rng.normal(spec["loc"], spec["scale"])
    else:
        draw = _exp(rng.normal(spec["loc"], spec["scale"]))
    if "q" in spec:
        return _quantise(float(draw), spec["q"])
    return float(draw)


def _exp(value):
    # A lognormal tail can pass exp's float range; clamp rather than fail the whole group.
    return math.exp(min(value, MAX_EXPONENT))


def _quantise(value, q):
    """round(value / q) * q (hyperopt's definition); an int when q is an int."""
    ratio = value / q
    if not math.isfinite(ratio):
        return value
    steps = round(ratio)
    if isinstance(q, int):
        return steps * q
    # Trim float noise (0.9400000000000001) back to q's own decimals: 94 * 0.01 -> 0.94.
    decimals = -decimal.Decimal(repr(q)).as_tuple().exponent
    return float(round(steps * q, max(decimals, 0)))
