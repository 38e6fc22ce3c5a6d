"""Metric reports of an experiment: one or a batch, validation, history, last_metric, value rows,
early stopping, and who may report."""

import json

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import ExperimentGroup, ExperimentMetric, ExperimentValue
from dashboard.services.experiment.credentials import issue_experiment_token
from dashboard.services.group import statuses
from tests.factories import add_member, auth, grid_yml, make_token, make_user, owner_with_group

METRIC_KEYS = {"id", "uuid", "experiment", "created_at", "values"}


def _url(experiment):
    return f"/api/v1/root/quick-start/experiments/{experiment.id}/metrics/"


def _run(experiment, *more):
    for status in ("scheduled", "starting", "running", *more):
        statuses.set_experiment_status(experiment, status)
    db.session.commit()


def _metric_values(experiment):
    return {
        row.name: row.num_value
        for row in db.session.scalars(
            select(ExperimentValue).where(
                ExperimentValue.experiment_id == experiment.id, ExperimentValue.kind == "metric"
            )
        )
    }


def _history(experiment):
    return db.session.scalars(
        select(ExperimentMetric.values)
        .where(ExperimentMetric.experiment_id == experiment.id)
        .order_by(ExperimentMetric.id)
    ).all()


def test_post_one_report_answers_201_with_the_row(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment), headers=root.headers, json={"values": {"loss": 0.5, "step": 1}}
    )

    assert response.status_code == 201
    assert set(response.json) == METRIC_KEYS
    assert response.json["experiment"] == experiment.id
    assert response.json["values"] == {"loss": 0.5, "step": 1}
    assert len(response.json["uuid"]) == 32


def test_post_one_report_folds_into_last_metric_and_value_rows(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    client.post(_url(experiment), headers=root.headers, json={"values": {"loss": 0.5, "step": 1}})

    db.session.refresh(experiment)
    assert experiment.last_metric == {"loss": 0.5, "step": 1}
    assert _metric_values(experiment) == {"loss": 0.5, "step": 1.0}


def test_post_a_batch_with_space_separated_times_answers_a_list(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    batch = [
        {"values": {"loss": 0.9}, "created_at": "2026-01-01 10:00:00.000001+00:00"},
        {"values": {"loss": 0.5, "acc": 0.7}, "created_at": "2026-01-01 10:00:01+00:00"},
    ]

    response = client.post(_url(experiment), headers=root.headers, json=batch)

    assert response.status_code == 201
    assert [row["values"] for row in response.json] == [{"loss": 0.9}, {"loss": 0.5, "acc": 0.7}]
    assert response.json[0]["created_at"] == "2026-01-01T10:00:00.000001+00:00"
    assert {key for row in response.json for key in row} == METRIC_KEYS


def test_batch_keeps_the_latest_value_of_each_name(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    batch = [
        {"values": {"loss": 0.5, "acc": 0.7}, "created_at": "2026-01-01T10:00:02+00:00"},
        {"values": {"loss": 0.9, "lr": 0.1}, "created_at": "2026-01-01T10:00:01+00:00"},
    ]

    client.post(_url(experiment), headers=root.headers, json=batch)

    db.session.refresh(experiment)
    assert experiment.last_metric == {"loss": 0.5, "lr": 0.1, "acc": 0.7}


def test_naive_times_are_utc(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment),
        headers=root.headers,
        json={"values": {"loss": 1}, "created_at": "2026-01-01T10:00:00"},
    )

    assert response.json["created_at"] == "2026-01-01T10:00:00.000000+00:00"


def test_a_late_older_report_does_not_replace_a_newer_value(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    client.post(
        _url(experiment),
        headers=root.headers,
        json={"values": {"loss": 0.1}, "created_at": "2026-01-01T10:00:05+00:00"},
    )

    client.post(
        _url(experiment),
        headers=root.headers,
        json={"values": {"loss": 0.9, "acc": 0.3}, "created_at": "2026-01-01T10:00:01+00:00"},
    )

    db.session.refresh(experiment)
    assert experiment.last_metric == {"loss": 0.1, "acc": 0.3}
    assert _metric_values(experiment) == {"loss": 0.1, "acc": 0.3}


def test_reports_are_kept_as_history(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    for step in range(3):
        client.post(_url(experiment), headers=root.headers, json={"values": {"step": step}})

    assert _history(experiment) == [{"step": 0}, {"step": 1}, {"step": 2}]


def test_get_lists_reports_oldest_first_paginated(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    for step in range(3):
        client.post(_url(experiment), headers=root.headers, json={"values": {"step": step}})

    response = client.get(_url(experiment) + "?limit=2", headers=root.headers)

    assert response.status_code == 200
    assert response.json["count"] == 3
    assert [row["values"] for row in response.json["results"]] == [{"step": 0}, {"step": 1}]
    assert response.json["next"].endswith("limit=2&offset=2")
    assert set(response.json["results"][0]) == METRIC_KEYS


def test_experiments_sort_by_a_reported_metric(client):
    root = owner_with_group(grid_yml(3))
    for experiment, loss in zip(root.experiments, (0.3, 0.1, 0.2), strict=True):
        client.post(_url(experiment), headers=root.headers, json={"values": {"loss": loss}})

    response = client.get(
        f"/api/v1/root/quick-start/experiments/?group={root.group.id}&sort=metric.loss",
        headers=root.headers,
    )

    assert [row["last_metric"]["loss"] for row in response.json["results"]] == [0.1, 0.2, 0.3]


# ---- validation -------------------------------------------------------------------------


def test_a_non_number_value_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment), headers=root.headers, json={"values": {"loss": "low"}})

    assert response.status_code == 400
    assert response.json == {"values": ["loss: 'low' is not a number."]}


def test_a_boolean_value_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment), headers=root.headers, json={"values": {"ok": True}})

    assert response.json == {"values": ["ok: True is not a number."]}


def test_nan_and_infinity_are_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment),
        headers=root.headers,
        content_type="application/json",
        data='{"values": {"loss": NaN, "acc": Infinity}}',
    )

    assert response.status_code == 400
    assert response.json == {
        "values": ["loss: nan is not a finite number. acc: inf is not a finite number."]
    }


