"""The analysis plots of a running group follow it from what changed (services.plots.
group_columns): after any change they answer exactly what a process that never saw the group
answers, and a poll reads only the experiments that changed."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, select, update

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.models.types import utcnow
from dashboard.services.group import versioned
from dashboard.services.plots import group_columns
from tests.factories import alice_group, auth, make_token

API = "/api/v1/alice/demo"
RANDOM = (
    "version: 1\nkind: group\nhptuning:\n  matrix:\n    lr: {loguniform: [-9, -1]}\n"
    "    act: {values: [relu, tanh, gelu]}\n    width: {values: [8, 16, 32, 64]}\n"
    "  random_search: {n_experiments: 40}\nrun:\n  cmd: echo\n"
)
PLOTS = (
    ("curves", ""),
    ("edf", ""),
    ("contour", "?x=lr&y=act"),
    ("contour", "?x=width&y=lr"),
    ("contour", ""),
)
NEXT = {"created": "scheduled", "scheduled": "starting", "starting": "running"}
FINAL = ("succeeded", "failed", "stopped")


@pytest.fixture
def running():
    """alice's random search of 40 experiments with `loss` to minimize, and her token."""
    _, _, group = alice_group(RANDOM)
    group.objective = {"metric": "loss", "optimization": "minimize"}
    db.session.commit()
    return group, auth(make_token(group.user))


def ids_of(group):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def plots(client, group, headers):
    answers = []
    for name, query in PLOTS:
        response = client.get(f"{API}/groups/{group.id}/plots/{name}/{query}", headers=headers)
        assert response.status_code == 200, response.json
        answers.append(response.json)
    return answers


def afresh(client, group, headers):
    """The plots as a process that kept nothing of the group works them out."""
    group_columns.kept.clear()
    versioned.answers.clear()
    return plots(client, group, headers)


def post(client, path, headers, body):
    response = client.post(f"{API}{path}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.json


def test_after_any_change_the_plots_are_those_of_a_fresh_read(client, running):
    group, headers = running
    rng = random.Random(7)
    ids = ids_of(group)
    status = dict.fromkeys(ids, "created")
    plots(client, group, headers)  # the columns are built here, then only brought up to date
    for step in range(60):
        experiment_id = rng.choice(ids)
        action = rng.random()
        if action < 0.6:  # a report, whatever the status (members may report on any)
            values = {"loss": round(rng.uniform(0, 2), 4), "step": step}
            if rng.random() < 0.2:
                values = {"accuracy": rng.random(), "step": step}  # no loss in this one
            post(client, f"/experiments/{experiment_id}/metrics/", headers, {"values": values})
        elif action < 0.9 and status[experiment_id] not in FINAL:
            new = NEXT.get(status[experiment_id]) or rng.choice(FINAL)
            post(client, f"/experiments/{experiment_id}/statuses/", headers, {"status": new})
            status[experiment_id] = new
        elif len(ids) > 30:  # gone (as a deleted group's would be): the group is read afresh
            db.session.execute(delete(Experiment).where(Experiment.id == experiment_id))
            db.session.commit()
            ids.remove(experiment_id)
        kept = plots(client, group, headers)
        assert kept == afresh(client, group, headers), f"step {step}"
    curves, edf = kept[0], kept[1]
    assert curves["total"] == edf["total"] > 10  # the check saw plots with something in them


def test_a_poll_after_a_report_reads_only_the_experiment_that_changed(client, running):
    group, headers = running
    ids = ids_of(group)
    for experiment_id in ids:
        report = {"values": {"loss": experiment_id}}
        post(client, f"/experiments/{experiment_id}/metrics/", headers, report)
    # Reported over an hour ago, two minutes apart: a read takes again those changed since the
    # latest change it saw less a minute (group_columns.MARGIN), so only ids[0] of them.
    hour_ago = utcnow() - timedelta(hours=1)
    for k, experiment_id in enumerate(ids):
        db.session.execute(
            update(Experiment)
            .where(Experiment.id == experiment_id)
            .values(updated_at=hour_ago - timedelta(minutes=2 * k))
        )
    db.session.commit()
    before = plots(client, group, headers)
    post(client, f"/experiments/{ids[3]}/metrics/", headers, {"values": {"loss": -1.0}})
    fetched = []

    def count_rows(conn, cursor, statement, parameters, context, executemany):
        if "FROM experiments" in statement and "updated_at >=" in statement:
            fetched.append(cursor.rowcount if cursor.rowcount >= 0 else None)

    event.listen(db.engine, "after_cursor_execute", count_rows)
    try:
        after = plots(client, group, headers)
    finally:
        event.remove(db.engine, "after_cursor_execute", count_rows)
    columns = group_columns.kept.groups[group.uuid]
    assert len(fetched) == 1  # one read of what changed, for the five plots
    assert columns.changed == {ids[0], ids[3]}
    assert after[0]["experiments"][0]["id"] == ids[3] != before[0]["experiments"][0]["id"]
    assert after[1]["values"][0] == -1.0
    assert after == afresh(client, group, headers)


def test_columns_past_the_budget_are_not_kept_but_still_answer(client, running, monkeypatch):
    group, headers = running
    for experiment_id in ids_of(group)[:5]:
        post(client, f"/experiments/{experiment_id}/metrics/", headers, {"values": {"loss": 1.5}})
    monkeypatch.setattr(group_columns, "BUDGET", 10)
    edf = client.get(f"{API}/groups/{group.id}/plots/edf/", headers=headers).json
    assert (edf["total"], edf["values"]) == (5, [1.5] * 5)
    assert group.uuid not in group_columns.kept.groups
