"""The group page: header, controls per role, matrix, history, counts, experiments, polling."""

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import insert, select

from dashboard.extensions import db
from dashboard.models import (
    Experiment,
    ExperimentGroup,
    ExperimentValue,
    GroupStatus,
    TensorboardJob,
)
from dashboard.models.types import utcnow
from tests.factories import (
    EXAMPLES,
    alice_group,
    grid_yml,
    make_group,
    make_project,
    make_user,
    move_experiments,
    report_metric,
    start_group,
)
from tests.support.web import HTMX, csrf_of, sign_in, signed_in_as, soup, url

# ---- header, matrix, history, counts -----------------------------------------------------


def test_header_shows_unique_name_status_word_and_creator(client, group, as_alice):
    header = soup(client.get(url(group))).select_one("#group-header")
    assert header.select_one("#status-badge").text == "created"
    assert "status-created" in header.select_one("#status-badge")["class"]
    assert f"alice.demo.{group.id}" in header.text
    assert "alice" in header.select_one("dl").text


def test_page_answers_with_and_without_trailing_slash(client, group, as_alice):
    assert client.get(url(group)).status_code == 200
    assert client.get(url(group).rstrip("/")).status_code == 200


def test_matrix_lists_the_concrete_values_of_the_linspace(client, group, as_alice):
    matrix = soup(client.get(url(group))).select_one("#group-matrix")
    row = matrix.select_one("tr[data-param=learning_rate]")
    assert [li.text for li in row.select("li.value")] == [
        "0.001",
        "0.02575",
        "0.0505",
        "0.07525",
        "0.1",
    ]
    assert row.select_one(".spec").text == "start=0.001, stop=0.1, num=5"
    assert [li.text for li in matrix.select("tr[data-param=activation] li.value")] == [
        "relu",
        "sigmoid",
    ]
    assert matrix.select_one("#grid-size").text == "20 combinations"
    assert matrix.select_one("#matrix-algorithm").text == "random"


def test_matrix_describes_distributions_and_early_stopping(client):
    _, _, group = alice_group((EXAMPLES / "early_stopping.yml").read_text())
    sign_in(client, "alice")
    matrix = soup(client.get(url(group))).select_one("#group-matrix")
    describe = {
        row["data-param"]: row.select_one(".distribution").text
        for row in matrix.select("tr[data-param]")
    }
    assert describe["lr"] == "log-uniform: exp(U(-9.2, -2.3))"
    assert describe["noise"] == "normal: mean 0, standard deviation 0.1"
    assert describe["momentum"] == "uniform between 0.5 and 0.99, rounded to a multiple of 0.01"
    assert "unbounded" in matrix.select_one("#grid-size").text
    rules = [li.text for li in matrix.select("ul.compact li")]
    assert rules == ["stop when accuracy ≥ 0.97 (maximize)", "stop when loss ≤ 0.05 (minimize)"]


def test_history_rows_are_oldest_first_with_time_spent_in_each(client):
    _, _, group = alice_group()
    start_group(group)
    sign_in(client, "alice")
    client.post(url(group, "stop"), data={"csrf_token": csrf_of(client, group)})
    start = utcnow() - timedelta(hours=1)
    offsets = {"created": 0, "running": 120, "stopping": 150, "stopped": 155}
    for row in db.session.scalars(select(GroupStatus).where(GroupStatus.group_id == group.id)):
        row.created_at = start + timedelta(seconds=offsets[row.status])
    db.session.get(ExperimentGroup, group.id).finished_at = start + timedelta(seconds=155)
    db.session.commit()
    rows = soup(client.get(url(group))).select("#group-history tbody tr")
    assert [(r.select_one(".badge").text, r.select_one(".duration").text) for r in rows] == [
        ("created", "2m 00s"),
        ("running", "30s"),
        ("stopping", "5s"),
        ("stopped", "final"),
    ]


def test_history_last_status_counts_until_now_while_not_final(client):
    _, _, group = alice_group()
    sign_in(client, "alice")
    row = db.session.scalars(select(GroupStatus).where(GroupStatus.group_id == group.id)).one()
    row.created_at = before = utcnow() - timedelta(minutes=5)
    db.session.commit()
    cells = soup(client.get(url(group))).select("#group-history tbody tr .duration")
    # The page counts to its own "now": anything from 5m 00s to the time the request took.
    took = (utcnow() - timedelta(minutes=5) - before).total_seconds()
    shown = [f"5m {s:02d}s so far" for s in range(int(took) + 1)]
    assert len(cells) == 1 and cells[0].text in shown


