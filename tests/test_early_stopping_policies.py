"""Early-stopping policies applied as reports arrive through the API (EXTENSIONS.md section 1):
a hopeless experiment is asked to stop with the policy's message, which its final status row,
the group's timeline and the experiment page show; the group goes on."""

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Experiment, ExperimentGroup, ExperimentStatus, MetricStanding
from dashboard.services.experiment.credentials import issue_experiment_token
from dashboard.services.group import statuses
from dashboard.services.run import runs
from dashboard.ui.pages.matrix import matrix_view
from tests.factories import auth, grid_yml, make_group, owner_with_group
from tests.support.runs import experiments_of, group_status, polyaxonfile, wait_for
from tests.support.web import sign_in, soup

MEDIAN = "{kind: median, evaluation_interval: 1}"
# Four experiments that learn alike (ties never stop one another), and one that does not.
GOOD = [[1.0, 0.75, 0.5, 0.25]] * 4
HOPELESS = [0.95, 0.9, 0.9, 0.9]
# At report 2 the good ones' running averages are all 0.875.
MEDIAN_MESSAGE = (
    "Median stopping rule at report 2: loss 0.9 is worse than the median 0.875 of 4 experiments."
)


def with_policy(n, policy=MEDIAN, entry="metric: loss, optimization: minimize"):
    return grid_yml(n).replace(
        "  matrix:", f"  early_stopping: [{{{entry}, policy: {policy}}}]\n  matrix:"
    )


def running(content):
    """A group of `content` whose experiments all run, each with its own key."""
    root = owner_with_group(content)
    keys = {}
    for experiment in root.experiments:
        for status in ("scheduled", "starting", "running"):
            statuses.set_experiment_status(experiment, status)
        keys[experiment.id] = issue_experiment_token(experiment)
    db.session.commit()
    return root, keys


def post(client, experiment, key, values):
    response = client.post(
        f"/api/v1/root/quick-start/experiments/{experiment.id}/metrics/",
        headers=auth(key),
        json=values,
    )
    assert response.status_code == 201, response.json
    return response


def report(client, root, keys, experiment, *losses):
    for loss in losses:
        post(client, experiment, keys[experiment.id], {"values": {"loss": loss, "step": 1}})


def good_ones_report(client, root, keys, reports=4, series=GOOD):
    for experiment, losses in zip(root.experiments, series, strict=False):
        report(client, root, keys, experiment, *losses[:reports])


def fresh(experiment):
    db.session.expire_all()
    return db.session.get(Experiment, experiment.id)


def status_rows(experiment):
    return db.session.execute(
        select(ExperimentStatus.status, ExperimentStatus.message)
        .where(ExperimentStatus.experiment_id == experiment.id)
        .order_by(ExperimentStatus.id)
    ).all()


def test_a_clearly_worse_experiment_is_asked_to_stop_with_the_median_message(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]

    report(client, root, keys, bad, HOPELESS[0])
    assert fresh(bad).stop_requested_at is None  # 0.95 beats the median (1.0) at report 1
    report(client, root, keys, bad, HOPELESS[1])

    bad = fresh(bad)
    assert bad.stop_requested_at is not None and bad.status == "running"
    assert bad.stop_message == MEDIAN_MESSAGE
    assert [fresh(e).stop_requested_at for e in root.experiments[:4]] == [None] * 4
    assert db.session.get(ExperimentGroup, root.group.id).status == "created"  # goes on


def test_the_worker_ends_it_stopped_with_the_policy_message(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]
    report(client, root, keys, bad, *HOPELESS[:2])

    runs.mark(bad.id, "stopped", "Stopped on request.")  # as the local worker does

    assert status_rows(fresh(bad))[-1] == ("stopped", MEDIAN_MESSAGE)
    timeline = client.get(
        f"/api/v1/root/quick-start/groups/{root.group.id}/timeline/?limit=100", headers=root.headers
    ).json["results"]
    assert {"experiment": bad.id, "status": "stopped", "message": MEDIAN_MESSAGE} in [
        {key: item[key] for key in ("experiment", "status", "message")} for item in timeline
    ]


