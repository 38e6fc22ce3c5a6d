"""Markdown to safe HTML, for the notes of groups and experiments: a pure function.

Two layers: markdown-it renders CommonMark (with tables and strikethrough) and passes no raw
HTML through (html=False), then nh3 keeps only an allow-list of tags, attributes and URL
schemes, so a `javascript:` or `data:` link, an event attribute or a `style` never reaches a
page, whatever the first layer lets by. Links get rel="nofollow noopener".
"""

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MARKDOWN.enable(["table", "strikethrough"])

TAGS = frozenset(
    {
        "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead",
        "tr", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"


def markdown_html(text):
    """The sanitised HTML of a Markdown text ("" for an empty one)."""
    if not text:
        return ""
    return nh3.clean(
        _MARKDOWN.render(text),
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
