"""Census cases: the API's JSON bodies (groups, patches, metrics, projects, logins)."""

import json

from tests.factories import grid_yml
from tests.support.census import UP, Cases, post_json

CASES = Cases()
bad = CASES.bad

# ---- API: JSON bodies ----------------------------------------------------------------------

BODIES = [
    ("malformed JSON", "/groups", '{"content": "version: 1', "Malformed JSON"),
    ("truncated JSON", "/groups", '{"content":', "Malformed JSON"),
    ("trailing garbage", "/groups", '{"content": "x"} trailing', "Malformed JSON"),
    ("JSON array for an object", "/groups", '["version: 1"]', "not list"),
    ("JSON string", "/groups", '"version: 1"', "not str"),
    ("JSON number", "/groups", "42", "not int"),
    ("JSON null", "/groups", "null", "not NoneType"),
    ("JSON true", "/groups", "true", "not bool"),
    ("invalid UTF-8", "/groups", b'{"content": "\xff\xfe\xfd"}', "Malformed JSON"),
    ("lone surrogate escapes", "/groups", '{"content": "\\ud800"}', "content"),
    ("NUL byte in content", "/groups", '{"content": "version: 1\\u0000"}', "content"),
    ("NaN content", "/groups", '{"content": NaN}', "content"),
    ("content a number", "/groups", '{"content": 5}', "content"),
    ("content a list", "/groups", '{"content": ["a"]}', "content"),
    ("content empty", "/groups", '{"content": ""}', "content"),
    ("content missing", "/groups", '{"name": "x"}', "This field is required."),
    ("content not YAML", "/groups", '{"content": "{[:"}', "content"),
    ("content YAML list", "/groups", '{"content": "- 1\\n- 2"}', "content"),
    ("content unknown kind", "/groups", '{"content": "version: 1\\nkind: job"}', "content"),
    (
        "name not a slug",
        "/groups",
        json.dumps({"content": grid_yml(1), "name": "a b"}),
        "Enter a valid name",
    ),
    (
        "name too long",
        "/groups",
        json.dumps({"content": grid_yml(1), "name": "a" * 129}),
        "Enter a valid name",
    ),
    ("name taken", "/groups", json.dumps({"content": grid_yml(1), "name": "kept"}), "name"),
    (
        "51 tags",
        "/groups",
        json.dumps({"content": grid_yml(1), "tags": ["t"] * 51}),
        "At most 50 tags",
    ),
    (
        "tag too long",
        "/groups",
        json.dumps({"content": grid_yml(1), "tags": ["t" * 65]}),
        "at most 64 characters",
    ),
    ("tags a string", "/groups", json.dumps({"content": grid_yml(1), "tags": "a,b"}), "tags"),
    (
        "description too long",
        "/groups",
        json.dumps({"content": grid_yml(1), "description": "d" * 10001}),
        "description",
    ),
    ("deeply nested JSON", "/groups", "[" * 100000 + "]" * 100000, "JSON"),
    ("deeply nested object", "/groups", '{"a":' * 50000 + "1" + "}" * 50000, "JSON"),
    ("integer of 5000 digits", "/groups", '{"content": ' + "9" * 5000 + "}", "JSON"),
    (
        "grid too large",
        "/groups",
        json.dumps(
            {
                "content": "version: 1\nkind: group\nhptuning:\n  matrix:\n    x: "
                "{range: [0, 100000000, 1]}\nrun:\n  cmd: echo\n"
            }
        ),
        "content",
    ),
    *[
        (
            f"template bomb: {_name}",
            "/groups",
            json.dumps(
                {
                    "content": "version: 1\nkind: group\nhptuning:\n  matrix:\n    x: "
                    "{values: [1]}\nrun:\n  cmd: " + json.dumps(_cmd) + "\n"
                }
            ),
            _says,
        )
        for _name, _cmd, _says in [
            (
                "replace twice",
                "{{ 'ab'|replace('a', 'a' * 90000)|replace('a', 'a' * 90000) }}",
                "memory limit",
            ),
            ("center", "{{ 'a'|center(1000000000) }}", "memory limit"),
            ("format", "{{ '%1000000000d'|format(1) }}", "memory limit"),
            (
                "doubling loop",
                "{% set s = namespace(v='ab') %}{% for i in range(60) %}"
                "{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}",
                "limit of",
            ),
            (
                "nested ranges",
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                "time limit",
            ),
            (
                "nested ranges printing",
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                "100,000 characters",
            ),
        ]
    ],
    (
        "concurrency past any integer",
        "/groups",
        json.dumps({"content": grid_yml(1).replace("concurrency: 2", "concurrency: 1" + "0" * 30)}),
        "hptuning.concurrency: must be <= 10,000",
    ),
    (
        "concurrency 10001",
        "/groups",
        json.dumps({"content": grid_yml(1).replace("concurrency: 2", "concurrency: 10001")}),
        "hptuning.concurrency: must be <= 10,000, got 10001",
    ),
    (
        "hyperband past the experiment cap",
        "/groups",
        json.dumps(
            {
                "content": "version: 1\nkind: group\nhptuning:\n  hyperband: {max_iter: "
                "1000000, eta: 3, resource: {name: e}, metric: {name: loss}}\n"
                "  matrix:\n    x: {uniform: [0, 1]}\nrun:\n  cmd: echo\n"
            }
        ),
        "hptuning.hyperband.max_iter: 1000000 with eta 3 makes more than 10000 experiments",
    ),
    *[
        (
            f"bo {_key} past its limit",
            "/groups",
            json.dumps(
                {
                    "content": "version: 1\nkind: group\nhptuning:\n  bo: {n_initial_trials: 1, "
                    "n_iterations: 1, metric: {name: loss}, utility_function: "
                    f"{{{_value}}}}}\n  matrix:\n    x: {{uniform: [0, 1]}}\n"
                    "run:\n  cmd: echo\n"
                }
            ),
            _says,
        )
        for _key, _value, _says in [
            (
                "n_warmup",
                "n_warmup: 1000000000",
                "hptuning.bo.utility_function.n_warmup: must be <= 100,000, got 1000000000",
            ),
            ("n_iter", "n_iter: 251", "hptuning.bo.utility_function.n_iter: must be <= 250"),
            (
                "n_restarts_optimizer",
                "gaussian_process: {n_restarts_optimizer: 11}",
                "gaussian_process.n_restarts_optimizer: must be <= 10, got 11",
            ),
        ]
    ],
]
for _label, _path, _raw, _says in BODIES:
    bad(f"POST groups: {_label}", 400, _says)(
        lambda w, path=_path, raw=_raw: post_json(w, UP + path, raw)
    )

