"""What an API route is: its answer, body, query parameters and who may call it.

Each view declares its Operation on its route (`route(rule, methods, out=..., body=...)` in
api/__init__.py); the OpenAPI document (openapi.py) and the endpoint sets the authentication
reads (public, experiment key, large body) are built from these, so a route is declared once.
"""

import re
from dataclasses import dataclass, field

JSON = "application/json"
QUERY_PARAMS = {
    "limit": ({"type": "integer", "minimum": 0}, "Page size: default 20, clamped to 1000."),
    "offset": ({"type": "integer", "minimum": 0}, "Rows to skip."),
    "query": (
        {"type": "string"},
        "Filter, e.g. metric.loss:<0.1,params.activation:relu|tanh,status:~failed.",
    ),
    "sort": ({"type": "string"}, "Sort keys, e.g. -metric.accuracy,created_at."),
    "archived": ({"type": "boolean"}, "true: the archived groups instead."),
    "group": ({"type": "integer", "minimum": 0}, "The group's id (required)."),
    "format": (
        {"type": "string", "enum": ["csv", "json"]},
        "Export every matching row (limit and offset ignored).",
    ),
    "columns": ({"type": "string"}, "Export columns, comma-separated keys."),
    "metric": ({"type": "string"}, "The metric to plot (default: the group's objective)."),
    "x": ({"type": "string"}, "The contour's x param (default: the most important one)."),
    "y": ({"type": "string"}, "The contour's y param (default: the next most important one)."),
    "tail": ({"type": "integer", "minimum": 0}, "Only the last N lines."),
    "spread": (
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.25},
        "How far around the best value: a fraction of each option's width.",
    ),
}
PAGE = ("limit", "offset")
LIST = ("query", "sort", *PAGE)
EXPORT = (*LIST, "format", "columns")

_ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@dataclass(frozen=True)
class Paged:
    """An answer that is a page of `item`s (count, next, previous, results)."""

    item: type


@dataclass(frozen=True)
class Operation:
    """One route's operation: success answer, request body model(s), query parameters, extra
    errors, and who may call it (the view's docstring gives its summary)."""

    out: object  # a response model, Paged(model), a media-type map, or None (no body)
    status: int = 200
    body: tuple = ()  # request models (several: any of them)
    forms: bool = False  # the body may also come as a form
    upload: bool = False  # multipart with the code tarball as `repo`, past the JSON body limit
    query: tuple = ()
    errors: tuple = ()
    error_models: dict = field(default_factory=dict)  # {status: its body}, when not ErrorOut
    public: bool = False  # answers without credentials
    experiment_key: bool = False  # an experiment's own key may call it (for that experiment)
    also: dict = field(default_factory=dict)  # other success statuses: {status: model or None}

    def __post_init__(self):
        if not isinstance(self.body, tuple):
            object.__setattr__(self, "body", (self.body,))
        unknown = [name for name in self.query if name not in QUERY_PARAMS]
        if unknown:
            raise ValueError(f"query parameters without a description in QUERY_PARAMS: {unknown}")


def openapi_path(rule):
    """A werkzeug rule as the document's path: {name} arguments and a trailing slash (the form
    the client sends), except after a file name such as openapi.json."""
    path = _ARGUMENT.sub(r"{\1}", rule).rstrip("/")
    return path if "." in path.rsplit("/", 1)[-1] else path + "/"
