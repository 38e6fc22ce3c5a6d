"""The home page: visible projects, the new-project form, bookmarked and recent groups."""

from bs4 import BeautifulSoup
from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models import ExperimentGroup, Project, User
from dashboard.models.types import utcnow
from dashboard.services.group import bookmarks
from dashboard.services.project.access import project_access
from tests.factories import grid_yml, make_group, make_project, make_user
from tests.support.web import form_csrf, sign_in


def _page(response):
    return BeautifulSoup(response.data, "html.parser")


def _bookmark(user, project, group):
    access = project_access(project.owner.username, project.name, actor=user)
    bookmarks.bookmark_group(access, group.id)


def test_home_lists_only_the_projects_the_user_can_see(client):
    alice, bob = make_user("alice"), make_user("bob")
    make_project(alice, "mine", public=False)
    make_project(bob, "open")
    make_project(bob, "secret", public=False)
    sign_in(client, "alice")

    links = [a.text for a in _page(client.get("/")).select("#projects a")]

    assert sorted(links) == ["alice/mine", "bob/open"]


def test_home_links_each_project_to_its_page(client):
    alice = make_user("alice")
    make_project(alice, "demo")
    sign_in(client, "alice")

    assert _page(client.get("/")).select_one("#projects a")["href"] == "/alice/demo/"


def test_new_project_form_creates_a_private_project_and_opens_it(client):
    make_user("alice")
    sign_in(client, "alice")

    response = client.post(
        "/projects",
        data={
            "csrf_token": form_csrf(client, "/"),
            "name": "fresh",
            "description": "d",
            "visibility": "private",
        },
    )

    assert response.status_code == 302 and response.headers["Location"] == "/alice/fresh/"
    project = db.session.execute(select(Project).where(Project.name == "fresh")).scalar_one()
    assert (project.is_public, project.description) == (False, "d")


def test_new_project_with_a_bad_name_shows_the_error_inline_and_keeps_the_input(client):
    make_user("alice")
    sign_in(client, "alice")

    response = client.post(
        "/projects",
        data={
            "csrf_token": form_csrf(client, "/"),
            "name": "not a slug!",
            "description": "keep me",
        },
    )

    assert response.status_code == 400
    form = _page(response).select_one("#new-project form")
    assert "valid name" in form.select_one(".field-error").text
    assert form.select_one("input[name=description]")["value"] == "keep me"
    assert db.session.scalar(select(Project.id)) is None


def test_new_project_form_requires_the_csrf_token(client):
    make_user("alice")
    sign_in(client, "alice")

    response = client.post("/projects", data={"name": "fresh"})

    assert response.status_code == 400
    assert db.session.scalar(select(Project.id)) is None


def test_new_project_form_posts_with_the_csrf_token_to_the_create_route(client):
    make_user("alice")
    sign_in(client, "alice")

    form = _page(client.get("/")).select_one("#new-project form")

    assert (form["method"], form["action"]) == ("post", "/projects")
    assert form.select_one("input[type=hidden][name=csrf_token]")["value"]


def test_home_lists_bookmarked_groups_with_their_status(client):
    alice = make_user("alice")
    project = make_project(alice, "demo")
    marked = make_group(project, content=grid_yml(2), name="marked")
    make_group(project, content=grid_yml(2), name="other")
    _bookmark(alice, project, marked)
    sign_in(client, "alice")

    items = _page(client.get("/")).select("#bookmarked-groups li")

    assert [li.a.text for li in items] == ["marked"]
    assert items[0].a["href"] == f"/alice/demo/groups/{marked.id}/"
    assert items[0].select_one(".badge").text == "created"


def test_home_lists_recently_active_groups_newest_update_first_across_visible_projects(client):
    alice, bob = make_user("alice"), make_user("bob")
    mine = make_project(alice, "mine")
    open_ = make_project(bob, "open")
    hidden = make_project(bob, "hidden", public=False)
    old = make_group(mine, content=grid_yml(1), name="old")
    make_group(open_, actor=bob, content=grid_yml(1), name="theirs")
    make_group(hidden, actor=bob, content=grid_yml(1), name="invisible")
    db.session.execute(
        update(ExperimentGroup).where(ExperimentGroup.id == old.id).values(updated_at=utcnow())
    )
    db.session.commit()
    sign_in(client, "alice")

    rows = _page(client.get("/")).select("#recent-groups tbody tr")

    assert [row.a.text for row in rows] == ["old", "theirs"]
    assert [row.select_one(".badge").text for row in rows] == ["created", "created"]


def test_unnamed_group_is_shown_by_its_unique_name(client):
    alice = make_user("alice")
    project = make_project(alice, "demo")
    group = make_group(project, content=grid_yml(1))
    sign_in(client, "alice")

    link = _page(client.get("/")).select_one("#recent-groups tbody a")

    assert link.text == f"alice.demo.{group.id}"


def _home_statements(client, count_queries):
    db.session.expunge_all()
    with count_queries() as statements:
        assert client.get("/").status_code == 200
    return len(statements)


def test_home_query_count_does_not_grow_with_projects_groups_or_bookmarks(client, count_queries):
    alice = make_user("alice")
    sign_in(client, "alice")

    def add(n, offset):
        owner = db.session.get(User, alice.id)  # the page's requests share this session
        for i in range(n):
            project = make_project(owner, f"p{offset + i}")
            group = make_group(project, content=grid_yml(2))
            _bookmark(owner, project, group)

    add(2, 0)
    few = _home_statements(client, count_queries)
    add(12, 100)
    many = _home_statements(client, count_queries)

    assert few == many
