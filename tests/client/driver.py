"""Drive a live server with the published polyaxon-client 0.6.1 and print what it returned.

Runs INSIDE the client venv (scripts/client-venv.sh), never in the app's venv:

    python driver.py --host 127.0.0.1 --port PORT --token TOKEN --owner U --project P \
        [--polyaxonfile FILE] [--steps -]

Without ``--steps`` it runs the fixed experiment-group scenario (see ``SCENARIO``); with
``--steps -`` it reads a JSON list of steps from stdin, each ``{"name": ..., "op": ...,
"args": {...}}`` with ``op`` one of ``OPS``. String arguments equal to ``"$group_id"`` are
replaced by the id of the group made by the last ``create_group`` step.

Prints ONE JSON object to stdout: ``{"steps": {name: result}, "order": [names]}`` where each
result is ``{"ok", "value", "status", "calls", "error", "error_status"}``:
- ``value``: what the client returned, schema objects through ``.to_dict()``, list results as
  ``{"count", "next", "previous", "results": [...]}``, a bare ``requests.Response`` as
  ``{"status_code", "json"}``;
- ``status``: the HTTP status of the step's last request (recorded by a response hook on the
  client's own ``requests.Session``, so 201 and 200 can be told apart even where the client
  returns a parsed object);
- ``calls``: every request of the step as ``[method, url, status]``;
- ``error`` / ``error_status``: the exception text and its HTTP status when the step raised.
An error in one step is recorded and the scenario goes on.
"""

import argparse
import json
import os
import sys
import traceback

# Settings are read from the environment at import time: keep the client's own request timeout
# short so a hung server fails the test instead of blocking for the default hour.
os.environ.setdefault("POLYAXON_LONG_REQUEST_TIMEOUT", "60")
for _key in (
    "POLYAXON_SECRET_USER_TOKEN",
    "POLYAXON_API_HOST",
    "POLYAXON_HTTP_PORT",
    "POLYAXON_SCHEMA_RESPONSE",
    "POLYAXON_IS_MANAGED",
):
    os.environ.pop(_key, None)

import requests  # noqa: E402
from polyaxon_client.client import PolyaxonClient  # noqa: E402
from polyaxon_client.exceptions import PolyaxonHTTPError  # noqa: E402
from polyaxon_schemas.api.group import GroupConfig  # noqa: E402
from polyaxon_schemas.base import BaseConfig  # noqa: E402
from polyaxon_schemas.polyaxonfile import PolyaxonFile  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
UPDATED_DESCRIPTION = "updated by the client harness"


