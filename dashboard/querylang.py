"""The query and sort language of list endpoints (CONTRACT.md section 6), parsed without SQL.

`query=metric.loss:<0.1,params.activation:relu|tanh,status:~failed`, `sort=-metric.loss,created_at`.
"""

from dataclasses import dataclass

OPERATORS = ("<=", ">=", "<", ">", "=")
MAX_TERMS = 20


class QueryError(ValueError):
    """A query or sort string that cannot be understood; the message names the bad part."""


@dataclass(frozen=True)
class Condition:
    """One comma-separated term: field, operator ('in' or a comparison), values, negation."""

    field: str
    op: str
    values: tuple
    negate: bool = False


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


# Integers past this are compared as floats: the databases' integers stop at 64 bits.
MAX_EXACT_INT = 2**53


def parse_number(text):
    """The number a value spells, or None (booleans and words are not numbers)."""
    try:
        number = int(text)
    except ValueError:
        pass
    else:
        if abs(number) <= MAX_EXACT_INT:
            return number
        try:
            return float(number)
        except OverflowError:  # past any float: not a number the databases can compare
            return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _check_field(field, known, prefixed, where):
    if field in known:
        return
    prefix, _, name = field.partition(".")
    if prefix in prefixed and name:
        return
    allowed = ", ".join(sorted(known) + [f"{p}.<name>" for p in sorted(prefixed)])
    raise QueryError(f"{where}: unknown field '{field}' (known: {allowed})")


def _check_numbers(field, values, numeric, term):
    if field.partition(".")[0] not in numeric:
        return
    for value in values:
        if parse_number(value) is None:
            raise QueryError(
                f"query: '{value}' is not a number ({field} is compared as a number) in '{term}'"
            )


def parse_query(text, *, known, prefixed=(), numeric=()):
    """Parse a query string into Conditions; `known` fields and `prefixed` families allowed.

    The values of the `numeric` families (e.g. metric.<name>) must be numbers.
    """
    conditions = []
    if not text:
        return conditions
    terms = text.split(",")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"query: at most {MAX_TERMS} conditions are allowed")
    for term in terms:
        field, sep, expression = term.strip().partition(":")
        field = field.strip()
        if not sep or not field or not expression.strip():
            raise QueryError(f"query: '{term}' is not of the form field:value")
        _check_field(field, known, prefixed, "query")
        expression = expression.strip()
        negate = expression.startswith("~")
        if negate:
            expression = expression[1:].strip()
        op = next((o for o in OPERATORS if expression.startswith(o)), None)
        if op:
            value = expression[len(op) :].strip()
            if not value or "|" in value:
                raise QueryError(f"query: '{term}' needs one value after '{op}'")
            _check_numbers(field, (value,), numeric, term)
            conditions.append(Condition(field, op, (value,), negate))
            continue
        values = tuple(v.strip() for v in expression.split("|"))
        if not all(values):
            raise QueryError(f"query: '{term}' has an empty value")
        _check_numbers(field, values, numeric, term)
        conditions.append(Condition(field, "in", values, negate))
    return conditions


def parse_sort(text, *, known, prefixed=()):
    """Parse a sort string into SortKeys (`-` prefix = descending)."""
    keys = []
    if not text:
        return keys
    parts = text.split(",")
    if len(parts) > MAX_TERMS:
        raise QueryError(f"sort: at most {MAX_TERMS} fields are allowed")
    for part in parts:
        part = part.strip()
        descending = part.startswith("-")
        field = part[1:] if descending else part
        if not field:
            raise QueryError(f"sort: '{part}' names no field")
        _check_field(field, known, prefixed, "sort")
        keys.append(SortKey(field, descending))
    return keys
