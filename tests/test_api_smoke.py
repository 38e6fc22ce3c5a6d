"""First checks of the API over the test client."""

from tests.factories import RANDOM_YML, auth, make_project, make_token, make_user


def test_create_reference_group_matches_the_reference_page(client):
    owner = make_user("root", staff=False)
    make_project(owner, "quick-start")
    response = client.post(
        "/api/v1/root/quick-start/groups",
        json={"content": RANDOM_YML},
        headers=auth(make_token(owner)),
    )
    assert response.status_code == 201
    body = response.json
    assert body["unique_name"] == f"root.quick-start.{body['id']}"
    assert body["search_algorithm"] == "random"
    assert body["concurrency"] == 5
    assert body["num_experiments"] == 10
    assert body["current_iteration"] == 0
