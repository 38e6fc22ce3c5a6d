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
    link=None,
):
    """Lines, steps or dots of (x, y) series on shared linear axes, with a legend of two or more
    series (unless `legend` is False: the page draws one); whole_x: x counts things.

    series: [{"label", "points": [(x, y)], "mode": "line"|"step"|"dots", "colour"?, "width"?,
    "opacity"?, "marks"?, "mark"?}]; a series keeps its colour slot when it has no points, and
    a line of one point is drawn as a dot. marks: (experiment, what it shows) per point of a
    dots series, mark: the same for a whole line; link (a kit.Marks) links them.
    description: what the chart shows in words (else each series's points and ranges).
    """
    link = link or kit.Marks()
    series = [_kept(item, kit.colour(i)) for i, item in enumerate(series)]
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
        parts.extend(_marks(item, kit.thin(item["pairs"], per_series), xs, ys, link))
    parts.extend(kit.legend(series) if keyed else [])
    if note:
        # A line of its own under the x axis's label, which it would otherwise run into.
        y = height + NOTE_LINE - 4
        parts.append(kit.text(right, y, note, anchor="end", size=10, cls="chart-note"))
    said = description or kit.describe(series)
    role = link.role if any(item.get("marks") or item.get("mark") for item in series) else "img"
    height += NOTE_LINE if note else 0
    return kit.svg(width, height, "".join(parts), title, said, role=role)


def _kept(item, colour):
    """The series with its colour, and its drawable points (both numbers) beside their marks."""
    marks = item.get("marks") or [None] * len(item["points"])
    pairs = [
        ((x, y), mark)
        for (x, y), mark in zip(item["points"], marks, strict=True)
        if x is not None and y is not None
    ]
    return {
        **item,
        "colour": item.get("colour") or colour,
        "pairs": pairs,
        "points": [point for point, _ in pairs],
    }


def _marks(item, pairs, xs, ys, link):
    colour, mode = item["colour"], item.get("mode", "line")
    named = f' data-series="{escape(item.get("label", ""))}"'
    if mode == "dots":
        return [
            link.wrap(kit.dot(xs(x), ys(y), colour), *(mark or (None, None)))
            for (x, y), mark in pairs
        ]
    points = [point for point, _ in pairs]
    whole = item.get("mark") or (None, None)
    if len(points) == 1:
        ((x, y),) = points
        dot = kit.dot(xs(x), ys(y), colour, opacity=1, radius=3.5, extra=named)
        return [link.wrap(dot, *whole)]
    coords = []
    for index, (x, y) in enumerate(points):
        if mode == "step" and index:
            coords.append((xs(x), ys(points[index - 1][1])))
        coords.append((xs(x), ys(y)))
    opacity = f' stroke-opacity="{item["opacity"]}"' if "opacity" in item else ""
    extra = f' class="series"{named}{opacity}'
    line = kit.polyline(coords, colour, width=item.get("width", 2), extra=extra)
    return [link.wrap(line, *whole)] if coords else []


