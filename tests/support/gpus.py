"""GPU placement as the tests watch it: groups asking GPUs, and what each experiment was given
(its record's timeline, its log) checked against the ids stored on it."""

from dashboard.storage import paths
from tests.support.runs import events, experiments_of, polyaxonfile


def gpu_polyaxonfile(record, gpus, **fields):
    """The runner tests' group, each experiment asking `gpus` GPUs and noting what it got."""
    extra = f"environment: {{resources: {{gpu: {{requests: {gpus}, limits: {gpus}}}}}}}"
    return polyaxonfile(record, extra=extra, note_gpus=True, **fields)


def gpu_timeline(record):
    """(start, end, ids) of each run in the record, paired by x (a pid is its sandbox's)."""
    starts, runs = {}, []
    for event in events(record):
        if event["event"] == "start":
            starts[event["x"]] = event
        elif event["event"] == "end" and event["x"] in starts:
            start = starts.pop(event["x"])
            ids = {i for i in (start["gpus"] or "").split(",") if i}
            runs.append((start["time"], event["time"], ids))
    return runs


def shared_ids(record):
    """Pairs of runs that overlapped in time and were given a common id (none, if placement
    is right)."""
    runs = gpu_timeline(record)
    return [
        (a, b)
        for i, a in enumerate(runs)
        for b in runs[i + 1 :]
        if a[0] < b[1] and b[0] < a[1] and a[2] & b[2]
    ]


def check_logs_name_stored_ids(group_id, outputs_root):
    """Each experiment's log shows CUDA_VISIBLE_DEVICES as exactly the ids stored on it;
    returns those ids by experiment."""
    given = {}
    for experiment in experiments_of(group_id):
        log = paths.experiment_log_path(outputs_root, "alice", "demo", group_id, experiment.id)
        ids = ",".join(map(str, experiment.gpus["ids"])) if experiment.gpus else ""
        assert f"CUDA_VISIBLE_DEVICES={ids!r}" in log.read_text(), experiment.id
        given[experiment.id] = experiment.gpus
    return given
