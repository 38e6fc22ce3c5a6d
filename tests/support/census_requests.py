"""Census cases: query strings, path parameters, headers and code uploads."""

import gzip
import io
import tarfile

from tests.factories import zeros_tarball
from tests.support.census import UP, Cases, link, post_json, tarball

CASES = Cases()
bad = CASES.bad

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
    (
        "sort with a NUL",
        "/experiments?group={group}&sort=params.a%00",
        "NUL characters are not allowed in sort",
    ),
    ("query bad comparison", "/groups?query=concurrency:<<1", "'<1' is not an integer"),
    ("sort unknown field", "/groups?sort=colour", "colour"),
    ("query id past 64 bits", f"/groups?query=id:{10**30}", "is not an integer for id"),
    ("query id past 32 bits", f"/groups?query=id:{2**31}", "is out of range for id"),
    (
        "query concurrency past 32 bits",
        f"/groups?query=concurrency:>{2**40}",
        "is out of range for concurrency",
    ),
    (
        "query concurrency of 400 digits",
        "/groups?query=concurrency:>" + "9" * 400,
        "is not an integer for concurrency",
    ),
    (
        "experiments: id past 64 bits",
        "/experiments?group={group}&query=id:<" + str(10**30),
        "is not an integer for id",
    ),
    (
        "experiments: id past 32 bits",
        "/experiments?group={group}&query=id:>" + str(2**31),
        "is out of range for id",
    ),
    ("experiments: missing group", "/experiments", '"group": ["This field is required."]'),
    ("experiments: group abc", "/experiments?group=abc", "group must be an integer id"),
    ("experiments: bad query", "/experiments?group={group}&query=metric.loss:<", "needs one value"),
    ("experiments: bad sort", "/experiments?group={group}&sort=bogus", "bogus"),
    (
        "experiments: metric compared with an operator",
        "/experiments?group={group}&query=metric.loss:<<",
        "'<' is not a number",
    ),
    (
        "experiments: metric compared with a word",
        "/experiments?group={group}&query=metric.loss:>=abc",
        "'abc' is not a number",
    ),
    ("experiments: format xml", "/experiments?group={group}&format=xml", "format must be"),
    ("export: bad query", "/groups/{group}/experiments?format=csv&query=x:1", "x"),
    ("logs: tail abc", "/experiments/{experiment}/logs?tail=abc", "tail must be"),
    ("logs: tail -3", "/experiments/{experiment}/logs?tail=-3", "tail must be"),
    ("statuses: limit x", "/groups/{group}/statuses?limit=x", "limit must be"),
    ("timeline: offset -1", "/groups/{group}/timeline?offset=-1", "offset must be"),
    (
        "metrics list: offset huge",
        "/experiments/{experiment}/metrics?offset=99999999999999999999",
        "offset must be at most",
    ),
]
for _label, _path, _says in QUERIES:
    bad(f"query: {_label}", 400, _says)(
        lambda w, path=_path: w["api"].get(UP + path.format(**w), headers=w["h"])
    )

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
        lambda w, path=_path: w["api"].get(UP + path.format(**w), headers=w["h"])
    )


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
    (
        "token of 10,000 characters",
        {"Authorization": "token " + "a" * 10000},
        401,
        "Invalid token.",
    ),
    ("viewer stopping a group", "viewer", 403, "You do not have permission"),
]
for _label, _headers, _status, _says in HEADERS:
    bad(f"header: {_label}", _status, _says)(
        lambda w, headers=_headers: w["api"].post(
            w["G"] + "/stop", json={}, headers=w["viewer"] if headers == "viewer" else headers
        )
    )


@bad("header: session cookie without X-CSRFToken", 403, "CSRF Failed")
def _cookie_without_csrf(w):
    return w["ui"].post(w["G"] + "/stop", json={})


@bad("header: session cookie with a wrong X-CSRFToken", 403, "CSRF Failed")
def _cookie_wrong_csrf(w):
    return w["ui"].post(w["G"] + "/stop", json={}, headers={"X-CSRFToken": "forged"})


@bad("header: charset that is not UTF-8", 400, "Malformed JSON")
def _latin1(w):
    return post_json(
        w,
        UP + "/groups",
        '{"content": "caf\xe9"}'.encode("latin-1"),
        content_type="application/json; charset=latin-1",
    )


# ---- uploads --------------------------------------------------------------------------------


def _upload(w, data, *, field="repo", headers=None):
    files = {field: (io.BytesIO(data), "code.tar.gz")} if data is not None else {}
    return w["api"].put(
        UP + "/repo/upload",
        data=files,
        content_type="multipart/form-data",
        headers=headers or w["h"],
    )


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
