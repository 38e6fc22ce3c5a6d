"""parse_group_spec: validation rules, defaults and the normalised hptuning section."""

import json
import textwrap

import pytest

from dashboard.hptuning import GroupSpec, SpecError, parse_group_spec

REFERENCE_YAML = """\
version: 1
kind: group
hptuning:
  concurrency: 5
  random_search: {n_experiments: 10}
  matrix:
    learning_rate: {linspace: 0.001:0.1:5}
    dropout: {values: [0.25, 0.3]}
    activation: {values: [relu, sigmoid]}
declarations: {batch_size: 128, num_steps: 500, num_epochs: 1}
build: {image: tensorflow/tensorflow:1.4.1-py3, build_steps: [pip3 install polyaxon-client]}
run:
  cmd: python3 model.py --batch_size={{ batch_size }} --learning_rate={{ learning_rate }}
"""

# The `hptuning` object of the reference page (experiment-group-api.md).
REFERENCE_HPTUNING = json.loads("""
{
    "early_stopping": null,
    "concurrency": 5,
    "seed": null,
    "matrix": {
        "dropout": {"values": [0.25, 0.3]},
        "activation": {"values": ["relu", "sigmoid"]},
        "learning_rate": {"linspace": {"num": 5, "stop": 0.1, "start": 0.001}}
    },
    "random_search": {"n_experiments": 10}
}
""")


def group(hptuning, *, cmd="echo {{ a }}", extra=""):
    """A group polyaxonfile with the given hptuning body (YAML, indented by the caller)."""
    body = textwrap.indent(textwrap.dedent(hptuning).strip(), "  ")
    return f"version: 1\nkind: group\nhptuning:\n{body}\nrun:\n  cmd: {cmd}\n{extra}"


def errors_of(content, **kwargs):
    with pytest.raises(SpecError) as info:
        parse_group_spec(content, **kwargs)
    return info.value.errors


def test_reference_group_normalises_to_the_reference_page():
    spec = parse_group_spec(REFERENCE_YAML)
    assert json.loads(json.dumps(spec.hptuning)) == REFERENCE_HPTUNING


def test_reference_group_counts_and_fields():
    spec = parse_group_spec(REFERENCE_YAML)
    assert isinstance(spec, GroupSpec)
    assert spec.search_algorithm == "random"
    assert spec.concurrency == 5
    assert spec.seed is None
    assert spec.num_combinations == 20
    assert spec.num_experiments == 10
    assert spec.params == {"batch_size": 128, "num_steps": 500, "num_epochs": 1}
    assert spec.data["build"]["image"] == "tensorflow/tensorflow:1.4.1-py3"
    assert spec.run_cmd.startswith("python3 model.py")


def test_hptuning_keys_come_in_the_documented_order():
    spec = parse_group_spec(REFERENCE_YAML)
    assert list(spec.hptuning) == [
        "concurrency",
        "seed",
        "matrix",
        "early_stopping",
        "random_search",
    ]


def test_matrix_keeps_the_written_order():
    spec = parse_group_spec(
        group("matrix:\n  z: {values: [1]}\n  a: {values: [2]}\n  m: {values: [3]}")
    )
    assert list(spec.hptuning["matrix"]) == ["z", "a", "m"]


def test_no_algorithm_block_means_grid_with_defaults():
    spec = parse_group_spec(group("matrix:\n  a: {values: [1, 2]}"))
    assert spec.search_algorithm == "grid"
    assert spec.hptuning == {
        "concurrency": 1,
        "seed": None,
        "matrix": {"a": {"values": [1, 2]}},
        "early_stopping": None,
        "grid_search": {"n_experiments": None},
    }
    assert spec.num_experiments == 2
    assert spec.params == {}


def test_unknown_hptuning_key_is_named():
    errors = errors_of(group("matrix:\n  a: {values: [1]}\nsearch: grid"))
    assert errors[0].startswith("hptuning: unknown key 'search'")


def test_unknown_key_in_an_algorithm_block_is_named():
    errors = errors_of(group("grid_search: {n_experiment: 3}\nmatrix:\n  a: {values: [1]}"))
    assert errors[0].startswith("hptuning.grid_search: unknown key 'n_experiment'")