def test_a_celery_worker_reporting_the_stop_ends_it_with_the_policy_message(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]
    report(client, root, keys, bad, *HOPELESS[:2])

    response = client.post(
        f"/api/v1/root/quick-start/experiments/{bad.id}/statuses/",
        headers=auth(keys[bad.id]),
        json={"status": "stopped", "message": "Stopped on request."},
    )

    assert response.status_code == 201
    assert response.json["message"] == MEDIAN_MESSAGE
    assert fresh(bad).status == "stopped"


def test_the_experiment_page_shows_the_request_then_the_final_row(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]
    report(client, root, keys, bad, *HOPELESS[:2])
    page = f"/root/quick-start/groups/{root.group.id}/experiments/{bad.id}/"
    sign_in(client, "root")
    assert MEDIAN_MESSAGE in soup(client.get(page)).select_one("#stop-requested").text

    runs.mark(bad.id, "stopped", "Stopped on request.")

    cells = [
        [td.text.strip() for td in tr.select("td")]
        for tr in soup(client.get(page)).select("#experiment-status tbody tr")
    ]
    assert cells[-1][0] == "stopped" and cells[-1][2] == MEDIAN_MESSAGE


def test_a_user_stop_still_ends_with_the_worker_message(client):
    root, keys = running(with_policy(5))
    first = root.experiments[0]
    client.post(f"/api/v1/root/quick-start/experiments/{first.id}/stop", headers=root.headers)
    runs.mark(first.id, "stopped", "Stopped on request.")
    assert status_rows(fresh(first))[-1] == ("stopped", "Stopped on request.")


def test_no_policy_acts_before_three_others_have_n_reports(client):
    root, keys = running(with_policy(4))
    report(client, root, keys, root.experiments[0], *[1.0] * 5)
    report(client, root, keys, root.experiments[1], *[1.0] * 5)
    third, bad = root.experiments[2], root.experiments[3]

    report(client, root, keys, bad, 50, 50, 50)
    assert fresh(bad).stop_requested_at is None  # two others only

    report(client, root, keys, third, 1.0)
    report(client, root, keys, bad, 50)
    assert fresh(bad).stop_requested_at is None  # at report 4 the third has 1 report

    report(client, root, keys, third, *[1.0] * 4)
    report(client, root, keys, bad, 50)
    assert fresh(bad).stop_message == (
        "Median stopping rule at report 5: loss 50 is worse than the median 1 of 3 experiments."
    )


def test_the_evaluation_interval_is_respected(client):
    root, keys = running(with_policy(5, "{kind: median, evaluation_interval: 3}"))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]

    report(client, root, keys, bad, 9, 9)
    assert fresh(bad).stop_requested_at is None  # reports 1 and 2 are not evaluated
    report(client, root, keys, bad, 9)
    assert fresh(bad).stop_message.startswith("Median stopping rule at report 3: loss 9 ")


def test_the_average_policy_compares_with_the_mean(client):
    root, keys = running(with_policy(5, "{kind: average, evaluation_interval: 1}"))
    good_ones_report(client, root, keys, series=[[1.0], [1.0], [1.0], [5.0]])
    bad = root.experiments[4]

    report(client, root, keys, bad, 1.5)  # worse than the median (1), not than the mean (2)
    assert fresh(bad).stop_requested_at is None
    report(client, root, keys, root.experiments[0], 1.0)
    report(client, root, keys, root.experiments[1], 1.0)
    report(client, root, keys, root.experiments[2], 1.0)
    report(client, root, keys, root.experiments[3], 5.0)
    report(client, root, keys, bad, 2.5)  # its best is still 1.5: kept
    assert fresh(bad).stop_requested_at is None


