"""The HTML UI as a test drives it: sign in through the form, read pages with BeautifulSoup."""

import time

from bs4 import BeautifulSoup

from tests.factories import add_member, make_user

HTMX = {"HX-Request": "true"}


def soup(response):
    return BeautifulSoup(response.data, "html.parser")


def form_csrf(client, path="/login"):
    """The CSRF token of the form on the page at `path`."""
    page = BeautifulSoup(client.get(path).data, "html.parser")
    return page.select_one("input[name=csrf_token]")["value"]


def sign_in(client, username, password="pw", next_url=None):
    """Post the sign-in form, as a browser does."""
    data = {"username": username, "password": password, "csrf_token": form_csrf(client)}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


def signed_in_as(client, username, project=None, role=None):
    """Sign `username` in (created first, and given `role` in `project` when asked)."""
    user = make_user(username)
    if role:
        add_member(project, user, role)
    sign_in(client, username)
    return user


def url(group, suffix=""):
    """The page of one of alice's `demo` groups."""
    return f"/alice/demo/groups/{group.id}/{suffix}"


def csrf_of(client, group):
    return soup(client.get(url(group))).select_one("input[name=csrf_token]")["value"]


def poll(client, url, predicate, deadline=60):
    """GET `url` until its answer satisfies `predicate`; fail at the deadline."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        response = client.get(url)
        if predicate(response):
            return response
        time.sleep(0.25)
    raise AssertionError(f"{url} never satisfied the check; last answer {response.status_code}")