def test_unknown_matrix_option_is_named():
    errors = errors_of(group("matrix:\n  a: {valuez: [1]}"))
    assert errors[0].startswith("hptuning.matrix.a: unknown option 'valuez'")


def test_a_param_needs_exactly_one_option():
    errors = errors_of(group("matrix:\n  a: {values: [1], range: [1, 3, 1]}"))
    assert errors == ["hptuning.matrix.a: needs exactly one option, found values, range"]


def test_only_one_algorithm_block_is_allowed():
    errors = errors_of(
        group("grid_search: {}\nrandom_search: {n_experiments: 2}\nmatrix:\n  a: {values: [1]}")
    )
    assert "only one search algorithm is allowed" in errors[0]


def test_random_search_requires_n_experiments():
    errors = errors_of(group("random_search: {}\nmatrix:\n  a: {values: [1, 2]}"))
    assert errors == ["hptuning.random_search.n_experiments: is required"]


def test_n_experiments_must_be_at_least_one():
    errors = errors_of(group("random_search: {n_experiments: 0}\nmatrix:\n  a: {values: [1]}"))
    assert errors == ["hptuning.random_search.n_experiments: must be >= 1, got 0"]


def test_reversed_linspace_error_names_its_path():
    errors = errors_of(group("matrix:\n  learning_rate: {linspace: 0.1:0.001:5}"))
    assert errors == [
        "hptuning.matrix.learning_rate.linspace: stop (0.001) must be greater than start (0.1)"
    ]


def test_a_million_point_grid_needs_n_experiments():
    matrix = (
        "matrix:\n  a: {range: [0, 100, 1]}\n  b: {range: [0, 100, 1]}\n  c: {range: [0, 100, 1]}"
    )
    errors = errors_of(group(matrix))
    assert errors == [
        (
            "hptuning: the grid has 1000000 combinations, at most 10000 are allowed; "
            "set grid_search.n_experiments"
        )
    ]


def test_the_experiment_cap_is_a_parameter():
    errors = errors_of(group("matrix:\n  a: {range: [0, 30, 1]}"), max_experiments=20)
    assert errors == [
        (
            "hptuning: the grid has 30 combinations, at most 20 are allowed; "
            "set grid_search.n_experiments"
        )
    ]


def test_a_million_point_grid_with_n_experiments_is_accepted():
    matrix = (
        "matrix:\n  a: {range: [0, 100, 1]}\n  b: {range: [0, 100, 1]}\n  c: {range: [0, 100, 1]}"
    )
    spec = parse_group_spec(group("grid_search: {n_experiments: 10}\n" + matrix))
    assert spec.num_combinations == 1_000_000
    assert spec.num_experiments == 10


def test_random_search_above_the_cap_is_refused():
    errors = errors_of(group("random_search: {n_experiments: 20000}\nmatrix:\n  a: {uniform: 0:1}"))
    assert errors == [
        "hptuning: random_search.n_experiments is 20000, at most 10000 experiments are allowed"
    ]


def test_random_search_is_capped_at_the_number_of_distinct_combinations():
    spec = parse_group_spec(
        group("random_search: {n_experiments: 50}\nmatrix:\n  a: {values: [1, 2, 3, 1]}")
    )
    assert spec.num_combinations == 4
    assert spec.num_experiments == 3


def test_random_search_with_a_distribution_has_no_combination_count():
    spec = parse_group_spec(group("random_search: {n_experiments: 7}\nmatrix:\n  a: {normal: 0:1}"))
    assert spec.num_combinations is None
    assert spec.num_experiments == 7


@pytest.mark.parametrize("option", ["uniform: 0:1", "normal: 0:1", "pvalues: [[1, 1.0]]"])
def test_grid_refuses_distributions(option):
    errors = errors_of(group(f"matrix:\n  a: {{{option}}}"))
    assert errors[0].startswith("hptuning.matrix.a.")
    assert "grid search cannot use the distribution" in errors[0]


