"""The OpenAPI 3.1 document of /api/v1, built from api/schemas.py and one route table.

ROUTES maps every (path, method) of the API to its request body, query parameters, answer and
the errors beyond the defaults. The document is built from the app's url_map: a rule that has
no row here (or a row with no rule) fails the build, so no route can be left out. The links
between operations (which answer gives which path) come from api/openapi_links.py.
"""

import re
from dataclasses import dataclass, field

from flask import Blueprint, current_app, jsonify, render_template, url_for
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dashboard.api import openapi_links, route, schemas

# The reference page: vendored Swagger UI (static/vendor/, with its license), pinned version.
SWAGGER_UI = "vendor/swagger-ui-dist-5.35.0"
docs = Blueprint("api_docs", __name__)

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
JSON = "application/json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}

SLUG_PARAM = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,150}$"}
PATH_PARAMS = {
    "username": SLUG_PARAM,
    "project_name": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,128}$"},
    "group_id": {"type": "integer", "minimum": 0},
    "experiment_id": {"type": "integer", "minimum": 0},
}
QUERY_PARAMS = {
    "limit": ({"type": "integer", "minimum": 0},
              "Page size: default 20, clamped to 1000."),
    "offset": ({"type": "integer", "minimum": 0}, "Rows to skip."),
    "query": ({"type": "string"},
              "Filter, e.g. metric.loss:<0.1,params.activation:relu|tanh,status:~failed."),
    "sort": ({"type": "string"}, "Sort keys, e.g. -metric.accuracy,created_at."),
    "archived": ({"type": "boolean"}, "true: the archived groups instead."),
    "group": ({"type": "integer", "minimum": 0}, "The group's id (required)."),
    "format": ({"type": "string", "enum": ["csv", "json"]},
               "Export every matching row (limit and offset ignored)."),
    "columns": ({"type": "string"}, "Export columns, comma-separated keys."),
    "metric": ({"type": "string"}, "The metric to plot (default: the group's objective)."),
    "tail": ({"type": "integer", "minimum": 0}, "Only the last N lines."),
}
PAGE = ("limit", "offset")
LIST = ("query", "sort", *PAGE)
EXPORT = (*LIST, "format", "columns")
ERROR_TEXT = {
    400: "Bad input: a detail message or field errors.",
    401: "No credentials, or an invalid token.",
    403: "Not allowed (role, missing CSRF token, or an experiment's own key).",
    404: "No such resource, or one the caller may not see.",
    409: "Conflict.",
    413: "Request body too large.",
    429: "Too many requests.",
}


@dataclass(frozen=True)
class Op:
    """One operation: request body model(s), query parameters, success answer, extra errors."""

    status: int = 200
    out: object = None  # a response model, Paged(model), a media-type map, or None (no body)
    body: tuple = ()  # request models (several: any of them)
    forms: bool = False  # the body may also come as a form
    upload: bool = False  # multipart with the code tarball as `repo`
    query: tuple = ()
    errors: tuple = ()
    public: bool = False
    also: dict = field(default_factory=dict)  # other success statuses: {status: model or None}


@dataclass(frozen=True)
class Paged:
    item: type


GROUP = "/{username}/{project_name}/groups/{group_id}"
EXPERIMENT = "/{username}/{project_name}/experiments/{experiment_id}"
S = schemas
EXPERIMENTS_OUT = {JSON: (Paged(S.ExperimentOut), S.ExportOut), "text/csv": str}