def test_counts_show_numbers_and_one_segmented_bar(client):
    _, _, group = alice_group()
    move_experiments(group, 3, "running")
    move_experiments(group, 2, "succeeded")
    sign_in(client, "alice")
    counts = soup(client.get(url(group))).select_one("#group-counts")
    numbers = {div["data-status"]: div.dd.text for div in counts.select(".count")}
    assert numbers == {
        "created": "5",
        "scheduled": "0",
        "starting": "0",
        "running": "3",
        "succeeded": "2",
        "failed": "0",
        "stopped": "0",
    }
    bar = counts.select(".progress")
    assert len(bar) == 1
    assert [(s["class"][0], s["style"]) for s in bar[0].select("span")] == [
        ("seg-created", "width: 50.000%"),
        ("seg-running", "width: 30.000%"),
        ("seg-succeeded", "width: 20.000%"),
    ]


def test_polyaxonfile_and_user_text_are_escaped(client):
    content = "# <script>alert(1)</script>\n" + grid_yml(2)
    _, _, group = alice_group(content, description="<b>bold</b>", tags=["<i>x</i>"])
    sign_in(client, "alice")
    response = client.get(url(group))
    assert b"<script>alert(1)" not in response.data and b"<b>bold" not in response.data
    page = soup(response)
    assert page.select_one("#group-content pre").text == content
    assert page.select_one("#group-description .description-text").text == "<b>bold</b>"
    assert page.select_one("#group-description .tag").text == "<i>x</i>"


# ---- controls per role -------------------------------------------------------------------

CONTROLS = (
    "#bookmark-toggle",
    "#stop-button",
    "#stop-pending-button",
    "#archive-button",
    "#delete-button",
    "#description-form",
    "#tensorboard-start",
    "#concurrency-form",
)


def controls(client, group):
    page = soup(client.get(url(group)))
    return {selector for selector in CONTROLS if page.select_one(selector)}


def test_every_hx_post_points_at_its_route(client, group, as_alice):
    page = soup(client.get(url(group)))
    posts = {el.get("id"): el["hx-post"] for el in page.select("[hx-post]")}
    assert posts == {
        "bookmark-toggle": url(group, "bookmark"),
        "stop-button": url(group, "stop"),
        "stop-pending-button": url(group, "stop"),
        "archive-button": url(group, "archive"),
        "delete-button": url(group, "delete"),
        "description-form": url(group, "edit"),
        "tensorboard-start": url(group, "tensorboard/start"),
        "concurrency-form": url(group, "concurrency"),
        "extend-form": url(group, "extend"),
        "table-columns": url(group, "columns"),
        "objective-form": url(group, "objective"),
        "notes-form": url(group, "notes"),
        "compare-tensorboard": "/alice/demo/tensorboards",
    }
    # The compare form is a GET (its ids make the compare page's URL): without JavaScript its
    # TensorBoard button goes to a page that posts, so the CSRF token never enters a URL.
    selection = page.select_one("#compare-tensorboard")
    assert selection["formaction"] == "/alice/demo/tensorboards/new"
    for element in page.select("button[hx-post]:not(#compare-tensorboard)"):
        form = element.find_parent("form")
        assert form["method"] == "post" and form["action"] == element["hx-post"]
        assert form.select_one("input[name=csrf_token]")["value"]
    assert (
        page.select_one("#stop-pending-button")
        .find_parent("form")
        .select_one("input[name=pending]")["value"]
        == "1"
    )


def test_viewer_sees_bookmark_but_no_stop_archive_delete_or_edit(client, group, sign_in_as):
    sign_in_as("viewer")
    assert controls(client, group) == {"#bookmark-toggle"}


def test_public_visitor_is_a_viewer(client, group, sign_in_as):
    sign_in_as("outsider")
    assert controls(client, group) == {"#bookmark-toggle"}


def test_member_sees_stop_archive_and_edit_but_not_delete(client, group, sign_in_as):
    sign_in_as("member")
    assert controls(client, group) == set(CONTROLS) - {"#delete-button"}


def test_admin_and_owner_see_delete(client, group, sign_in_as):
    sign_in_as("admin")
    assert controls(client, group) == set(CONTROLS)
    client.post("/logout", data={"csrf_token": csrf_of(client, group)})
    sign_in(client, "alice")
    assert controls(client, group) == set(CONTROLS)