def test_an_integer_past_a_float_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment),
        headers=root.headers,
        content_type="application/json",
        data='{"values": {"loss": 1%s}}' % ("0" * 400),
    )

    assert response.status_code == 400
    assert response.json == {"values": [f"loss: {'1' + '0' * 56}... is not a finite number."]}
    assert _history(experiment) == []


def test_an_empty_batch_is_400_after_earlier_reports(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    client.post(_url(experiment), headers=root.headers, json={"values": {"loss": 0.5}})

    response = client.post(_url(experiment), headers=root.headers, json=[])

    assert response.status_code == 400
    assert response.json == {
        "non_field_errors": ["List should have at least 1 item after validation, not 0"]
    }
    assert _history(experiment) == [{"loss": 0.5}]


def test_more_than_100_names_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment), headers=root.headers, json={"values": {f"m{i}": i for i in range(101)}}
    )

    assert response.json == {"values": ["At most 100 metrics per report, not 101."]}


def test_a_bad_metric_name_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment), headers=root.headers, json={"values": {"loss,acc": 1}})

    assert response.status_code == 400
    assert list(response.json) == ["values"]
    assert "'loss,acc' is not a valid metric name" in response.json["values"][0]


def test_slashes_and_dots_are_fine_in_metric_names(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment),
        headers=root.headers,
        json={"values": {"train/loss": 1, "val.acc": 2, "top-5": 3}},
    )

    assert response.status_code == 201


def test_missing_values_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment), headers=root.headers, json={"created_at": None})

    assert response.json == {"values": ["This field is required."]}


def test_empty_values_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment), headers=root.headers, json={"values": {}})

    assert response.json == {"values": ["Report at least one metric."]}


def test_a_bad_time_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment),
        headers=root.headers,
        json={"values": {"loss": 1}, "created_at": 1700000000},
    )

    assert response.status_code == 400
    assert list(response.json) == ["created_at"]


