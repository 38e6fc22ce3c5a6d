"""The OpenAPI links of /api/v1: which answers name the project, group or experiment that other
operations take in their path.

A source is an operation whose success answer names a resource; it links to every other
operation whose path parameters are exactly that resource's. The parameters the source took in
its own path are passed on as sent, the others are read from its answer. So creating a project
leads to its groups, a group (created, read, updated or listed) to its actions, a row of an
experiment list to the experiment's own operations, and a TensorBoard job to its own. An
operation that names its resource in the query instead (the client's experiment list takes
?group=) is linked from that resource.
"""

RESOURCES = {
    "user": {"username"},
    "project": {"username", "project_name"},
    "group": {"username", "project_name", "group_id"},
    "experiment": {"username", "project_name", "experiment_id"},
    "tensorboard": {"username", "project_name", "tensorboard_id"},
}
# {operationId: (its success status, the resource its answer names, {path parameter: JSON
# pointer into the answer})}
SOURCES = {
    "current_user": ("200", "user", {"username": "/username"}),
    "create_project": ("201", "project", {"username": "/user", "project_name": "/name"}),
    "list_projects": (
        "200",
        "project",
        {"username": "/results/0/user", "project_name": "/results/0/name"},
    ),
    "get_project": ("200", "project", {}),
    "create_group": ("201", "group", {"group_id": "/id"}),
    "list_groups": ("200", "group", {"group_id": "/results/0/id"}),
    "get_group": ("200", "group", {}),
    "update_group_patch": ("200", "group", {}),
    "update_group_put": ("200", "group", {}),
    "list_group_experiments": ("200", "experiment", {"experiment_id": "/results/0/id"}),
    "list_project_experiments": ("200", "experiment", {"experiment_id": "/results/0/id"}),
    "get_experiment": ("200", "experiment", {}),
    "update_experiment": ("200", "experiment", {}),
    "start_selection": ("201", "tensorboard", {"tensorboard_id": "/id"}),
    "list_tensorboards": ("200", "tensorboard", {"tensorboard_id": "/results/0/id"}),
}

# {operationId: (the resource it takes, {its query parameter: the resource's path parameter})}
BY_QUERY = {"list_project_experiments": ("group", {"group": "group_id"})}


def _path_parameters(operation):
    return frozenset(p["name"] for p in operation["parameters"] if p["in"] == "path")


def _parameters(target, takes, resource, values):
    """The link's parameters from a source naming resource to target, None if target does not
    take that resource."""
    taken, query = BY_QUERY.get(target, (resource, {}))
    wanted = RESOURCES[resource]
    if taken != resource or not (takes <= wanted if query else takes == wanted):
        return None
    return {
        **{name: values[name] for name in sorted(takes)},
        **{name: values[path] for name, path in query.items()},
    }


def add_links(paths):
    """Put on each source's success answer a link to every other operation taking its resource."""
    operations = {op["operationId"]: op for item in paths.values() for op in item.values()}
    takes = {operation_id: _path_parameters(op) for operation_id, op in operations.items()}
    for source, (status, resource, pointers) in SOURCES.items():
        values = {name: f"$request.path.{name}" for name in takes[source]}
        values.update({name: f"$response.body#{pointer}" for name, pointer in pointers.items()})
        links = {}
        for target in sorted(takes):
            parameters = _parameters(target, takes[target], resource, values)
            if target != source and parameters is not None:
                links[target] = {"operationId": target, "parameters": parameters}
        operations[source]["responses"][status]["links"] = links