def test_finished_group_shows_no_stop(client, group, as_alice):
    client.post(url(group, "stop"), data={"csrf_token": csrf_of(client, group)})
    assert "#stop-button" not in controls(client, group)
    assert "#stop-pending-button" not in controls(client, group)


def test_finished_group_offers_no_concurrency_form_but_keeps_the_description_form(client):
    _, _, group = alice_group()
    sign_in(client, "alice")
    client.post(url(group, "stop"), data={"csrf_token": csrf_of(client, group)})
    assert "#concurrency-form" not in controls(client, group)
    assert "#description-form" in controls(client, group)


def test_a_running_tensorboard_is_open_to_viewers_and_stoppable_by_members(client):
    alice, project, group = alice_group()
    db.session.add(
        TensorboardJob(
            project_id=group.project_id,
            group_id=group.id,
            user_id=alice.id,
            status="running",
            started_at=utcnow(),
        )
    )
    db.session.commit()
    signed_in_as(client, "victor", project, "viewer")
    page = soup(client.get(url(group)))
    assert page.select_one("#tensorboard-open")
    assert not page.select("#tensorboard-stop, #tensorboard-start")
    client.post("/logout", data={"csrf_token": csrf_of(client, group)})
    signed_in_as(client, "mia", project, "member")
    page = soup(client.get(url(group)))
    assert page.select_one("#tensorboard-open") and page.select_one("#tensorboard-stop")
    assert page.select_one("#tensorboard-start") is None


def test_an_archived_group_offers_restore_instead_of_archive(client):
    _, _, group = alice_group()
    sign_in(client, "alice")
    client.post(url(group, "archive"), data={"csrf_token": csrf_of(client, group)})
    page = soup(client.get(url(group)))
    assert page.select_one("#restore-button") and page.select_one("#archive-button") is None


def test_private_group_is_not_found_for_outsiders(client):
    alice = make_user("alice")
    group = make_group(make_project(alice, "demo", public=False))
    signed_in_as(client, "eve")
    assert client.get(url(group)).status_code == 404


def test_stop_confirmations_say_exactly_what_will_change(client):
    _, _, group = alice_group()
    start_group(group)
    move_experiments(group, 3, "running")
    move_experiments(group, 2, "succeeded")
    sign_in(client, "alice")
    page = soup(client.get(url(group)))
    assert page.select_one("#stop-button")["hx-confirm"] == (
        "Stop this group? 3 running and 5 pending experiments will be stopped."
    )
    assert page.select_one("#stop-pending-button")["hx-confirm"] == (
        "Stop the pending experiments? 5 pending experiments will be stopped, "
        "3 running will finish."
    )


# ---- polling -----------------------------------------------------------------------------


def test_header_polls_every_3s_while_the_group_is_not_final(client, group, as_alice):
    header = soup(client.get(url(group))).select_one("#group-header")
    assert header["hx-trigger"] == "every 3s"
    assert header["hx-get"] == url(group, "live") + "?status=created"


def test_polling_answers_header_counts_and_history_with_200_while_running(client):
    _, _, group = alice_group()
    start_group(group)
    sign_in(client, "alice")
    response = client.get(url(group, "live") + "?status=running", headers=HTMX)
    assert response.status_code == 200
    page = soup(response)
    roots = [(el["id"], el.get("hx-swap-oob")) for el in page.find_all(recursive=False)]
    assert roots == [("group-header", None), ("group-counts", "true"), ("group-history", "true")]
    assert page.select_one("#status-badge").text == "running"


def test_polling_sends_the_action_bar_too_when_the_status_moved(client):
    _, _, group = alice_group()
    start_group(group)
    sign_in(client, "alice")
    page = soup(client.get(url(group, "live") + "?status=created", headers=HTMX))
    assert page.select_one("#group-actions")["hx-swap-oob"] == "true"


def test_polling_answers_286_once_the_group_is_final(client, group, as_alice):
    client.post(url(group, "stop"), data={"csrf_token": csrf_of(client, group)})
    response = client.get(url(group, "live") + "?status=created", headers=HTMX)
    assert response.status_code == 286
    header = soup(response).select_one("#group-header")
    assert header.select_one("#status-badge").text == "stopped"
    assert not header.has_attr("hx-trigger")


# ---- experiments table -------------------------------------------------------------------


