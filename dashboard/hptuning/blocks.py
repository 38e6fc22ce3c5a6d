"""The algorithm blocks (grid_search, random_search, hyperband, bo; asha's is asha.py, tpe's
and cmaes's samplers.py) and early_stopping."""

from .errors import Problems, SpecError
from .fields import (
    as_bool,
    as_enum,
    as_int,
    as_name,
    as_number,
    check_keys,
    expect_mapping,
)

ALGORITHMS = {
    "grid_search": "grid",
    "random_search": "random",
    "hyperband": "hyperband",
    "bo": "bo",
    "asha": "asha",
    "tpe": "tpe",
    "cmaes": "cmaes",
}
OPTIMIZATIONS = ("maximize", "minimize")
ACQUISITION_FUNCTIONS = ("ucb", "ei", "poi")
KERNELS = ("matern", "rbf")
RESOURCE_TYPES = ("int", "float")
POLICY_KINDS = ("median", "average", "truncation")

# Defaults where polyaxon-schemas has none (kappa, eps) follow the bayes_opt library.
DEFAULT_KAPPA = 2.576
DEFAULT_EPS = 0.0
DEFAULT_N_WARMUP = 10000
DEFAULT_N_ITER = 10
# Bounds on the work of one bo suggestion, refused above at group creation: random warm-up
# points, L-BFGS-B starts, kernel refits (each a whole GP fit). Far above the defaults (10,000 /
# 10 / 0); what else grows (observations, matrix width) is bounded in bo.py and by the search
# process's time and memory limits (dashboard/runner/searches.py).
MAX_N_WARMUP = 100_000
MAX_N_ITER = 250
MAX_N_RESTARTS_OPTIMIZER = 10
DEFAULT_GAUSSIAN_PROCESS = {
    "kernel": "matern",
    "length_scale": 1.0,
    "nu": 1.5,
    "n_restarts_optimizer": 0,
}


def parse_block(name, raw, path):
    """Validate and normalise the algorithm block `name` (a key of ALGORITHMS)."""
    # asha.py and samplers.py build on this module's parsers: imported when needed.
    if name == "asha":
        from .asha import parse_asha

        return parse_asha(raw, path)
    if name in ("tpe", "cmaes"):
        from . import samplers

        return getattr(samplers, f"parse_{name}")(raw, path)
    parser = {
        "grid_search": parse_grid,
        "random_search": parse_random,
        "hyperband": parse_hyperband,
        "bo": parse_bo,
    }[name]
    return parser(raw, path)


def parse_grid(raw, path):
    """grid_search: {n_experiments: optional int >= 1}."""
    raw = expect_mapping(raw, path, allow_none=True)
    check_keys(raw, ("n_experiments",), path)
    n = raw.get("n_experiments")
    return {"n_experiments": None if n is None else as_int(n, f"{path}.n_experiments", minimum=1)}


def parse_random(raw, path):
    """random_search: {n_experiments: required int >= 1}."""
    raw = expect_mapping(raw, path, allow_none=True)
    check_keys(raw, ("n_experiments",), path, required=("n_experiments",))
    return {"n_experiments": as_int(raw["n_experiments"], f"{path}.n_experiments", minimum=1)}


def parse_metric(raw, path):
    """A search metric: {name, optimization (default maximize)}."""
    raw = expect_mapping(raw, path)
    check_keys(raw, ("name", "optimization"), path, required=("name",))
    optimization = raw.get("optimization")
    return {
        "name": as_name(raw["name"], f"{path}.name"),
        "optimization": "maximize"
        if optimization is None
        else as_enum(optimization, f"{path}.optimization", OPTIMIZATIONS),
    }


def parse_hyperband(raw, path):
    """hyperband: {max_iter, eta > 1, resource: {name, type}, metric, resume}."""
    raw = expect_mapping(raw, path)
    check_keys(
        raw,
        ("max_iter", "eta", "resource", "metric", "resume"),
        path,
        required=("max_iter", "eta", "resource", "metric"),
    )
    problems = Problems()
    resume = raw.get("resume")
    block = {
        "max_iter": problems.check(as_int, raw["max_iter"], f"{path}.max_iter", minimum=1),
        "eta": problems.check(as_number, raw["eta"], f"{path}.eta", greater_than=1),
        "resource": problems.check(parse_resource, raw["resource"], f"{path}.resource"),
        "metric": problems.check(parse_metric, raw["metric"], f"{path}.metric"),
        "resume": False if resume is None else problems.check(as_bool, resume, f"{path}.resume"),
    }
    problems.raise_if_any()
    return block


def parse_resource(raw, path):
    raw = expect_mapping(raw, path)
    check_keys(raw, ("name", "type"), path, required=("name",))
    kind = raw.get("type")
    return {
        "name": as_name(raw["name"], f"{path}.name"),
        "type": "float" if kind is None else as_enum(kind, f"{path}.type", RESOURCE_TYPES),
    }


def parse_bo(raw, path):
    """bo: {n_initial_trials, n_iterations, metric, utility_function}."""
    raw = expect_mapping(raw, path)
    check_keys(
        raw,
        ("n_initial_trials", "n_iterations", "metric", "utility_function"),
        path,
        required=("n_initial_trials", "n_iterations", "metric"),
    )
    problems = Problems()
    block = {
        "n_initial_trials": problems.check(
            as_int, raw["n_initial_trials"], f"{path}.n_initial_trials", minimum=1
        ),
        "n_iterations": problems.check(
            as_int, raw["n_iterations"], f"{path}.n_iterations", minimum=0
        ),
        "metric": problems.check(parse_metric, raw["metric"], f"{path}.metric"),
        "utility_function": problems.check(
            _parse_utility, raw.get("utility_function"), f"{path}.utility_function"
        ),
    }
    problems.raise_if_any()
    return block


