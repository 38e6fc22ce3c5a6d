"""The served OpenAPI document is the committed snapshot, byte for byte once normalised.

The document is the API's contract with its clients, so a change to it is a decision, not a side
effect of moving code: a commit that changes a route, a field or a rule on purpose writes the new
snapshot (``UPDATE_OPENAPI_SNAPSHOT=1 pytest tests/test_openapi_snapshot.py``) and says why.
"""

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "openapi.json"


def _normalised(document):
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_served_document_is_the_committed_snapshot(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = _normalised(response.json)
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(served, encoding="utf-8")
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if served != committed:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                served.splitlines(keepends=True),
                "snapshot",
                "served",
                n=2,
            )
        )
        raise AssertionError("the served OpenAPI document differs from the snapshot:\n" + diff)
