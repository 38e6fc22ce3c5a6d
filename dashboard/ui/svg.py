"""Charts as inline SVG: pure functions from plot data to escaped markup (no JS, no CDN).

Large series are thinned for drawing (at most MAX_DRAWN marks per chart). The plot data of a large
group is itself a sample (services.plot_reads); its "total" says of how many experiments, and the
note under a chart counts from that.
"""

import json
import math
import random

from markupsafe import Markup, escape

MAX_DRAWN = 2000
PALETTE = ("#2456c9", "#d1495b", "#1b7f3b", "#9a6700", "#7a3cc4", "#0f8b8d", "#c2410c", "#475569")
STATUS_COLOURS = {"succeeded": "#1b7f3b", "failed": "#b42318", "stopped": "#6e7781",
                  "created": "#98a2b3", "scheduled": "#1f6feb", "starting": "#1f6feb",
                  "running": "#1f6feb", "unvisited": "#ffffff"}
WIDTH, HEIGHT = 720, 300
MARGIN = {"left": 64, "right": 16, "top": 16, "bottom": 44}
NOTE_LINE = 14  # the height of the line a chart's note takes under it


def thin(items, limit=MAX_DRAWN):
    """At most `limit` items in their order, one from each of `limit` equal stretches (the
    last item always), picked at random within its stretch: every n-th item would fall in
    step with a grid's cycle and draw one value of a param only. Seeded by the count, so the
    same items give the same drawing on every refresh."""
    items = list(items)
    if len(items) <= limit:
        return items
    step = len(items) / limit
    pick = random.Random(len(items))
    kept = [items[pick.randrange(int(i * step), max(int((i + 1) * step), int(i * step) + 1))]
            for i in range(limit - 1)]
    return kept + [items[-1]]


def fmt(value):
    """A number as a short tick label."""
    if value is None:
        return "—"
    if isinstance(value, float) and (abs(value) >= 1e5 or 0 < abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def nice_ticks(low, high, count=5):
    """Round tick values covering low..high."""
    if low == high:
        low, high = low - 1, high + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 12))
        value += step
    return ticks


class Scale:
    """A linear map from a data range to pixels."""

    def __init__(self, low, high, start, end):
        if low == high:
            low, high = low - 1, high + 1
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value):
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def _svg(width, height, body, label):
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet">{body}</svg>'
    )


def _text(x, y, text, *, anchor="middle", size=11, cls="", extra=""):
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="#5f6b7a" stroke="#fff" stroke-width="3" paint-order="stroke" '
            f'class="{cls}"{extra}>{escape(text)}</text>')


def _axes(xs, ys, x_label, y_label, width, height, x_ticks=True):
    left, right = MARGIN["left"], width - MARGIN["right"]
    top, bottom = MARGIN["top"], height - MARGIN["bottom"]
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#98a2b3"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#98a2b3"/>']
    for tick in nice_ticks(ys.low, ys.high):
        y = ys(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                     'stroke="#eef0f2"/>')
        parts.append(_text(left - 6, y + 4, fmt(tick), anchor="end"))
    if x_ticks:
        for tick in nice_ticks(xs.low, xs.high, 6):
            x = xs(tick)
            parts.append(_text(x, bottom + 16, fmt(tick)))
    parts.append(_text((left + right) / 2, height - 6, x_label, size=12, cls="axis-label"))
    parts.append(_text(14, (top + bottom) / 2, y_label, size=12, cls="axis-label",
                       extra=f' transform="rotate(-90 14 {(top + bottom) / 2:.1f})"'))
    return parts


def _legend(series, width):
    parts, x = [], MARGIN["left"] + 8
    for item in series:
        if not item.get("label"):
            continue
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{item["colour"]}"/>')
        parts.append(_text(x + 14, 15, item["label"], anchor="start"))
        x += 24 + 7 * len(item["label"])
    return parts