def test_the_average_policy_stops_below_the_mean_when_maximising(client):
    content = with_policy(
        5, "{kind: average, evaluation_interval: 1}", "metric: acc, optimization: maximize"
    )
    root, keys = running(content)
    for experiment, acc in zip(root.experiments[:4], (0.5, 0.75, 1.0, 0.75), strict=True):
        post(client, experiment, keys[experiment.id], {"values": {"acc": acc}})
    bad = root.experiments[4]

    post(client, bad, keys[bad.id], {"values": {"acc": 0.5}})

    assert fresh(bad).stop_message == (
        "Average stopping rule at report 1: acc 0.5 is worse than the mean 0.75 of 4 experiments."
    )


def test_the_truncation_policy_stops_the_worst_percent(client):
    root, keys = running(with_policy(5, "{kind: truncation, percent: 20, evaluation_interval: 1}"))
    good_ones_report(client, root, keys, reports=1)
    second_worst, worst = root.experiments[3], root.experiments[4]

    report(client, root, keys, worst, 2.0)

    assert fresh(worst).stop_message == (
        "Truncation stopping rule at report 1: loss 2 is in the worst 20% of 5 experiments."
    )
    assert fresh(second_worst).stop_requested_at is None


def test_a_batch_is_judged_report_by_report_and_stops_at_the_first(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]

    post(client, bad, keys[bad.id], [{"values": {"loss": loss}} for loss in HOPELESS])

    assert fresh(bad).stop_message == MEDIAN_MESSAGE
    assert (
        db.session.scalar(
            select(func.max(MetricStanding.report)).where(MetricStanding.experiment_id == bad.id)
        )
        == 4
    )


