"""Charts of the params: parallel coordinates, one param against the metric, and where a
continuous param's samples fell."""

import itertools
import json
import math

from dashboard.ui.charts import kit
from dashboard.ui.charts.kit import MARGIN, MAX_DRAWN, WIDTH
from dashboard.ui.charts.xy import xy_chart


def _colour_of(value, low, high, optimization):
    """The palette's first colour (best) to its second (worst) for a metric value."""
    if value is None:
        return kit.MISSING
    fraction = 0.5 if high == low else (value - low) / (high - low)
    if optimization == "maximize":
        fraction = 1 - fraction
    best, worst = (_rgb(kit.colour(i)) for i in (0, 1))
    red, green, blue = (int(b + (w - b) * fraction) for b, w in zip(best, worst, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def _rgb(hex_colour):
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _axis_position(axis, value, top, bottom):
    if axis["kind"] == "numeric":
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        return None if number is None else kit.Scale(axis["min"], axis["max"], bottom, top)(number)
    labels = axis["categories"]
    label = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if label not in labels:
        return None
    return bottom - (labels.index(label) + 0.5) / len(labels) * (bottom - top)


def parallel_chart(data, width=WIDTH, height=320, link=None):
    """Parallel coordinates: one axis per param and a last one for the metric; each line links
    its experiment."""
    link = link or kit.Marks()
    axes, lines = data["axes"], data["lines"]
    if not lines or not axes:
        return kit.no_data(width, "parallel")
    values = [line["value"] for line in lines]
    low, high = min(values), max(values)
    metric_axis = {"name": data["metric"], "kind": "numeric", "min": low, "max": high}
    columns = axes + [metric_axis]
    top, bottom = 28, height - 40
    gap = (width - 120) / max(len(columns) - 1, 1)
    xs = [60 + i * gap for i in range(len(columns))]
    limit = max(MAX_DRAWN // len(columns), 100)
    parts = []
    for line in kit.thin(
        sorted(lines, key=lambda item: item["value"], reverse=data["optimization"] != "maximize"),
        limit,
    ):
        coords = []
        for x, axis in zip(xs, columns, strict=True):
            value = line["value"] if axis is metric_axis else line["params"].get(axis["name"])
            y = _axis_position(axis, value, top, bottom)
            if y is not None:
                coords.append((x, y))
        colour = _colour_of(line["value"], low, high, data["optimization"])
        drawn = kit.polyline(coords, colour, width=1.2, extra=' stroke-opacity="0.45"')
        shown = f"{data['metric']} {kit.fmt(line['value'])}"
        parts.append(link.wrap(drawn, line["experiment"], shown))
    for x, axis in zip(xs, columns, strict=True):
        parts.append(kit.line(x, top, x, bottom, "#1d2330"))
        parts.append(kit.text(x, top - 10, axis["name"], size=12, cls="axis-label"))
        if axis["kind"] == "numeric":
            parts.append(kit.text(x + 4, top + 4, kit.fmt(axis["max"]), anchor="start", size=10))
            parts.append(
                kit.text(x + 4, bottom + 14, kit.fmt(axis["min"]), anchor="start", size=10)
            )
        else:
            for label in axis["categories"][:20]:
                y = _axis_position(axis, label, top, bottom)
                parts.append(kit.text(x + 4, y + 4, label[:16], anchor="start", size=10))
    legend = (
        "blue = best {}, orange = worst"
        if kit.direction_known(data)
        else "blue = highest {}, orange = lowest"
    ).format(data["metric"])
    parts.append(kit.text(8, height - 6, f"colour: {legend}", anchor="start", size=10))
    note = kit.drawn_note(data.get("total", len(lines)), limit)
    if note:
        parts.append(kit.text(width - 8, height - 6, note, anchor="end", size=10))
    label = f"parallel coordinates of params and {data['metric']}"
    said = (
        f"{len(lines)} experiments, one line each across the axes "
        f"{', '.join(column['name'] for column in columns)}; {data['metric']} from "
        f"{kit.fmt(low)} to {kit.fmt(high)}. The experiments table lists every value."
    )
    return kit.svg(width, height, "".join(parts), label, said, role=link.role)


def scatter_chart(param, metric, width=340, height=240, total=None, link=None):
    """One param against the metric: dots on a numeric axis, or one column per category
    (total: how many experiments the points are a sample of, when they are one); each dot
    links its experiment (its title names only this param: the page carries one per param)."""
    points = param["points"]
    title = f"{param['name']} vs {metric}"
    link = kit.Marks(link.url) if link else kit.Marks()

    def shown(p):
        value = kit.fmt(p["x"]) if isinstance(p["x"], float) else p["x"]
        return f"{param['name']} {value}, {metric} {kit.fmt(p['value'])}"

    if param["kind"] == "numeric":
        return xy_chart(
            [
                {
                    "label": param["name"],
                    "mode": "dots",
                    "points": [(p["x"], p["value"]) for p in points],
                    "marks": [(p["experiment"], shown(p)) for p in points],
                }
            ],
            x_label=param["name"],
            y_label=metric,
            width=width,
            height=height,
            title=title,
            note=kit.drawn_note(total or len(points)),
            link=link,
        )
    labels = param["categories"]
    values = [p["value"] for p in points]
    if not values:
        return kit.no_data(width, param["name"])
    left, right = MARGIN["left"], width - MARGIN["right"]
    xs = kit.Scale(-0.5, len(labels) - 0.5, left, right)
    ys = kit.Scale(min(values), max(values), height - MARGIN["bottom"], MARGIN["top"])
    parts = kit.axes(xs, ys, param["name"], metric, width, height, x_ticks=False)
    for index, label in enumerate(labels[:30]):
        parts.append(kit.text(xs(index), height - MARGIN["bottom"] + 16, label[:12], size=10))
    position = {label: index for index, label in enumerate(labels)}
    for index, p in enumerate(kit.thin(points)):
        jitter = ((index * 37) % 21 - 10) / 60  # spread the dots of a column, deterministically
        x = xs(position[p["x"]] + jitter)
        dot = kit.dot(x, ys(p["value"]), kit.colour(0), opacity=0.6)
        parts.append(link.wrap(dot, p["experiment"], shown(p)))
    said = f"{len(points)} experiments over {len(labels)} values of {param['name']}: " + "; ".join(
        f"{label} {kit.fmt(min(vs))} to {kit.fmt(max(vs))}"
        for label in labels[:30]
        if (vs := [p["value"] for p in points if p["x"] == label])
    )
    return kit.svg(width, height, "".join(parts), title, said + ".", role=link.role)


def strip_chart(strip, width=WIDTH, height=70):
    """Where a continuous param's samples fell: one tick per experiment, coloured by status."""
    points = strip["points"]
    low, high = strip["low"], strip["high"]
    if low is None or not points:
        return kit.no_data(width, strip["name"], "No samples yet.", height=40)
    use_log = strip.get("log") and low > 0
    transform = math.log10 if use_log else float
    xs = kit.Scale(transform(low), transform(high), 20, width - 20)
    name = strip["name"] + (" (log scale)" if use_log else "")
    parts = [
        kit.line(20, 30, width - 20, 30, kit.MISSING),
        kit.text(20, 56, kit.fmt(low), anchor="start", size=10),
        kit.text(width - 20, 56, kit.fmt(high), anchor="end", size=10),
        kit.text(width / 2, 56, name, size=11, cls="axis-label"),
    ]
    for value, status in kit.thin(points):
        if use_log and value <= 0:
            continue
        x = xs(transform(value))
        colour = kit.STATUS_COLOURS.get(status, kit.NEUTRAL)
        parts.append(kit.line(x, 18, x, 42, colour, ' stroke-opacity="0.6"'))
    said = f"{len(points)} samples of {name} between {kit.fmt(low)} and {kit.fmt(high)}."
    return kit.svg(width, height, "".join(parts), f"samples of {strip['name']}", said)


def contour_chart(data, width=WIDTH, height=340, link=None):
    """The metric over two params: a cell per value (or bin) pair, coloured from best (blue) to
    worst (orange) by its best experiment, which the cell links."""
    link = link or kit.Marks()
    x_axis, y_axis, cells = data["x"], data["y"], data["cells"]
    if not cells:
        return kit.no_data(width, "contour")
    x_labels, y_labels = _contour_labels(x_axis), _contour_labels(y_axis)
    left, right, top, bottom = 110, width - 16, 16, height - 56
    cell_w, cell_h = (right - left) / len(x_labels), (bottom - top) / len(y_labels)
    bests = [cell[2] for cell in cells]
    low, high = min(bests), max(bests)
    metric, optimization = data["metric"], data["optimization"]
    parts = []
    for (i, j, best, count), experiment in zip(cells, data["cell_experiments"], strict=True):
        colour = _colour_of(best, low, high, optimization)
        rect = (
            f'<rect x="{left + i * cell_w:.1f}" y="{bottom - (j + 1) * cell_h:.1f}" '
            f'width="{cell_w:.1f}" height="{cell_h:.1f}" fill="{colour}" stroke="#fff"/>'
        )
        shown = (
            f"{x_axis['name']} {x_labels[i]}, {y_axis['name']} {y_labels[j]}: best {metric} "
            f"{kit.fmt(best)} of {count} experiment{'s' if count != 1 else ''}"
        )
        parts.append(link.wrap(rect, experiment, shown))
    step_x = max(1, len(x_labels) // 8)
    for i, label in enumerate(x_labels):
        if i % step_x == 0:
            parts.append(kit.text(left + (i + 0.5) * cell_w, bottom + 14, label[:10], size=10))
    step_y = max(1, len(y_labels) // 10)
    for j, label in enumerate(y_labels):
        if j % step_y == 0:
            y = bottom - (j + 0.5) * cell_h + 4
            parts.append(kit.text(left - 6, y, label[:14], anchor="end", size=10))
    parts.append(kit.text((left + right) / 2, bottom + 32, _axis_name(x_axis), size=12))
    middle = (top + bottom) / 2
    rotate = f' transform="rotate(-90 14 {middle:.1f})"'
    parts.append(kit.text(14, middle, _axis_name(y_axis), size=12, extra=rotate))
    legend = "blue = best, orange = worst" if kit.direction_known(data) else "blue = highest"
    parts.append(
        kit.text(
            8, height - 6, f"colour: best {metric} in the cell ({legend})", anchor="start", size=10
        )
    )
    said = (
        f"best {metric} over {x_axis['name']} and {y_axis['name']}: {len(cells)} cells, "
        f"from {kit.fmt(low)} to {kit.fmt(high)}."
    )
    label = f"contour of {metric} over {x_axis['name']} and {y_axis['name']}"
    return kit.svg(width, height, "".join(parts), label, said, role=link.role)


def _contour_labels(axis):
    """A label per value, or per bin between edges ("0.01–0.02")."""
    if axis.get("values") is not None:
        return [kit.fmt(v) if isinstance(v, float) else str(v) for v in axis["values"]]
    edges = axis["edges"]
    return [f"{kit.fmt(a)}–{kit.fmt(b)}" for a, b in itertools.pairwise(edges)]


def _axis_name(axis):
    return axis["name"] + (" (log scale)" if axis.get("log") and axis.get("edges") else "")