def _parse_utility(raw, path):
    raw = expect_mapping(raw, path, allow_none=True)
    keys = ("acquisition_function", "kappa", "eps", "n_warmup", "n_iter", "gaussian_process")
    check_keys(raw, keys, path)
    problems = Problems()
    function = raw.get("acquisition_function")
    function = (
        "ucb"
        if function is None
        else problems.check(
            as_enum, function, f"{path}.acquisition_function", ACQUISITION_FUNCTIONS
        )
    )
    kappa, eps = raw.get("kappa"), raw.get("eps")
    if kappa is None and function == "ucb":
        kappa = DEFAULT_KAPPA
    if eps is None and function in ("ei", "poi"):
        eps = DEFAULT_EPS
    block = {
        "acquisition_function": function,
        "kappa": None
        if kappa is None
        else problems.check(as_number, kappa, f"{path}.kappa", at_least=0),
        "eps": None if eps is None else problems.check(as_number, eps, f"{path}.eps", at_least=0),
        "n_warmup": _optional(
            problems,
            as_int,
            raw.get("n_warmup"),
            DEFAULT_N_WARMUP,
            f"{path}.n_warmup",
            minimum=1,
            maximum=MAX_N_WARMUP,
        ),
        "n_iter": _optional(
            problems,
            as_int,
            raw.get("n_iter"),
            DEFAULT_N_ITER,
            f"{path}.n_iter",
            minimum=1,
            maximum=MAX_N_ITER,
        ),
        "gaussian_process": problems.check(
            _parse_gaussian_process, raw.get("gaussian_process"), f"{path}.gaussian_process"
        ),
    }
    problems.raise_if_any()
    return block


def _parse_gaussian_process(raw, path):
    raw = expect_mapping(raw, path, allow_none=True)
    check_keys(raw, tuple(DEFAULT_GAUSSIAN_PROCESS), path)
    problems = Problems()
    kernel = raw.get("kernel")
    block = {
        "kernel": DEFAULT_GAUSSIAN_PROCESS["kernel"]
        if kernel is None
        else problems.check(as_enum, kernel, f"{path}.kernel", KERNELS),
        "length_scale": _optional(
            problems,
            as_number,
            raw.get("length_scale"),
            DEFAULT_GAUSSIAN_PROCESS["length_scale"],
            f"{path}.length_scale",
            greater_than=0,
        ),
        "nu": _optional(
            problems,
            as_number,
            raw.get("nu"),
            DEFAULT_GAUSSIAN_PROCESS["nu"],
            f"{path}.nu",
            greater_than=0,
        ),
        "n_restarts_optimizer": _optional(
            problems,
            as_int,
            raw.get("n_restarts_optimizer"),
            DEFAULT_GAUSSIAN_PROCESS["n_restarts_optimizer"],
            f"{path}.n_restarts_optimizer",
            minimum=0,
            maximum=MAX_N_RESTARTS_OPTIMIZER,
        ),
    }
    problems.raise_if_any()
    return block


def _optional(problems, check, value, default, path, **limits):
    return default if value is None else problems.check(check, value, path, **limits)


def parse_early_stopping(raw, path):
    """A list of {metric, value, optimization, policy}; null or [] normalise to None."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise SpecError.at(path, "must be a list of {metric, value, optimization, policy}")
    problems = Problems()
    entries = [
        problems.check(_parse_stopping_entry, entry, f"{path}[{i}]") for i, entry in enumerate(raw)
    ]
    problems.raise_if_any()
    return entries


def _parse_stopping_entry(raw, path):
    """{metric, value, optimization, policy}: `value` (the group-level rule) may be left out
    when a policy is given, and is then None."""
    raw = expect_mapping(raw, path)
    has_policy = raw.get("policy") is not None
    check_keys(
        raw,
        ("metric", "value", "optimization", "policy"),
        path,
        required=("metric",) if has_policy else ("metric", "value"),
    )
    problems = Problems()
    optimization = raw.get("optimization")
    value = raw.get("value")
    entry = {
        "metric": problems.check(as_name, raw["metric"], f"{path}.metric"),
        "value": None if value is None else problems.check(as_number, value, f"{path}.value"),
        "optimization": "maximize"
        if optimization is None
        else problems.check(as_enum, optimization, f"{path}.optimization", OPTIMIZATIONS),
        "policy": problems.check(_parse_policy, raw["policy"], f"{path}.policy")
        if has_policy
        else None,
    }
    problems.raise_if_any()
    return entry


def _parse_policy(raw, path):
    """A stopping policy as polyaxon-schemas 0.6.1 writes it: {kind: median or average,
    evaluation_interval} or {kind: truncation, percent (1 to 99), evaluation_interval}."""
    raw = expect_mapping(raw, path)
    if raw.get("kind") is None:
        raise SpecError.at(f"{path}.kind", f"is required (one of {', '.join(POLICY_KINDS)})")
    kind = as_enum(raw["kind"], f"{path}.kind", POLICY_KINDS)
    keys = (
        ("kind", "percent", "evaluation_interval")
        if kind == "truncation"
        else ("kind", "evaluation_interval")
    )
    check_keys(raw, keys, path, required=keys)
    problems = Problems()
    policy = {"kind": kind}
    if kind == "truncation":
        policy["percent"] = problems.check(
            as_int, raw["percent"], f"{path}.percent", minimum=1, maximum=99
        )
    policy["evaluation_interval"] = problems.check(
        as_int, raw["evaluation_interval"], f"{path}.evaluation_interval", minimum=1
    )
    problems.raise_if_any()
    return policy
