"""The hptuning matrix: param name -> exactly one option, checked against the algorithm."""

from .errors import Problems, SpecError
from .fields import expect_mapping, type_name
from .options import DISCRETE, DISTRIBUTIONS, OPTIONS, parse_option

# Which options each algorithm accepts (random, hyperband and asha accept all of them).
ALLOWED = {
    "grid": DISCRETE,
    "random": OPTIONS,
    "hyperband": OPTIONS,
    "bo": (*DISCRETE, "uniform"),
    "asha": OPTIONS,
    # Every option here; sampler_space.check_matrix then refuses, naming the param and why,
    # those Optuna's samplers cannot search.
    "tpe": OPTIONS,
    "cmaes": OPTIONS,
}


def parse_matrix(raw, path, algorithm):
    """Validate the matrix for `algorithm`; return {name: {option: normalised}} in written order."""
    if raw is None:
        raise SpecError.at(path, "is required")
    raw = expect_mapping(raw, path)
    if not raw:
        raise SpecError.at(path, "must define at least one param")
    problems = Problems()
    matrix = {}
    for name, entry in raw.items():
        parsed = problems.check(_parse_param, entry, f"{path}.{name}", algorithm)
        if parsed is not None:
            matrix[name] = parsed
    problems.raise_if_any()
    return matrix


def _parse_param(entry, path, algorithm):
    if not isinstance(entry, dict):
        raise SpecError.at(path, f"must be a mapping with one option, got {type_name(entry)}")
    unknown = [key for key in entry if key not in OPTIONS]
    if unknown:
        raise SpecError(
            [
                f"{path}: unknown option '{key}' (expected one of {', '.join(OPTIONS)})"
                for key in unknown
            ]
        )
    if len(entry) != 1:
        found = ", ".join(entry) or "none"
        raise SpecError.at(path, f"needs exactly one option, found {found}")
    option, value = next(iter(entry.items()))
    if value is None:
        raise SpecError.at(f"{path}.{option}", "must not be null")
    if option not in ALLOWED[algorithm]:
        kind = "distribution" if option in DISTRIBUTIONS else "option"
        raise SpecError.at(
            f"{path}.{option}",
            f"{algorithm} search cannot use the {kind} '{option}' "
            f"(allowed: {', '.join(ALLOWED[algorithm])})",
        )
    return {option: parse_option(option, value, f"{path}.{option}")}