def xy_chart(series, *, x_label, y_label, title, width=WIDTH, height=HEIGHT, note=None):
    """Lines, steps or dots of (x, y) series on shared linear axes, with a legend.

    series: [{"label", "points": [(x, y)], "mode": "line"|"step"|"dots", "colour"?}]
    """
    series = [{**item, "colour": item.get("colour") or PALETTE[i % len(PALETTE)],
               "points": [(x, y) for x, y in item["points"] if x is not None and y is not None]}
              for i, item in enumerate(series)]
    everything = [p for item in series for p in item["points"]]
    if not everything:
        return _svg(width, 60, _text(width / 2, 34, "No data to draw yet."), title)
    top = MARGIN["top"] + (14 if len(series) > 1 else 0)
    xs = Scale(min(p[0] for p in everything), max(p[0] for p in everything),
               MARGIN["left"], width - MARGIN["right"])
    ys = Scale(min(p[1] for p in everything), max(p[1] for p in everything),
               height - MARGIN["bottom"], top)
    parts = _axes(xs, ys, x_label, y_label, width, height)
    per_series = max(MAX_DRAWN // len(series), 50)
    for item in series:
        points = thin(item["points"], per_series)
        colour = item["colour"]
        if item.get("mode", "line") == "dots":
            parts.extend(f'<circle cx="{xs(x):.1f}" cy="{ys(y):.1f}" r="2.5" fill="{colour}" '
                         'fill-opacity="0.7"/>' for x, y in points)
            continue
        coords = []
        for index, (x, y) in enumerate(points):
            if item.get("mode") == "step" and index:
                coords.append(f"{xs(x):.1f},{ys(points[index - 1][1]):.1f}")
            coords.append(f"{xs(x):.1f},{ys(y):.1f}")
        parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" class="series" '
                     f'data-series="{escape(item.get("label", ""))}"/>')
    parts.extend(_legend(series, width) if len(series) > 1 else [])
    if note:
        # A line of its own under the x axis's label, which it would otherwise run into.
        parts.append(_text(width - MARGIN["right"], height + NOTE_LINE - 4, note, anchor="end",
                           size=10, cls="chart-note"))
    return _svg(width, height + (NOTE_LINE if note else 0), "".join(parts), title)


def _drawn_note(total, limit=MAX_DRAWN):
    return f"drawing {limit:,} of {total:,} (evenly sampled)" if total > limit else None


def _direction_known(data):
    """Whether the data knows which way is better (else no best-so-far line is drawn)."""
    return data.get("optimization_source") != "assumed"


def metric_chart(data):
    """The metric per experiment in completion order, with the best-so-far line when the
    direction is known."""
    points = data["points"]
    series = [{"label": data["metric"], "mode": "dots",
               "points": [(p["order"], p["value"]) for p in points]}]
    if _direction_known(data):
        series.append({"label": f"best so far ({data['optimization']})", "mode": "step",
                       "points": [(p["order"], p["best"]) for p in points]})
    return xy_chart(
        series,
        x_label="experiments in completion order", y_label=data["metric"],
        title=f"{data['metric']} per experiment", note=_drawn_note(data.get("total", len(points))))


def bo_chart(data):
    """The bo suggestions in order: initial random ones and GP ones, with the best so far."""
    points = [p for p in data["points"] if p["value"] is not None]
    series = [{"label": f"{kind or 'unknown'} suggestions", "mode": "dots",
               "points": [(p["suggestion"], p["value"]) for p in points if p["kind"] == kind]}
              for kind in dict.fromkeys(p["kind"] for p in points)]
    if _direction_known(data):
        series.append({"label": "best so far", "mode": "step", "colour": PALETTE[7],
                       "points": [(p["suggestion"], p["best"]) for p in points]})
    return xy_chart(series, x_label="suggestion number", y_label=data["metric"],
                    title="Bayesian optimisation: suggestions in order",
                    note=_drawn_note(len(points)))


