"""parse_group_spec: a polyaxonfile's text to a validated, normalised GroupSpec."""

import math
from dataclasses import dataclass, field

import numpy as np

from .asha import total_experiments as asha_total_experiments
from .blocks import ALGORITHMS, parse_block, parse_early_stopping
from .errors import Problems, SpecError
from .fields import as_enum, as_int, expect_mapping, short, type_name
from .hyperband import total_experiments
from .loader import load_yaml
from .matrix import parse_matrix
from .options import sample
from .resources import parse_resources
from .sampler_space import check_matrix
from .search import distinct_size, grid_size
from .templates import render_cmd

HPTUNING_KEYS = ("concurrency", "seed", "matrix", "early_stopping", *ALGORITHMS)
MAX_EXPERIMENTS = 10_000
# Concurrency is an int in this range wherever it is set: polyaxonfile, API, UI (EXTENSIONS §0).
MIN_CONCURRENCY, MAX_CONCURRENCY = 1, 10_000
MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class GroupSpec:
    """A validated group polyaxonfile with its normalised hptuning section."""

    hptuning: dict
    search_algorithm: str
    concurrency: int
    seed: int | None
    params: dict
    run_cmd: str | list
    data: dict = field(repr=False)
    num_combinations: int | None
    num_experiments: int | None
    resources: dict = field(default_factory=dict)  # environment.resources, normalised

    @property
    def matrix(self):
        """The normalised matrix: param name -> {option: normalised value}."""
        return self.hptuning["matrix"]

    @property
    def algorithm_block(self):
        """The normalised block of the search algorithm (grid_search, random_search, ...)."""
        return self.hptuning[_block_name(self.search_algorithm)]


def parse_group_spec(
    content, *, max_experiments=MAX_EXPERIMENTS, max_bytes=MAX_BYTES, check_template=True
):
    """Parse and validate polyaxonfile YAML text; raise SpecError listing what is wrong.

    A group accepted before is parsed again with `max_experiments=None` (no cap: it may have
    been accepted under a larger one) and without `check_template` (no sample render).
    """
    data = load_yaml(content, max_bytes=max_bytes)
    if not isinstance(data, dict):
        raise SpecError.at("content", f"the document must be a mapping, got {type_name(data)}")
    data = expect_mapping(data, "content")
    problems = Problems()
    problems.check(_check_header, data)
    params = problems.check(_params, data)
    run_cmd = problems.check(_run_cmd, data.get("run"))
    resources = problems.check(parse_resources, data)
    if "hptuning" not in data or data["hptuning"] is None:
        problems.add("hptuning", "is required")
        hptuning = None
    else:
        hptuning = problems.check(parse_hptuning, data["hptuning"])
    problems.raise_if_any()

    algorithm = next(ALGORITHMS[key] for key in ALGORITHMS if key in hptuning)
    if algorithm in ("tpe", "cmaes"):
        check_matrix(hptuning["matrix"], algorithm)
    _check_names(hptuning, params, data)
    counts = _count(hptuning, algorithm, max_experiments)
    if check_template:
        _check_template(run_cmd, params, hptuning)
    return GroupSpec(
        hptuning=hptuning,
        search_algorithm=algorithm,
        concurrency=hptuning["concurrency"],
        seed=hptuning["seed"],
        params=params,
        run_cmd=run_cmd,
        data=data,
        num_combinations=counts[0],
        num_experiments=counts[1],
        resources=resources,
    )


def run_cmd_of(content, *, max_bytes=MAX_BYTES):
    """The run.cmd of a polyaxonfile accepted before, without validating the rest again."""
    data = load_yaml(content, max_bytes=max_bytes)
    if not isinstance(data, dict):
        raise SpecError.at("content", f"the document must be a mapping, got {type_name(data)}")
    return _run_cmd(data.get("run"))


def _check_header(data):
    problems = Problems()
    version = data.get("version")
    if version is None:
        problems.add("version", "is required")
    elif isinstance(version, bool) or version not in (1, "1"):
        problems.add("version", f"must be 1, got {version!r}")
    if data.get("kind") is None:
        problems.add("kind", "is required")
    else:
        problems.check(as_enum, data["kind"], "kind", ("group",))
    problems.raise_if_any()


def _params(data):
    if data.get("params") is not None and data.get("declarations") is not None:
        raise SpecError.at("declarations", "use either params or declarations, not both")
    key = "params" if data.get("params") is not None else "declarations"
    return dict(expect_mapping(data.get(key), key, allow_none=True))


def _run_cmd(run):
    if run is None:
        raise SpecError.at("run", "is required")
    run = expect_mapping(run, "run")
    cmd = run.get("cmd")
    if cmd is None:
        raise SpecError.at("run.cmd", "is required")
    if isinstance(cmd, str):
        if not cmd.strip():
            raise SpecError.at("run.cmd", "must not be empty")
        return cmd
    if not isinstance(cmd, list) or not cmd:
        raise SpecError.at(
            "run.cmd", f"must be a string or a list of strings, got {type_name(cmd)}"
        )
    errors = [
        f"run.cmd[{i}]: must be a string, got {type_name(item)}"
        for i, item in enumerate(cmd)
        if not isinstance(item, str)
    ]
    if errors:
        raise SpecError(errors)
    return list(cmd)


