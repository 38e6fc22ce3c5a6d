"""The query and sort language, parsed without SQL."""

import pytest

from dashboard.querylang import Condition, QueryError, SortKey, parse_query, parse_sort

KNOWN = ("id", "status", "created_at")
PREFIXED = ("metric", "params")


def test_parses_comparisons_in_lists_and_negation():
    conditions = parse_query(
        "metric.loss:<0.1,params.activation:relu|tanh,status:~failed",
        known=KNOWN,
        prefixed=PREFIXED,
    )
    assert conditions == [
        Condition("metric.loss", "<", ("0.1",)),
        Condition("params.activation", "in", ("relu", "tanh")),
        Condition("status", "in", ("failed",), negate=True),
    ]


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "="])
def test_every_comparison_operator(op):
    assert parse_query(f"metric.acc:{op}3", known=KNOWN, prefixed=PREFIXED)[0].op == op


@pytest.mark.parametrize(
    "text,bad",
    [
        ("nope:1", "nope"),
        ("status", "status"),
        ("metric.:1", "metric."),
        ("status:", "status:"),
        ("metric.loss:<", "metric.loss:<"),
        ("status:a||b", "a||b"),
    ],
)
def test_bad_queries_name_the_bad_part(text, bad):
    with pytest.raises(QueryError, match=bad.replace("|", r"\|")):
        parse_query(text, known=KNOWN, prefixed=PREFIXED)


def test_sort_keys_with_direction():
    assert parse_sort("-metric.accuracy,created_at", known=KNOWN, prefixed=PREFIXED) == [
        SortKey("metric.accuracy", True),
        SortKey("created_at", False),
    ]


def test_sort_on_unknown_field_is_refused():
    with pytest.raises(QueryError, match="unknown field 'size'"):
        parse_sort("size", known=KNOWN, prefixed=PREFIXED)


@pytest.mark.parametrize(
    "text,value",
    [
        ("metric.loss:<<", "<"),
        ("metric.loss:>=abc", "abc"),
        ("metric.loss:0.1|low", "low"),
        ("metric.loss:~nan", "nan"),
        ("metric.loss:>1" + "0" * 400, "1" + "0" * 400),
    ],
)
def test_metric_values_must_be_numbers(text, value):
    with pytest.raises(QueryError, match=f"'{value}' is not a number"):
        parse_query(text, known=KNOWN, prefixed=PREFIXED, numeric=("metric",))


def test_params_keep_the_number_else_string_rule():
    conditions = parse_query(
        "params.act:>=abc,metric.loss:<1e-3", known=KNOWN, prefixed=PREFIXED, numeric=("metric",)
    )
    assert conditions == [
        Condition("params.act", ">=", ("abc",)),
        Condition("metric.loss", "<", ("1e-3",)),
    ]
