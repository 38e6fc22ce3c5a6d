"""Charts of (x, y) series on shared linear axes: the metric per experiment, bo's suggestions, an
experiment's metric history and the compare page's histories by report."""

from markupsafe import Markup, escape

from dashboard.ui.charts import kit
from dashboard.ui.charts.kit import HEIGHT, MARGIN, MAX_DRAWN, NOTE_LINE, WIDTH


def xy_chart(
    series,
    *,
    x_label,
    y_label,
    title,
    width=WIDTH,
    height=HEIGHT,
    note=None,
    whole_x=False,
    legend=True,
    description=None,
):
    """Lines, steps or dots of (x, y) series on shared linear axes, with a legend of two or more
    series (unless `legend` is False: the page draws one); whole_x: x counts things.

    series: [{"label", "points": [(x, y)], "mode": "line"|"step"|"dots", "colour"?}]; a series
    keeps its colour slot when it has no points, and a line of one point is drawn as a dot.
    description: what the chart shows in words (else each series's points and ranges).
    """
    series = [
        {
            **item,
            "colour": item.get("colour") or kit.colour(i),
            "points": [(x, y) for x, y in item["points"] if x is not None and y is not None],
        }
        for i, item in enumerate(series)
    ]
    everything = [p for item in series for p in item["points"]]
    if not everything:
        return kit.no_data(width, title)
    keyed = legend and len(series) > 1
    top = MARGIN["top"] + (14 if keyed else 0)
    right = width - MARGIN["right"]
    xs = kit.Scale(
        min(p[0] for p in everything), max(p[0] for p in everything), MARGIN["left"], right
    )
    ys = kit.Scale(
        min(p[1] for p in everything), max(p[1] for p in everything), height - MARGIN["bottom"], top
    )
    parts = kit.axes(xs, ys, x_label, y_label, width, height, whole_x=whole_x)
    per_series = max(MAX_DRAWN // len(series), 50)
    for item in series:
        parts.extend(_marks(item, kit.thin(item["points"], per_series), xs, ys))
    parts.extend(kit.legend(series) if keyed else [])
    if note:
        # A line of its own under the x axis's label, which it would otherwise run into.
        y = height + NOTE_LINE - 4
        parts.append(kit.text(right, y, note, anchor="end", size=10, cls="chart-note"))
    said = description or kit.describe(series)
    return kit.svg(width, height + (NOTE_LINE if note else 0), "".join(parts), title, said)


def _marks(item, points, xs, ys):
    colour, mode = item["colour"], item.get("mode", "line")
    named = f' data-series="{escape(item.get("label", ""))}"'
    if mode == "dots":
        return [kit.dot(xs(x), ys(y), colour) for x, y in points]
    if len(points) == 1:
        ((x, y),) = points
        return [kit.dot(xs(x), ys(y), colour, opacity=1, radius=3.5, extra=named)]
    coords = []
    for index, (x, y) in enumerate(points):
        if mode == "step" and index:
            coords.append((xs(x), ys(points[index - 1][1])))
        coords.append((xs(x), ys(y)))
    return [kit.polyline(coords, colour, extra=f' class="series"{named}')] if coords else []


def metric_chart(data):
    """The metric per experiment in completion order, with the best-so-far line when the
    direction is known."""
    points = data["points"]
    series = [
        {
            "label": data["metric"],
            "mode": "dots",
            "points": [(p["order"], p["value"]) for p in points],
        }
    ]
    if kit.direction_known(data):
        series.append(
            {
                "label": f"best so far ({data['optimization']})",
                "mode": "step",
                "points": [(p["order"], p["best"]) for p in points],
            }
        )
    return xy_chart(
        series,
        x_label="experiments in completion order",
        y_label=data["metric"],
        title=f"{data['metric']} per experiment",
        note=kit.drawn_note(data.get("total", len(points))),
        whole_x=True,
        description=_metric_description(data),
    )


def _metric_description(data):
    """'loss of 40 experiments, best 0.303 at experiment 27 (minimize)': what the metric chart
    says in words; the numbers themselves are the experiments table's."""
    points = [p for p in data["points"] if p.get("value") is not None]
    said = f"{data['metric']} of {len(points)} experiments in completion order"
    if points and kit.direction_known(data):
        pick = min if data.get("optimization") == "minimize" else max
        best = pick(points, key=lambda p: p["value"])
        said += (
            f", best {kit.fmt(best['value'])} at experiment {best.get('experiment', '?')} "
            f"({data['optimization']})"
        )
    elif points:
        values = [p["value"] for p in points]
        said += f", from {kit.fmt(min(values))} to {kit.fmt(max(values))}"
    return said + ". The experiments table lists every value."


TITLES = {
    "bo": "Bayesian optimisation: suggestions in order",
    "tpe": "TPE: suggestions in order",
    "cmaes": "CMA-ES: suggestions in order",
}


def suggestions_chart(data):
    """A search's suggestions in order (bo, tpe, cmaes): each kind (initial random ones, the
    model's) as dots, with the best so far."""
    points = [p for p in data["points"] if p["value"] is not None]
    series = [
        {
            "label": f"{kind or 'unknown'} suggestions",
            "mode": "dots",
            "points": [(p["suggestion"], p["value"]) for p in points if p["kind"] == kind],
        }
        for kind in dict.fromkeys(p["kind"] for p in points)
    ]
    if kit.direction_known(data):
        series.append(
            {
                "label": "best so far",
                "mode": "step",
                "colour": kit.NEUTRAL,
                "points": [(p["suggestion"], p["best"]) for p in points],
            }
        )
    return xy_chart(
        series,
        x_label="suggestion number",
        y_label=data["metric"],
        title=TITLES[data["plot"]],
        note=kit.drawn_note(len(points)),
        whole_x=True,
    )


def history_chart(metrics, title):
    """An experiment's metric history: one line per metric over the report number."""
    return xy_chart(
        [{"label": name, "mode": "line", "points": points} for name, points in metrics.items()],
        x_label="report number",
        y_label="value",
        title=title,
        whole_x=True,
    )


def report_lines(title, series):
    """The compare page's chart of one metric: a line per series [(label, [values...])] over the
    report number, coloured as kit.swatches colours the page's legend; empty markup when no
    series has a value."""
    if not any(values for _, values in series):
        return Markup("")
    return xy_chart(
        [
            {"label": label, "mode": "line", "points": list(enumerate(values, start=1))}
            for label, values in series
        ],
        x_label="report",
        y_label=None,
        title=title,
        width=640,
        height=260,
        whole_x=True,
        legend=False,
    )
