"""Exporting the experiments table: API ?format=csv|json and the page's Download CSV link."""

import csv
import io
import json

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from dashboard.services.experiment import experiment_table
from tests.factories import alice_group, auth, grid_yml, make_token, move_experiments, report_metric
from tests.support.web import sign_in, soup, url


def ids_of(group):
    return db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def api(group, **args):
    return f"/api/v1/alice/demo/experiments/?group={group.id}", args


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def reference(app):
    """The reference group: 10 random experiments, six with a loss, three running."""
    alice, _, group = alice_group()
    ids = ids_of(group)
    move_experiments(group, 3, "running")
    for experiment_id, loss in zip(ids[:6], (0.9, 0.1, 0.45, 0.3, 0.2, 0.6), strict=True):
        report_metric(experiment_id, "loss", loss)
    return group, auth(make_token(alice))


def test_api_csv_has_the_fixed_columns_then_params_then_metrics(client, reference):
    group, headers = reference
    response = client.get(
        f"/api/v1/alice/demo/experiments/?group={group.id}&format=csv", headers=headers
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="group-{group.id}-experiments.csv"'
    )
    header, *rows = csv_rows(response)
    assert header == [
        "id",
        "status",
        "created_at",
        "started_at",
        "finished_at",
        "params.learning_rate",
        "params.dropout",
        "params.activation",
        "params.batch_size",
        "params.num_epochs",
        "params.num_steps",
        "metric.loss",
    ]
    assert len(rows) == 10
    first = db.session.get(Experiment, ids_of(group)[0])
    assert rows[0][:3] == [str(first.id), "running", first.created_at.isoformat()]
    assert rows[0][header.index("params.activation")] == first.params["activation"]
    assert rows[0][-1] == "0.9" and rows[-1][-1] == ""


def test_api_csv_has_every_matching_row_in_the_json_lists_order(client, reference):
    group, headers = reference
    args = {
        "group": group.id,
        "query": "metric.loss:<0.7,status:~created",
        "sort": "-metric.loss",
        "limit": 2,
        "offset": 1,
    }
    listed = client.get(
        "/api/v1/alice/demo/experiments/",
        query_string={**args, "limit": 100, "offset": 0},
        headers=headers,
    )
    exported = client.get(
        "/api/v1/alice/demo/experiments/", query_string={**args, "format": "csv"}, headers=headers
    )
    ids = [int(row[0]) for row in csv_rows(exported)[1:]]
    assert ids == [row["id"] for row in listed.json["results"]]
    assert len(ids) == 2  # experiments 2 and 3 are running with 0.1 and 0.45; 1 has 0.9


def test_api_json_export_is_an_array_of_flat_rows(client, reference):
    group, headers = reference
    response = client.get(
        f"/api/v1/alice/demo/groups/{group.id}/experiments/",
        query_string={"format": "json", "sort": "metric.loss", "query": "metric.loss:<=0.3"},
        headers=headers,
    )
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert [row["metric.loss"] for row in body] == [0.1, 0.2, 0.3]
    assert set(body[0]) >= {"id", "status", "created_at", "params.activation"}


def test_api_default_list_is_unchanged(client, reference):
    group, headers = reference
    response = client.get(f"/api/v1/alice/demo/experiments/?group={group.id}", headers=headers)
    assert response.mimetype == "application/json"
    assert set(response.json) == {"count", "next", "previous", "results"}


def test_api_export_of_a_bad_query_is_a_400_naming_it(client, reference):
    group, headers = reference
    response = client.get(
        f"/api/v1/alice/demo/experiments/?group={group.id}&format=csv&query=colour:red",
        headers=headers,
    )
    assert response.status_code == 400
    assert "colour" in response.json["detail"]


def test_api_export_of_an_unknown_format_is_a_400(client, reference):
    group, headers = reference
    response = client.get(
        f"/api/v1/alice/demo/experiments/?group={group.id}&format=xml", headers=headers
    )
    assert response.status_code == 400
    assert "xml" in response.json["detail"]


def test_page_download_link_carries_the_view(client, reference):
    group, _ = reference
    sign_in(client, "alice")
    page = soup(
        client.get(url(group), query_string={"sort": "-metric.loss", "query": "metric.loss:>0.15"})
    )
    href = page.select_one("#download-csv")["href"]
    assert href.startswith(url(group, "experiments.csv") + "?")
    assert "sort=-metric.loss" in href and "query=metric.loss" in href


def test_csv_of_a_filtered_sorted_view_has_exactly_the_rows_and_order_of_the_table(
    client, reference
):
    group, _ = reference
    sign_in(client, "alice")
    view = {
        "sort": "-metric.loss",
        "query": "metric.loss:>0.15,params.activation:relu|sigmoid",
        "columns": "status,metric.loss,params.activation",
    }
    page = client.get(url(group), query_string=view)
    table = [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in soup(page).select("#group-experiments tbody tr")
    ]
    exported = client.get(url(group, "experiments.csv"), query_string=view)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    header, *rows = csv_rows(exported)
    assert header == ["id", "status", "params.activation", "metric.loss"]
    assert [row[0] for row in rows] == [row[0] for row in table]
    assert [(row[1], row[2], row[3]) for row in rows] == [(row[1], row[2], row[3]) for row in table]
    assert len(rows) == 5


def test_page_csv_spans_every_page_of_the_view(client):
    _, _, group = alice_group(grid_yml(45))
    sign_in(client, "alice")
    exported = client.get(
        url(group, "experiments.csv"), query_string={"sort": "-params.x", "query": "params.x:>=3"}
    )
    assert [row[-1] for row in csv_rows(exported)[1:]] == [str(x) for x in range(44, 2, -1)]


def test_page_json_download_matches_the_csv(client, reference):
    group, _ = reference
    sign_in(client, "alice")
    view = {"sort": "metric.loss", "query": "metric.loss:<0.5"}
    body = json.loads(client.get(url(group, "experiments.json"), query_string=view).data)
    rows = csv_rows(client.get(url(group, "experiments.csv"), query_string=view))[1:]
    assert [str(row["id"]) for row in body] == [row[0] for row in rows]


def test_export_streams_in_chunks_without_loading_every_row(client, monkeypatch):
    _, _, group = alice_group(grid_yml(1200))
    monkeypatch.setattr(experiment_table, "EXPORT_CHUNK", 100)
    sign_in(client, "alice")
    response = client.get(
        url(group, "experiments.csv"), query_string={"sort": "-params.x"}, buffered=False
    )
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 12
    rows = list(
        csv.reader(io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks)))
    )[1:]
    assert [int(row[-1]) for row in rows] == list(range(1199, -1, -1))
