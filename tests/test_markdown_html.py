"""The notes' Markdown renderer: ordinary Markdown renders, the usual XSS payloads never
survive (markdown-it passes no raw HTML, nh3 keeps an allow-list)."""

import pytest
from bs4 import BeautifulSoup

from dashboard.markdown_html import markdown_html

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))",
    "[click](java\tscript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "<img src=x onerror=alert(1)>",
    '![x](https://example.com/a.png" onerror="alert(1))',
    '<p onclick="alert(1)">hi</p>',
    "<svg onload=alert(1)><circle r=1></circle></svg>",
    "<svg><script>alert(1)</script></svg>",
    "[link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](data:image/png;base64,iVBORw0KGgo=)",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="position:fixed">x</div>',
    "[x](vbscript:msgbox(1))",
    '<object data="https://evil.example/x.swf"></object>',
    '<form action="https://evil.example"><input name=a></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
]
EVENT_ATTRIBUTES = ("onerror", "onclick", "onload", "onmouseover")
BAD_TAGS = ("script", "svg", "iframe", "object", "form", "input", "meta", "style", "embed")


def _parsed(text):
    return BeautifulSoup(markdown_html(text), "html.parser")


def _assert_inert(html):
    assert html.find_all(BAD_TAGS) == []
    for element in html.find_all(True):
        assert not set(element.attrs) & {*EVENT_ATTRIBUTES, "style"}, element
        for name in ("href", "src"):
            url = element.get(name, "").strip().lower()
            assert not url.startswith(("javascript:", "data:", "vbscript:")), element


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives_as_markup(payload):
    _assert_inert(_parsed(payload))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives_inside_a_list_a_table_or_a_quote(payload):
    _assert_inert(_parsed(f"- {payload}\n\n| a |\n|---|\n| {payload} |\n\n> {payload}\n"))


def test_headings_lists_code_and_tables_render():
    text = (
        "# Title\n\n## Sub\n\n- one\n- two\n\n1. first\n\n`x < 1`\n\n```\nfor i in x:\n```\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ **bold** *em*\n"
    )

    html = _parsed(text)

    assert html.h1.text == "Title" and html.h2.text == "Sub"
    assert [li.text for li in html.ul.find_all("li")] == ["one", "two"]
    assert html.ol.li.text == "first"
    assert html.find("code").text == "x < 1"
    assert html.pre.code.text == "for i in x:\n"
    assert [td.text for td in html.table.tbody.find_all("td")] == ["1", "2"]
    assert (html.find("s").text, html.strong.text, html.em.text) == ("old", "bold", "em")


def test_https_links_render_with_nofollow_noopener():
    link = _parsed("[docs](https://example.com/a?b=1)").a

    assert link["href"] == "https://example.com/a?b=1"
    assert link["rel"] == ["nofollow", "noopener"]


def test_raw_html_is_shown_as_text_not_markup():
    assert markdown_html("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_empty_markdown_renders_nothing():
    assert markdown_html("") == ""
