"""The project page: groups table, progress numbers, status filter, new group, stars."""

from bs4 import BeautifulSoup
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import Bookmark, Experiment, ExperimentGroup
from dashboard.services.group import groups
from dashboard.services.project.access import project_access
from tests.factories import add_member, grid_yml, make_group, make_project, make_user
from tests.support.web import form_csrf, sign_in

BAD_FILE = grid_yml(3).replace("x: {values: [0, 1, 2]}", "lr: {linspace: '0.1:abc:5'}")


def _page(response):
    return BeautifulSoup(response.data, "html.parser")


def _setup(client, role=None, public=True):
    """alice's project `demo`; signs in as alice, or as bob with the given role."""
    alice = make_user("alice")
    project = make_project(alice, "demo", public=public)
    if role is None:
        sign_in(client, "alice")
    else:
        bob = make_user("bob")
        if role != "outsider":
            add_member(project, bob, role)
        sign_in(client, "bob")
    return project


def _set_statuses(group, *statuses_in_order):
    """Give the group's experiments these statuses, in id order."""
    ids = db.session.scalars(
        select(Experiment.id).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()
    for experiment_id, status in zip(ids, statuses_in_order, strict=False):
        db.session.execute(
            update(Experiment).where(Experiment.id == experiment_id).values(status=status)
        )
    db.session.commit()


def _stop(project, group):
    access = project_access(project.owner.username, project.name, actor=project.owner)
    groups.stop_group(access, group.id)


def test_groups_table_lists_the_groups_newest_first_linking_to_their_pages(client):
    project = _setup(client)
    first = make_group(project, content=grid_yml(2), name="first")
    second = make_group(project, content=grid_yml(2))

    links = _page(client.get("/alice/demo/")).select("#groups-table a.group-link")

    assert [(a.text, a["href"]) for a in links] == [
        (f"alice.demo.{second.id}", f"/alice/demo/groups/{second.id}/"),
        ("first", f"/alice/demo/groups/{first.id}/"),
    ]


def test_project_page_answers_without_its_trailing_slash(client):
    _setup(client)

    assert client.get("/alice/demo").status_code == 200


def test_groups_table_shows_status_in_words_algorithm_and_created(client):
    project = _setup(client)
    group = make_group(project, content=grid_yml(2))

    row = _page(client.get("/alice/demo/")).select_one(f"#group-{group.id}")
    cells = row.select("td")

    assert row.select_one(".badge.status-created").text == "created"
    assert cells[3].text.strip() == "grid"
    assert row.select_one("time")["datetime"] == group.created_at.isoformat()


def test_progress_numbers_match_the_experiment_counts(client):
    project = _setup(client)
    group = make_group(project, content=grid_yml(6))
    _set_statuses(group, "succeeded", "succeeded", "failed", "running", "scheduled")

    row = _page(client.get("/alice/demo/")).select_one(f"#group-{group.id}")
    bar = {s["data-status"]: int(s["data-count"]) for s in row.select(".progress span")}
    words = [s.text for s in row.select(".progress-numbers span[data-status]")]

    assert bar == {"succeeded": 2, "failed": 1, "running": 2, "created": 1}
    assert words == ["2 succeeded", "1 failed", "2 running", "1 pending"]
    assert row.select_one(".progress-numbers .total").text == "6 experiments"


def test_progress_bar_widths_add_up_to_the_whole(client):
    project = _setup(client)
    group = make_group(project, content=grid_yml(3))
    _set_statuses(group, "succeeded")

    spans = _page(client.get("/alice/demo/")).select(f"#group-{group.id} .progress span")
    widths = [float(s["style"].split(":")[1].strip(" %;")) for s in spans]

    assert abs(sum(widths) - 100) < 0.1


def test_filter_by_status_lists_only_groups_of_that_status(client):
    project = _setup(client)
    stopped = make_group(project, content=grid_yml(2), name="stopped-one")
    make_group(project, content=grid_yml(2), name="fresh")
    _stop(project, stopped)

    page = _page(client.get("/alice/demo/?status=stopped"))

    assert [a.text for a in page.select("#groups-table a.group-link")] == ["stopped-one"]
    assert page.select_one(".status-filter a[aria-current]").text == "stopped"


def test_status_filter_links_use_the_status_parameter(client):
    _setup(client)

    links = {
        a.text: a["href"] for a in _page(client.get("/alice/demo/")).select(".status-filter a")
    }

    assert links["All"] == "/alice/demo/"
    assert links["running"] == "/alice/demo/?status=running"


def test_unknown_status_filter_is_a_400(client):
    _setup(client)

    assert client.get("/alice/demo/?status=bogus").status_code == 400


def test_viewer_sees_no_new_group_form_nor_settings_link(client):
    _setup(client, role="viewer")

    page = _page(client.get("/alice/demo/"))

    assert page.select_one("#groups") is not None
    assert page.select_one("#new-group") is None
    assert page.select_one("#settings-link") is None


def test_member_sees_the_new_group_form_but_no_settings_link(client):
    _setup(client, role="member")

    page = _page(client.get("/alice/demo/"))

    form = page.select_one("#new-group form")
    assert (form["method"], form["action"]) == ("post", "/alice/demo/groups")
    assert form.select_one("input[type=hidden][name=csrf_token]")["value"]
    assert page.select_one("#settings-link") is None


def test_admin_sees_the_settings_link(client):
    _setup(client)

    link = _page(client.get("/alice/demo/")).select_one("#settings-link")

    assert link["href"] == "/alice/demo/settings"


def test_private_project_is_a_404_for_outsiders(client):
    _setup(client, role="outsider", public=False)

    assert client.get("/alice/demo/").status_code == 404


def test_creating_a_group_redirects_to_its_page(client):
    _setup(client, role="member")

    response = client.post(
        "/alice/demo/groups",
        data={"csrf_token": form_csrf(client, "/alice/demo/"), "content": grid_yml(3)},
    )

    group = db.session.execute(select(ExperimentGroup)).scalar_one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/alice/demo/groups/{group.id}/"


def test_invalid_polyaxonfile_shows_the_path_named_error_inline_and_keeps_the_text(client):
    _setup(client)

    response = client.post(
        "/alice/demo/groups",
        data={"csrf_token": form_csrf(client, "/alice/demo/"), "content": BAD_FILE},
    )

    assert response.status_code == 400
    form = _page(response).select_one("#new-group form")
    errors = [li.text for li in form.select("#new-group-errors .field-error")]
    assert errors == ["hptuning.matrix.lr.linspace: stop must be a number, got 'abc'"]
    assert form.select_one("textarea[name=content]").text == BAD_FILE
    assert db.session.scalar(select(ExperimentGroup.id)) is None


def test_viewer_cannot_create_a_group(client):
    _setup(client, role="viewer")

    response = client.post(
        "/alice/demo/groups",
        data={"csrf_token": form_csrf(client, "/alice/demo/"), "content": grid_yml(3)},
    )

    assert response.status_code == 403
    assert db.session.scalar(select(ExperimentGroup.id)) is None


def test_creating_a_group_requires_the_csrf_token(client):
    _setup(client)

    response = client.post("/alice/demo/groups", data={"content": grid_yml(3)})

    assert response.status_code == 400
    assert db.session.scalar(select(ExperimentGroup.id)) is None


def test_star_bookmarks_the_group_and_returns_to_the_page(client):
    project = _setup(client, role="viewer")
    group = make_group(project, content=grid_yml(2))
    star = _page(client.get("/alice/demo/")).select_one(f"#star-{group.id}")

    response = client.post(
        star["action"],
        data={"csrf_token": star.select_one("[name=csrf_token]")["value"], "on": "1"},
    )

    assert response.status_code == 302 and response.headers["Location"] == "/alice/demo/"
    button = _page(client.get("/alice/demo/")).select_one(f"#star-{group.id} button")
    assert button["aria-pressed"] == "true"


def test_star_over_htmx_returns_the_star_fragment_and_unbookmarks(client):
    project = _setup(client)
    group = make_group(project, content=grid_yml(2))
    token = form_csrf(client, "/alice/demo/")
    url = f"/alice/demo/groups/{group.id}/star"
    client.post(url, data={"csrf_token": token, "on": "1"})

    response = client.post(
        url, data={"csrf_token": token, "on": "0"}, headers={"HX-Request": "true"}
    )

    fragment = _page(response)
    assert fragment.select_one("form")["id"] == f"star-{group.id}"
    assert fragment.select_one("button")["aria-pressed"] == "false"
    assert db.session.scalar(select(Bookmark.id)) is None


def test_star_requires_the_csrf_token(client):
    project = _setup(client)
    group = make_group(project, content=grid_yml(2))

    response = client.post(f"/alice/demo/groups/{group.id}/star", data={"on": "1"})

    assert response.status_code == 400
    assert db.session.scalar(select(Bookmark.id)) is None


def _page_statements(client, count_queries, url="/alice/demo/"):
    db.session.expunge_all()
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return statements


def test_project_page_query_count_is_the_same_for_3_and_30_groups(client, count_queries):
    few_groups = _setup(client)
    many_groups = make_project(few_groups.owner, "big")
    for _ in range(3):
        make_group(few_groups, content=grid_yml(3))
    for _ in range(30):
        make_group(many_groups, content=grid_yml(3))

    few = _page_statements(client, count_queries, "/alice/demo/")
    many = _page_statements(client, count_queries, "/alice/big/")

    assert len(many) == len(few)


def test_experiment_counts_of_the_whole_table_come_from_one_query(client, count_queries):
    project = _setup(client)
    for _ in range(5):
        make_group(project, content=grid_yml(3))

    statements = _page_statements(client, count_queries)

    # The counts come from the counters the database keeps, not from the experiments.
    assert not [s for s in statements if "FROM experiments" in s]
    on_counts = [s for s in statements if "FROM group_status_counts" in s]
    assert len(on_counts) == 1
    assert "group_status_counts.group_id IN" in on_counts[0]
