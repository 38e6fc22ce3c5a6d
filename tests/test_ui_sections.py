"""The sections the group page loads by htmx answer htmx with the fragment alone and a plain
browser request (no JavaScript: the placeholder links there) with a page around it."""

import pytest

from tests.factories import finish, start_group
from tests.support.web import soup, url

SECTIONS = {"plots": "group-plots", "coverage": "group-coverage", "timeline": "group-timeline"}
TITLES = {"plots": "Plots", "coverage": "Matrix coverage", "timeline": "Timeline"}


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_htmx_gets_the_fragment_and_a_browser_a_page(client, group, as_alice, name):
    start_group(group)
    finish(group)
    fragment = soup(client.get(url(group, name), headers={"HX-Request": "true"}))
    assert [el.get("id") for el in fragment.find_all(recursive=False)] == [SECTIONS[name]]

    page = soup(client.get(url(group, name)))
    assert page.select_one(f"main #{SECTIONS[name]}") is not None
    assert page.select_one("#back-to-group")["href"] == url(group)
    assert page.title.text.startswith(
        {"plots": "Plots", "coverage": "Matrix coverage", "timeline": "Timeline"}[name]
    )


def test_the_group_page_links_each_section_it_loads(client, group, as_alice):
    page = soup(client.get(url(group)))
    for name, section_id in SECTIONS.items():
        assert page.select_one(f"#{section_id}[hx-trigger=load] a")["href"] == url(group, name)


def test_the_plots_page_links_the_table_on_the_group_page(client, group, as_alice):
    start_group(group)
    finish(group)
    table = "#plot-data a[href$='#group-experiments']"
    assert soup(client.get(url(group, "plots"))).select_one(table)["href"] == (
        f"{url(group)}#group-experiments"
    )
    fragment = soup(client.get(url(group, "plots"), headers={"HX-Request": "true"}))
    assert fragment.select_one(table)["href"] == "#group-experiments"
