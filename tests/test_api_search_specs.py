"""Creating asha, tpe, cmaes and policy groups through the API: 201 for a good polyaxonfile, a
400 naming the field for a bad one, and nothing stored then."""

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import ExperimentGroup
from tests.factories import EXAMPLES, owner_with_project

GROUPS = "/api/v1/root/quick-start/groups"
ASHA = (EXAMPLES / "asha.yml").read_text()
TPE = (EXAMPLES / "tpe.yml").read_text()
CMAES = (EXAMPLES / "cmaes.yml").read_text()
POLICIES = (EXAMPLES / "policies.yml").read_text()


@pytest.mark.parametrize(
    "content", [ASHA, TPE, CMAES, POLICIES], ids=["asha", "tpe", "cmaes", "policies"]
)
def test_a_good_polyaxonfile_creates_the_group(client, content):
    root = owner_with_project()

    response = client.post(GROUPS, json={"content": content}, headers=root.headers)

    assert response.status_code == 201, response.json
    assert response.json["search_algorithm"] in ("asha", "tpe", "cmaes", "random")


BAD = [
    (
        ASHA.replace("reduction_factor: 3", "reduction_factor: 1"),
        "hptuning.asha.reduction_factor: must be greater than 1, got 1",
    ),
    (
        ASHA.replace("min_resource: 1", "min_resource: 30"),
        "hptuning.asha.max_resource",
    ),
    (
        TPE.replace("n_initial_trials: 10", "n_initial_trials: 60"),
        "hptuning.tpe.n_initial_trials: must be <= n_experiments (50), got 60",
    ),
    (
        CMAES.replace("layers: {range: [1, 6, 1]}", "act: {values: [relu, tanh]}").replace(
            "--layers={{ layers }}", "--act={{ act }}"
        ),
        "hptuning.matrix.act: 'act' is a categorical param",
    ),
    (
        TPE.replace("units: {values: [64, 128, 256]}", "units: {pvalues: [[64, 0.5], [128, 0.5]]}"),
        "hptuning.matrix.units: 'units' uses pvalues, which tpe cannot search",
    ),
    (
        POLICIES.replace("kind: median", "kind: mode"),
        "hptuning.early_stopping[0].policy.kind",
    ),
    (
        POLICIES.replace("percent: 25", "percent: 100"),
        "hptuning.early_stopping[1].policy.percent",
    ),
]


@pytest.mark.parametrize(("content", "problem"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_a_bad_field_is_a_400_naming_it_and_stores_nothing(client, content, problem):
    root = owner_with_project()

    response = client.post(GROUPS, json={"content": content}, headers=root.headers)

    assert response.status_code == 400
    assert any(message.startswith(problem) for message in response.json["content"]), response.json
    assert db.session.scalar(select(func.count()).select_from(ExperimentGroup)) == 0
