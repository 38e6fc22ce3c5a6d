"""The experiment page's Restart / Resume / Copy buttons (htmx and plain forms), and what a clone's
page says of its original (EXTENSIONS.md section 2)."""

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.factories import alice_group, finish, grid_yml
from tests.support.web import HTMX, signed_in_as, soup, url


def _experiments(group):
    db.session.expire_all()
    return db.session.scalars(
        select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
    ).all()


def _page(group, experiment_id, suffix=""):
    return url(group, f"experiments/{experiment_id}/{suffix}")


def _finished_group():
    _, project, group = alice_group(grid_yml(2))
    finish(group)
    return project, group, _experiments(group)[0]


def test_members_get_the_three_buttons_resume_and_copy_asking_first(client):
    project, group, experiment = _finished_group()
    signed_in_as(client, "mia", project, "member")

    html = soup(client.get(_page(group, experiment.id)))

    for strategy in ("restart", "resume", "copy"):
        button = html.select_one(f"#experiment-{strategy}")
        assert button["hx-post"] == _page(group, experiment.id, strategy)
        assert button.find_parent("form")["action"] == _page(group, experiment.id, strategy)
    assert not html.select_one("#experiment-restart").has_attr("hx-confirm")
    assert "0 files" in html.select_one("#experiment-resume")["hx-confirm"]
    assert "copied" in html.select_one("#experiment-copy")["hx-confirm"]


def test_viewers_get_no_buttons(client):
    _, project, group = alice_group(grid_yml(1))
    experiment = _experiments(group)[0]
    signed_in_as(client, "victor", project, "viewer")

    html = soup(client.get(_page(group, experiment.id)))

    assert html.select_one("#experiment-clone-actions") is None


def test_a_live_experiment_can_be_restarted_or_copied_but_not_resumed(client):
    _, project, group = alice_group(grid_yml(1))
    experiment = _experiments(group)[0]
    signed_in_as(client, "mia", project, "member")

    html = soup(client.get(_page(group, experiment.id)))

    assert html.select_one("#experiment-restart") is not None
    assert html.select_one("#experiment-copy") is not None
    assert html.select_one("#experiment-resume") is None


@pytest.mark.parametrize(
    ("strategy", "says"),
    [("restart", "Restarted from"), ("resume", "Resumed from"), ("copy", "Copied from")],
)
def test_a_plain_form_post_goes_to_the_new_experiments_page_naming_its_original(
    client, strategy, says
):
    project, group, experiment = _finished_group()
    signed_in_as(client, "mia", project, "member")
    form = soup(client.get(_page(group, experiment.id))).select_one(f"#experiment-{strategy}")
    token = form.find_parent("form").select_one("input[name=csrf_token]")["value"]

    response = client.post(_page(group, experiment.id, strategy), data={"csrf_token": token})

    clone = _experiments(group)[-1]
    assert (clone.original_experiment_id, clone.cloning_strategy) == (experiment.id, strategy)
    assert response.status_code == 302
    assert response.headers["Location"] == _page(group, clone.id)
    origin = soup(client.get(_page(group, clone.id))).select_one("#experiment-origin")
    assert says in origin.text
    assert origin.select_one("a")["href"] == _page(group, experiment.id)


def test_htmx_gets_an_hx_redirect_to_the_new_experiment(client):
    project, group, experiment = _finished_group()
    signed_in_as(client, "mia", project, "member")
    html = soup(client.get(_page(group, experiment.id)))
    token = (
        html.select_one("#experiment-copy")
        .find_parent("form")
        .select_one("input[name=csrf_token]")["value"]
    )

    response = client.post(
        _page(group, experiment.id, "copy"), data={"csrf_token": token}, headers=HTMX
    )

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == _page(group, _experiments(group)[-1].id)
