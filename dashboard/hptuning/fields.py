"""Field checks shared by the spec parser; each raises SpecError naming its path."""

import math

from .errors import SpecError


def is_number(value):
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def type_name(value):
    """A YAML-flavoured name for the type of `value`, for messages."""
    names = {
        bool: "a bool",
        int: "an int",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a mapping",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def expect_mapping(value, path, *, allow_none=False):
    """Return `value` if it is a mapping (or {} for an allowed null)."""
    if value is None and allow_none:
        return {}
    if not isinstance(value, dict):
        raise SpecError.at(path, f"must be a mapping, got {type_name(value)}")
    for key in value:
        if not isinstance(key, str):
            raise SpecError.at(path, f"keys must be strings, got {type_name(key)} {key!r}")
    return value


def check_keys(mapping, allowed, path, *, required=()):
    """Refuse keys outside `allowed` and missing `required` keys, one message each."""
    errors = [
        f"{path}: unknown key '{key}' (allowed: {', '.join(allowed)})"
        for key in mapping
        if key not in allowed
    ]
    errors += [f"{path}.{key}: is required" for key in required if mapping.get(key) is None]
    if errors:
        raise SpecError(errors)


def as_int(value, path, *, minimum=None, maximum=None):
    """An int (an integral float or an int string is accepted, as marshmallow does)."""
    result = None
    if isinstance(value, int) and not isinstance(value, bool):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str):
        try:
            result = int(value.strip())
        except ValueError:
            result = None
    if result is None:
        raise SpecError.at(path, f"must be an integer, got {type_name(value)} {value!r}")
    if minimum is not None and result < minimum:
        raise SpecError.at(path, f"must be >= {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise SpecError.at(path, f"must be <= {maximum:,}, got {short(result)}")
    return result


def short(number):
    """An int as text, its digits cut past 20."""
    text = str(number)
    return text if len(text) <= 20 else f"{text[:8]}... ({len(text)} digits)"


def as_number(value, path, *, greater_than=None, at_least=None):
    """An int or float (a numeric string is accepted); never a bool, NaN or infinity."""
    result = value
    if isinstance(value, str):
        try:
            result = int(value.strip())
        except ValueError:
            try:
                result = float(value.strip())
            except ValueError:
                result = None
    if not is_number(result) or not math.isfinite(result):
        raise SpecError.at(path, f"must be a number, got {type_name(value)} {value!r}")
    if greater_than is not None and not result > greater_than:
        raise SpecError.at(path, f"must be greater than {greater_than}, got {result}")
    if at_least is not None and result < at_least:
        raise SpecError.at(path, f"must be >= {at_least}, got {result}")
    return result


def as_bool(value, path):
    """A YAML bool."""
    if not isinstance(value, bool):
        raise SpecError.at(path, f"must be true or false, got {type_name(value)} {value!r}")
    return value


def as_name(value, path):
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise SpecError.at(path, f"must be a non-empty string, got {type_name(value)} {value!r}")
    return value


def as_enum(value, path, choices):
    """One of `choices`, written lower, UPPER or Capitalised; returned lowercase."""
    if isinstance(value, str):
        for choice in choices:
            if value in (choice, choice.upper(), choice.capitalize()):
                return choice
    raise SpecError.at(path, f"must be one of {', '.join(choices)}, got {value!r}")
