"""An asha group driven by the scheduler's rounds (advance_groups, the search worked out in
the round): every free slot is filled while something can be promoted or started, promotions
name what they continue and carry the next rung's resource, and the group ends when nothing
runs and nothing can start."""

from dashboard.extensions import db
from dashboard.models import ExperimentGroup
from tests.factories import auth, make_group, make_project, make_token, make_user
from tests.support import searches
from tests.support.searches import ASHA_YML, asha_loss, run_rounds
from tests.support.web import HTMX, sign_in, soup, url


def _group():
    project = make_project(make_user("alice"), "demo")
    return make_group(project, content=ASHA_YML)


def test_an_asha_group_keeps_every_slot_busy_promotes_up_its_rungs_and_ends(app):
    group = _group()
    timeline = run_rounds(group, asha_loss)
    experiments = searches.experiments(group)

    assert db.session.get(ExperimentGroup, group.id).status == "succeeded"
    # A slot is never idle until the last configurations run out: 3 busy in every round
    # but the final ones, where nothing more could be promoted or started.
    busy_until = next(i for i, n in enumerate(timeline) if n < 3)
    assert timeline[:busy_until] == [3] * busy_until
    assert busy_until >= len(timeline) - 4
    by_id = {e.id: e for e in experiments}
    rung_zero = [e for e in experiments if e.original_experiment_id is None]
    promotions = [e for e in experiments if e.original_experiment_id is not None]
    assert len(rung_zero) == 9
    assert {e.params["epochs"] for e in rung_zero} == {1}
    assert promotions, "nothing was promoted"
    for promotion in promotions:
        original = by_id[promotion.original_experiment_id]
        assert promotion.params["x"] == original.params["x"]
        assert promotion.params["epochs"] == {1: 3, 3: 9}[original.params["epochs"]]
        assert promotion.iteration == original.iteration + 1
        assert promotion.cloning_strategy is None
    assert any(e.params["epochs"] == 9 for e in promotions)
    assert db.session.get(ExperimentGroup, group.id).current_iteration == 3


def test_the_same_seed_and_results_make_the_same_experiments(app):
    runs = []
    for username in ("alice", "bob"):
        project = make_project(make_user(username), "demo")
        group = make_group(project, content=ASHA_YML)
        run_rounds(group, asha_loss)
        runs.append([(e.params["x"], e.params["epochs"]) for e in searches.experiments(group)])

    assert runs[0] == runs[1]


def test_the_asha_plot_counts_each_rung_and_names_its_promotions(client):
    group = _group()
    run_rounds(group, asha_loss)
    experiments = searches.experiments(group)
    key = make_token(group.user)

    body = client.get(f"/api/v1/alice/demo/groups/{group.id}/plots/asha/", headers=auth(key)).json

    rungs = body["rungs"]
    assert [r["resource"] for r in rungs] == [1, 3, 9]
    assert sum(r["configurations"] for r in rungs) == len(experiments)
    assert [r["configurations"] for r in rungs][0] == 9
    promoted = {e.original_experiment_id: e.id for e in experiments if e.original_experiment_id}
    named = {p["experiment"]: p["to"] for r in rungs for p in r["promotions"]}
    assert named == promoted
    assert rungs[-1]["promoted"] == 0
    assert all(r["running"] == 0 and r["finished"] == r["configurations"] for r in rungs)
    assert rungs[0]["best"] == min(e.last_metric["loss"] for e in experiments if e.iteration == 0)

    sign_in(client, "alice")
    page = soup(client.get(f"{url(group)}plots", headers=HTMX))
    figure = page.select_one("#plot-asha")
    assert figure.figcaption.text == "ASHA rungs"
    assert figure.svg is not None
    first = next(iter(promoted))
    assert figure.find("a", string=f"#{first}")["href"].endswith(f"/experiments/{first}/")