def table(response):
    section = soup(response).select_one("#group-experiments")
    heads = [a["data-sort"] for a in section.select("thead th a")]
    rows = [[td.text.strip() for td in tr.select("td")] for tr in section.select("tbody tr")]
    return section, heads, rows


def test_experiments_table_has_a_column_per_param_and_metric(client):
    _, _, group = alice_group()
    first = move_experiments(group, 1, "running")[0]
    report_metric(first, "loss", 0.25)
    sign_in(client, "alice")
    _, heads, rows = table(client.get(url(group)))
    assert heads == [
        "id",
        "status",
        "params.learning_rate",
        "params.dropout",
        "params.activation",
        "params.batch_size",
        "params.num_epochs",
        "params.num_steps",
        "metric.loss",
        "started_at",
    ]
    assert rows[0][0] == str(first) and rows[0][1] == "running" and rows[0][8] == "0.25"
    assert rows[1][8] == "—"


def test_experiments_sort_by_a_param_descending(client):
    _, _, group = alice_group(grid_yml(30))
    sign_in(client, "alice")
    section, _, rows = table(client.get(url(group) + "?sort=-params.x"))
    assert [row[2] for row in rows] == [str(x) for x in range(29, 9, -1)]
    link = section.select_one("a[data-sort='params.x']")
    assert link["href"] == url(group) + "?sort=params.x"
    assert link["hx-get"] == url(group, "experiments") + "?sort=params.x"
    assert link.find_parent("th")["aria-sort"] == "descending"


def test_experiments_sort_by_a_metric_puts_missing_values_last(client):
    _, _, group = alice_group(grid_yml(4))
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment_id, loss in zip(ids[:3], (0.5, 0.1, 0.3), strict=True):
        report_metric(experiment_id, "loss", loss)
    sign_in(client, "alice")
    _, _, rows = table(client.get(url(group) + "?sort=metric.loss"))
    assert [row[0] for row in rows] == [str(ids[1]), str(ids[2]), str(ids[0]), str(ids[3])]


def test_experiments_paginate_twenty_per_page_through_the_fragment(client):
    _, _, group = alice_group(grid_yml(45))
    sign_in(client, "alice")
    page_one, _, rows = table(client.get(url(group)))
    assert len(rows) == 20
    next_link = page_one.select_one("a[rel=next]")
    assert next_link["href"] == url(group) + "?page=2"
    assert next_link["hx-get"] == url(group, "experiments") + "?page=2"
    response = client.get(url(group, "experiments") + "?page=3", headers=HTMX)
    section, _, rows = table(response)
    assert [row[2] for row in rows] == [str(x) for x in range(40, 45)]
    assert soup(response).find_all(recursive=False) == [section]
    assert "Page 3 of 3" in section.select_one(".pager").text


def test_experiments_fragment_without_htmx_goes_to_the_page(client, group, as_alice):
    response = client.get(url(group, "experiments") + "?page=2&sort=-id")
    assert response.status_code == 302
    assert response.headers["Location"] == url(group) + "?page=2&sort=-id"


def test_unknown_sort_field_is_a_400_that_names_it(client, group, as_alice):
    response = client.get(url(group) + "?sort=colour")
    assert response.status_code == 400
    assert "colour" in soup(response).text


# ---- query budget ------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?sort=-metric.loss&page=7"])
def test_page_of_a_2000_experiment_group_takes_at_most_10_queries(client, count_queries, query):
    _, _, group = alice_group(grid_yml(2000))
    ids = db.session.scalars(select(Experiment.id).where(Experiment.group_id == group.id)).all()
    db.session.execute(
        insert(ExperimentValue),
        [
            {
                "experiment_id": i,
                "group_id": group.id,
                "kind": "metric",
                "name": "loss",
                "num_value": i / 7,
                "text_value": str(i / 7),
            }
            for i in ids
        ],
    )
    db.session.commit()
    sign_in(client, "alice")
    # A fresh request: no user cached on the shared app context, nothing in the identity map.
    g.pop("_login_user", None)
    db.session.expunge_all()
    with count_queries() as statements:
        response = client.get(url(group) + query)
    assert response.status_code == 200
    assert len(soup(response).select("#group-experiments tbody tr")) == 20
    assert soup(response).select_one("#table-count").text.startswith("2,000 experiments ·")
    assert soup(response).select_one(".pager .page-of").text.endswith("of 100")
    assert len(statements) <= 10, statements
