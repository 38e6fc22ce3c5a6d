"""The OpenAPI document: every API route in it, its shapes from api/schemas/, the docs page."""

import importlib
import pkgutil
from pathlib import Path

import jsonschema_rs
import pytest
from bs4 import BeautifulSoup

from dashboard.api import openapi, operations, route
from dashboard.api import schemas as schema_package
from dashboard.api.schemas.groups import GroupDetailOut
from dashboard.api.schemas.plots import PlotOut
from dashboard.services.plots import plots
from dashboard.services.project.access import project_access
from tests.factories import auth, finish, grid_yml, make_group, make_project, make_token, make_user

STATIC = Path(__file__).resolve().parent.parent / "static"
METHODS = {"get", "post", "put", "patch", "delete"}


def _schema_names():
    """Every name the modules of api/schemas/ define."""
    names = set()
    for module in pkgutil.iter_modules(schema_package.__path__):
        names.update(vars(importlib.import_module(f"{schema_package.__name__}.{module.name}")))
    return names


def _document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _rules(app):
    """(path with a trailing slash, method) of every /api/v1 rule of the app."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((operations.openapi_path(rule.rule), method.lower()))
    return found


def test_document_has_exactly_the_apps_api_routes(app, client):
    document = _document(client)
    paths = {(path, method) for path, item in document["paths"].items() for method in item}

    assert paths == _rules(app)
    assert len(paths) >= 45


def test_every_rule_has_both_slash_forms_and_the_document_names_the_slash_one(app):
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    for rule in rules:
        assert rule.rstrip("/") in rules and rule.rstrip("/") + "/" in rules


def test_a_rule_not_declared_with_route_fails_the_build(fresh_app):
    fresh_app.add_url_rule("/api/v1/forgotten/", "forgotten", lambda: "")

    with pytest.raises(openapi.MissingRoute, match="/forgotten/"):
        openapi.build_document(fresh_app)


def test_a_route_must_declare_its_answer():
    with pytest.raises(TypeError, match="out"):
        route("/undocumented/", ["GET"])


def test_a_route_cannot_name_an_undescribed_query_parameter():
    with pytest.raises(ValueError, match="page_size"):
        route("/undocumented/", ["GET"], out=None, query=("page_size",))


def test_document_is_openapi_3_1_with_token_and_bearer_security(client):
    document = _document(client)

    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"] == {
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: token <key>`",
        },
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    assert document["security"] == [{"token": []}, {"bearer": []}]


def test_public_routes_need_no_credentials_and_the_others_document_401_and_403(client):
    document = _document(client)
    public = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation.get("security") == []:
                public.add((method, path))
            else:
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert public == {
        ("get", "/api/v1/openapi.json"),
        ("post", "/api/v1/users/token/"),
        ("get", "/api/v1/versions/cli/"),
        ("get", "/api/v1/log_handler/"),
    }
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_operations_with_path_ids_document_404_and_bodies_document_400_and_413(client):
    for path, item in _document(client)["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            if "{" in path:
                assert "404" in codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= codes, (method, path)


def test_every_reference_resolves_to_a_component_from_schemas(client):
    document = _document(client)
    components = document["components"]["schemas"]
    text = str(document["paths"]) + str(components)
    refs = set(text.split("'$ref': '")[1:])
    names = {ref.split("'")[0].removeprefix("#/components/schemas/") for ref in refs}

    assert names <= set(components)
    assert set(components) <= _schema_names()


def test_group_detail_and_create_are_documented_from_their_schemas(client):
    document = _document(client)
    group = document["paths"]["/api/v1/{username}/{project_name}/groups/{group_id}/"]
    create = document["paths"]["/api/v1/{username}/{project_name}/groups/"]["post"]

    assert group["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GroupDetailOut"
    }
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/GroupCreateIn"
    }
    assert set(document["components"]["schemas"]["GroupDetailOut"]["required"]) == set(
        GroupDetailOut.model_fields
    )
    assert [p["name"] for p in group["get"]["parameters"]] == [
        "username",
        "project_name",
        "group_id",
    ]
    assert group["patch"]["operationId"] == "update_group_patch"
    assert group["put"]["operationId"] == "update_group_put"


def test_names_in_bodies_are_documented_as_slugs_like_the_path_names(client):
    components = _document(client)["components"]["schemas"]
    slug = openapi.PATH_PARAMS["project_name"]["pattern"]

    for model in ("ProjectCreateIn", "GroupCreateIn", "GroupUpdateIn", "ExperimentUpdateIn"):
        assert components[model]["properties"]["name"]["pattern"] == slug, model


def test_real_answers_match_their_documented_schemas(client):
    """A group's detail, list and every plot, validated against the document's schemas."""
    owner = make_user("alice")
    project = make_project(owner, "demo")
    group = make_group(project, content=grid_yml(6))
    finish(group, lambda index, params: index / 7)
    headers = auth(make_token(owner))
    document = _document(client)
    base = "/api/v1/alice/demo/groups"
    checked = 0
    for url, path in [(f"{base}/{group.id}/", "/{group_id}/"), (f"{base}/", "/")] + [
        (f"{base}/{group.id}/plots/{name}/", f"/{{group_id}}/plots/{name}/") for name in plots.PLOTS
    ]:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, url
        operation = document["paths"][f"/api/v1/{{username}}/{{project_name}}/groups{path}"]
        schema = operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.Draft202012Validator(
            {**schema, "components": document["components"]}
        )
        errors = [error.message for error in validator.iter_errors(answer.json)]
        assert not errors, (url, errors)
        checked += 1
    assert checked == 2 + len(plots.PLOTS)


def test_plot_data_validates_as_the_declared_plot_model(app):
    owner = make_user("alice")
    project = make_project(owner, "demo")
    group = make_group(project, content=grid_yml(6))
    finish(group, lambda index, params: index / 7)
    access = project_access("alice", "demo", actor=owner)
    for name in plots.PLOTS:
        data = plots.plot_data(access, group.id, name)
        model = PlotOut.model_validate(data)
        assert model.plot == name
        assert model.model_dump(mode="json", exclude_unset=True) == data


def test_docs_page_loads_vendored_swagger_ui_with_no_inline_script(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    page = BeautifulSoup(response.data, "html.parser")
    sources = [script["src"] for script in page.select("script")]
    assert all(script.get("src") and not script.string for script in page.select("script"))
    assert sources == [f"/static/{openapi.SWAGGER_UI}/swagger-ui-bundle.js", "/static/api-docs.js"]
    assert page.select_one("#swagger-ui")["data-spec-url"] == "/api/v1/openapi.json"
    for source in sources:
        assert client.get(source).status_code == 200
    vendor = STATIC / openapi.SWAGGER_UI
    assert "Apache License" in (vendor / "LICENSE").read_text()
    assert '"version": "5.35.0"' in (vendor / "package.json").read_text()


def _has_field(schema, pointer, components):
    """Whether a JSON pointer (e.g. /results/0/id) names a field of the answer's schema."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rpartition("/")[2]]
    if not pointer:
        return True
    if "anyOf" in schema:
        return any(_has_field(one, pointer, components) for one in schema["anyOf"])
    segment, _, rest = pointer.partition("/")
    if segment.isdigit() and "items" in schema:
        return _has_field(schema["items"], rest, components)
    inner = schema.get("properties", {}).get(segment)
    return inner is not None and _has_field(inner, rest, components)


