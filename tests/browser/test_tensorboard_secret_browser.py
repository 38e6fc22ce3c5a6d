"""In Chromium: the TensorBoard page through the proxy, and nothing it loads shows its secret."""

from playwright.sync_api import expect

from dashboard.processes.tensorboard import wait_until_serving
from dashboard.services.group import tensorboards
from dashboard.services.project.access import project_access
from tests.browser.conftest import sign_in
from tests.factories import make_group, make_project, make_user


def test_nothing_the_tensorboard_page_loads_shows_its_secret(page, live_server, app):
    alice = make_user("alice", "secret-pw")
    group = make_group(make_project(alice, "demo", public=False))
    job, _ = tensorboards.start_tensorboard(project_access("alice", "demo", actor=alice), group.id)
    assert wait_until_serving(job.host, job.port, timeout=60, pid=job.pid)
    sign_in(page, live_server, "alice", "secret-pw")
    loaded = []
    page.on("response", lambda response: loaded.append(response))

    page.goto(f"{live_server.url}/tensorboard/alice/demo/groups/{group.id}")  # no slash: redirects
    expect(page.locator("tb-webapp")).to_be_attached(timeout=60_000)
    page.wait_for_load_state("networkidle")

    paths = [response.url.removeprefix(live_server.url) for response in loaded]
    base = f"/tensorboard/alice/demo/groups/{group.id}/"
    assert {base + "data/plugins_listing", base + "data/environment"} <= set(paths)
    for response in loaded:
        assert job.path_secret not in response.url
        assert not [k for k, v in response.all_headers().items() if job.path_secret in v]
        if not 300 <= response.status < 400:
            assert job.path_secret.encode() not in response.body(), response.url