def test_bo_accepts_uniform_and_discrete_options():
    spec = parse_group_spec(
        group(
            "bo: {n_initial_trials: 2, n_iterations: 3, metric: {name: acc}}\n"
            "matrix:\n  a: {uniform: 0:1}\n  b: {linspace: 0:1:3}"
        )
    )
    assert spec.search_algorithm == "bo"
    assert spec.num_experiments is None


@pytest.mark.parametrize("option", ["loguniform: 0:1", "pvalues: [[1, 1.0]]"])
def test_bo_refuses_other_distributions(option):
    errors = errors_of(
        group(
            "bo: {n_initial_trials: 2, n_iterations: 3, metric: {name: acc}}\n"
            f"matrix:\n  a: {{{option}}}"
        )
    )
    assert "bo search cannot use the distribution" in errors[0]


def test_bo_fills_utility_function_defaults():
    spec = parse_group_spec(
        group(
            "bo: {n_initial_trials: 2, n_iterations: 0, metric: {name: acc}}\n"
            "matrix:\n  a: {uniform: 0:1}"
        )
    )
    assert spec.hptuning["bo"] == {
        "n_initial_trials": 2,
        "n_iterations": 0,
        "metric": {"name": "acc", "optimization": "maximize"},
        "utility_function": {
            "acquisition_function": "ucb",
            "kappa": 2.576,
            "eps": None,
            "n_warmup": 10000,
            "n_iter": 10,
            "gaussian_process": {
                "kernel": "matern",
                "length_scale": 1.0,
                "nu": 1.5,
                "n_restarts_optimizer": 0,
            },
        },
    }


def test_bo_ei_gets_a_default_eps():
    spec = parse_group_spec(
        group(
            "bo:\n  n_initial_trials: 1\n  n_iterations: 1\n  metric: {name: acc}\n"
            "  utility_function: {acquisition_function: EI}\nmatrix:\n  a: {uniform: 0:1}"
        )
    )
    utility = spec.hptuning["bo"]["utility_function"]
    assert (utility["acquisition_function"], utility["eps"], utility["kappa"]) == ("ei", 0.0, None)


def test_bo_block_errors_are_collected():
    errors = errors_of(
        group(
            "bo:\n  n_initial_trials: 0\n  n_iterations: -1\n  metric: {name: acc}\n"
            "  utility_function: {gaussian_process: {kernel: linear}}\nmatrix:\n  a: {uniform: 0:1}"
        )
    )
    assert errors == [
        "hptuning.bo.n_initial_trials: must be >= 1, got 0",
        "hptuning.bo.n_iterations: must be >= 0, got -1",
        (
            "hptuning.bo.utility_function.gaussian_process.kernel: must be one of matern, rbf, "
            "got 'linear'"
        ),
    ]


def test_bo_requires_a_metric():
    errors = errors_of(
        group("bo: {n_initial_trials: 1, n_iterations: 1}\nmatrix:\n  a: {uniform: 0:1}")
    )
    assert errors == ["hptuning.bo.metric: is required"]


HYPERBAND = """\
hyperband:
  max_iter: 81
  eta: {eta}
  resource: {{name: {resource}, type: {type}}}
  metric: {{name: loss, optimization: {optimization}}}
matrix:
  a: {{uniform: 0:1}}
"""


def hyperband(eta=3, resource="epochs", type="int", optimization="minimize", max_iter=81):
    body = HYPERBAND.format(eta=eta, resource=resource, type=type, optimization=optimization)
    body = body.replace("max_iter: 81", f"max_iter: {max_iter}")
    return group(body, cmd="echo {{ a }} {{ epochs }}")


def test_hyperband_block_is_normalised():
    spec = parse_group_spec(hyperband(type="INT", optimization="Minimize"))
    assert spec.search_algorithm == "hyperband"
    assert spec.hptuning["hyperband"] == {
        "max_iter": 81,
        "eta": 3,
        "resource": {"name": "epochs", "type": "int"},
        "metric": {"name": "loss", "optimization": "minimize"},
        "resume": False,
    }
    assert spec.num_experiments is None


