"""The published polyaxon-cli 0.6.1 reads each example as `polyaxon run` does before sending
it: the new search algorithms (asha, tpe, cmaes) are refused on the user's machine (create such
groups through the API or the UI), everything else, the early-stopping policies included, is
accepted."""

import subprocess

import pytest

from tests.factories import EXAMPLES
from tests.support.environment import CLIENT_VENV

CHECK = """
import sys
from polyaxon_schemas.polyaxonfile import PolyaxonFile
try:
    PolyaxonFile(sys.argv[1])
except Exception as exc:
    print(exc)
    sys.exit(1)
"""
ACCEPTED = ["random.yml", "grid.yml", "hyperband.yml", "bo.yml", "early_stopping.yml"]
ACCEPTED.append("policies.yml")
REFUSED = {"asha.yml": "asha", "tpe.yml": "tpe", "cmaes.yml": "cmaes"}


def _cli_reads(name):
    python = CLIENT_VENV / "bin" / "python"
    assert python.exists(), "the client's virtualenv is missing: scripts/client-venv.sh"
    return subprocess.run(
        [str(python), "-c", CHECK, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_example_is_listed_here():
    assert {path.name for path in EXAMPLES.glob("*.yml")} == {*ACCEPTED, *REFUSED}


@pytest.mark.parametrize("name", ACCEPTED)
def test_the_published_cli_accepts(name):
    result = _cli_reads(name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_published_cli_refuses_the_new_algorithms(name):
    result = _cli_reads(name)
    assert result.returncode == 1
    assert f"'{REFUSED[name]}': ['Unknown field.']" in result.stdout