def parse_hptuning(raw, path="hptuning"):
    """Validate the hptuning section and return it normalised, keys in the documented order."""
    raw = expect_mapping(raw, path)
    problems = Problems()
    unknown = [key for key in raw if key not in HPTUNING_KEYS]
    for key in unknown:
        problems.add(path, f"unknown key '{key}' (allowed: {', '.join(HPTUNING_KEYS)})")
    blocks = [key for key in ALGORITHMS if key in raw]
    if len(blocks) > 1:
        problems.add(path, f"only one search algorithm is allowed, found {', '.join(blocks)}")
    block_name = blocks[0] if blocks else "grid_search"
    concurrency, seed = raw.get("concurrency"), raw.get("seed")
    result = {
        "concurrency": 1
        if concurrency is None
        else problems.check(
            as_int,
            concurrency,
            f"{path}.concurrency",
            minimum=MIN_CONCURRENCY,
            maximum=MAX_CONCURRENCY,
        ),
        "seed": None if seed is None else problems.check(as_int, seed, f"{path}.seed"),
        "matrix": problems.check(
            parse_matrix, raw.get("matrix"), f"{path}.matrix", ALGORITHMS[block_name]
        ),
        "early_stopping": problems.check(
            parse_early_stopping, raw.get("early_stopping"), f"{path}.early_stopping"
        ),
        block_name: problems.check(
            parse_block, block_name, raw.get(block_name), f"{path}.{block_name}"
        ),
    }
    problems.raise_if_any()
    return result


def _block_name(algorithm):
    return next(key for key, value in ALGORITHMS.items() if value == algorithm)


def _check_names(hptuning, params, data):
    problems = Problems()
    declared = "params" if data.get("params") is not None else "declarations"
    for name in hptuning["matrix"]:
        if name in params:
            problems.add(f"hptuning.matrix.{name}", f"'{name}' is also defined in {declared}")
    algorithm = next((key for key in ("hyperband", "asha") if key in hptuning), None)
    resource = hptuning.get(algorithm, {}).get("resource", {}).get("name")
    if resource is not None:
        path = f"hptuning.{algorithm}.resource.name"
        if resource in hptuning["matrix"]:
            problems.add(path, f"'{resource}' is also a matrix param")
        if resource in params:
            problems.add(path, f"'{resource}' is also defined in {declared}")
    problems.raise_if_any()


def _count(hptuning, algorithm, max_experiments):
    """(num_combinations, num_experiments), refusing groups above the experiment cap."""
    matrix = hptuning["matrix"]
    combinations = grid_size(matrix)
    if max_experiments is None:
        max_experiments = math.inf
        if algorithm == "hyperband":
            return combinations, None
    if algorithm == "grid":
        n = hptuning["grid_search"]["n_experiments"]
        experiments = combinations if n is None else min(n, combinations)
        if experiments > max_experiments:
            if n is None:
                raise SpecError.at(
                    "hptuning",
                    f"the grid has {combinations} combinations, at "
                    f"most {max_experiments} are allowed; set "
                    "grid_search.n_experiments",
                )
            raise SpecError.at(
                "hptuning",
                f"grid_search.n_experiments is {n}, at most "
                f"{max_experiments} experiments are allowed",
            )
        return combinations, experiments
    if algorithm == "random":
        n = hptuning["random_search"]["n_experiments"]
        cap = distinct_size(matrix)
        experiments = n if cap is None else min(n, cap)
        if experiments > max_experiments:
            raise SpecError.at(
                "hptuning",
                f"random_search.n_experiments is {n}, at most "
                f"{max_experiments} experiments are allowed",
            )
        return combinations, experiments
    if algorithm == "hyperband":
        block = hptuning["hyperband"]
        if total_experiments(block["max_iter"], block["eta"], max_experiments) is None:
            raise SpecError.at(
                "hptuning.hyperband.max_iter",
                f"{short(block['max_iter'])} with eta {short(block['eta'])} makes more than "
                f"{max_experiments} experiments (every rung of every bracket counts), at most "
                f"{max_experiments} are allowed; lower max_iter",
            )
    if algorithm == "asha":
        most = asha_total_experiments(hptuning["asha"])
        if most > max_experiments:
            raise SpecError.at(
                "hptuning.asha.n_experiments",
                f"{hptuning['asha']['n_experiments']} configurations can make up to {most} "
                f"experiments with their promotions, at most {max_experiments} are allowed; "
                "lower n_experiments or the number of rungs",
            )
    if algorithm in ("tpe", "cmaes"):
        n = hptuning[algorithm]["n_experiments"]
        if n > max_experiments:
            raise SpecError.at(
                f"hptuning.{algorithm}.n_experiments",
                f"is {n}, at most {max_experiments} experiments are allowed",
            )
        return combinations, n
    if algorithm == "bo":
        block = hptuning["bo"]
        total = block["n_initial_trials"] + block["n_iterations"]
        if total > max_experiments:
            raise SpecError.at(
                "hptuning",
                f"bo would create {total} experiments "
                f"(n_initial_trials + n_iterations), at most {max_experiments} "
                "are allowed",
            )
    return combinations, None


def _check_template(run_cmd, params, hptuning):
    """Render run.cmd once with sample values so unknown names are refused now."""
    rng = np.random.default_rng(0)
    context = dict(params)
    for name, entry in hptuning["matrix"].items():
        option, spec = next(iter(entry.items()))
        context[name] = sample(option, spec, rng)
    resource = (hptuning.get("hyperband") or hptuning.get("asha") or {}).get("resource")
    if resource is not None:
        context[resource["name"]] = 1 if resource["type"] == "int" else 1.0
    render_cmd(run_cmd, context)
