"""The value ranges a parallel-coordinates axis offers as filters of the experiments table: a
few equal ranges of a numeric axis (or its values, when it takes few), each value of a
categorical one; each with the condition the table's filter language spells it in."""

from dashboard.services.plots.plot_values import number
from dashboard.ui.charts.kit import fmt

RANGES = 4
FEW_VALUES = 6
# Characters the filter language gives a meaning: a category holding one cannot be spelled.
RESERVED = set(",|:<>=~")


def _bound(value):
    """A boundary as the filter spells it: short, and a number the filter parses."""
    text = fmt(float(value))
    return text.replace("e+", "e")


def numeric_ranges(field, values):
    """[(label, condition)] for a numeric axis of these values."""
    distinct = sorted(set(values))
    if not distinct:
        return []
    if len(distinct) <= FEW_VALUES:
        return [(_label(v), f"{field}:{v!r}") for v in distinct]
    low, high = distinct[0], distinct[-1]
    cuts = sorted({_bound(low + (high - low) * k / RANGES) for k in range(1, RANGES)}, key=float)
    ranges = [(f"< {cuts[0]}", f"{field}:<{cuts[0]}")]
    for start, end in zip(cuts, cuts[1:], strict=False):
        ranges.append((f"{start} – {end}", f"{field}:>={start},{field}:<{end}"))
    ranges.append((f"≥ {cuts[-1]}", f"{field}:>={cuts[-1]}"))
    return ranges


def _label(value):
    return fmt(value) if isinstance(value, float) else str(value)


def axis_filters(data):
    """[{"name", "ranges": [(label, condition)]}] for each axis of a parallel plot's data (the
    params, then the metric)."""
    filters = []
    for axis in data["axes"]:
        field = f"params.{axis['name']}"
        if axis["kind"] == "numeric":
            values = [
                line["params"][axis["name"]]
                for line in data["lines"]
                if number(line["params"].get(axis["name"])) is not None
            ]
            ranges = numeric_ranges(field, values)
        else:
            ranges = [
                (label, f"{field}:{label}")
                for label in axis["categories"][:12]
                if label and not set(label) & RESERVED
            ]
        filters.append({"name": axis["name"], "ranges": ranges})
    metric = f"metric.{data['metric']}"
    values = [line["value"] for line in data["lines"]]
    filters.append({"name": data["metric"], "ranges": numeric_ranges(metric, values)})
    return filters
