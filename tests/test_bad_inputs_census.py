"""The bad-input census: over 100 distinct bad inputs across the API, the UI forms and the code
upload, each answered with a precise 4xx and leaving every table exactly as it was.

Each input names the status it must get and a piece of the message that must say what is wrong.
Before and after each one, every table is snapshotted (row count and a hash of its rows). The
test prints `N bad inputs, 0 server errors, 0 changes` with the real counts and asserts them.
The inputs are registered in tests/support/census_api.py, census_requests.py and census_forms.py.
"""

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import Experiment
from tests.factories import (
    add_member,
    auth,
    grid_yml,
    make_group,
    make_project,
    make_token,
    make_user,
)
from tests.support import (
    census_api,
    census_forms,
    census_notes,
    census_requests,
    census_webhooks,
)
from tests.support.census import UI, UP, message_of, snapshot

CASES = (
    census_api.CASES
    + census_requests.CASES
    + census_forms.CASES
    + census_webhooks.CASES
    + census_notes.CASES
)


@pytest.fixture
def world(app, client):
    """root owns census (with a grid group), mia is a viewer; root is signed in with a CSRF
    token; tokens warmed up (their first use stamps them)."""
    root = make_user("root", "root-password")
    mia = make_user("mia", "mia-password")
    project = make_project(root, "census", public=False)
    add_member(project, mia, "viewer")
    group = make_group(project, content=grid_yml(3), name="kept")
    other = make_group(project, content=grid_yml(2), name="other")
    experiment = db.session.scalar(select(Experiment.id).where(Experiment.group_id == group.id))
    headers, viewer = auth(make_token(root)), auth(make_token(mia))
    ui = app.test_client()
    page = BeautifulSoup(ui.get("/login").data, "html.parser")
    csrf = page.select_one("input[name=csrf_token]")["value"]
    assert (
        ui.post(
            "/login", data={"username": "root", "password": "root-password", "csrf_token": csrf}
        ).status_code
        == 302
    )
    for key in (headers, viewer):
        client.get("/api/v1/users", headers=key)
    app.config.update(REPO_MAX_MEMBERS=5, REPO_MAX_UNPACKED_BYTES=1000)
    return {
        "api": client,
        "ui": ui,
        "csrf": csrf,
        "h": headers,
        "viewer": viewer,
        "group": group.id,
        "other": other.id,
        "experiment": experiment,
        "G": f"{UP}/groups/{group.id}",
        "E": f"{UP}/experiments/{experiment}",
        "UG": f"{UI}/groups/{group.id}",
    }


# ---- the census -----------------------------------------------------------------------------


def test_every_bad_input_gets_a_precise_4xx_and_changes_nothing(world, capsys):
    labels = [label for label, *_ in CASES]
    assert len(set(labels)) == len(labels), "labels must be distinct"
    server_errors, changes, wrong = [], [], []
    for label, status, says, send in CASES:
        before = snapshot()
        response = send(world)
        after = snapshot()
        text = message_of(response)
        if response.status_code >= 500:
            server_errors.append(f"{label}: {response.status_code} {text[:200]}")
        elif response.status_code != status or says not in text:
            wrong.append(
                f"{label}: expected {status} saying {says!r}, got "
                f"{response.status_code}: {text[:300]!r}"
            )
        if after != before:
            changed = sorted(name for name in after if after[name] != before[name])
            changes.append(f"{label}: changed {changed}")
    with capsys.disabled():
        print(
            f"\n{len(CASES)} bad inputs, {len(server_errors)} server errors, {len(changes)} changes"
        )
    assert not server_errors and not changes and not wrong, "\n".join(
        server_errors + changes + wrong
    )
    assert len(CASES) >= 100
