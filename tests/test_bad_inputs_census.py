"""The bad-input census: over 100 distinct bad inputs across the API, the UI forms and the code
upload, each answered with a precise 4xx and leaving every table exactly as it was.

Each input names the status it must get and a piece of the message that must say what is wrong.
Before and after each one, every table is snapshotted (row count and a hash of its rows). The
test prints `N bad inputs, 0 server errors, 0 changes` with the real counts and asserts them.
"""

import gzip
import hashlib
import io
import json
import tarfile

import pytest
from bs4 import BeautifulSoup
from flask import current_app, g
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
    zeros_tarball,
)

UP = "/api/v1/root/census"
UI = "/root/census"
CASES = []


def bad(label, status, says):
    """Register a bad input: its label, the status it must get, a piece of its message."""

    def register(send):
        CASES.append((label, status, says, send))
        return send

    return register


def snapshot():
    """Every table: its row count and a hash of its rows in primary-key order."""
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
        state[table.name] = (len(rows), digest)
    return state


def message_of(response):
    """The answer's text: the JSON body as written, else the HTML page's visible text."""
    if response.is_json:
        return json.dumps(response.json, ensure_ascii=False)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ")


def tarball(members=(), *, gz=True):
    """A tar(.gz) in memory; members are (name, bytes) files or (name, TarInfo) entries."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for name, data in members:
            if isinstance(data, tarfile.TarInfo):
                archive.addfile(data)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return name, info


@pytest.fixture
def world(app, client):
    """root owns census (with a grid group), mia is a viewer; root is signed in with a CSRF
    token; tokens warmed up (their first use stamps them)."""
    root = make_user("root", "root-password")
    mia = make_user("mia", "mia-password")
    project = make_project(root, "census", public=False)
    add_member(project, mia, "viewer")
    group = make_group(project, content=grid_yml(3), name="kept")
    other = make_group(project, content=grid_yml(2), name="other")
    experiment = db.session.scalar(select(Experiment.id).where(Experiment.group_id == group.id))
    headers, viewer = auth(make_token(root)), auth(make_token(mia))
    ui = app.test_client()
    page = BeautifulSoup(ui.get("/login").data, "html.parser")
    csrf = page.select_one("input[name=csrf_token]")["value"]
    assert ui.post("/login", data={"username": "root", "password": "root-password",
                                   "csrf_token": csrf}).status_code == 302
    for key in (headers, viewer):
        client.get("/api/v1/users", headers=key)
    app.config.update(REPO_MAX_MEMBERS=5, REPO_MAX_UNPACKED_BYTES=1000)
    return {"api": client, "ui": ui, "csrf": csrf, "h": headers, "viewer": viewer,
            "group": group.id, "other": other.id, "experiment": experiment,
            "G": f"{UP}/groups/{group.id}", "E": f"{UP}/experiments/{experiment}",
            "UG": f"{UI}/groups/{group.id}"}


def _post_json(w, url, raw, content_type="application/json", method="post"):
    return getattr(w["api"], method)(url, data=raw, content_type=content_type, headers=w["h"])


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
    ("name not a slug", "/groups", json.dumps({"content": grid_yml(1), "name": "a b"}),
     "Enter a valid name"),
    ("name too long", "/groups", json.dumps({"content": grid_yml(1), "name": "a" * 129}),
     "Enter a valid name"),
    ("name taken", "/groups", json.dumps({"content": grid_yml(1), "name": "kept"}), "name"),
    ("51 tags", "/groups", json.dumps({"content": grid_yml(1), "tags": ["t"] * 51}),
     "At most 50 tags"),
    ("tag too long", "/groups", json.dumps({"content": grid_yml(1), "tags": ["t" * 65]}),
     "at most 64 characters"),
    ("tags a string", "/groups", json.dumps({"content": grid_yml(1), "tags": "a,b"}), "tags"),
    ("description too long", "/groups",
     json.dumps({"content": grid_yml(1), "description": "d" * 10001}), "description"),
    ("deeply nested JSON", "/groups", "[" * 100000 + "]" * 100000, "JSON"),
    ("deeply nested object", "/groups", '{"a":' * 50000 + "1" + "}" * 50000, "JSON"),
    ("integer of 5000 digits", "/groups", '{"content": ' + "9" * 5000 + "}", "JSON"),
    ("grid too large", "/groups",
     json.dumps({"content": "version: 1\nkind: group\nhptuning:\n  matrix:\n    x: "
                            "{range: [0, 100000000, 1]}\nrun:\n  cmd: echo\n"}),
     "content"),
    *[(f"template bomb: {_name}", "/groups",
       json.dumps({"content": "version: 1\nkind: group\nhptuning:\n  matrix:\n    x: "
                              "{values: [1]}\nrun:\n  cmd: " + json.dumps(_cmd) + "\n"}), _says)
      for _name, _cmd, _says in [
          ("replace twice", "{{ 'ab'|replace('a', 'a' * 90000)|replace('a', 'a' * 90000) }}",
           "memory limit"),
          ("center", "{{ 'a'|center(1000000000) }}", "memory limit"),
          ("format", "{{ '%1000000000d'|format(1) }}", "memory limit"),
          ("doubling loop", "{% set s = namespace(v='ab') %}{% for i in range(60) %}"
                            "{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}", "limit of"),
          ("nested ranges", "{% for i in range(100000) %}{% for j in range(100000) %}"
                            "{% endfor %}{% endfor %}", "time limit"),
          ("nested ranges printing", "{% for i in range(100000) %}{% for j in range(100000) %}"
                                     "x{% endfor %}{% endfor %}", "100,000 characters"),
      ]],
    ("concurrency past any integer", "/groups",
     json.dumps({"content": grid_yml(1).replace("concurrency: 2", "concurrency: 1" + "0" * 30)}),
     "hptuning.concurrency: must be <= 10,000"),
    ("concurrency 10001", "/groups",
     json.dumps({"content": grid_yml(1).replace("concurrency: 2", "concurrency: 10001")}),
     "hptuning.concurrency: must be <= 10,000, got 10001"),
    ("hyperband past the experiment cap", "/groups",
     json.dumps({"content": "version: 1\nkind: group\nhptuning:\n  hyperband: {max_iter: "
                            "1000000, eta: 3, resource: {name: e}, metric: {name: loss}}\n"
                            "  matrix:\n    x: {uniform: [0, 1]}\nrun:\n  cmd: echo\n"}),
     "hptuning.hyperband.max_iter: 1000000 with eta 3 makes more than 10000 experiments"),
    *[(f"bo {_key} past its limit", "/groups",
       json.dumps({"content": "version: 1\nkind: group\nhptuning:\n  bo: {n_initial_trials: 1, "
                              "n_iterations: 1, metric: {name: loss}, utility_function: "
                              f"{{{_value}}}}}\n  matrix:\n    x: {{uniform: [0, 1]}}\n"
                              "run:\n  cmd: echo\n"}), _says)
      for _key, _value, _says in [
          ("n_warmup", "n_warmup: 1000000000",
           "hptuning.bo.utility_function.n_warmup: must be <= 100,000, got 1000000000"),
          ("n_iter", "n_iter: 251", "hptuning.bo.utility_function.n_iter: must be <= 250"),
          ("n_restarts_optimizer", "gaussian_process: {n_restarts_optimizer: 11}",
           "gaussian_process.n_restarts_optimizer: must be <= 10, got 11"),
      ]],
]
for _label, _path, _raw, _says in BODIES:
    bad(f"POST groups: {_label}", 400, _says)(
        lambda w, path=_path, raw=_raw: _post_json(w, UP + path, raw))

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
        lambda w, body=_body: _post_json(
            w, w["G"], json.dumps(body) if body is not None else '{"concurrency": 1e400}',
            method="patch"))

OTHER_BODIES = [
    ("stop: pending a string", "G", "/stop", {"pending": "yes"}, "pending"),
    ("group status: unknown", "G", "/statuses", {"status": "bogus"}, "bogus"),
    ("group status: illegal transition", "G", "/statuses", {"status": "succeeded"}, "succeeded"),
    ("group status: missing", "G", "/statuses", {"message": "x"}, "This field is required."),
    ("group status: message with a NUL", "G", "/statuses",
     {"status": "running", "message": "a\x00b"}, "NUL characters are not allowed in message"),
    ("objective: bad direction", "G", "/objective", {"metric": "loss", "optimization": "up"},
     "optimization"),
    ("objective: empty metric", "G", "/objective", {"metric": "", "optimization": "maximize"},
     "metric"),
    ("objective: metric too long", "G", "/objective",
     {"metric": "m" * 129, "optimization": "maximize"}, "metric"),
    ("tensorboard: is_managed a string", "G", "/tensorboard/start", {"is_managed": "yes"},
     "is_managed"),
    ("metrics: empty values", "E", "/metrics", {"values": {}}, "Report at least one metric."),
    ("metrics: NaN", "E", "/metrics", None, "not a finite number"),
    ("metrics: Infinity", "E", "/metrics", "Infinity", "not a finite number"),
    ("metrics: 1e400", "E", "/metrics", "1e400", "not a finite number"),
    ("metrics: an integer of 401 digits", "E", "/metrics", "1" + "0" * 400,
     "not a finite number"),
    ("metrics: an empty list", "E", "/metrics", [], "at least 1 item"),
    ("metrics: a string value", "E", "/metrics", {"values": {"loss": "low"}}, "not a number"),
    ("metrics: a boolean value", "E", "/metrics", {"values": {"loss": True}}, "not a number"),
    ("metrics: bad name", "E", "/metrics", {"values": {"a b": 1}}, "not a valid metric name"),
    ("metrics: 101 metrics", "E", "/metrics", {"values": {f"m{i}": 1 for i in range(101)}},
     "At most 100 metrics"),
    ("metrics: bad created_at", "E", "/metrics", {"values": {"x": 1}, "created_at": "yesterday"},
     "created_at"),
    ("metrics: created_at a number", "E", "/metrics", {"values": {"x": 1}, "created_at": 5},
     "ISO 8601"),
    ("metrics: 1001 reports", "E", "/metrics", [{"values": {"x": 1}}] * 1001, "1000"),
    ("metrics: a list of strings", "E", "/metrics", ["x"], "0"),
    ("experiment status: unknown", "E", "/statuses", {"status": "bogus"}, "bogus"),
    ("experiment: name not a slug", "E", "/", {"name": "a/b"}, "Enter a valid name"),
    ("experiment: description with a NUL", "E", "/", {"description": "\x00"},
     "NUL characters are not allowed in description"),
    ("metrics: a name with a NUL", "E", "/metrics", {"values": {"a\x00": 1}},
     "NUL characters are not allowed"),
]


def _other_body(w, base, path, body):
    if isinstance(body, str) or body is None:
        raw = '{"values": {"loss": %s}}' % ("NaN" if body is None else body)
    else:
        raw = json.dumps(body)
    method = {"/objective": "put", "/": "patch"}.get(path, "post")
    return _post_json(w, w[base] + path, raw, method=method)


for _label, _base, _path, _body, _says in OTHER_BODIES:
    bad(_label, 400, _says)(lambda w, b=_base, p=_path, body=_body: _other_body(w, b, p, body))

PROJECT_BODIES = [
    ("project: name not a slug", {"name": "my project"}, "Enter a valid name"),
    ("project: name missing", {"description": "x"}, "This field is required."),
    ("project: is_public a string", {"name": "p2", "is_public": "yes"}, "is_public"),
    ("project: name taken", {"name": "census"}, "name"),
    ("project: tags a dict", {"name": "p3", "tags": {"a": 1}}, "tags"),
    ("project: description with a NUL", {"name": "p4", "description": "a\x00b"},
     "NUL characters are not allowed in description"),
]
for _label, _body, _says in PROJECT_BODIES:
    bad(_label, 400, _says)(
        lambda w, body=_body: _post_json(w, "/api/v1/projects", json.dumps(body)))

LOGINS = [
    ("login: username a number", {"username": 5, "password": "x"}, "username"),
    ("login: password a list", {"username": "root", "password": ["x"]}, "password"),
    ("login: password missing", {"username": "root"}, "This field is required."),
    ("login: wrong password", {"username": "root", "password": "nope"}, "Unable to log in"),
    ("login: unknown user", {"username": "ghost", "password": "nope"}, "Unable to log in"),
    ("login: username too long", {"username": "u" * 151, "password": "x"}, "username"),
    ("login: username with a NUL", {"username": "ro\x00ot", "password": "x"},
     "NUL characters are not allowed in username"),
]
for _label, _body, _says in LOGINS:
    bad(_label, 400, _says)(
        lambda w, body=_body: w["api"].post("/api/v1/users/token", json=body))


@bad("login: XML body", 400, "Unsupported content type 'application/xml'")
def _login_xml(w):
    return w["api"].post("/api/v1/users/token", data="<u/>", content_type="application/xml")


@bad("POST groups: text/plain body", 400, "Unsupported content type 'text/plain'")
def _text_plain(w):
    return _post_json(w, UP + "/groups", "version: 1", content_type="text/plain")


@bad("POST groups: form body", 400, "application/x-www-form-urlencoded")
def _form_body(w):
    return w["api"].post(UP + "/groups", data={"content": "x"}, headers=w["h"])


@bad("POST groups: body over 1 MiB", 413, "Request body too large.")
def _oversized(w):
    return _post_json(w, UP + "/groups", json.dumps({"content": "#" * (1024 * 1024 + 10)}))


@bad("metrics: body over 1 MiB", 413, "Request body too large.")
def _oversized_metrics(w):
    return _post_json(w, w["E"] + "/metrics", json.dumps({"values": {"x": 1}, "p": "x" * 2**20}))


# ---- API: query strings and path parameters ----------------------------------------------

QUERIES = [
    ("limit -1", "/groups?limit=-1", "limit must be a non-negative integer"),
    ("limit abc", "/groups?limit=abc", "limit must be a non-negative integer"),
    ("limit NaN", "/groups?limit=NaN", "limit must be a non-negative integer"),
    ("limit 1.5", "/groups?limit=1.5", "limit must be a non-negative integer"),
    ("offset -5", "/groups?offset=-5", "offset must be a non-negative integer"),
    ("offset 2^64", f"/groups?offset={2**64}", "offset must be at most"),
    ("offset with spaces", "/groups?offset=1%200", "offset must be a non-negative integer"),
    ("query unknown field", "/groups?query=colour:red", "colour"),
    ("query bad syntax", "/groups?query=status", "status"),
    ("query with a NUL", "/groups?query=name:a%00b", "NUL characters are not allowed in query"),
    ("sort with a NUL", "/experiments?group={group}&sort=params.a%00",
     "NUL characters are not allowed in sort"),
    ("query bad comparison", "/groups?query=concurrency:<<1", "'<1' is not an integer"),
    ("sort unknown field", "/groups?sort=colour", "colour"),
    ("query id past 64 bits", f"/groups?query=id:{10**30}", "is not an integer for id"),
    ("query id past 32 bits", f"/groups?query=id:{2**31}", "is out of range for id"),
    ("query concurrency past 32 bits", f"/groups?query=concurrency:>{2**40}",
     "is out of range for concurrency"),
    ("query concurrency of 400 digits", "/groups?query=concurrency:>" + "9" * 400,
     "is not an integer for concurrency"),
    ("experiments: id past 64 bits", "/experiments?group={group}&query=id:<" + str(10**30),
     "is not an integer for id"),
    ("experiments: id past 32 bits", "/experiments?group={group}&query=id:>" + str(2**31),
     "is out of range for id"),
    ("experiments: missing group", "/experiments", '"group": ["This field is required."]'),
    ("experiments: group abc", "/experiments?group=abc", "group must be an integer id"),
    ("experiments: bad query", "/experiments?group={group}&query=metric.loss:<", "needs one value"),
    ("experiments: bad sort", "/experiments?group={group}&sort=bogus", "bogus"),
    ("experiments: metric compared with an operator",
     "/experiments?group={group}&query=metric.loss:<<", "'<' is not a number"),
    ("experiments: metric compared with a word",
     "/experiments?group={group}&query=metric.loss:>=abc", "'abc' is not a number"),
    ("experiments: format xml", "/experiments?group={group}&format=xml", "format must be"),
    ("export: bad query", "/groups/{group}/experiments?format=csv&query=x:1", "x"),
    ("logs: tail abc", "/experiments/{experiment}/logs?tail=abc", "tail must be"),
    ("logs: tail -3", "/experiments/{experiment}/logs?tail=-3", "tail must be"),
    ("statuses: limit x", "/groups/{group}/statuses?limit=x", "limit must be"),
    ("timeline: offset -1", "/groups/{group}/timeline?offset=-1", "offset must be"),
    ("metrics list: offset huge", "/experiments/{experiment}/metrics?offset=99999999999999999999",
     "offset must be at most"),
]
for _label, _path, _says in QUERIES:
    bad(f"query: {_label}", 400, _says)(
        lambda w, path=_path: w["api"].get(UP + path.format(**w), headers=w["h"]))

PATHS = [
    ("unknown group", "/groups/999999/", "Not found."),
    ("group id past 32 bits", f"/groups/{2**31}/", "Not found."),
    ("?group past 32 bits", f"/experiments?group={2**40}", "Not found."),
    ("?group a huge negative id", "/experiments/?group=-53822225618946920284160", "Not found."),
    ("group id past 64 bits", "/groups/99999999999999999999999/", "Not found."),
    ("group id negative", "/groups/-1/", "Not found."),
    ("unknown experiment", "/experiments/999999/", "Not found."),
    ("experiment id past 64 bits", f"/experiments/{2**64}/metrics/", "Not found."),
    ("unknown plot", "/groups/{group}/plots/pie/", "Not found."),
    ("unknown project", "/../nope/groups/", "Not found."),
    ("project name with a NUL", "/../cen%00sus/groups/", "Not found."),
    ("path with NUL", "/groups/%00/", "Not found."),
    ("decimal group id", "/groups/1.5/", "Not found."),
]
for _label, _path, _says in PATHS:
    bad(f"path: {_label}", 404, _says)(
        lambda w, path=_path: w["api"].get(UP + path.format(**w), headers=w["h"]))


@bad("path: project of an unknown user", 404, "Not found.")
def _unknown_user(w):
    return w["api"].get("/api/v1/nobody/census/groups/", headers=w["h"])


@bad("method: GET on stop", 405, 'Method \\"GET\\" not allowed.')
def _wrong_method(w):
    return w["api"].get(w["G"] + "/stop/", headers=w["h"])


# ---- API: headers -------------------------------------------------------------------------

HEADERS = [
    ("no credentials", {}, 401, "Authentication credentials were not provided."),
    ("Basic scheme", {"Authorization": "Basic cm9vdDpwdw=="}, 401, "Invalid token."),
    ("token without a key", {"Authorization": "token "}, 401, "Invalid token."),
    ("unknown token", {"Authorization": "token " + "0" * 40}, 401, "Invalid token."),
    ("unknown bearer", {"Authorization": "Bearer nope"}, 401, "Invalid token."),
    ("token of 10,000 characters", {"Authorization": "token " + "a" * 10000}, 401,
     "Invalid token."),
    ("viewer stopping a group", "viewer", 403, "You do not have permission"),
]
for _label, _headers, _status, _says in HEADERS:
    bad(f"header: {_label}", _status, _says)(
        lambda w, headers=_headers: w["api"].post(
            w["G"] + "/stop", json={}, headers=w["viewer"] if headers == "viewer" else headers))


@bad("header: session cookie without X-CSRFToken", 403, "CSRF Failed")
def _cookie_without_csrf(w):
    return w["ui"].post(w["G"] + "/stop", json={})


@bad("header: session cookie with a wrong X-CSRFToken", 403, "CSRF Failed")
def _cookie_wrong_csrf(w):
    return w["ui"].post(w["G"] + "/stop", json={}, headers={"X-CSRFToken": "forged"})


@bad("header: charset that is not UTF-8", 400, "Malformed JSON")
def _latin1(w):
    return _post_json(w, UP + "/groups", '{"content": "caf\xe9"}'.encode("latin-1"),
                      content_type="application/json; charset=latin-1")


# ---- uploads --------------------------------------------------------------------------------

def _upload(w, data, *, field="repo", headers=None):
    files = {field: (io.BytesIO(data), "code.tar.gz")} if data is not None else {}
    return w["api"].put(UP + "/repo/upload", data=files, content_type="multipart/form-data",
                        headers=headers or w["h"])


UPLOADS = [
    ("corrupt gzip", b"\x1f\x8b\x08\x00garbage", "repo"),
    ("plain text", b"hello, not an archive", "not a readable tar archive"),
    ("gzip of text", gzip.compress(b"hello"), "not a readable tar archive"),
    ("empty file", b"", "repo"),
    ("path escape with ..", tarball([("../evil.py", b"x")]), "'..' in a path is not allowed"),
    ("nested path escape", tarball([("a/../../evil.py", b"x")]), "'..' in a path"),
    ("absolute path", tarball([("/etc/evil", b"x")]), "absolute paths are not allowed"),
    ("backslash name", tarball([("a\\..\\b", b"x")]), "backslashes"),
    ("symlink out", tarball([link("out", "/etc/passwd")]), "is not allowed"),
    ("hard link", tarball([("a", b"x"), link("b", "a", tarfile.LNKTYPE)]), "is not allowed"),
    ("fifo", tarball([link("pipe", "", tarfile.FIFOTYPE)]), "is not allowed"),
    ("too many files", tarball([(f"f{i}.py", b"x") for i in range(6)]), "repo"),
    ("unpacks too big", tarball([("big.bin", b"0" * 5000)]), "limit of 1000 bytes per upload"),
]
for _label, _data, _says in UPLOADS:
    bad(f"upload: {_label}", 400, _says)(lambda w, data=_data: _upload(w, data))


@bad("upload: a 400 MiB bomb", 400, "larger than the limit of 256 MiB per upload")
def _upload_bomb(w):
    config = w["api"].application.config
    before = config["REPO_MAX_UNPACKED_BYTES"]
    config["REPO_MAX_UNPACKED_BYTES"] = 256 * 1024 * 1024  # the default
    try:
        return _upload(w, zeros_tarball(400 * 1024 * 1024))
    finally:
        config["REPO_MAX_UNPACKED_BYTES"] = before


@bad("upload: over the project's quota", 400, "left in the project's code quota")
def _upload_over_quota(w):
    config = w["api"].application.config
    keys = ("REPO_MAX_UNPACKED_BYTES", "REPO_PROJECT_QUOTA_BYTES")
    before = {key: config[key] for key in keys}
    config.update(REPO_MAX_UNPACKED_BYTES=10000, REPO_PROJECT_QUOTA_BYTES=2000)
    try:
        return _upload(w, tarball([("big.bin", b"0" * 5000)]))
    finally:
        config.update(before)


@bad("upload: no repo field", 400, "This field is required")
def _upload_without_field(w):
    return _upload(w, tarball([("a.py", b"x")]), field="code")


@bad("upload: JSON instead of multipart", 400, "send multipart/form-data")
def _upload_json(w):
    return w["api"].put(UP + "/repo/upload", json={"repo": "x"}, headers=w["h"])


@bad("upload: by a viewer", 403, "You do not have permission")
def _upload_viewer(w):
    return _upload(w, tarball([("a.py", b"x")]), headers=w["viewer"])


@bad("upload: over the size limit", 413, "Request body too large.")
def _upload_too_big(w):
    w["api"].application.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        return _upload(w, b"\0" * (128 * 1024))
    finally:
        w["api"].application.config["MAX_CONTENT_LENGTH"] = 150 * 1024 * 1024


# ---- UI forms -------------------------------------------------------------------------------

def _form(w, url, data, *, htmx=False, csrf=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return w["ui"].post(url, data={**data, **({"csrf_token": w["csrf"]} if csrf else {})},
                        headers=headers)


def _signed_out():
    """A new browser: a client of its own, on the login page, with its own CSRF token."""
    # The tests' app context spans requests, so flask-wtf's per-request token cache in `g`
    # would hand this client the signed-in client's token.
    g.pop("csrf_token", None)
    client = current_app.test_client()
    page = BeautifulSoup(client.get("/login").data, "html.parser")
    return client, page.select_one("input[name=csrf_token]")["value"]


@bad("form: login with a wrong password", 401, "Wrong username or password.")
def _ui_login_wrong(w):
    client, csrf = _signed_out()
    return client.post("/login", data={"username": "root", "password": "x", "csrf_token": csrf})


@bad("form: login without fields", 401, "Wrong username or password.")
def _ui_login_empty(w):
    client, csrf = _signed_out()
    return client.post("/login", data={"csrf_token": csrf})


@bad("form: login with a NUL in the username", 400,
     "NUL characters are not allowed in username")
def _ui_login_nul(w):
    client, csrf = _signed_out()
    return client.post("/login", data={"username": "ro\x00ot", "password": "x",
                                       "csrf_token": csrf})


@bad("form: login without a CSRF token", 400, "CSRF")
def _ui_login_no_csrf(w):
    client, _ = _signed_out()
    return client.post("/login", data={"username": "root", "password": "x"})


FORMS = [
    ("password: wrong current", "/settings/password",
     {"current_password": "x", "new_password": "long-enough-1", "confirm_password":
      "long-enough-1"}, "The current password is wrong."),
    ("password: too short", "/settings/password",
     {"current_password": "root-password", "new_password": "a", "confirm_password": "a"},
     "Use at least"),
    ("password: confirmation differs", "/settings/password",
     {"current_password": "root-password", "new_password": "long-enough-1",
      "confirm_password": "long-enough-2"}, "The two new passwords differ."),
    ("token: no name", "/settings/tokens", {"name": "   "}, "Give the token a name."),
    ("token: name too long", "/settings/tokens", {"name": "n" * 500}, "Use at most"),
    ("token: name with a NUL", "/settings/tokens", {"name": "a\x00b"},
     "NUL characters are not allowed in name"),
    ("project: description with a NUL", "/projects", {"name": "p5", "description": "\x00"},
     "NUL characters are not allowed in description"),
    ("project: name not a slug", "/projects", {"name": "my project"}, "Enter a valid name"),
    ("project: name taken", "/projects", {"name": "census"}, "census"),
    ("project: no name", "/projects", {"name": ""}, "name"),
    ("group: empty polyaxonfile", f"{UI}/groups", {"content": ""}, "content"),
    ("group: polyaxonfile not YAML", f"{UI}/groups", {"content": "{[:"}, "YAML"),
    ("group: polyaxonfile of a job", f"{UI}/groups", {"content": "version: 1\nkind: job\n"},
     "kind"),
    ("members: unknown user", f"{UI}/settings/members", {"username": "ghost", "role": "viewer"},
     "ghost"),
    ("members: unknown role", f"{UI}/settings/members", {"username": "mia", "role": "king"},
     "king"),
]
for _label, _url, _data, _says in FORMS:
    bad(f"form: {_label}", 400, _says)(lambda w, url=_url, data=_data: _form(w, url, data))

GROUP_FORMS = [
    ("edit: description too long", "/edit", {"description": "d" * 10001}, "too long"),
    ("edit: description with a NUL", "/edit", {"description": "a\x00b"},
     "NUL characters are not allowed in description"),
    ("edit: 51 tags", "/edit", {"tags": ",".join(f"t{i}" for i in range(51))},
     "At most 50 tags"),
    ("edit: tag too long", "/edit", {"tags": "t" * 65}, "at most 64 characters"),
    ("concurrency: abc", "/concurrency", {"concurrency": "abc"}, "whole number"),
    ("concurrency: 0", "/concurrency", {"concurrency": "0"}, "whole number"),
    ("concurrency: 10001", "/concurrency", {"concurrency": "10001"}, "whole number"),
    ("concurrency: empty", "/concurrency", {"concurrency": ""}, "whole number"),
    ("concurrency: 1e3", "/concurrency", {"concurrency": "1e3"}, "whole number"),
    ("objective: bad direction", "/objective", {"metric": "loss", "optimization": "up"},
     "maximize"),
    ("objective: no metric", "/objective", {"metric": "", "optimization": "maximize"},
     "metric name"),
]
for _label, _path, _data, _says in GROUP_FORMS:
    bad(f"form: {_label}", 400, _says)(
        lambda w, path=_path, data=_data: _form(w, w["UG"] + path, data, htmx=True))


@bad("form: revoke a token id past 64 bits", 404, "Not found")
def _ui_revoke_huge(w):
    return _form(w, "/settings/tokens/99999999999999999999/revoke", {})


@bad("form: group page of a group id past 32 bits", 404, "Not found")
def _ui_huge_group(w):
    return w["ui"].get(f"{UI}/groups/{2**40}/")


@bad("compare: an id past 64 bits", 400, "99999999999999999999999 is not an id")
def _compare_huge_id(w):
    return w["ui"].get(f"{UI}/compare?experiments={w['experiment']},99999999999999999999999")


@bad("form: group edit without a CSRF token", 400, "CSRF")
def _ui_edit_no_csrf(w):
    return _form(w, w["UG"] + "/edit", {"description": "x"}, csrf=False)


FILTERS = [
    ("unknown field", "query=colour:red", "colour"),
    ("value missing", "query=metric.loss:<", "needs one value"),
    ("unknown sort", "sort=bogus", "bogus"),
    ("dangling negation", "query=status:~", "status"),
    ("metric compared with a word", "query=metric.loss:>=abc", "'abc' is not a number"),
]
for _label, _query, _says in FILTERS:
    bad(f"filter box: {_label}", 400, _says)(
        lambda w, query=_query: w["ui"].get(f"{w['UG']}/experiments?{query}",
                                            headers={"HX-Request": "true"}))


@bad("filter box: bad query on the full page", 400, "colour")
def _filter_page(w):
    return w["ui"].get(f"{w['UG']}/?query=colour:red")


# ---- the census -----------------------------------------------------------------------------


def test_every_bad_input_gets_a_precise_4xx_and_changes_nothing(world, capsys):
    labels = [label for label, *_ in CASES]
    assert len(set(labels)) == len(labels), "labels must be distinct"
    server_errors, changes, wrong = [], [], []
    for label, status, says, send in CASES:
        before = snapshot()
        response = send(world)
        after = snapshot()
        text = message_of(response)
        if response.status_code >= 500:
            server_errors.append(f"{label}: {response.status_code} {text[:200]}")
        elif response.status_code != status or says not in text:
            wrong.append(f"{label}: expected {status} saying {says!r}, got "
                         f"{response.status_code}: {text[:300]!r}")
        if after != before:
            changed = sorted(name for name in after if after[name] != before[name])
            changes.append(f"{label}: changed {changed}")
    with capsys.disabled():
        print(f"\n{len(CASES)} bad inputs, {len(server_errors)} server errors, "
              f"{len(changes)} changes")
    assert not server_errors and not changes and not wrong, "\n".join(
        server_errors + changes + wrong)
    assert len(CASES) >= 100