def to_jsonable(value):
    """Convert what the client returns into plain JSON."""
    if isinstance(value, BaseConfig):
        return to_jsonable(value.to_dict())
    if isinstance(value, requests.Response):
        try:
            body = value.json()
        except ValueError:
            body = None
        return {"status_code": value.status_code, "json": body, "text": value.text[:2000]}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class Driver:
    """Holds one client (configured like the CLI's: schema responses, re-raise) and the state."""

    def __init__(self, host, port, token, owner, project, polyaxonfile, raw=False):
        self.owner = owner
        self.project = project
        self.polyaxonfile = polyaxonfile
        self.group_id = None
        self.selection_id = None
        self.calls = []
        # The CLI builds its client with schema_response=True and reraise=True
        # (polyaxon_cli/client/client.py); do the same so parsing is exercised.
        self.client = PolyaxonClient(
            host=host,
            http_port=port,
            ws_port=port,
            token=token,
            use_https=False,
            verify_ssl=False,
            schema_response=not raw,
            reraise=True,
        )
        self.client.transport.session.hooks["response"].append(self._record)

    def _record(self, response, *args, **kwargs):
        self.calls.append([response.request.method, response.request.url, response.status_code])

    # --- operations -----------------------------------------------------------------------
    def op_user(self):
        return self.client.auth.get_user()

    def op_cli_version(self):
        return self.client.version.get_cli_version()

    def op_log_handler(self):
        return self.client.version.get_log_handler()

    def op_project_get(self):
        return self.client.project.get_project(self.owner, self.project)

    def op_projects_list(self):
        return self.client.project.list_projects(self.owner)

    def op_create_group(self, name=None, description=None, tags=None):
        # Exactly what `polyaxon run -f FILE` sends (polyaxon_cli/run/platform.py): the
        # file's parsed data re-serialised as JSON text in `content`, plus is_managed.
        spec = PolyaxonFile([self.polyaxonfile]).specification
        config = GroupConfig(
            name=name, description=description, tags=tags, content=spec.raw_data, is_managed=True
        )
        result = self.client.project.create_experiment_group(self.owner, self.project, config)
        self.group_id = result.id if isinstance(result, BaseConfig) else result["id"]
        return result

    def op_get_group(self, group_id):
        return self.client.experiment_group.get_experiment_group(self.owner, self.project, group_id)

    def op_raw_get_group(self, group_id):
        """The unparsed JSON (the schema drops hptuning, bookmarked, current_iteration)."""
        api = self.client.experiment_group
        url = api.build_url(api._get_http_url(), self.owner, self.project, "groups", group_id)
        return self.client.transport.get(url).json()

    def op_update_group(self, group_id, patch):
        return self.client.experiment_group.update_experiment_group(
            self.owner, self.project, group_id, patch
        )

    def op_statuses(self, group_id):
        return self.client.experiment_group.get_statuses(self.owner, self.project, group_id)

    def op_create_status(self, group_id, status=None, message=None):
        """Post `status`, or the group's current status (always a legal transition)."""
        api = self.client.experiment_group
        attempts = 1 if status else 3
        for attempt in range(attempts):
            wanted = status or self._last_status(group_id)
            try:
                return api.create_status(
                    self.owner, self.project, group_id, wanted, message=message
                )
            except PolyaxonHTTPError as e:
                # The group may have moved on between the read and the post: read again.
                if e.status_code != 400 or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _last_status(self, group_id):
        group = self.op_get_group(group_id)
        return group.last_status if isinstance(group, BaseConfig) else group["last_status"]

    def op_bookmark(self, group_id):
        return self.client.experiment_group.bookmark(self.owner, self.project, group_id)

    def op_unbookmark(self, group_id):
        return self.client.experiment_group.unbookmark(self.owner, self.project, group_id)

    def op_bookmarked_groups(self, username=None):
        return self.client.bookmark.groups(username or self.owner)

    def op_experiments(self, group_id):
        """List the group's experiments."""
        return self.client.experiment_group.list_experiments(self.owner, self.project, group_id)

    def op_groups(self, query=None, sort=None):
        return self.client.project.list_experiment_groups(
            self.owner, self.project, query=query, sort=sort
        )

    def op_stop(self, group_id, pending=False):
        return self.client.experiment_group.stop(
            self.owner, self.project, group_id, pending=pending
        )

    def op_clone_experiment(self, group_id, strategy, content=None, update_code=None):
        """Restart, resume or copy the group's first experiment (`strategy`: the client's
        method), with `content` as the client sends it (a dict: its repr)."""
        first = min(e.id for e in self.op_experiments(group_id)["results"])
        clone = getattr(self.client.experiment, strategy)
        return clone(self.owner, self.project, first, content=content, update_code=update_code)

    def op_tensorboard_start(self, group_id):
        return self.client.experiment_group.start_tensorboard(self.owner, self.project, group_id)

    def op_tensorboard_stop(self, group_id):
        return self.client.experiment_group.stop_tensorboard(self.owner, self.project, group_id)

    def op_raw_start_selection(self, group_id):
        """A TensorBoard over the group's first experiment (the client has no call for it)."""
        api = self.client.project
        experiments = self.client.experiment_group.list_experiments(
            self.owner, self.project, group_id
        )["results"]
        first = min(e.id if isinstance(e, BaseConfig) else e["id"] for e in experiments)
        url = api.build_url(api._get_http_url(), self.owner, self.project, "tensorboards")
        job = self.client.transport.post(url, json_data={"experiments": [first]}).json()
        self.selection_id = job["id"]
        return job

    def op_raw_stop_selection(self):
        api = self.client.project
        url = api.build_url(
            api._get_http_url(), self.owner, self.project, "tensorboards", self.selection_id, "stop"
        )
        return self.client.transport.post(url).json()

    def op_list_tensorboards(self):
        return self.client.project.list_tensorboards(self.owner, self.project)

    def op_delete_group(self, group_id):
        return self.client.experiment_group.delete_experiment_group(
            self.owner, self.project, group_id
        )

    # --- running --------------------------------------------------------------------------
    def run_step(self, step):
        op = getattr(self, "op_" + step["op"], None)
        args = {
            k: (self.group_id if v == "$group_id" else v)
            for k, v in (step.get("args") or {}).items()
        }
        self.calls = []
        result = {
            "ok": False,
            "value": None,
            "status": None,
            "calls": None,
            "error": None,
            "error_status": None,
        }
        try:
            if op is None:
                raise ValueError(f"unknown op {step['op']!r}")
            result["value"] = to_jsonable(op(**args))
            result["ok"] = True
        except PolyaxonHTTPError as e:
            result["error"] = f"{type(e).__name__}: {e}"
            result["error_status"] = e.status_code
            if e.response is not None:
                result["error_body"] = e.response.text[:2000]
        except Exception as e:  # noqa: BLE001 - a failing step is recorded, not fatal
            result["error"] = f"{type(e).__name__}: {e}"
            result["traceback"] = traceback.format_exc()[-3000:]
        result["calls"] = self.calls
        result["status"] = self.calls[-1][2] if self.calls else None
        return result