def test_hyperband_eta_must_exceed_one():
    assert errors_of(hyperband(eta=1)) == ["hptuning.hyperband.eta: must be greater than 1, got 1"]


def test_hyperband_past_the_experiment_cap_is_refused_naming_max_iter():
    assert errors_of(hyperband(max_iter=10**9)) == [
        "hptuning.hyperband.max_iter: 1000000000 with eta 3 makes more than 10000 experiments "
        "(every rung of every bracket counts), at most 10000 are allowed; lower max_iter"
    ]
    assert errors_of(hyperband(max_iter=81), max_experiments=205) == [
        "hptuning.hyperband.max_iter: 81 with eta 3 makes more than 205 experiments "
        "(every rung of every bracket counts), at most 205 are allowed; lower max_iter"
    ]
    assert parse_group_spec(hyperband(max_iter=81), max_experiments=206)


def test_hyperband_with_eta_barely_above_one_is_refused_at_once():
    errors = errors_of(hyperband(eta=1.0000000000000002, max_iter=10**400))
    assert errors == [
        "hptuning.hyperband.max_iter: 10000000... (401 digits) with eta 1.0000000000000002 makes "
        "more than 10000 experiments (every rung of every bracket counts), at most 10000 are "
        "allowed; lower max_iter"
    ]


def test_a_group_accepted_before_is_read_again_without_the_cap():
    spec = parse_group_spec(hyperband(max_iter=10**9), max_experiments=None, check_template=False)
    assert spec.hptuning["hyperband"]["max_iter"] == 10**9


@pytest.mark.parametrize(
    ("key", "limit"),
    [("n_warmup", 100_000), ("n_iter", 250), ("gaussian_process: {n_restarts_optimizer", 10)],
)
def test_bo_work_per_suggestion_is_bounded(key, limit):
    value = f"{key}: {limit + 1}" + ("}" if "{" in key else "")
    body = (
        "bo:\n  n_initial_trials: 1\n  n_iterations: 1\n  metric: {name: acc}\n"
        f"  utility_function: {{{value}}}\nmatrix:\n  a: {{uniform: 0:1}}"
    )
    path = "hptuning.bo.utility_function." + key.replace(": {", ".")
    assert errors_of(group(body)) == [f"{path}: must be <= {limit:,}, got {limit + 1}"]
    assert parse_group_spec(group(body.replace(str(limit + 1), str(limit))))


def test_hyperband_resource_type_is_int_or_float():
    errors = errors_of(hyperband(type="str"))
    assert errors == ["hptuning.hyperband.resource.type: must be one of int, float, got 'str'"]


def test_hyperband_resource_must_not_be_a_matrix_param():
    errors = errors_of(hyperband(resource="a"))
    assert errors == ["hptuning.hyperband.resource.name: 'a' is also a matrix param"]


def test_enum_spellings_are_lower_upper_or_capitalised():
    assert (
        parse_group_spec(hyperband(optimization="MINIMIZE")).hptuning["hyperband"]["metric"][
            "optimization"
        ]
        == "minimize"
    )
    errors = errors_of(hyperband(optimization="miNimize"))
    assert errors == [
        "hptuning.hyperband.metric.optimization: must be one of maximize, minimize, got 'miNimize'"
    ]


def test_params_and_declarations_together_are_refused():
    content = group("matrix:\n  a: {values: [1]}", extra="params: {b: 1}\ndeclarations: {c: 2}\n")
    assert errors_of(content) == ["declarations: use either params or declarations, not both"]


def test_params_are_read_from_either_key():
    content = group("matrix:\n  a: {values: [1]}", extra="params: {b: 1}\n")
    assert parse_group_spec(content).params == {"b": 1}


def test_a_name_in_params_and_matrix_is_refused():
    content = group("matrix:\n  a: {values: [1]}", extra="params: {a: 1}\n")
    assert errors_of(content) == ["hptuning.matrix.a: 'a' is also defined in params"]


def test_seed_zero_is_kept():
    spec = parse_group_spec(group("seed: 0\nmatrix:\n  a: {values: [1]}"))
    assert spec.seed == 0
    assert spec.hptuning["seed"] == 0


