"""Safe YAML loading of polyaxonfiles: size, shape and alias-bomb limits."""

import pytest

from dashboard.hptuning import SpecError, parse_group_spec
from dashboard.hptuning.loader import MAX_NODES

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def errors_of(content, **kwargs):
    with pytest.raises(SpecError) as info:
        parse_group_spec(content, **kwargs)
    return info.value.errors


def test_yaml_bomb_is_refused():
    assert errors_of(BILLION_LAUGHS) == [
        f"content: the document expands to more than {MAX_NODES} YAML nodes"
    ]


def test_many_aliases_are_refused():
    content = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    assert errors_of(content) == ["content: the document uses more than 100 YAML aliases"]


def test_a_few_aliases_are_fine():
    content = (
        "version: 1\nkind: group\nparams: &p {x: 1}\n"
        "hptuning: {matrix: {a: {values: [1]}}}\nrun: {cmd: echo}\nbuild: {env: *p}\n"
    )
    assert parse_group_spec(content).data["build"] == {"env": {"x": 1}}


def test_recursive_alias_is_refused():
    assert errors_of("a: &a [*a]\n") == ["content: the document contains a recursive YAML alias"]


def test_five_mebibyte_document_is_refused_by_size():
    content = "a: " + "x" * (5 * 1024 * 1024)
    errors = errors_of(content)
    assert errors == [
        f"content: the document is {len(content)} bytes, at most 1048576 bytes are allowed"
    ]


def test_size_limit_is_a_parameter():
    assert "at most 10 bytes" in errors_of("version: 1\nkind: group\n", max_bytes=10)[0]


def test_non_mapping_document_is_refused():
    assert errors_of("- 1\n- 2\n") == ["content: the document must be a mapping, got a list"]
    assert errors_of("just text") == ["content: the document must be a mapping, got a string"]


def test_empty_document_is_refused():
    assert errors_of("") == ["content: the document is empty"]


def test_multiple_documents_are_refused():
    errors = errors_of("a: 1\n---\nb: 2\n")
    assert errors == ["content: expected a single YAML document, found more than one"]


def test_syntax_error_names_the_line():
    errors = errors_of("version: 1\nkind: [group\n")
    assert errors[0].startswith("content: invalid YAML at line 3")


def test_deep_nesting_is_refused():
    errors = errors_of("[" * 50_000)
    assert len(errors) == 1
    assert errors[0].startswith("content: ")
    assert "nest" in errors[0]


def test_a_document_with_too_many_nodes_is_refused_before_it_is_built():
    content = "a: [" + ",".join(["1"] * (MAX_NODES + 1)) + "]"
    assert errors_of(content) == [f"content: the document has more than {MAX_NODES} YAML nodes"]


def test_python_tags_are_not_constructed():
    errors = errors_of("a: !!python/object/apply:os.system ['true']\n")
    assert errors[0].startswith("content: invalid YAML")