PATCHES = [
    ("concurrency 0", {"concurrency": 0}, "concurrency"),
    ("concurrency -1", {"concurrency": -1}, "concurrency"),
    ("concurrency 10001", {"concurrency": 10001}, "concurrency"),
    ("concurrency a string", {"concurrency": "5"}, "concurrency"),
    ("concurrency a float", {"concurrency": 2.5}, "concurrency"),
    ("concurrency true", {"concurrency": True}, "concurrency"),
    ("concurrency 1e400", None, "concurrency"),
    ("concurrency a huge integer", {"concurrency": 10**30}, "concurrency"),
    ("merge a string", {"merge": "yes"}, "merge"),
    ("name a number", {"name": 5}, "name"),
    ("name taken", {"name": "other"}, "name"),
    ("tags with a blank tag", {"tags": ["  "]}, "non-empty"),
    ("tags of numbers", {"tags": [1, 2]}, "tags"),
    ("description with a NUL", {"description": "a\x00b"}, "NUL characters are not allowed"),
    ("tag with a NUL", {"tags": ["a\x00b"]}, "NUL characters are not allowed in tags.0"),
]
for _label, _body, _says in PATCHES:
    bad(f"PATCH group: {_label}", 400, _says)(
        lambda w, body=_body: post_json(
            w,
            w["G"],
            json.dumps(body) if body is not None else '{"concurrency": 1e400}',
            method="patch",
        )
    )