def test_an_error_in_a_batch_names_the_item_and_stores_nothing(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(
        _url(experiment),
        headers=root.headers,
        json=[{"values": {"loss": 1}}, {"values": {"loss": "x"}}],
    )

    assert response.status_code == 400
    assert response.json == {"1.values": ["loss: 'x' is not a number."]}
    assert _history(experiment) == []


def test_a_body_that_is_neither_object_nor_list_is_400(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]

    response = client.post(_url(experiment), headers=root.headers, json="loss")

    assert response.status_code == 400
    assert response.json == {"detail": "The body must be a JSON object or array, not str."}


# ---- early stopping and who may report ---------------------------------------------------


def test_a_report_reaching_an_early_stopping_rule_stops_the_group(client):
    content = grid_yml(3).replace(
        "  matrix:",
        "  early_stopping: [{metric: acc, value: 0.9, optimization: maximize}]\n  matrix:",
    )
    root = owner_with_group(content)
    first = root.experiments[0]
    rest = root.experiments[1:]
    _run(first)

    response = client.post(_url(first), headers=root.headers, json={"values": {"acc": 0.95}})

    assert response.status_code == 201
    db.session.expire_all()
    assert root.group.status == "stopping"
    assert first.stop_requested_at is not None
    assert [e.status for e in rest] == ["stopped", "stopped"]


def test_a_report_below_the_rule_leaves_the_group_running(client):
    content = grid_yml(3).replace(
        "  matrix:",
        "  early_stopping: [{metric: acc, value: 0.9, optimization: maximize}]\n  matrix:",
    )
    root = owner_with_group(content)
    first = root.experiments[0]
    _run(first)

    client.post(_url(first), headers=root.headers, json={"values": {"acc": 0.5}})

    assert db.session.get(ExperimentGroup, root.group.id).status == "created"


def test_the_experiment_reports_with_its_own_key(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _run(experiment)
    key = issue_experiment_token(experiment)
    db.session.commit()

    response = client.post(_url(experiment), headers=auth(key), json={"values": {"loss": 1}})

    assert response.status_code == 201


def test_the_experiment_key_cannot_report_for_another_experiment(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    other = root.experiments[1]
    _run(experiment)
    key = issue_experiment_token(experiment)
    db.session.commit()

    response = client.post(_url(other), headers=auth(key), json={"values": {"loss": 1}})

    assert response.status_code == 404
    assert _history(other) == []


def test_the_key_of_a_finished_experiment_cannot_report(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _run(experiment)
    key = issue_experiment_token(experiment)
    statuses.set_experiment_status(experiment, "succeeded")
    db.session.commit()

    response = client.post(_url(experiment), headers=auth(key), json={"values": {"loss": 1}})

    assert response.status_code == 401
    assert response.json == {"detail": "Invalid token."}


def test_a_member_may_report_for_a_finished_experiment(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    _run(experiment, "succeeded")

    response = client.post(_url(experiment), headers=root.headers, json={"values": {"test_acc": 1}})

    assert response.status_code == 201
    db.session.refresh(experiment)
    assert experiment.last_metric == {"test_acc": 1}


def test_a_viewer_cannot_report(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    viewer = make_user("viewer")
    add_member(root.project, viewer, "viewer")

    response = client.post(
        _url(experiment), headers=auth(make_token(viewer)), json={"values": {"loss": 1}}
    )

    assert response.status_code == 403
    assert _history(experiment) == []


def test_a_viewer_reads_the_reports(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    client.post(_url(experiment), headers=root.headers, json={"values": {"loss": 1}})
    viewer = make_user("viewer")
    add_member(root.project, viewer, "viewer")

    response = client.get(_url(experiment), headers=auth(make_token(viewer)))

    assert response.status_code == 200
    assert json.loads(response.data)["count"] == 1


# ---- what a report costs -----------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 500])
def test_a_report_or_a_batch_is_one_insert_and_one_summary_update(client, count_queries, size):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    client.post(_url(experiment), headers=root.headers, json={"values": {"loss": 1.0}})  # warm-up
    body = [{"values": {"loss": n / size, "acc": 0.5}} for n in range(size)]
    db.session.expunge_all()

    with count_queries() as statements:
        response = client.post(_url(experiment), headers=root.headers, json=body)

    assert response.status_code == 201 and len(response.json) == size
    assert sum("INSERT INTO experiment_metrics" in s for s in statements) == 1
    assert sum("UPDATE experiments SET last_metric" in s for s in statements) == 1
    # The token with the project, the experiment, its lock, then on PostgreSQL one statement
    # writing it all (elsewhere: the latest report time, the insert, the update, the upsert).
    assert len(statements) <= 7, statements
    assert _history(experiment)[-1] == {"loss": (size - 1) / size, "acc": 0.5}
    assert _metric_values(experiment) == {"loss": (size - 1) / size, "acc": 0.5}


def test_a_batch_answers_its_rows_in_the_order_sent(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    body = [{"values": {"step": n}} for n in range(300)]

    rows = client.post(_url(experiment), headers=root.headers, json=body).json

    assert [row["values"]["step"] for row in rows] == list(range(300))
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    stored = dict(
        db.session.execute(
            select(ExperimentMetric.id, ExperimentMetric.values).where(
                ExperimentMetric.experiment_id == experiment.id
            )
        ).all()
    )
    assert all(stored[row["id"]] == row["values"] for row in rows)


def test_an_escaped_nul_in_a_batch_is_400_naming_it(client):
    root = owner_with_group(grid_yml(3))
    experiment = root.experiments[0]
    body = json.dumps([{"values": {"loss": 1}}, {"values": {"a\u0000b": 1}}])

    response = client.post(
        _url(experiment), headers={**root.headers, "Content-Type": "application/json"}, data=body
    )

    assert response.status_code == 400
    assert "NUL" in json.dumps(response.json)