def test_every_link_names_an_operation_parameters_it_has_and_fields_of_the_answer(client):
    document = _document(client)
    components = document["components"]["schemas"]
    operations = {
        op["operationId"]: op for item in document["paths"].values() for op in item.values()
    }
    links = 0
    for source in operations.values():
        takes = {(p["in"], p["name"]) for p in source["parameters"]}
        for answer in source["responses"].values():
            for name, link in answer.get("links", {}).items():
                target = operations[link["operationId"]]
                required = {
                    p["name"] for p in target["parameters"] if p["in"] == "path" or p["required"]
                }
                names = {p["name"] for p in target["parameters"]}
                assert required <= set(link["parameters"]) <= names, (name, link)
                for expression in link["parameters"].values():
                    if expression.startswith("$request.path."):
                        assert ("path", expression.rpartition(".")[2]) in takes, expression
                    else:
                        assert expression.startswith("$response.body#/"), expression
                        schema = answer["content"]["application/json"]["schema"]
                        pointer = expression.removeprefix("$response.body#/")
                        assert _has_field(schema, pointer, components), expression
                links += 1
    assert links >= 150


def test_links_chain_a_new_project_to_its_groups_and_a_group_to_its_experiments(client):
    paths = _document(client)["paths"]
    project = paths["/api/v1/projects/"]["post"]["responses"]["201"]["links"]
    group = paths["/api/v1/{username}/{project_name}/groups/"]["post"]["responses"]["201"]["links"]
    rows = paths["/api/v1/{username}/{project_name}/groups/{group_id}/experiments/"]["get"][
        "responses"
    ]["200"]["links"]

    assert project["create_group"]["parameters"] == {
        "username": "$response.body#/user",
        "project_name": "$response.body#/name",
    }
    assert group["get_group"]["parameters"] == {
        "username": "$request.path.username",
        "project_name": "$request.path.project_name",
        "group_id": "$response.body#/id",
    }
    assert group["list_project_experiments"]["parameters"]["group"] == "$response.body#/id"
    assert rows["get_experiment"]["parameters"]["experiment_id"] == ("$response.body#/results/0/id")
    assert (
        "get_group"
        not in paths["/api/v1/{username}/{project_name}/groups/{group_id}/"]["get"]["responses"][
            "200"
        ]["links"]
    )