def test_seed_must_not_be_a_bool():
    errors = errors_of(group("seed: true\nmatrix:\n  a: {values: [1]}"))
    assert errors == ["hptuning.seed: must be an integer, got a bool True"]


def test_concurrency_must_be_at_least_one():
    errors = errors_of(group("concurrency: 0\nmatrix:\n  a: {values: [1]}"))
    assert errors == ["hptuning.concurrency: must be >= 1, got 0"]


def test_concurrency_is_at_most_ten_thousand():
    assert (
        parse_group_spec(group("concurrency: 10000\nmatrix:\n  a: {values: [1]}")).concurrency
        == 10000
    )
    errors = errors_of(group("concurrency: 10001\nmatrix:\n  a: {values: [1]}"))
    assert errors == ["hptuning.concurrency: must be <= 10,000, got 10001"]


def test_a_concurrency_past_any_integer_column_names_the_bound():
    errors = errors_of(
        group("concurrency: 1000000000000000000000000000000\nmatrix:\n  a: {values: [1]}")
    )
    assert errors == ["hptuning.concurrency: must be <= 10,000, got 10000000... (31 digits)"]


def test_matrix_is_required():
    assert errors_of(group("concurrency: 2")) == ["hptuning.matrix: is required"]


def test_several_errors_are_reported_together():
    content = group("concurrency: 0\nmatrix:\n  a: {values: []}\n  b: {range: [3, 1, 1]}")
    with pytest.raises(SpecError) as info:
        parse_group_spec(content)
    err = info.value
    assert err.errors == [
        "hptuning.concurrency: must be >= 1, got 0",
        "hptuning.matrix.a.values: must not be empty",
        "hptuning.matrix.b.range: stop (1) must be greater than start (3)",
    ]
    assert str(err) == "; ".join(err.errors)


def test_early_stopping_entries_are_normalised():
    spec = parse_group_spec(
        group(
            "early_stopping:\n"
            "  - {metric: accuracy, value: 0.97}\n"
            "  - {metric: loss, value: 0.05, optimization: MINIMIZE,"
            " policy: {kind: Median, evaluation_interval: 2}}\n"
            "matrix:\n  a: {values: [1]}"
        )
    )
    assert spec.hptuning["early_stopping"] == [
        {"metric": "accuracy", "value": 0.97, "optimization": "maximize", "policy": None},
        {
            "metric": "loss",
            "value": 0.05,
            "optimization": "minimize",
            "policy": {"kind": "median", "evaluation_interval": 2},
        },
    ]


def test_early_stopping_entry_needs_a_value():
    errors = errors_of(group("early_stopping: [{metric: acc}]\nmatrix:\n  a: {values: [1]}"))
    assert errors == ["hptuning.early_stopping[0].value: is required"]


def test_version_must_be_one():
    content = group("matrix:\n  a: {values: [1]}").replace("version: 1", "version: 2")
    assert errors_of(content) == ["version: must be 1, got 2"]


def test_kind_must_be_group():
    content = group("matrix:\n  a: {values: [1]}").replace("kind: group", "kind: experiment")
    assert errors_of(content) == ["kind: must be one of group, got 'experiment'"]


def test_kind_accepts_upper_case():
    content = group("matrix:\n  a: {values: [1]}").replace("kind: group", "kind: GROUP")
    assert parse_group_spec(content).search_algorithm == "grid"


def test_hptuning_is_required():
    content = "version: 1\nkind: group\nrun: {cmd: echo}\n"
    assert errors_of(content) == ["hptuning: is required"]


def test_run_cmd_is_required():
    content = "version: 1\nkind: group\nhptuning: {matrix: {a: {values: [1]}}}\nrun: {}\n"
    assert errors_of(content) == ["run.cmd: is required"]


def test_run_cmd_list_items_must_be_strings():
    content = group("matrix:\n  a: {values: [1]}", cmd="[python, 3]")
    assert errors_of(content) == ["run.cmd[1]: must be a string, got an int"]