ROUTES = {
    ("/openapi.json", "GET"): Op(out={JSON: dict}, public=True),
    ("/users/token/", "POST"): Op(out=S.TokenOut, body=(S.LoginIn,), forms=True, public=True,
                                  errors=(429,)),
    ("/users/", "GET"): Op(out=S.UserOut),
    ("/versions/cli/", "GET"): Op(out=S.VersionsOut, public=True),
    ("/log_handler/", "GET"): Op(out=S.LogHandlerOut, public=True),
    ("/projects/", "POST"): Op(201, S.ProjectOut, body=(S.ProjectCreateIn,)),
    ("/{username}/", "GET"): Op(out=Paged(S.ProjectOut), query=PAGE),
    ("/{username}/{project_name}/", "GET"): Op(out=S.ProjectOut),
    ("/{username}/{project_name}/repo/upload/", "PUT"): Op(201, S.RepoUploadOut, upload=True),
    ("/{username}/{project_name}/repo/upload/", "POST"): Op(201, S.RepoUploadOut, upload=True),
    ("/bookmarks/{username}/groups/", "GET"): Op(out=Paged(S.BookmarkOut), query=PAGE),
    ("/{username}/{project_name}/groups/", "GET"): Op(out=Paged(S.GroupRowOut),
                                                      query=(*LIST, "archived")),
    ("/{username}/{project_name}/groups/", "POST"): Op(201, S.GroupDetailOut,
                                                       body=(S.GroupCreateIn,)),
    (f"{GROUP}/", "GET"): Op(out=S.GroupDetailOut),
    (f"{GROUP}/", "PATCH"): Op(out=S.GroupDetailOut, body=(S.GroupUpdateIn,)),
    (f"{GROUP}/", "PUT"): Op(out=S.GroupDetailOut, body=(S.GroupUpdateIn,)),
    (f"{GROUP}/", "DELETE"): Op(204),
    (f"{GROUP}/stop/", "POST"): Op(body=(S.StopIn,)),
    (f"{GROUP}/statuses/", "GET"): Op(out=Paged(S.GroupStatusOut), query=PAGE),
    (f"{GROUP}/statuses/", "POST"): Op(201, S.GroupStatusOut, body=(S.StatusIn,)),
    (f"{GROUP}/bookmark/", "POST"): Op(201),
    (f"{GROUP}/unbookmark/", "DELETE"): Op(204),
    (f"{GROUP}/archive/", "POST"): Op(),
    (f"{GROUP}/restore/", "POST"): Op(),
    (f"{GROUP}/tensorboard/start/", "POST"): Op(201, S.TensorboardOut,
                                                body=(S.TensorboardStartIn,),
                                                also={200: S.TensorboardOut}, errors=(409,)),
    (f"{GROUP}/tensorboard/stop/", "POST"): Op(),
    (f"{GROUP}/experiments/", "GET"): Op(out=EXPERIMENTS_OUT, query=EXPORT),
    ("/{username}/{project_name}/experiments/", "GET"): Op(out=EXPERIMENTS_OUT,
                                                          query=(*EXPORT, "group")),
    (f"{GROUP}/objective/", "GET"): Op(out=S.ObjectiveOut),
    (f"{GROUP}/objective/", "PUT"): Op(out=S.ObjectiveOut, body=(S.ObjectiveIn,)),
    (f"{GROUP}/timeline/", "GET"): Op(out=Paged(S.TimelineItemOut), query=PAGE),
    (f"{GROUP}/plots/", "GET"): Op(out=S.PlotNamesOut),
    **{(f"{GROUP}/plots/{name}/", "GET"): Op(out=S.PlotOut, query=("metric",))
       for name in ("metric", "parallel", "scatter", "hyperband", "bo", "importance")},
    (f"{EXPERIMENT}/", "GET"): Op(out=S.ExperimentOut),
    (f"{EXPERIMENT}/", "PATCH"): Op(out=S.ExperimentOut, body=(S.ExperimentUpdateIn,)),
    (f"{EXPERIMENT}/_heartbeat/", "POST"): Op(),
    (f"{EXPERIMENT}/stop/", "POST"): Op(),
    (f"{EXPERIMENT}/statuses/", "GET"): Op(out=Paged(S.ExperimentStatusOut), query=PAGE),
    (f"{EXPERIMENT}/statuses/", "POST"): Op(201, S.ExperimentStatusOut,
                                            body=(S.ExperimentStatusIn,)),
    (f"{EXPERIMENT}/metrics/", "GET"): Op(out=Paged(S.MetricOut), query=PAGE),
    (f"{EXPERIMENT}/metrics/", "POST"): Op(201, {JSON: (S.MetricOut, S.MetricListOut)},
                                           body=(S.MetricIn, S.MetricListIn)),
    (f"{EXPERIMENT}/_runner/start/", "POST"): Op(body=(S.RunnerReportIn,), errors=(409,)),
    (f"{EXPERIMENT}/_runner/heartbeat/", "POST"): Op(out=S.RunnerHeartbeatOut,
                                                     body=(S.RunnerReportIn,), errors=(409,)),
    (f"{EXPERIMENT}/logs/", "GET"): Op(out={"text/plain": str}, query=("tail",)),
    (f"{EXPERIMENT}/outputs/", "GET"): Op(out=S.OutputListOut),
}

_ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_ARGUMENT_NAMES = re.compile(r"{([a-z_]+)}")


class MissingRoute(LookupError):
    """A route of the app has no row in ROUTES (or a row names no route)."""


def openapi_path(rule):
    """A werkzeug rule as the document's path: {name} arguments and a trailing slash (the form
    the client sends), except after a file name such as openapi.json."""
    path = _ARGUMENT.sub(r"{\1}", rule).rstrip("/")
    return path if "." in path.rsplit("/", 1)[-1] else path + "/"


def api_operations(url_map):
    """{(path without the /api/v1 prefix, method): endpoint} of every API rule in url_map."""
    found = {}
    for rule in url_map.iter_rules():
        if rule.rule != PREFIX and not rule.rule.startswith(PREFIX + "/"):
            continue
        path = openapi_path(rule.rule)[len(PREFIX):]
        for method in rule.methods - SKIPPED_METHODS:
            found[(path, method)] = rule.endpoint
    return found


def _models(out):
    """The response models an Op.out names (through pages, unions and media-type maps)."""
    if isinstance(out, Paged):
        return [out.item]
    if isinstance(out, dict):
        return [model for one in out.values() for model in _models(one)]
    if isinstance(out, tuple):
        return [model for one in out for model in _models(one)]
    return [out] if isinstance(out, type) and issubclass(out, BaseModel) else []


def _components():
    """Every model ROUTES names, requests as validated and responses as serialised."""
    requests, responses = {}, dict.fromkeys((S.ErrorOut, S.FieldErrorsOut))
    for op in ROUTES.values():
        requests.update(dict.fromkeys(op.body))
        for out in (op.out, *op.also.values()):
            responses.update(dict.fromkeys(_models(out)))
    pairs = [(model, "validation") for model in requests]
    pairs += [(model, "serialization") for model in responses]
    keys, top = models_json_schema(pairs, ref_template=REF)
    refs = {pair: value["$ref"] for pair, value in keys.items()}
    return refs, top["$defs"]


def _ref(refs, model, mode):
    return {"$ref": refs[(model, mode)]}


def _content_schema(refs, out):
    if out is str:
        return {"type": "string"}
    if out is dict:
        return {"type": "object"}
    if isinstance(out, Paged):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer"},
                "next": {"type": ["string", "null"]},
                "previous": {"type": ["string", "null"]},
                "results": {"type": "array", "items": _ref(refs, out.item, "serialization")},
            },
        }
    if isinstance(out, tuple):
        return {"anyOf": [_content_schema(refs, one) for one in out]}
    return _ref(refs, out, "serialization")


def _success(refs, out):
    if out is None:
        return {"description": "Done (empty body)."}
    media = out if isinstance(out, dict) else {JSON: out}
    return {"description": "Success.",
            "content": {kind: {"schema": _content_schema(refs, one)}
                        for kind, one in media.items()}}


