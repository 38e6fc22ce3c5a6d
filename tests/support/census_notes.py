"""Census cases: the notes of a group and of an experiment, through the API and the page's form
(census_api.py is at the helpers' size cap)."""

import json

from tests.support.census import Cases, post_json

CASES = Cases()
bad = CASES.bad

NOTES_BODIES = [
    ("malformed JSON", '{"markdown": "x", "version": ', 400, "Malformed JSON"),
    ("a JSON list", '["x", 0]', 400, "not list"),
    ("markdown missing", json.dumps({"version": 0}), 400, "This field is required."),
    ("version missing", json.dumps({"markdown": "x"}), 400, "This field is required."),
    ("version negative", json.dumps({"markdown": "x", "version": -1}), 400, "version"),
    ("version a string", json.dumps({"markdown": "x", "version": "0"}), 400, "version"),
    ("version a fraction", json.dumps({"markdown": "x", "version": 0.5}), 400, "version"),
    ("version true", json.dumps({"markdown": "x", "version": True}), 400, "version"),
    ("version past 32 bits", json.dumps({"markdown": "x", "version": 2**31}), 400, "version"),
    ("version 1e400", '{"markdown": "x", "version": 1e400}', 400, "version"),
    ("markdown a number", json.dumps({"markdown": 5, "version": 0}), 400, "markdown"),
    ("markdown null", json.dumps({"markdown": None, "version": 0}), 400, "markdown"),
    ("markdown a list", json.dumps({"markdown": ["x"], "version": 0}), 400, "markdown"),
    ("markdown with a NUL", json.dumps({"markdown": "a\x00b", "version": 0}), 400, "NUL"),
    (
        "markdown past 100 kB",
        json.dumps({"markdown": "x" * 102_401, "version": 0}),
        413,
        "at most 102,400 bytes",
    ),
    ("a version never reached", json.dumps({"markdown": "x", "version": 3}), 409, "Someone"),
]
for _target in ("G", "E"):
    _what = "group" if _target == "G" else "experiment"
    for _label, _raw, _status, _says in NOTES_BODIES:
        bad(f"PUT {_what} notes: {_label}", _status, _says)(
            lambda w, t=_target, raw=_raw: post_json(w, w[t] + "/notes", raw, method="put")
        )


@bad("PUT group notes: text/plain body", 400, "Unsupported content type 'text/plain'")
def _notes_text_plain(w):
    return post_json(w, w["G"] + "/notes", "# notes", content_type="text/plain", method="put")


@bad("PUT group notes: a viewer", 403, "You do not have permission")
def _notes_viewer(w):
    body = {"markdown": "x", "version": 0}
    return w["api"].put(w["G"] + "/notes", json=body, headers=w["viewer"])
