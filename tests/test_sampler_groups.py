"""tpe and cmaes groups driven by the scheduler's rounds (the search worked out in the round):
every free slot gets a suggestion, running experiments are told to Optuna as pending so a
batch's suggestions differ, the group makes n_experiments and ends, and its plot shows the
suggestions in order."""

import pytest

from dashboard.extensions import db
from dashboard.hptuning.iterations import work_out
from dashboard.models import ExperimentGroup
from dashboard.services.group import statuses
from dashboard.services.run.batches import batch_request, free_slots, start_batch
from tests.factories import auth, make_group, make_project, make_token, make_user
from tests.support import searches
from tests.support.searches import run_rounds

SAMPLER_YML = """\
version: 1
kind: group
hptuning:
  concurrency: 3
  seed: 5
  {block}
  matrix:
    lr: {{loguniform: [-7, -1]}}
    units: {{range: [16, 257, 16]}}
run:
  cmd: train --lr {{{{ lr }}}} --units {{{{ units }}}}
"""
MINIMIZE = "optimization: minimize}}"
BLOCKS = {
    "tpe": "tpe: {n_experiments: 8, n_initial_trials: 4, metric: {name: loss, " + MINIMIZE,
    "cmaes": "cmaes: {n_experiments: 8, metric: {name: loss, " + MINIMIZE,
}


def _loss(params):
    return (params["lr"] - 0.01) ** 2 + params["units"] / 1000


@pytest.mark.parametrize("algorithm", ["tpe", "cmaes"])
def test_a_sampler_group_fills_its_slots_with_distinct_suggestions_and_ends(client, algorithm):
    project = make_project(make_user("alice"), "demo")
    group = make_group(project, content=SAMPLER_YML.format(block=BLOCKS[algorithm]))
    busy = run_rounds(group, _loss)
    experiments = searches.experiments(group)

    assert db.session.get(ExperimentGroup, group.id).status == "succeeded"
    assert len(experiments) == 8
    assert busy[:6] == [3] * 6  # 8 suggestions, 3 at a time: full until the last ones
    first_batch = [(e.params["lr"], e.params["units"]) for e in experiments[:3]]
    assert len(set(first_batch)) == 3
    assert [e.iteration for e in experiments] == list(range(8))
    assert all(e.params["units"] in range(16, 257, 16) for e in experiments)
    assert all(0.0009 < e.params["lr"] < 0.37 for e in experiments)
    assert db.session.get(ExperimentGroup, group.id).current_iteration == 8

    key = make_token(group.user)
    plot = client.get(
        f"/api/v1/alice/demo/groups/{group.id}/plots/{algorithm}/", headers=auth(key)
    ).json
    assert [p["experiment"] for p in plot["points"]] == [e.id for e in experiments]
    kinds = [p["kind"] for p in plot["points"]]
    assert kinds == (["initial"] * 4 + ["tpe"] * 4 if algorithm == "tpe" else ["cmaes"] * 8)


def test_a_batch_answered_for_more_slots_than_are_free_now_creates_only_what_fits(app):
    project = make_project(make_user("alice"), "demo")
    group = make_group(project, content=SAMPLER_YML.format(block=BLOCKS["tpe"]))
    statuses.set_group_status(group, "running")
    db.session.commit()
    answer = work_out(batch_request(group, 3))  # asked while 3 slots were free
    group.concurrency = 2  # lowered before the answer is applied

    created = start_batch(group, answer["ok"], free_slots(group, {}))
    db.session.commit()

    assert created == 2
    assert [e.iteration for e in searches.experiments(group)] == [0, 1]
    assert group.current_iteration == 2