OTHER_BODIES = [
    ("stop: pending a string", "G", "/stop", {"pending": "yes"}, "pending"),
    ("group status: unknown", "G", "/statuses", {"status": "bogus"}, "bogus"),
    ("group status: illegal transition", "G", "/statuses", {"status": "succeeded"}, "succeeded"),
    ("group status: missing", "G", "/statuses", {"message": "x"}, "This field is required."),
    (
        "group status: message with a NUL",
        "G",
        "/statuses",
        {"status": "running", "message": "a\x00b"},
        "NUL characters are not allowed in message",
    ),
    (
        "objective: bad direction",
        "G",
        "/objective",
        {"metric": "loss", "optimization": "up"},
        "optimization",
    ),
    (
        "objective: empty metric",
        "G",
        "/objective",
        {"metric": "", "optimization": "maximize"},
        "metric",
    ),
    (
        "objective: metric too long",
        "G",
        "/objective",
        {"metric": "m" * 129, "optimization": "maximize"},
        "metric",
    ),
    (
        "tensorboard: is_managed a string",
        "G",
        "/tensorboard/start",
        {"is_managed": "yes"},
        "is_managed",
    ),
    ("metrics: empty values", "E", "/metrics", {"values": {}}, "Report at least one metric."),
    ("metrics: NaN", "E", "/metrics", None, "not a finite number"),
    ("metrics: Infinity", "E", "/metrics", "Infinity", "not a finite number"),
    ("metrics: 1e400", "E", "/metrics", "1e400", "not a finite number"),
    ("metrics: an integer of 401 digits", "E", "/metrics", "1" + "0" * 400, "not a finite number"),
    ("metrics: an empty list", "E", "/metrics", [], "at least 1 item"),
    ("metrics: a string value", "E", "/metrics", {"values": {"loss": "low"}}, "not a number"),
    ("metrics: a boolean value", "E", "/metrics", {"values": {"loss": True}}, "not a number"),
    ("metrics: bad name", "E", "/metrics", {"values": {"a b": 1}}, "not a valid metric name"),
    (
        "metrics: 101 metrics",
        "E",
        "/metrics",
        {"values": {f"m{i}": 1 for i in range(101)}},
        "At most 100 metrics",
    ),
    (
        "metrics: bad created_at",
        "E",
        "/metrics",
        {"values": {"x": 1}, "created_at": "yesterday"},
        "created_at",
    ),
    (
        "metrics: created_at a number",
        "E",
        "/metrics",
        {"values": {"x": 1}, "created_at": 5},
        "ISO 8601",
    ),
    ("metrics: 1001 reports", "E", "/metrics", [{"values": {"x": 1}}] * 1001, "1000"),
    ("metrics: a list of strings", "E", "/metrics", ["x"], "0"),
    ("experiment status: unknown", "E", "/statuses", {"status": "bogus"}, "bogus"),
    ("experiment: name not a slug", "E", "/", {"name": "a/b"}, "Enter a valid name"),
    (
        "experiment: description with a NUL",
        "E",
        "/",
        {"description": "\x00"},
        "NUL characters are not allowed in description",
    ),
    (
        "metrics: a name with a NUL",
        "E",
        "/metrics",
        {"values": {"a\x00": 1}},
        "NUL characters are not allowed",
    ),
    # pause, resume, retry, extend (EXTENSIONS.md section 2)
    ("pause: a group not running", "G", "/pause", {}, "only a running one can"),
    ("resume: a group not paused", "G", "/resume", {}, "only a paused one can"),
    ("retry: statuses a string", "G", "/retry", {"statuses": "failed"}, "statuses"),
    ("retry: a status not final", "G", "/retry", {"statuses": ["running"]}, "statuses"),
    ("retry: no status", "G", "/retry", {"statuses": []}, "statuses"),
    ("retry: nothing to retry", "G", "/retry", {}, "not retried yet"),
    ("retry: an unknown field", "G", "/retry", {"status": ["failed"]}, "status"),
    ("extend: zero", "G", "/extend", {"n_experiments": 0}, "n_experiments"),
    ("extend: negative", "G", "/extend", {"n_experiments": -5}, "n_experiments"),
    ("extend: a string", "G", "/extend", {"n_experiments": "ten"}, "n_experiments"),
    ("extend: a fraction", "G", "/extend", {"n_experiments": 1.5}, "n_experiments"),
    ("extend: missing", "G", "/extend", {}, "This field is required."),
    ("extend: past the cap", "G", "/extend", {"n_experiments": 10**6}, "at most"),
    ("extend: a grid with nothing left", "G", "/extend", {"n_experiments": 1}, "left to run"),
    # restart, resume, copy (EXTENSIONS.md section 2)
    ("restart: content a YAML list", "E", "/restart", {"content": "- 1"}, "must be a mapping"),
    ("resume: content not YAML", "E", "/resume", {"content": "params: {x: 1"}, "invalid YAML"),
    ("copy: content a number", "E", "/copy", {"content": 5}, "content"),
    ("copy: content huge", "E", "/copy", {"content": "#" * 70000}, "content"),
    ("restart: params a list", "E", "/restart", {"content": "params: [1]"}, "params must be"),
    ("restart: an unknown param", "E", "/restart", {"content": "params: {y: 1}"}, "no param"),
    ("copy: a matrix param", "E", "/copy", {"content": "params: {x: 9}"}, "group's search"),
    ("restart: a run block", "E", "/restart", {"content": "run: {cmd: ls}"}, "not: run"),
    ("restart: update_code a string", "E", "/restart", {"update_code": "yes"}, "update_code"),
]


def _other_body(w, base, path, body):
    if isinstance(body, str) or body is None:
        raw = '{"values": {"loss": %s}}' % ("NaN" if body is None else body)
    else:
        raw = json.dumps(body)
    method = {"/objective": "put", "/": "patch"}.get(path, "post")
    return post_json(w, w[base] + path, raw, method=method)


for _label, _base, _path, _body, _says in OTHER_BODIES:
    bad(_label, 400, _says)(lambda w, b=_base, p=_path, body=_body: _other_body(w, b, p, body))

