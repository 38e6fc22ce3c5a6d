"""The experiment page: params, statuses, metric chart, log polling, outputs, neighbours, Stop."""

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentMetric
from dashboard.storage import paths
from tests.factories import alice_group, auth, grid_yml, make_group, make_token
from tests.support.web import HTMX, sign_in, signed_in_as, soup, url


def experiments_of(group):
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def page_url(group, experiment, suffix=""):
    return url(group, f"experiments/{experiment.id}/{suffix}")


def folder(app, group, experiment):
    return paths.experiment_dir(app.config, "alice", "demo", group.id, experiment.id)


def test_page_shows_params_statuses_and_one_chart_per_metric(client):
    _, _, group = alice_group(grid_yml(3))
    experiment = experiments_of(group)[1]
    db.session.add_all(
        [
            ExperimentMetric(
                experiment_id=experiment.id, values={"loss": 1 / step, "accuracy": step / 10}
            )
            for step in range(1, 6)
        ]
    )
    experiment.last_metric = {"loss": 0.3030905547183878, "accuracy": 0.5}
    db.session.commit()
    sign_in(client, "alice")

    html = soup(client.get(page_url(group, experiment)))

    assert html.select_one("#experiment-params td").text == "1"
    assert html.select_one("#experiment-status-badge").text == "created"
    # One chart per metric, each with its own axis (a 0-9 epoch would flatten a 0-1 loss).
    charts = html.select("#experiment-metrics figure")
    assert [figure["data-metric"] for figure in charts] == ["loss", "accuracy"]
    for figure in charts:
        lines = figure.select("svg polyline.series")
        assert [line["data-series"] for line in lines] == [figure["data-metric"]]
        assert "report number" in figure.select_one("svg").text
    # Last metrics printed as the tables print numbers, in full on hover.
    loss = html.find("th", string="loss").find_next_sibling("td")
    assert (loss.text, loss["title"]) == ("0.303091", "0.3030905547")


def test_page_answers_both_slash_forms_and_404s_for_another_group(client):
    alice, project, group = alice_group(grid_yml(2))
    other = make_group(project, content=grid_yml(1))
    experiment = experiments_of(group)[0]
    sign_in(client, "alice")

    assert client.get(page_url(group, experiment)).status_code == 200
    assert client.get(page_url(group, experiment).rstrip("/")).status_code == 200
    assert client.get(page_url(other, experiment)).status_code == 404


def test_links_to_previous_and_next_experiment(client):
    _, _, group = alice_group(grid_yml(3))
    first, middle, last = experiments_of(group)
    sign_in(client, "alice")

    html = soup(client.get(page_url(group, middle)))

    assert html.select_one("#previous-experiment")["href"] == page_url(group, first)
    assert html.select_one("#next-experiment")["href"] == page_url(group, last)
    assert soup(client.get(page_url(group, first))).select_one("#previous-experiment") is None


def test_log_polls_while_running_and_stops_with_286_when_final(app, client):
    _, _, group = alice_group(grid_yml(1))
    experiment = experiments_of(group)[0]
    log = folder(app, group, experiment) / "logs" / "output.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("epoch 1\nepoch 2 <done>\n")
    experiment.status = "running"
    db.session.commit()
    sign_in(client, "alice")

    html = soup(client.get(page_url(group, experiment)))
    assert html.select_one("#experiment-log")["hx-get"] == page_url(group, experiment, "log")
    assert "epoch 2 <done>" in html.select_one("#experiment-log pre").text

    assert client.get(page_url(group, experiment, "log"), headers=HTMX).status_code == 200
    experiment.status = "succeeded"
    db.session.commit()
    response = client.get(page_url(group, experiment, "log"), headers=HTMX)
    assert response.status_code == 286
    assert not soup(response).select_one("#experiment-log").has_attr("hx-get")


def test_outputs_are_listed_with_sizes_on_the_page_and_in_the_api(app, client):
    alice, _, group = alice_group(grid_yml(1))
    experiment = experiments_of(group)[0]
    outputs = folder(app, group, experiment) / "outputs"
    (outputs / "ckpt").mkdir(parents=True)
    (outputs / "model.bin").write_bytes(b"x" * 1234)
    (outputs / "ckpt" / "step-1").write_bytes(b"yy")
    sign_in(client, "alice")

    rows = soup(client.get(page_url(group, experiment))).select("#experiment-outputs tbody tr")
    api = client.get(
        f"/api/v1/alice/demo/experiments/{experiment.id}/outputs/", headers=auth(make_token(alice))
    )

    assert [row.td.text for row in rows] == ["ckpt/step-1", "model.bin"]
    assert "1,234 B" in rows[1].text
    assert api.json == [{"path": "ckpt/step-1", "size": 2}, {"path": "model.bin", "size": 1234}]


def test_viewers_get_no_stop_button(client):
    _, project, group = alice_group(grid_yml(1))
    experiment = experiments_of(group)[0]
    signed_in_as(client, "victor", project, "viewer")

    assert soup(client.get(page_url(group, experiment))).select_one("#experiment-stop") is None


def test_stop_button_is_for_members_and_stops_a_pending_experiment(client):
    _, project, group = alice_group(grid_yml(1))
    experiment = experiments_of(group)[0]
    signed_in_as(client, "mia", project, "member")
    form = soup(client.get(page_url(group, experiment))).select_one("#experiment-stop-form")
    assert form["hx-post"] == page_url(group, experiment, "stop")
    token = form.select_one("input[name=csrf_token]")["value"]
    response = client.post(
        page_url(group, experiment, "stop"), data={"csrf_token": token}, headers=HTMX
    )

    assert response.status_code == 200
    assert soup(response).select_one("#experiment-status-badge").text == "stopped"
    db.session.expire_all()
    assert db.session.get(Experiment, experiment.id).status == "stopped"


def test_viewer_cannot_stop(client):
    _, project, group = alice_group(grid_yml(1))
    experiment = experiments_of(group)[0]
    signed_in_as(client, "victor", project, "viewer")
    token = soup(client.get(page_url(group, experiment))).select_one("input[name=csrf_token]")[
        "value"
    ]

    response = client.post(page_url(group, experiment, "stop"), data={"csrf_token": token})

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Experiment, experiment.id).status == "created"
