"""Census cases: the UI's forms, the compare page and the filter box."""

from bs4 import BeautifulSoup
from flask import current_app, g

from tests.factories import grid_yml
from tests.support.census import UI, Cases

CASES = Cases()
bad = CASES.bad

# ---- UI forms -------------------------------------------------------------------------------


def _form(w, url, data, *, htmx=False, csrf=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return w["ui"].post(
        url, data={**data, **({"csrf_token": w["csrf"]} if csrf else {})}, headers=headers
    )


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


@bad("form: login with a NUL in the username", 400, "NUL characters are not allowed in username")
def _ui_login_nul(w):
    client, csrf = _signed_out()
    return client.post("/login", data={"username": "ro\x00ot", "password": "x", "csrf_token": csrf})


@bad("form: login without a CSRF token", 400, "CSRF")
def _ui_login_no_csrf(w):
    client, _ = _signed_out()
    return client.post("/login", data={"username": "root", "password": "x"})


FORMS = [
    (
        "password: wrong current",
        "/settings/password",
        {
            "current_password": "x",
            "new_password": "long-enough-1",
            "confirm_password": "long-enough-1",
        },
        "The current password is wrong.",
    ),
    (
        "password: too short",
        "/settings/password",
        {"current_password": "root-password", "new_password": "a", "confirm_password": "a"},
        "Use at least",
    ),
    (
        "password: confirmation differs",
        "/settings/password",
        {
            "current_password": "root-password",
            "new_password": "long-enough-1",
            "confirm_password": "long-enough-2",
        },
        "The two new passwords differ.",
    ),
    ("token: no name", "/settings/tokens", {"name": "   "}, "Give the token a name."),
    ("token: name too long", "/settings/tokens", {"name": "n" * 500}, "Use at most"),
    (
        "token: name with a NUL",
        "/settings/tokens",
        {"name": "a\x00b"},
        "NUL characters are not allowed in name",
    ),
    (
        "project: description with a NUL",
        "/projects",
        {"name": "p5", "description": "\x00"},
        "NUL characters are not allowed in description",
    ),
    ("project: name not a slug", "/projects", {"name": "my project"}, "Enter a valid name"),
    ("project: name taken", "/projects", {"name": "census"}, "census"),
    ("project: no name", "/projects", {"name": ""}, "name"),
    ("selection: no ids", f"{UI}/tensorboards", {"experiments": " "}, "Choose at least one"),
    ("selection: ids not numbers", f"{UI}/tensorboards", {"experiments": "1,b"}, "comma-separated"),
    ("group: empty polyaxonfile", f"{UI}/groups", {"content": ""}, "content"),
    ("group: polyaxonfile not YAML", f"{UI}/groups", {"content": "{[:"}, "YAML"),
    (
        "group: polyaxonfile of a job",
        f"{UI}/groups",
        {"content": "version: 1\nkind: job\n"},
        "kind",
    ),
    (
        "members: unknown user",
        f"{UI}/settings/members",
        {"username": "ghost", "role": "viewer"},
        "ghost",
    ),
    (
        "members: unknown role",
        f"{UI}/settings/members",
        {"username": "mia", "role": "king"},
        "king",
    ),
    (
        "webhook: a javascript: URL",
        f"{UI}/settings/webhooks",
        {"url": "javascript:alert(1)", "events": "group.failed"},
        "Only http and https URLs.",
    ),
    (
        "webhook: no host",
        f"{UI}/settings/webhooks",
        {"url": "https://", "events": "group.failed"},
        "The URL names no host.",
    ),
    (
        "webhook: no event",
        f"{UI}/settings/webhooks",
        {"url": "https://hooks.example.com/x"},
        "At least one of",
    ),
    (
        "webhook: an unknown event",
        f"{UI}/settings/webhooks",
        {"url": "https://hooks.example.com/x", "events": "group.exploded"},
        "Unknown event 'group.exploded'",
    ),
    (
        "webhook: a secret too long",
        f"{UI}/settings/webhooks",
        {"url": "https://hooks.example.com/x", "events": "group.failed", "secret": "s" * 257},
        "At most 256 characters.",
    ),
]
for _label, _url, _data, _says in FORMS:
    bad(f"form: {_label}", 400, _says)(lambda w, url=_url, data=_data: _form(w, url, data))

GROUP_FORMS = [
    ("edit: description too long", "/edit", {"description": "d" * 10001}, "too long"),
    (
        "edit: description with a NUL",
        "/edit",
        {"description": "a\x00b"},
        "NUL characters are not allowed in description",
    ),
    ("edit: 51 tags", "/edit", {"tags": ",".join(f"t{i}" for i in range(51))}, "At most 50 tags"),
    ("edit: tag too long", "/edit", {"tags": "t" * 65}, "at most 64 characters"),
    ("concurrency: abc", "/concurrency", {"concurrency": "abc"}, "whole number"),
    ("concurrency: 0", "/concurrency", {"concurrency": "0"}, "whole number"),
    ("concurrency: 10001", "/concurrency", {"concurrency": "10001"}, "whole number"),
    ("concurrency: empty", "/concurrency", {"concurrency": ""}, "whole number"),
    ("concurrency: 1e3", "/concurrency", {"concurrency": "1e3"}, "whole number"),
    ("pause: a group not running", "/pause", {}, "only a running one can"),
    ("resume: a group not paused", "/resume", {}, "only a paused one can"),
    ("retry: nothing to retry", "/retry", {}, "not retried yet"),
    ("extend: abc", "/extend", {"n_experiments": "abc"}, "whole number"),
    ("extend: 0", "/extend", {"n_experiments": "0"}, "whole number"),
    ("extend: empty", "/extend", {"n_experiments": ""}, "whole number"),
    ("extend: 1e3", "/extend", {"n_experiments": "1e3"}, "whole number"),
    ("extend: past the cap", "/extend", {"n_experiments": "9" * 30}, "at most"),
    (
        "objective: bad direction",
        "/objective",
        {"metric": "loss", "optimization": "up"},
        "maximize",
    ),
    (
        "objective: no metric",
        "/objective",
        {"metric": "", "optimization": "maximize"},
        "metric name",
    ),
]
for _label, _path, _data, _says in GROUP_FORMS:
    bad(f"form: {_label}", 400, _says)(
        lambda w, path=_path, data=_data: _form(w, w["UG"] + path, data, htmx=True)
    )


NOTES_FORMS = [
    ("version missing", {"markdown": "x"}, 400, "reload the page"),
    ("version not a number", {"markdown": "x", "version": "one"}, 400, "reload the page"),
    ("version negative", {"markdown": "x", "version": "-1"}, 400, "between 0 and"),
    ("version past 32 bits", {"markdown": "x", "version": "9" * 30}, 400, "between 0 and"),
    ("markdown past 100 kB", {"markdown": "x" * 102_401, "version": "0"}, 413, "102,400 bytes"),
    ("markdown with a NUL", {"markdown": "a\x00b", "version": "0"}, 400, "NUL"),
    ("a version never reached", {"markdown": "x", "version": "4"}, 409, "Someone saved"),
]
for _label, _data, _status, _says in NOTES_FORMS:
    bad(f"form: group notes, {_label}", _status, _says)(
        lambda w, data=_data: _form(w, w["UG"] + "/notes", data, htmx=True)
    )
    bad(f"form: experiment notes, {_label}", _status, _says)(
        lambda w, data=_data: _form(w, f"{w['UG']}/experiments/{w['experiment']}/notes", data)
    )


@bad("form: revoke a token id past 64 bits", 404, "Not found")
def _ui_revoke_huge(w):
    return _form(w, "/settings/tokens/99999999999999999999/revoke", {})


@bad("form: stop a TensorBoard id past 64 bits", 404, "Not found")
def _ui_stop_huge_tensorboard(w):
    return _form(w, f"{UI}/tensorboards/99999999999999999999/stop", {})


@bad("form: stop a TensorBoard of no job", 404, "Not found")
def _ui_stop_unknown_tensorboard(w):
    return _form(w, f"{UI}/tensorboards/999999/stop", {}, htmx=True)


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
        lambda w, query=_query: w["ui"].get(
            f"{w['UG']}/experiments?{query}", headers={"HX-Request": "true"}
        )
    )


