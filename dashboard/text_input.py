"""One rule for text the dashboard receives: no NUL characters, anywhere.

PostgreSQL's text columns cannot hold NUL (0x00), so a NUL reaching a query or a row is a
database error; it is refused up front instead. Path segments with one name nothing (404);
query parameters, form fields and JSON strings (keys and values, at any depth) get a 400 naming
the field.
"""

from flask import request

from dashboard.errors import NotFound, field_error

NUL = "\x00"
MAX_DEPTH = 1000  # deeper JSON is refused by the parser first (RecursionError)


def nul_field(data, path=""):
    """The dotted path of the first string holding a NUL in a JSON-like value, else None."""
    stack = [(data, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return where or "body"
        elif isinstance(value, dict) and depth < MAX_DEPTH:
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if NUL in str(key):
                    return name.replace(NUL, "\\0")
                stack.append((item, name, depth + 1))
        elif isinstance(value, list) and depth < MAX_DEPTH:
            stack.extend(
                (item, f"{where}.{i}" if where else str(i), depth + 1)
                for i, item in enumerate(value)
            )
    return None


def refuse_nul(data):
    """400 naming the field when a string in data holds a NUL character."""
    if (field := nul_field(data)) is not None:
        raise field_error(field, f"NUL characters are not allowed in {field}.")


def refuse_nul_in_json(raw, data):
    """refuse_nul for a body parsed from raw JSON bytes: in UTF-8 JSON a NUL can only be the
    escape \\u0000, so a body without that text (nor any zero byte: UTF-16/32) is not walked."""
    if b"\\u0000" in raw or b"\x00" in raw:
        refuse_nul(data)


def check_request():
    """Before every request: path segments, query parameters and (outside the API, whose views
    parse their bodies under their own size limit) form fields."""
    if any(isinstance(v, str) and NUL in v for v in (request.view_args or {}).values()):
        raise NotFound()
    refuse_nul({name: "".join(values) for name, values in request.args.lists()})
    if not request.path.startswith("/api/") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        refuse_nul({name: "".join(values) for name, values in request.form.lists()})


def register(app):
    """Install the check before every request."""
    app.before_request(check_request)