OPS = sorted(name[3:] for name in dir(Driver) if name.startswith("op_"))

G = "$group_id"
SCENARIO = [
    {"name": "user", "op": "user"},
    {"name": "cli_version", "op": "cli_version"},
    {"name": "log_handler", "op": "log_handler"},
    {"name": "project_get", "op": "project_get"},
    {"name": "projects_list", "op": "projects_list"},
    {"name": "create", "op": "create_group"},
    {"name": "get", "op": "get_group", "args": {"group_id": G}},
    {"name": "raw_get", "op": "raw_get_group", "args": {"group_id": G}},
    {
        "name": "update",
        "op": "update_group",
        "args": {"group_id": G, "patch": {"description": UPDATED_DESCRIPTION}},
    },
    {"name": "statuses", "op": "statuses", "args": {"group_id": G}},
    {
        "name": "create_status",
        "op": "create_status",
        "args": {"group_id": G, "message": "posted by the client harness"},
    },
    {"name": "statuses_after_create", "op": "statuses", "args": {"group_id": G}},
    {"name": "bookmark", "op": "bookmark", "args": {"group_id": G}},
    {"name": "bookmark_again", "op": "bookmark", "args": {"group_id": G}},
    {"name": "raw_get_bookmarked", "op": "raw_get_group", "args": {"group_id": G}},
    {"name": "bookmarked_groups", "op": "bookmarked_groups"},
    {"name": "unbookmark", "op": "unbookmark", "args": {"group_id": G}},
    {"name": "bookmarked_after_unbookmark", "op": "bookmarked_groups"},
    {"name": "unbookmark_again", "op": "unbookmark", "args": {"group_id": G}},
    {"name": "experiments", "op": "experiments", "args": {"group_id": G}},
    {"name": "groups", "op": "groups"},
    {"name": "stop_pending", "op": "stop", "args": {"group_id": G, "pending": True}},
    {"name": "stop", "op": "stop", "args": {"group_id": G}},
    {"name": "get_after_stop", "op": "get_group", "args": {"group_id": G}},
    {
        "name": "restart",
        "op": "clone_experiment",
        "args": {
            "group_id": G,
            "strategy": "restart",
            "content": {"declarations": {"num_steps": 1e-05}},
        },
    },
    {"name": "get_after_restart", "op": "get_group", "args": {"group_id": G}},
    {"name": "resume", "op": "clone_experiment", "args": {"group_id": G, "strategy": "resume"}},
    {
        "name": "copy",
        "op": "clone_experiment",
        "args": {"group_id": G, "strategy": "copy", "update_code": True},
    },
    {"name": "tensorboard_start", "op": "tensorboard_start", "args": {"group_id": G}},
    {"name": "tensorboard_start_again", "op": "tensorboard_start", "args": {"group_id": G}},
    {"name": "raw_get_with_tensorboard", "op": "raw_get_group", "args": {"group_id": G}},
    {"name": "selection_start", "op": "raw_start_selection", "args": {"group_id": G}},
    {"name": "tensorboards", "op": "list_tensorboards"},
    {"name": "selection_stop", "op": "raw_stop_selection"},
    {"name": "tensorboard_stop", "op": "tensorboard_stop", "args": {"group_id": G}},
    {"name": "delete", "op": "delete_group", "args": {"group_id": G}},
    {"name": "get_after_delete", "op": "get_group", "args": {"group_id": G}},
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--polyaxonfile", default=os.path.join(HERE, "random.yml"))
    parser.add_argument("--steps", help="'-' to read a JSON list of steps from stdin")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="schema_response=False: return the JSON the client received",
    )
    opts = parser.parse_args(argv)

    steps = json.load(sys.stdin) if opts.steps == "-" else SCENARIO
    driver = Driver(
        opts.host, opts.port, opts.token, opts.owner, opts.project, opts.polyaxonfile, raw=opts.raw
    )
    out = {"steps": {}, "order": [], "group_id": None}
    for step in steps:
        out["steps"][step["name"]] = driver.run_step(step)
        out["order"].append(step["name"])
    out["group_id"] = driver.group_id
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
