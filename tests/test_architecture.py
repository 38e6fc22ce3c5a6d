"""The layers of docs/architecture.md, checked on the import graph rather than hoped for.

Every module under dashboard/ is parsed (never imported) and its imports, top-level and inside
functions, are read; each rule below names the layer, what it may not import and why.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dashboard"
MAX_MODULE_LINES = 450


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path, module=None):
    """Absolute names of every module path imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module or _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _layer(prefix):
    return [path for path in _modules() if _module_name(path).startswith(prefix)]


def _forbidden_imports(path, module, forbidden):
    return [
        f"{module} imports {name}"
        for name in sorted(_imports(path, module))
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]


def _violations(prefix, forbidden):
    return [
        found
        for path in _layer(prefix)
        for found in _forbidden_imports(path, _module_name(path), forbidden)
    ]


# (layer, what it may not import, why)
RULES = [
    (
        "dashboard.services",
        ["dashboard.runner", "dashboard.ui", "dashboard.api"],
        "services are the domain operations every transport calls; they call no transport",
    ),
    (
        "dashboard.hptuning",
        ["flask", "flask_sqlalchemy", "sqlalchemy", "dashboard.services", "dashboard.models"]
        + ["dashboard.extensions", "dashboard.api", "dashboard.ui", "dashboard.runner"],
        "search algorithms and spec parsing are pure: testable without Flask or a database",
    ),
    ("dashboard.api", ["dashboard.ui", "dashboard.runner"], "transports never import each other"),
    ("dashboard.ui", ["dashboard.api", "dashboard.runner"], "transports never import each other"),
    (
        "dashboard.runner",
        ["dashboard.api", "dashboard.ui"],
        "the runner is a transport: it calls services, never the web views",
    ),
    (
        "dashboard.models",
        ["dashboard.services", "dashboard.api", "dashboard.ui", "dashboard.runner"],
        "models are below every operation",
    ),
    (
        "dashboard.storage",
        ["dashboard.services", "dashboard.runner", "dashboard.api", "dashboard.ui"],
        "storage (paths, unpacking, safe reads) sits below services and the runner",
    ),
    (
        "dashboard.processes",
        ["dashboard.services", "dashboard.runner", "dashboard.api", "dashboard.ui"],
        "process control sits below services and the runner",
    ),
]


@pytest.mark.parametrize(
    ("layer", "forbidden", "why"), RULES, ids=[rule[0].split(".")[-1] for rule in RULES]
)
def test_layer_imports_only_what_sits_below_it(layer, forbidden, why):
    assert _layer(layer), f"{layer} has no modules: the rule would check nothing"
    assert _violations(layer, forbidden) == [], why


def test_no_module_under_dashboard_passes_450_lines():
    long = {
        _module_name(path): count
        for path in _modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, "split these modules by resource (STYLE.md, Size)"


def test_the_import_reader_sees_relative_and_nested_imports(tmp_path):
    """The checks above can fail: a module importing transports inside a function is caught."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..ui import views\n    import dashboard.api\n")
    assert _forbidden_imports(probe, "dashboard.services.probe", RULES[0][1]) == [
        "dashboard.services.probe imports dashboard.api",
        "dashboard.services.probe imports dashboard.ui",
        "dashboard.services.probe imports dashboard.ui.views",
    ]


SHARED_SERVICE_MODULES = {"__init__", "listing", "lookups"}


def test_services_are_grouped_by_aggregate():
    """services/ holds a package per aggregate (group, experiment, project, user, run, plots);
    only the readers every aggregate shares sit at its top."""
    loose = {path.stem for path in (PACKAGE / "services").glob("*.py")}
    assert loose == SHARED_SERVICE_MODULES
    packages = {path.parent.name for path in (PACKAGE / "services").glob("*/__init__.py")}
    assert packages == {"group", "experiment", "project", "user", "run", "plots"}