def _colour_of(value, low, high, optimization):
    """Blue (best) to orange (worst) for a metric value."""
    if value is None:
        return "#98a2b3"
    fraction = 0.5 if high == low else (value - low) / (high - low)
    if optimization != "maximize":
        fraction = 1 - fraction
    red, green, blue = (int(a + (b - a) * fraction) for a, b in zip((234, 88, 12), (36, 86, 201),
                                                                      strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def _axis_position(axis, value, top, bottom):
    if axis["kind"] == "numeric":
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        return None if number is None else Scale(axis["min"], axis["max"], bottom, top)(number)
    labels = axis["categories"]
    label = value if isinstance(value, str) else _label(value)
    if label not in labels:
        return None
    return bottom - (labels.index(label) + 0.5) / len(labels) * (bottom - top)


def _label(value):
    return json.dumps(value, sort_keys=True)


def parallel_chart(data, width=WIDTH, height=320):
    """Parallel coordinates: one axis per param and a last one for the metric."""
    axes, lines = data["axes"], data["lines"]
    if not lines or not axes:
        return _svg(width, 60, _text(width / 2, 34, "No data to draw yet."), "parallel")
    values = [line["value"] for line in lines]
    low, high = min(values), max(values)
    metric_axis = {"name": data["metric"], "kind": "numeric", "min": low, "max": high}
    columns = axes + [metric_axis]
    top, bottom = 28, height - 40
    gap = (width - 120) / max(len(columns) - 1, 1)
    xs = [60 + i * gap for i in range(len(columns))]
    limit = max(MAX_DRAWN // len(columns), 100)
    parts = []
    for line in thin(sorted(lines, key=lambda item: item["value"],
                            reverse=data["optimization"] != "maximize"), limit):
        coords = []
        for x, axis in zip(xs, columns, strict=True):
            value = line["value"] if axis is metric_axis else line["params"].get(axis["name"])
            y = _axis_position(axis, value, top, bottom)
            if y is not None:
                coords.append(f"{x:.1f},{y:.1f}")
        colour = _colour_of(line["value"], low, high, data["optimization"])
        parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" '
                     'stroke-opacity="0.45" stroke-width="1.2"/>')
    for x, axis in zip(xs, columns, strict=True):
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#1d2330"/>')
        parts.append(_text(x, top - 10, axis["name"], size=12, cls="axis-label"))
        if axis["kind"] == "numeric":
            parts.append(_text(x + 4, top + 4, fmt(axis["max"]), anchor="start", size=10))
            parts.append(_text(x + 4, bottom + 14, fmt(axis["min"]), anchor="start", size=10))
        else:
            for label in axis["categories"][:20]:
                y = _axis_position(axis, label, top, bottom)
                parts.append(_text(x + 4, y + 4, label[:16], anchor="start", size=10))
    legend = ("blue = best {}, orange = worst" if _direction_known(data)
              else "blue = highest {}, orange = lowest").format(data["metric"])
    parts.append(_text(8, height - 6, f"colour: {legend}", anchor="start", size=10))
    note = _drawn_note(data.get("total", len(lines)), limit)
    if note:
        parts.append(_text(width - 8, height - 6, note, anchor="end", size=10))
    label = f"parallel coordinates of params and {data['metric']}"
    return _svg(width, height, "".join(parts), label)


def scatter_chart(param, metric, width=340, height=240, total=None):
    """One param against the metric: dots on a numeric axis, or one column per category
    (total: how many experiments the points are a sample of, when they are one)."""
    points = param["points"]
    if param["kind"] == "numeric":
        return xy_chart([{"label": param["name"], "mode": "dots",
                          "points": [(p["x"], p["value"]) for p in points]}],
                        x_label=param["name"], y_label=metric, width=width, height=height,
                        title=f"{param['name']} vs {metric}",
                        note=_drawn_note(total or len(points)))
    labels = param["categories"]
    values = [p["value"] for p in points]
    if not values:
        return _svg(width, 60, _text(width / 2, 34, "No data to draw yet."), param["name"])
    left, right = MARGIN["left"], width - MARGIN["right"]
    xs = Scale(-0.5, len(labels) - 0.5, left, right)
    ys = Scale(min(values), max(values), height - MARGIN["bottom"], MARGIN["top"])
    parts = _axes(xs, ys, param["name"], metric, width, height, x_ticks=False)
    for index, label in enumerate(labels[:30]):
        parts.append(_text(xs(index), height - MARGIN["bottom"] + 16, label[:12], size=10))
    position = {label: index for index, label in enumerate(labels)}
    for index, p in enumerate(thin(points)):
        jitter = ((index * 37) % 21 - 10) / 60  # spread the dots of a column, deterministically
        parts.append(f'<circle cx="{xs(position[p["x"]] + jitter):.1f}" cy="{ys(p["value"]):.1f}" '
                     f'r="2.5" fill="{PALETTE[0]}" fill-opacity="0.6"/>')
    return _svg(width, height, "".join(parts), f"{param['name']} vs {metric}")


def bar_chart(bars, *, title, value_label, width=WIDTH):
    """Horizontal bars: [(label, value, annotation)], values >= 0 (negatives drawn as 0)."""
    row = 26
    height = 30 + row * len(bars) + 30
    if not bars:
        return _svg(width, 60, _text(width / 2, 34, "No data to draw yet."), title)
    peak = max(max(value for _, value, _ in bars), 1e-12)
    left, right = 170, width - 120
    parts = []
    for index, (label, value, annotation) in enumerate(bars):
        y = 20 + index * row
        length = max(value, 0) / peak * (right - left)
        parts.append(_text(left - 8, y + 15, label[:24], anchor="end", size=12))
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
                     f'fill="{PALETTE[0]}" rx="3"/>')
        parts.append(_text(left + length + 6, y + 15, annotation, anchor="start", size=11))
    parts.append(_text((left + right) / 2, height - 8, value_label, size=12, cls="axis-label"))
    return _svg(width, height, "".join(parts), title)


def importance_chart(data):
    """Permutation importance per param as bars (mean ± std of the R² drop)."""
    return bar_chart([(f["name"], f["importance"], f"{f['importance']:.3f} ± {f['std']:.3f}")
                      for f in data["features"]],
                     title=f"param importance for {data['metric']}",
                     value_label="drop in R² when the param is shuffled")


def hyperband_chart(data, width=WIDTH):
    """One row per bracket, one box per rung: configs run, promoted from the rung before."""
    brackets = data["brackets"]
    if not brackets:
        return _svg(width, 60, _text(width / 2, 34, "No iteration has started yet."), "hyperband")
    rungs = max(len(b["rungs"]) for b in brackets)
    peak = max(r["n_configs"] or 1 for b in brackets for r in b["rungs"])
    cell, row, left = (width - 110) / max(rungs, 1), 74, 100
    height = 40 + row * len(brackets)
    parts = [_text(left + i * cell + cell / 2, 16, f"rung {i}", size=12, cls="axis-label")
             for i in range(rungs)]
    for b_index, bracket in enumerate(brackets):
        y = 28 + b_index * row
        parts.append(_text(left - 10, y + row / 2, f"bracket {bracket['bracket']}", anchor="end",
                           size=12))
        for rung in bracket["rungs"]:
            x = left + rung["rung"] * cell
            bar = max(rung["n_configs"] / peak * (cell - 16), 4)
            done = rung["finished"] / max(rung["experiments"], 1) * bar
            parts.append(f'<rect x="{x + 8:.1f}" y="{y + 8}" width="{bar:.1f}" height="22" '
                         'fill="#e8eefc" stroke="#2456c9" rx="3"/>')
            parts.append(f'<rect x="{x + 8:.1f}" y="{y + 8}" width="{done:.1f}" height="22" '
                         'fill="#2456c9" fill-opacity="0.55" rx="3"/>')
            text = f"{rung['n_configs']} configs × {fmt(rung['resource'])}"
            if rung["rung"]:
                text += f", {rung['promoted']} promoted"
            parts.append(_text(x + 8, y + 46, text, anchor="start", size=11))
            best = "best" if _direction_known(data) else "highest"
            parts.append(_text(x + 8, y + 60, f"{best} {fmt(rung['best'])}", anchor="start",
                               size=10))
    return _svg(width, height, "".join(parts), "hyperband brackets and rungs")


def strip_chart(strip, width=WIDTH, height=70):
    """Where a continuous param's samples fell: one tick per experiment, coloured by status."""
    points = strip["points"]
    low, high = strip["low"], strip["high"]
    if low is None or not points:
        return _svg(width, 40, _text(width / 2, 24, "No samples yet."), strip["name"])
    use_log = strip.get("log") and low > 0
    transform = math.log10 if use_log else float
    xs = Scale(transform(low), transform(high), 20, width - 20)
    parts = [f'<line x1="20" y1="30" x2="{width - 20}" y2="30" stroke="#98a2b3"/>',
             _text(20, 56, fmt(low), anchor="start", size=10),
             _text(width - 20, 56, fmt(high), anchor="end", size=10),
             _text(width / 2, 56, strip["name"] + (" (log scale)" if use_log else ""), size=11,
                   cls="axis-label")]
    for value, status in thin(points):
        if use_log and value <= 0:
            continue
        x = xs(transform(value))
        parts.append(f'<line x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="42" '
                     f'stroke="{STATUS_COLOURS.get(status, "#475569")}" stroke-opacity="0.6"/>')
    return _svg(width, height, "".join(parts), f"samples of {strip['name']}")


def history_chart(metrics, title):
    """An experiment's metric history: one line per metric over the report number."""
    return xy_chart([{"label": name, "mode": "line", "points": points}
                     for name, points in metrics.items()],
                    x_label="report number", y_label="value", title=title)