def metric_chart(data, link=None):
    """The metric per experiment in completion order, with the best-so-far line when the
    direction is known; each dot links its experiment (link: a kit.Marks)."""
    points, metric = data["points"], data["metric"]
    series = [
        {
            "label": metric,
            "mode": "dots",
            "points": [(p["order"], p["value"]) for p in points],
            "marks": [(p["experiment"], f"{metric} {kit.fmt(p['value'])}") for p in points],
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
        link=link,
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


def suggestions_chart(data, link=None):
    """A search's suggestions in order (bo, tpe, cmaes): each kind (initial random ones, the
    model's) as dots, with the best so far; each dot links its experiment."""
    points = [p for p in data["points"] if p["value"] is not None]
    series = [
        {
            "label": f"{kind or 'unknown'} suggestions",
            "mode": "dots",
            "points": [(p["suggestion"], p["value"]) for p in points if p["kind"] == kind],
            "marks": [
                (
                    p["experiment"],
                    f"suggestion {p['suggestion']}, {data['metric']} {kit.fmt(p['value'])}",
                )
                for p in points
                if p["kind"] == kind
            ],
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
        link=link,
    )


def history_chart(metrics, title, width=WIDTH, height=HEIGHT):
    """An experiment's metric history: one line per metric over the report number (the
    experiment page draws one chart per metric)."""
    return xy_chart(
        [{"label": name, "mode": "line", "points": points} for name, points in metrics.items()],
        x_label="report number",
        y_label="value" if len(metrics) > 1 else next(iter(metrics), "value"),
        title=title,
        width=width,
        height=height,
        whole_x=True,
    )


def report_lines(title, series, link=None):
    """The compare page's chart of one metric: a line per series [(label, [values...],
    experiment)] over the report number, coloured as kit.swatches colours the page's legend, each
    line linking its experiment (link: a kit.Marks); empty markup when no series has a value."""
    if not any(values for _, values, _ in series):
        return Markup("")
    return xy_chart(
        [
            {
                "label": label,
                "mode": "line",
                "points": list(enumerate(values, start=1)),
                "mark": (experiment, f"{title} {kit.fmt(values[-1])} at report {len(values)}")
                if values
                else None,
            }
            for label, values, experiment in series
        ],
        x_label="report",
        y_label=None,
        title=title,
        width=640,
        height=260,
        whole_x=True,
        legend=False,
        link=link,
    )


def curves_chart(data, link=None):
    """Every drawn experiment's history of the metric over its report number: the best one in
    the palette's first colour over the others in grey; each line links its experiment."""
    metric, curves = data["metric"], data["experiments"]
    ordered = sorted(curves, key=lambda curve: curve["best"])  # the best one drawn last, on top
    series = [
        {
            "label": f"experiment {curve['id']}",
            "mode": "line",
            "points": [tuple(point) for point in curve["points"]],
            "colour": kit.colour(0) if curve["best"] else CURVE_GREY,
            "width": 2.5 if curve["best"] else 1,
            "opacity": 1 if curve["best"] else 0.55,
            "mark": (curve["id"], _curve_said(curve, metric)),
        }
        for curve in ordered
    ]
    total, drawn = data["total"], data["drawn"]
    note = (
        f"drawing {drawn:,} of {total:,} experiments (the 50 best, then a sample)"
        if total > drawn
        else None
    )
    best = next((curve for curve in curves if curve["best"]), None)
    said = f"{metric} of {drawn} experiments over their reports" + (
        f"; the best, experiment {best['id']}, ends at {kit.fmt(best['points'][-1][1])}"
        if best and best["points"]
        else ""
    )
    return xy_chart(
        series,
        x_label="report number",
        y_label=metric,
        title=f"learning curves of {metric}",
        note=note,
        whole_x=True,
        legend=False,
        description=said + ".",
        link=link,
    )


CURVE_GREY = "#8391a3"


def _curve_said(curve, metric):
    points = curve["points"]
    if not points:
        return f"{curve['status']}, no report of {metric}"
    return (
        f"{curve['status']}, {metric} {kit.fmt(points[-1][1])} at report {points[-1][0]}"
        f"{' (the best)' if curve['best'] else ''}"
    )


def edf_chart(data):
    """The metric's empirical distribution: the fraction of experiments at or below each value."""
    metric, values = data["metric"], data["values"]
    series = [
        {
            "label": metric,
            "mode": "step",
            "points": list(zip(values, data["fractions"], strict=True)),
        }
    ]
    said = (
        f"{metric} of {data['total']} experiments: from {kit.fmt(values[0])} to "
        f"{kit.fmt(values[-1])}, median {kit.fmt(_median(values, data['fractions']))}."
        if values
        else kit.NO_DATA
    )
    return xy_chart(
        series,
        x_label=metric,
        y_label="fraction of experiments at or below",
        title=f"distribution of {metric}",
        note=(
            f"{len(values):,} quantiles of {data['total']:,} values"
            if data["total"] > len(values)
            else None
        ),
        legend=False,
        description=said,
    )


def _median(values, fractions):
    return next(value for value, fraction in zip(values, fractions, strict=True) if fraction >= 0.5)