SELECTIONS = [
    ("selection: no experiments", {"experiments": []}, "at least 1 item"),
    ("selection: 51 experiments", {"experiments": list(range(1, 52))}, "at most 50 items"),
    ("selection: an id as a string", {"experiments": ["1"]}, "valid integer"),
    ("selection: an id given twice", {"experiments": [1, 1]}, "Experiments given twice: 1."),
    ("selection: no such experiment", {"experiments": [999999]}, "No experiment 999999"),
]
for _label, _body, _says in SELECTIONS:
    bad(_label, 400, _says)(
        lambda w, body=_body: post_json(w, f"{UP}/tensorboards", json.dumps(body))
    )

PROJECT_BODIES = [
    ("project: name not a slug", {"name": "my project"}, "Enter a valid name"),
    ("project: name missing", {"description": "x"}, "This field is required."),
    ("project: is_public a string", {"name": "p2", "is_public": "yes"}, "is_public"),
    ("project: name taken", {"name": "census"}, "name"),
    ("project: tags a dict", {"name": "p3", "tags": {"a": 1}}, "tags"),
    (
        "project: description with a NUL",
        {"name": "p4", "description": "a\x00b"},
        "NUL characters are not allowed in description",
    ),
]
for _label, _body, _says in PROJECT_BODIES:
    bad(_label, 400, _says)(
        lambda w, body=_body: post_json(w, "/api/v1/projects", json.dumps(body))
    )

LOGINS = [
    ("login: username a number", {"username": 5, "password": "x"}, "username"),
    ("login: password a list", {"username": "root", "password": ["x"]}, "password"),
    ("login: password missing", {"username": "root"}, "This field is required."),
    ("login: wrong password", {"username": "root", "password": "nope"}, "Unable to log in"),
    ("login: unknown user", {"username": "ghost", "password": "nope"}, "Unable to log in"),
    ("login: username too long", {"username": "u" * 151, "password": "x"}, "username"),
    (
        "login: username with a NUL",
        {"username": "ro\x00ot", "password": "x"},
        "NUL characters are not allowed in username",
    ),
]
for _label, _body, _says in LOGINS:
    bad(_label, 400, _says)(lambda w, body=_body: w["api"].post("/api/v1/users/token", json=body))


@bad("login: XML body", 400, "Unsupported content type 'application/xml'")
def _login_xml(w):
    return w["api"].post("/api/v1/users/token", data="<u/>", content_type="application/xml")


@bad("POST groups: text/plain body", 400, "Unsupported content type 'text/plain'")
def _text_plain(w):
    return post_json(w, UP + "/groups", "version: 1", content_type="text/plain")


@bad("POST groups: form body", 400, "application/x-www-form-urlencoded")
def _form_body(w):
    return w["api"].post(UP + "/groups", data={"content": "x"}, headers=w["h"])


@bad("POST groups: body over 1 MiB", 413, "Request body too large.")
def _oversized(w):
    return post_json(w, UP + "/groups", json.dumps({"content": "#" * (1024 * 1024 + 10)}))


@bad("metrics: body over 1 MiB", 413, "Request body too large.")
def _oversized_metrics(w):
    return post_json(w, w["E"] + "/metrics", json.dumps({"values": {"x": 1}, "p": "x" * 2**20}))


CLONE_BODIES = [
    ("content a number", {"content": 5}, "content"),
    ("content empty", {"content": ""}, "content"),
    ("content not YAML", {"content": "{[:"}, "invalid YAML"),
    ("content of a job", {"content": "version: 1\nkind: job\n"}, "kind"),
    ("name too long", {"name": "a" * 129}, "Enter a valid name"),
    ("name taken", {"name": "other"}, "A group named 'other' already exists"),
    ("description too long", {"description": "d" * 10001}, "description"),
    ("unknown field", {"contents": grid_yml(1)}, "Extra inputs are not permitted"),
]
for _label, _body, _says in CLONE_BODIES:
    bad(f"clone: {_label}", 400, _says)(
        lambda w, body=_body: post_json(w, w["G"] + "/clone", json.dumps(body))
    )

SPREADS = [
    ("0", "0"),
    ("-1", "-1"),
    ("2", "2"),
    ("abc", "abc"),
    ("empty", ""),
    ("huge", "9" * 5000),
]
for _label, _spread in SPREADS:
    bad(f"around-best: spread {_label}", 400, "The spread must be a number greater than 0")(
        lambda w, spread=_spread: w["api"].get(
            w["G"] + f"/around-best?spread={spread}", headers=w["h"]
        )
    )


@bad("around-best: a group without an objective", 400, "The group has no objective")
def _around_best_without_objective(w):
    return w["api"].get(w["G"] + "/around-best", headers=w["h"])


@bad("restart: an unknown experiment", 404, "Not found.")
def _restart_unknown(w):
    return post_json(w, f"{UP}/experiments/999999/restart", "{}")
