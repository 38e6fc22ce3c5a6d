"""A polyaxonfile's `environment.resources` (Polyaxon 0.x): what each experiment asks.

`gpu` places experiments (its `requests`, else its `limits`: GPUs are whole devices); `cpu`,
`memory` (MB) and `tpu` are stored and shown. Each is `{requests: N, limits: N}`; the rest of
`environment` (node selectors, tolerations...) is stored as written and means nothing here.
"""

import math

from .errors import Problems, SpecError
from .fields import as_int, check_keys, expect_mapping, is_number, type_name

RESOURCES = ("cpu", "memory", "gpu", "tpu")
BOUNDS = ("requests", "limits")
MAX_GPUS = 1024


def parse_resources(data):
    """The normalised `environment.resources` of a parsed polyaxonfile ({} without one)."""
    environment = data.get("environment")
    if environment is None:
        return {}
    environment = expect_mapping(environment, "environment")
    resources = environment.get("resources")
    if resources is None:
        return {}
    path = "environment.resources"
    resources = expect_mapping(resources, path)
    check_keys(resources, RESOURCES, path)
    problems = Problems()
    normalised = {}
    for name in RESOURCES:
        if resources.get(name) is not None:
            block = problems.check(_bounds, resources[name], f"{path}.{name}", name)
            if block:
                normalised[name] = block
    problems.raise_if_any()
    return normalised


def _bounds(block, path, name):
    block = expect_mapping(block, path)
    check_keys(block, BOUNDS, path)
    values = {}
    for bound in BOUNDS:
        value = block.get(bound)
        if value is None:
            continue
        if name in ("gpu", "tpu"):
            values[bound] = as_int(value, f"{path}.{bound}", minimum=0, maximum=MAX_GPUS)
        elif not is_number(value) or not math.isfinite(value) or value < 0:
            raise SpecError.at(
                f"{path}.{bound}", f"must be a number >= 0, got {type_name(value)} {value!r}"
            )
        else:
            values[bound] = value
    if values.get("limits") is not None and values.get("requests", 0) > values["limits"]:
        raise SpecError.at(
            path, f"requests ({values['requests']}) must not exceed limits ({values['limits']})"
        )
    return values


def gpus_requested(resources):
    """How many GPUs each experiment of a group with these normalised resources asks."""
    gpu = (resources or {}).get("gpu") or {}
    return gpu.get("requests", gpu.get("limits", 0))
