"""The tests' own layout: helpers are fixtures (conftest.py) or plain functions (factories.py,
support/), never imported from another test module; test files stay small enough to read."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
MAX_TEST_FILE_LINES = 550
MAX_HELPER_FILE_LINES = 450


def _python_files():
    return sorted(TESTS.rglob("*.py"))


def _is_test_module(dotted):
    # tests.conftest too: pytest has loaded it as `conftest`, a second import is a second copy
    # (a second temporary folder and database URL).
    parts = dotted.split(".")
    return any(part.startswith("test_") for part in parts) or dotted == "tests.conftest"


def _imported_test_modules(path):
    """The test modules `path` imports (absolute, relative or `from tests import test_x`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if _is_test_module(module):
                found.append(module)
            else:
                found += [
                    f"{module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("test_")
                ]
    return found


def test_no_module_under_tests_imports_a_test_module():
    offenders = {
        str(path.relative_to(TESTS)): modules
        for path in _python_files()
        if (modules := _imported_test_modules(path))
    }
    assert offenders == {}, "move shared helpers to conftest.py, factories.py or support/"


def test_the_import_check_sees_every_spelling(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import tests.test_a\n"
        "from tests.test_b import helper\n"
        "from tests import test_c\n"
        "from .test_d import fixture\n"
        "def f():\n    from tests.browser.test_e import x\n"
        "from tests.factories import make_user\n"
        "from tests.support.web import sign_in\n"
        "from tests.conftest import ROOT\n"
    )
    assert sorted(_imported_test_modules(sample)) == [
        ".test_d",
        "tests.browser.test_e",
        "tests.conftest",
        "tests.test_a",
        "tests.test_b",
        "tests.test_c",
    ]


def test_no_test_file_passes_550_lines():
    long = {
        str(path.relative_to(TESTS)): lines
        for path in _python_files()
        if path.name.startswith("test_")
        and (lines := len(path.read_text().splitlines())) > MAX_TEST_FILE_LINES
    }
    assert long == {}, "split the file by behaviour"


def test_no_helper_file_passes_450_lines():
    long = {
        str(path.relative_to(TESTS)): lines
        for path in _python_files()
        if not path.name.startswith("test_")
        and (lines := len(path.read_text().splitlines())) > MAX_HELPER_FILE_LINES
    }
    assert long == {}, "split the helpers by concern (tests/support/)"
