"""The OpenAPI 3.1 document of /api/v1, built from the operations the routes declare.

route() (api/__init__.py) keeps every (path, method) of the API with its Operation: request
body, query parameters, answer and the errors beyond the defaults, from api/schemas/. The
document is built from the app's url_map: a rule that no route() declared (or a declared
operation with no rule) fails the build, so no route can be left out. The links between
operations (which answer gives which path) come from api/openapi_links.py.
"""

import re

from flask import Blueprint, current_app, jsonify, render_template, url_for
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dashboard.api import ROUTES, openapi_links, route
from dashboard.api.operations import JSON, QUERY_PARAMS, Paged, openapi_path
from dashboard.api.schemas.base import ErrorOut, FieldErrorsOut

# The reference page: vendored Swagger UI (static/vendor/, with its license), pinned version.
SWAGGER_UI = "vendor/swagger-ui-dist-5.35.0"
docs = Blueprint("api_docs", __name__)

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}

SLUG_PARAM = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,150}$"}
PATH_PARAMS = {
    "username": SLUG_PARAM,
    "project_name": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,128}$"},
    "group_id": {"type": "integer", "minimum": 0},
    "experiment_id": {"type": "integer", "minimum": 0},
    "webhook_id": {"type": "integer", "minimum": 0},
    "tensorboard_id": {"type": "integer", "minimum": 0},
}
ERROR_TEXT = {
    400: "Bad input: a detail message or field errors.",
    401: "No credentials, or an invalid token.",
    403: "Not allowed (role, missing CSRF token, or an experiment's own key).",
    404: "No such resource, or one the caller may not see.",
    409: "Conflict.",
    413: "Request body too large.",
    429: "Too many requests.",
}
_ARGUMENT_NAMES = re.compile(r"{([a-z_]+)}")


class MissingRoute(LookupError):
    """A rule of the app was not declared with route() (or a declared operation has no rule)."""


def api_operations(url_map):
    """{(path without the /api/v1 prefix, method): endpoint} of every API rule in url_map."""
    found = {}
    for rule in url_map.iter_rules():
        if rule.rule != PREFIX and not rule.rule.startswith(PREFIX + "/"):
            continue
        path = openapi_path(rule.rule)[len(PREFIX) :]
        for method in rule.methods - SKIPPED_METHODS:
            found[(path, method)] = rule.endpoint
    return found


def _models(out):
    """The response models an Operation.out names (through pages, unions and media-type maps)."""
    if isinstance(out, Paged):
        return [out.item]
    if isinstance(out, dict):
        return [model for one in out.values() for model in _models(one)]
    if isinstance(out, tuple):
        return [model for one in out for model in _models(one)]
    return [out] if isinstance(out, type) and issubclass(out, BaseModel) else []


def _components():
    """Every model the operations name, requests as validated and responses as serialised."""
    requests, responses = {}, dict.fromkeys((ErrorOut, FieldErrorsOut))
    for op in ROUTES.values():
        requests.update(dict.fromkeys(op.body))
        for out in (op.out, *op.also.values(), *op.error_models.values()):
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
    return {
        "description": "Success.",
        "content": {kind: {"schema": _content_schema(refs, one)} for kind, one in media.items()},
    }


def _error(refs, status, model=ErrorOut):
    schema = _ref(refs, model, "serialization")
    if status == 400:
        schema = {"anyOf": [schema, _ref(refs, FieldErrorsOut, "serialization")]}
    return {"description": ERROR_TEXT[status], "content": {JSON: {"schema": schema}}}


def _request_body(refs, op):
    if op.upload:
        upload = {
            "type": "object",
            "required": ["repo"],
            "properties": {
                "repo": {
                    "type": "string",
                    "format": "binary",
                    "description": "The code as a .tar.gz file.",
                }
            },
        }
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
            {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
        )
    for name in op.query:
        schema, text = QUERY_PARAMS[name]
        operation["parameters"].append(
            {
                "name": name,
                "in": "query",
                "required": name == "group",
                "schema": schema,
                "description": text,
            }
        )
    if op.body or op.upload:
        operation["requestBody"] = _request_body(refs, op)
    for status, out in op.also.items():
        operation["responses"][str(status)] = _success(refs, out)
    for status in _error_statuses(path, op):
        model = op.error_models.get(status, ErrorOut)
        operation["responses"][str(status)] = _error(refs, status, model)
    if op.public:
        operation["security"] = []
    return operation


def build_document(app):
    """The OpenAPI 3.1 document of every /api/v1 route of app (MissingRoute if one was not
    declared with route())."""
    found = api_operations(app.url_map)
    missing = sorted(set(found) - set(ROUTES))
    stale = sorted(set(ROUTES) - set(found))
    if missing or stale:
        raise MissingRoute(
            f"rules not declared with route(): {missing}; operations without a rule: {stale}"
        )
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
            refs, path, method, ROUTES[(path, method)], view, operation_id
        )
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
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Authorization: token <key>`",
                },
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@route("/openapi.json/", ["GET"], out={JSON: dict}, public=True)
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