@bad("filter box: bad query on the full page", 400, "colour")
def _filter_page(w):
    return w["ui"].get(f"{w['UG']}/?query=colour:red")


SPREADS = [("0", "0"), ("-1", "-1"), ("2", "2"), ("abc", "abc"), ("huge", "9" * 5000)]
for _label, _spread in SPREADS:
    bad(f"around-best page: spread {_label}", 400, "The spread must be a number greater than 0")(
        lambda w, spread=_spread: w["ui"].get(f"{w['UG']}/around-best?spread={spread}")
    )


@bad("around-best page: a group without an objective", 400, "The group has no objective")
def _ui_around_best_without_objective(w):
    return w["ui"].get(f"{w['UG']}/around-best")


CLONE_FORMS = [
    ("cloned_from not an id", {"cloned_from": "abc"}, "The group cloned is not a group id."),
    ("cloned_from past 32 bits", {"cloned_from": "9" * 30}, "The group cloned is not a group id."),
    ("name taken", {"name": "other"}, "A group named 'other' already exists"),
    ("name not a slug", {"name": "a b"}, "Enter a valid name"),
]
for _label, _fields, _says in CLONE_FORMS:
    bad(f"form: clone: {_label}", 400, _says)(
        lambda w, fields=_fields: _form(
            w,
            f"{UI}/groups",
            {"content": grid_yml(1), "cloned_from": str(w["group"]), **fields},
        )
    )


@bad("form: clone of a group not in the project", 404, "Not found")
def _ui_clone_unknown(w):
    return _form(w, f"{UI}/groups", {"content": grid_yml(1), "cloned_from": "999999"})
