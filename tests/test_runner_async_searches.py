"""asha, tpe and cmaes groups run to the end on the real local worker, their batches worked
out in the scheduler's search process: the experiments are real subprocesses reporting real
metrics over HTTP."""

from dashboard.extensions import db
from dashboard.models import ExperimentGroup
from tests.factories import make_group
from tests.support.runs import experiments_of, group_status, polyaxonfile, wait_for

ASHA = (
    "  asha: {n_experiments: 6, min_resource: 1, max_resource: 4, reduction_factor: 2,"
    " resource: {name: epochs, type: int}, metric: {name: loss, optimization: minimize}}"
    "\n  seed: 2"
)
TPE = "  tpe: {n_experiments: 6, n_initial_trials: 3, metric: {name: loss, optimization: minimize}}"
CMAES = "  cmaes: {n_experiments: 6, metric: {name: loss, optimization: minimize}}\n  seed: 4"


def test_asha_tpe_and_cmaes_groups_run_to_the_end_on_the_local_worker(
    project_with_code, workers, tmp_path
):
    groups = {
        name: make_group(
            project_with_code,
            content=polyaxonfile(
                tmp_path / "records" / f"{name}.jsonl",
                concurrency=3,
                algorithm=algorithm,
                sleep=0.05,
            ),
        )
        for name, algorithm in (("asha", ASHA), ("tpe", TPE), ("cmaes", CMAES))
    }
    workers()
    for name, group in groups.items():
        wait_for(lambda g=group: group_status(g.id) in ("succeeded", "failed"), f"{name} to end")

    for name, group in groups.items():
        assert group_status(group.id) == "succeeded", name
        rows = experiments_of(group.id)
        assert all(e.status == "succeeded" and e.last_metric for e in rows), name
    asha = experiments_of(groups["asha"].id)
    by_id = {e.id: e for e in asha}
    promotions = [e for e in asha if e.original_experiment_id is not None]
    assert len(asha) - len(promotions) == 6
    assert promotions, "asha promoted nothing"
    for promotion in promotions:
        original = by_id[promotion.original_experiment_id]
        assert promotion.params["x"] == original.params["x"]
        assert promotion.params["epochs"] == 2 * original.params["epochs"]
        # The experiment really ran that many epochs: its last report is x / epochs.
        assert promotion.last_metric["loss"] == promotion.params["x"] / promotion.params["epochs"]
    for name in ("tpe", "cmaes"):
        rows = experiments_of(groups[name].id)
        assert len(rows) == 6, name
        assert [e.iteration for e in rows] == list(range(6)), name
        assert db.session.get(ExperimentGroup, groups[name].id).current_iteration == 6