def test_an_experiment_asked_to_stop_is_not_judged_again(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    bad = root.experiments[4]
    report(client, root, keys, bad, *HOPELESS[:2])
    asked = fresh(bad).stop_requested_at

    report(client, root, keys, bad, 0.9)

    assert (fresh(bad).stop_requested_at, fresh(bad).stop_message) == (asked, MEDIAN_MESSAGE)


def test_a_pending_experiment_a_member_reports_for_is_stopped_at_once(client):
    root, keys = running(with_policy(5))
    good_ones_report(client, root, keys)
    pending = root.experiments[4]
    pending.status = "created"
    db.session.commit()

    for loss in HOPELESS[:2]:
        response = client.post(
            f"/api/v1/root/quick-start/experiments/{pending.id}/metrics/",
            headers=root.headers,
            json={"values": {"loss": loss}},
        )
        assert response.status_code == 201

    assert fresh(pending).status == "stopped"
    assert status_rows(pending)[-1] == ("stopped", MEDIAN_MESSAGE)


def test_a_policy_entry_without_a_value_never_stops_the_group(client):
    root, keys = running(with_policy(5))
    report(client, root, keys, root.experiments[0], -1e9, 0.0)
    assert db.session.get(ExperimentGroup, root.group.id).status == "created"


def test_a_value_reached_still_stops_the_group_beside_a_policy(client):
    root, keys = running(with_policy(5, entry="metric: loss, value: 0.1, optimization: minimize"))
    report(client, root, keys, root.experiments[0], 0.05)
    assert db.session.get(ExperimentGroup, root.group.id).status == "stopping"


def test_the_group_page_lists_a_policy_only_entry():
    hptuning = {
        "early_stopping": [
            {
                "metric": "loss",
                "value": None,
                "optimization": "minimize",
                "policy": {"kind": "truncation", "percent": 25, "evaluation_interval": 2},
            }
        ],
        "matrix": {},
    }
    assert matrix_view(hptuning, "grid").early_stopping == [
        "loss (minimize): truncation policy every 2 evaluations, 25%"
    ]


POLICIES = {
    "median": MEDIAN,
    "average": "{kind: average, evaluation_interval: 1}",
    "truncation": "{kind: truncation, percent: 25, evaluation_interval: 1}",
}
# Each group runs x = 1 .. 5 one at a time, each reporting loss x once: at its report 1, x = 4
# is worse than the median and the mean (2) of the three before it and the worst of 4, x = 5
# worse than the median and the mean (2.5) of four and the worst of 5.
STOPS = {
    "median": [
        "Median stopping rule at report 1: loss 4 is worse than the median 2 of 3 experiments.",
        "Median stopping rule at report 1: loss 5 is worse than the median 2.5 of 4 experiments.",
    ],
    "average": [
        "Average stopping rule at report 1: loss 4 is worse than the mean 2 of 3 experiments.",
        "Average stopping rule at report 1: loss 5 is worse than the mean 2.5 of 4 experiments.",
    ],
    "truncation": [
        "Truncation stopping rule at report 1: loss 4 is in the worst 25% of 4 experiments.",
        "Truncation stopping rule at report 1: loss 5 is in the worst 25% of 5 experiments.",
    ],
}


def test_groups_run_to_the_end_with_the_real_worker_and_each_policy_stops(
    project_with_code, workers, tmp_path
):
    groups = {}
    for kind, policy in POLICIES.items():
        rule = f"  early_stopping: [{{metric: loss, optimization: minimize, policy: {policy}}}]"
        content = polyaxonfile(
            tmp_path / "records" / f"{kind}.jsonl",
            concurrency=1,
            extra=rule,
            algorithm="  grid_search: {n_experiments: 5}",
            epochs=1,
            sleep=2,
        )
        groups[kind] = make_group(project_with_code, content=content)
    workers()
    for kind, group in groups.items():
        wait_for(lambda g=group: group_status(g.id) == "succeeded", f"the {kind} group to finish")

    for kind, group in groups.items():
        last_rows = [status_rows(experiment)[-1] for experiment in experiments_of(group.id)]
        expected = [("succeeded", None)] * 3 + [("stopped", message) for message in STOPS[kind]]
        assert last_rows == expected, kind


# ---- what a report costs -----------------------------------------------------------------


def test_a_group_without_policies_writes_no_standings_and_runs_no_more_statements(
    client, count_queries
):
    root, keys = running(grid_yml(5))
    first = root.experiments[0]
    report(client, root, keys, first, 1.0)
    db.session.expunge_all()

    with count_queries() as statements:
        report(client, root, keys, first, 0.9)

    assert not any("metric_standings" in statement for statement in statements)
    assert len(statements) <= 7, statements
    assert db.session.scalar(select(func.count()).select_from(MetricStanding)) == 0


def _statements_of_one_report(client, count_queries, root, keys, experiment):
    db.session.expunge_all()
    with count_queries() as statements:
        report(client, root, keys, experiment, 0.5)
    return statements


def test_a_report_costs_the_same_statements_whatever_the_reports_and_experiments(
    client, count_queries
):
    root, keys = running(with_policy(12))
    small_one, large_one = root.experiments[3], root.experiments[11]
    # Each reports before the others do (so nothing judges it yet) but its last report.
    report(client, root, keys, small_one, 0.5)
    post(client, large_one, keys[large_one.id], [{"values": {"loss": 0.5}}] * 29)
    # Small: 4 others at report 2 (the large one too).
    for experiment in root.experiments[:3]:
        report(client, root, keys, experiment, 0.1, 0.1)
    small = _statements_of_one_report(client, count_queries, root, keys, small_one)
    # Large: 10 others with 30 reports each (and more stored), at report 30.
    for experiment in root.experiments[:3] + root.experiments[4:11]:
        post(client, experiment, keys[experiment.id], [{"values": {"loss": 0.1}}] * 30)
    large = _statements_of_one_report(client, count_queries, root, keys, large_one)

    assert fresh(small_one).stop_message == (
        "Median stopping rule at report 2: loss 0.5 is worse than the median 0.1 of 4 experiments."
    )
    assert fresh(large_one).stop_message == (
        "Median stopping rule at report 30: loss 0.5 is worse than the median 0.1 of 10 "
        "experiments."
    )
    assert len(small) == len(large), (small, large)
    # Three more than a report without policies: its latest standing, the insert, the others.
    assert sum("metric_standings" in statement for statement in large) == 3
