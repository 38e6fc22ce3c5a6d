"""environment.resources of a polyaxonfile: parsed, normalised and refused precisely."""

import pytest

from dashboard.hptuning import SpecError, parse_group_spec
from dashboard.hptuning.resources import gpus_requested

BASE = """\
version: 1
kind: group
hptuning:
  concurrency: 2
  grid_search: {n_experiments: 2}
  matrix:
    x: {values: [1, 2]}
run:
  cmd: python3 train.py --x={{ x }}
"""


def with_environment(text):
    return BASE + text


def errors_of(content):
    with pytest.raises(SpecError) as raised:
        parse_group_spec(content)
    return raised.value.errors


def test_polyaxon_resources_block_is_normalised_with_gpu_cpu_and_memory():
    spec = parse_group_spec(
        with_environment(
            "environment:\n"
            "  resources:\n"
            "    cpu: {requests: 0.5, limits: 2}\n"
            "    memory: {requests: 512, limits: 1024}\n"
            "    gpu: {requests: 1, limits: 1}\n"
            "  node_selector: {gpu: 'yes'}\n"
        )
    )
    assert spec.resources == {
        "cpu": {"requests": 0.5, "limits": 2},
        "memory": {"requests": 512, "limits": 1024},
        "gpu": {"requests": 1, "limits": 1},
    }
    assert gpus_requested(spec.resources) == 1


def test_a_file_without_environment_asks_no_resources():
    spec = parse_group_spec(BASE)
    assert spec.resources == {}
    assert gpus_requested(spec.resources) == 0


def test_gpu_limits_alone_are_what_each_experiment_asks():
    spec = parse_group_spec(with_environment("environment: {resources: {gpu: {limits: 2}}}\n"))
    assert gpus_requested(spec.resources) == 2


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            "environment: {resources: {gpu: {requests: -1}}}",
            "environment.resources.gpu.requests: must be >= 0, got -1",
        ),
        (
            "environment: {resources: {gpu: {requests: 1.5}}}",
            "environment.resources.gpu.requests: must be an integer, got a float 1.5",
        ),
        (
            "environment: {resources: {gpu: {requests: 2, limits: 1}}}",
            "environment.resources.gpu: requests (2) must not exceed limits (1)",
        ),
        (
            "environment: {resources: {gpu: {request: 1}}}",
            "environment.resources.gpu: unknown key 'request' (allowed: requests, limits)",
        ),
        (
            "environment: {resources: {gpus: 1}}",
            "environment.resources: unknown key 'gpus' (allowed: cpu, memory, gpu, tpu)",
        ),
        (
            "environment: {resources: {cpu: {requests: lots}}}",
            "environment.resources.cpu.requests: must be a number >= 0, got a string 'lots'",
        ),
        (
            "environment: {resources: {memory: {limits: -5}}}",
            "environment.resources.memory.limits: must be a number >= 0, got an int -5",
        ),
        ("environment: {resources: [1]}", "environment.resources: must be a mapping, got a list"),
        ("environment: 3", "environment: must be a mapping, got an int"),
    ],
)
def test_bad_resources_are_refused_naming_the_field(environment, message):
    assert errors_of(with_environment(environment + "\n")) == [message]
