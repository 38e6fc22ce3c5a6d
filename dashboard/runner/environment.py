"""The environment an experiment process runs with: its params, paths and own credentials.

Two ways to report back, both with the experiment's own key (valid while it is unfinished):

polyaxon-client 0.6.1, unchanged (`from polyaxon_client.tracking import Experiment;
Experiment().log_metrics(loss=0.1)`), in its managed in-cluster mode. What it reads
(polyaxon_client/settings.py, api_config.py, tracking/experiment.py, tracking/paths.py):

- `POLYAXON_IS_MANAGED=true`: no project argument needed, no `GET users/` at start, no
  status posts of its own (the runner owns the status), metrics and a heartbeat are sent.
- `POLYAXON_IN_CLUSTER=true`: informative only (0.6.1 reads it and never uses it).
- `POLYAXON_API_HTTP_HOST` / `POLYAXON_API_WS_HOST`: in managed, non-local mode the client's
  base URL is `{POLYAXON_API_HTTP_HOST}/api/v1`; a scheme://host:port (and any path prefix) of
  the dashboard. `POLYAXON_API_HOST`, `POLYAXON_HTTP_PORT`, `POLYAXON_USE_HTTPS` repeat it for
  tools that build the URL from host and port (the client does so only with
  POLYAXON_IS_LOCAL, which is left unset).
- `POLYAXON_SECRET_USER_TOKEN`: the key, sent as `Authorization: Token <key>`.
- `POLYAXON_EXPERIMENT_INFO`: JSON; `project_name` (`owner.project`, split into user and
  project) and `experiment_name` (`owner.project.<gid>.<eid>`, its last part is the id) are
  what `Experiment()` reads; the uuids and the group name complete it as Polyaxon sent it.
- `POLYAXON_PARAMS`: JSON of the experiment's params (`Experiment.get_params()`).
- `POLYAXON_RUN_OUTPUTS_PATH`: the experiment's outputs folder (`get_outputs_path()`, and
  the client's outputs store).

One HTTP call with curl or urllib, no client needed:

- `POLYAXON_API_URL`: `<dashboard>/api/v1/<owner>/<project>/experiments/<id>`; POST
  `$POLYAXON_API_URL/metrics` with `{"values": {"loss": 0.1}}`.
- `POLYAXON_TOKEN`: the same key; header `Authorization: token $POLYAXON_TOKEN`.
- `POLYAXON_EXPERIMENT_ID`, `POLYAXON_GROUP_ID`: the ids, for scripts that want them.

GPUs: `CUDA_VISIBLE_DEVICES` and `NVIDIA_VISIBLE_DEVICES` name exactly the ids the experiment
was placed on (comma-separated; empty when it asked none, so it sees no GPU).

The client also reads /tmp/.polyaxon/.authtoken after the environment; a stray file there
(left by a Polyaxon cluster install) would override the key.
"""

import json
from urllib.parse import urlsplit


def server_url(api_url):
    """The dashboard's base URL (scheme://host[:port][/prefix]) without /api/v1 or a slash."""
    url = api_url.rstrip("/")
    return url.removesuffix("/api/v1").rstrip("/")


def experiment_env(*, experiment, group, project, key, api_url, outputs_dir, params, gpus=None):
    """Every variable an experiment process needs (strings only; merge into a base env);
    `gpus` are the ids it was placed on."""
    devices = ",".join(str(i) for i in gpus or ())
    base = server_url(api_url)
    parts = urlsplit(base)
    https = parts.scheme == "https"
    owner = project.owner.username
    project_name = f"{owner}.{project.name}"
    group_name = f"{project_name}.{group.id}"
    info = {
        "project_name": project_name,
        "project_uuid": project.uuid,
        "experiment_group_name": group_name,
        "experiment_group_uuid": group.uuid,
        "experiment_name": f"{group_name}.{experiment.id}",
        "experiment_uuid": experiment.uuid,
    }
    return {
        "POLYAXON_IS_MANAGED": "true",
        "POLYAXON_IN_CLUSTER": "true",
        "POLYAXON_API_HTTP_HOST": base,
        "POLYAXON_API_WS_HOST": ("wss" if https else "ws") + base[len(parts.scheme) :],
        "POLYAXON_API_HOST": parts.hostname or "127.0.0.1",
        "POLYAXON_HTTP_PORT": str(parts.port or (443 if https else 80)),
        "POLYAXON_USE_HTTPS": "true" if https else "false",
        "POLYAXON_SECRET_USER_TOKEN": key,
        "POLYAXON_EXPERIMENT_INFO": json.dumps(info),
        "POLYAXON_PARAMS": json.dumps(params or {}),
        "POLYAXON_RUN_OUTPUTS_PATH": str(outputs_dir),
        "POLYAXON_API_URL": f"{base}/api/v1/{owner}/{project.name}/experiments/{experiment.id}",
        "POLYAXON_TOKEN": key,
        "POLYAXON_EXPERIMENT_ID": str(experiment.id),
        "POLYAXON_GROUP_ID": str(group.id),
        "CUDA_VISIBLE_DEVICES": devices,
        "NVIDIA_VISIBLE_DEVICES": devices,
    }