def _error(refs, status):
    schema = _ref(refs, S.ErrorOut, "serialization")
    if status == 400:
        schema = {"anyOf": [schema, _ref(refs, S.FieldErrorsOut, "serialization")]}
    return {"description": ERROR_TEXT[status], "content": {JSON: {"schema": schema}}}


def _request_body(refs, op):
    if op.upload:
        upload = {"type": "object", "required": ["repo"],
                  "properties": {"repo": {"type": "string", "format": "binary",
                                          "description": "The code as a .tar.gz file."}}}
        return {"required": True, "content": {"multipart/form-data": {"schema": upload}}}
    models = [_ref(refs, model, "validation") for model in op.body]
    schema = models[0] if len(models) == 1 else {"anyOf": models}
    content = {JSON: {"schema": schema}}
    for kind in FORM_TYPES if op.forms else ():
        content[kind] = {"schema": schema}
    return {"required": False, "content": content}


def _error_statuses(path, op):
    statuses = set(op.errors)
    if "{" in path:
        statuses.add(404)
    if op.query or op.body or op.upload or op.forms:
        statuses.add(400)
    if op.body or op.upload:
        statuses.add(413)
    if not op.public:
        statuses.update((401, 403))
    return sorted(statuses)


def _operation(refs, path, method, op, view, operation_id):
    doc = (view.__doc__ or "").strip().splitlines()
    operation = {
        "operationId": operation_id,
        "summary": doc[0] if doc else view.__name__,
        "parameters": [],
        "responses": {str(op.status): _success(refs, op.out)},
    }
    for name in _ARGUMENT_NAMES.findall(path):
        operation["parameters"].append(
            {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]})
    for name in op.query:
        schema, text = QUERY_PARAMS[name]
        operation["parameters"].append({"name": name, "in": "query", "required": name == "group",
                                        "schema": schema, "description": text})
    if op.body or op.upload:
        operation["requestBody"] = _request_body(refs, op)
    for status, out in op.also.items():
        operation["responses"][str(status)] = _success(refs, out)
    for status in _error_statuses(path, op):
        operation["responses"][str(status)] = _error(refs, status)
    if op.public:
        operation["security"] = []
    return operation


def build_document(app):
    """The OpenAPI 3.1 document of every /api/v1 route of app (MissingRoute if one has no row)."""
    found = api_operations(app.url_map)
    missing = sorted(set(found) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(found))
    if missing or stale:
        raise MissingRoute(f"routes without a row in ROUTES: {missing}; rows without a route: "
                           f"{stale}")
    refs, components = _components()
    methods_of = {}
    for endpoint in found.values():
        methods_of[endpoint] = methods_of.get(endpoint, 0) + 1
    paths = {}
    for (path, method), endpoint in sorted(found.items()):
        view = app.view_functions[endpoint]
        # One view serving two methods (PATCH and PUT) gets one operation id per method.
        operation_id = view.__name__ + (f"_{method.lower()}" if methods_of[endpoint] > 1 else "")
        paths.setdefault(PREFIX + path, {})[method.lower()] = _operation(
            refs, path, method, ROUTES[(path, method)], view, operation_id)
    openapi_links.add_links(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Experiment-group dashboard API",
            "version": "1",
            "description": "Polyaxon 0.x experiment-group API, compatible with polyaxon-client "
                           "and polyaxon-cli 0.6.1. Every route also answers without its "
                           "trailing slash.",
        },
        "servers": [{"url": "/"}],
        "security": [{"token": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "`Authorization: token <key>`"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@route("/openapi.json/", ["GET"])
def openapi():
    """This API's OpenAPI 3.1 document."""
    app = current_app._get_current_object()
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_document(app)
    return jsonify(app.extensions["openapi"])


@docs.route("/api/docs")
def api_docs():
    """The readable API reference (Swagger UI over openapi.json)."""
    spec_url = url_for("api.openapi").rstrip("/")
    return render_template("api/docs.html", vendor=SWAGGER_UI, spec_url=spec_url)
