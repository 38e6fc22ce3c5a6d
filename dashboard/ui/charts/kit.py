"""The chart kit: what every chart family draws with (one palette, one tick algorithm, scales,
axes, text, marks, the legend) and the thinning of large series.

Large series are thinned for drawing (at most MAX_DRAWN marks per chart). The plot data of a large
group is itself a sample (services.plots.plot_reads); its "total" says of how many
experiments, and the note under a chart counts from that.
"""

import math
import random

from markupsafe import Markup, escape

MAX_DRAWN = 2000
# Distinguishable colours (Okabe-Ito and friends), one per series, reused past 10.
PALETTE = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#000000",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
)
NEUTRAL = "#475569"  # marks that are no series of their own: best so far beside its series
MISSING = "#98a2b3"  # no value to colour by; also the axes' lines
STATUS_COLOURS = {
    "succeeded": "#1b7f3b",
    "failed": "#b42318",
    "stopped": "#6e7781",
    "created": "#98a2b3",
    "scheduled": "#1f6feb",
    "starting": "#1f6feb",
    "running": "#1f6feb",
    "unvisited": "#ffffff",
}
WIDTH, HEIGHT = 720, 300
MARGIN = {"left": 64, "right": 16, "top": 16, "bottom": 44}
NOTE_LINE = 14  # the height of the line a chart's note takes under it
NO_DATA = "No data to draw yet."


def colour(index):
    """The colour of the index-th series."""
    return PALETTE[index % len(PALETTE)]


def swatches(labels):
    """[(label, colour)] in series order, for a legend drawn in HTML beside the charts."""
    return [(label, colour(index)) for index, label in enumerate(labels)]


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
    kept = [
        items[pick.randrange(int(i * step), max(int((i + 1) * step), int(i * step) + 1))]
        for i in range(limit - 1)
    ]
    return kept + [items[-1]]


def fmt(value):
    """A number as a short label of its own (an axis's end, a cell, an annotation)."""
    if value is None:
        return "—"
    if isinstance(value, float) and (abs(value) >= 1e5 or 0 < abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def widen(low, high):
    """(low, high), widened when flat (by a tenth of the value, or 1 around 0) so a constant
    series sits mid-chart with ticks around it."""
    if low != high:
        return low, high
    pad = abs(low) * 0.1 or 1.0
    return low - pad, high + pad


def nice_ticks(low, high, count=5, *, whole=False):
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) within low..high, about
    `count` of them; whole numbers only when `whole` (counts: report or experiment numbers)."""
    low, high = widen(low, high)
    raw = max((high - low) / count, 1) if whole else (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(
        m * magnitude
        for m in (1, 2, 2.5, 5, 10)
        if m * magnitude >= raw and not (whole and m * magnitude % 1)
    )
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(k * step, 12) + 0.0 for k in range(first, last + 1)]


def _decimals(value):
    return next((d for d in range(13) if abs(round(value, d) - value) < 1e-9), 12)


def tick_labels(ticks):
    """The ticks' labels, all with as many decimals as the finest needs ("0.5", "1.0", "1.5");
    in scientific notation when that is longer than 8 characters."""
    decimals = max((_decimals(tick) for tick in ticks), default=0)
    labels = [f"{tick:.{decimals}f}" for tick in ticks]
    if max((len(label) for label in labels), default=0) <= 8:
        return labels
    return [f"{tick:.2e}" for tick in ticks]


class Scale:
    """A linear map from a data range (widened when flat) to pixels."""

    def __init__(self, low, high, start, end):
        self.low, self.high = widen(low, high)
        self.start, self.end = start, end

    def __call__(self, value):
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def svg(width, height, body, label, description=None, role="img"):
    """The chart's <svg> element around its marks: an image named `label` whose description (what
    it shows, in words: read by screen readers) is `description`; a chart whose marks link
    experiments is a group (an image's children are hidden from assistive technologies, and
    links inside one are refused), named and described the same way."""
    said = f"{label}. {description}" if description else label
    desc = f"<desc>{escape(description)}</desc>" if description else ""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="{role}" '
        f'aria-label="{escape(said)}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(label)}</title>{desc}{body}</svg>'
    )


def describe(series):
    """What (x, y) series show, in words: per series its number of points, its x range and its
    y range (the range a screen reader cannot see)."""
    said = []
    for item in series:
        points = item["points"]
        if not points:
            continue
        xs, ys = [x for x, _ in points], [y for _, y in points]
        said.append(
            f"{item.get('label') or 'series'}: {len(points)} points, x {fmt(min(xs))} to "
            f"{fmt(max(xs))}, y {fmt(min(ys))} to {fmt(max(ys))}, last {fmt(ys[-1])}"
        )
    return "; ".join(said) + "." if said else NO_DATA


def no_data(width, label, message=NO_DATA, height=60):
    """A chart with nothing to draw: its message, centred."""
    return svg(width, height, text(width / 2, height / 2 + 4, message), label)


def text(x, y, words, *, anchor="middle", size=11, cls="", extra=""):
    """Escaped text, haloed in white so it stays readable over marks."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#5f6b7a" stroke="#fff" stroke-width="3" paint-order="stroke" '
        f'class="{cls}"{extra}>{escape(words)}</text>'
    )


def line(x1, y1, x2, y2, stroke, extra=""):
    """A straight line."""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"{extra}/>'
    )


def dot(x, y, fill, *, opacity=0.7, radius=2.5, extra=""):
    """A dot of a scatter (or the one point of a line)."""
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}" '
        f'fill-opacity="{opacity}"{extra}/>'
    )


def polyline(coords, stroke, *, width=2, extra=""):
    """A line through [(x, y)] pixel coordinates."""
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    return (
        f'<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="{width}"{extra}/>'
    )


def axes(xs, ys, x_label, y_label, width, height, *, x_ticks=True, whole_x=False):
    """The x and y axes of the plot area: lines, gridlines at the y ticks, tick labels and the
    axes' labels (none for a y_label of None)."""
    left, right = MARGIN["left"], width - MARGIN["right"]
    top, bottom = MARGIN["top"], height - MARGIN["bottom"]
    parts = [line(left, bottom, right, bottom, MISSING), line(left, top, left, bottom, MISSING)]
    y_ticks = nice_ticks(ys.low, ys.high)
    for tick, label in zip(y_ticks, tick_labels(y_ticks), strict=True):
        y = ys(tick)
        parts.append(line(left, y, right, y, "#eef0f2"))
        parts.append(text(left - 6, y + 4, label, anchor="end"))
    if x_ticks:
        ticks = nice_ticks(xs.low, xs.high, 6, whole=whole_x)
        for tick, label in zip(ticks, tick_labels(ticks), strict=True):
            parts.append(text(xs(tick), bottom + 16, label))
    parts.append(text((left + right) / 2, height - 6, x_label, size=12, cls="axis-label"))
    if y_label is not None:
        middle = (top + bottom) / 2
        rotate = f' transform="rotate(-90 14 {middle:.1f})"'
        parts.append(text(14, middle, y_label, size=12, cls="axis-label", extra=rotate))
    return parts


def legend(series):
    """A row of colour keys over the plot area for the series that have a label."""
    parts, x = [], MARGIN["left"] + 8
    for item in series:
        if not item.get("label"):
            continue
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{item["colour"]}"/>')
        parts.append(text(x + 14, 15, item["label"], anchor="start"))
        x += 24 + 7 * len(item["label"])
    return parts


class Marks:
    """How a chart's marks that stand for experiments name and link them: each is wrapped in a
    link to the experiment's page (url(id)) with a <title> of its id, its params (params:
    {id: {name: value}}, what the page knows of them) and what the mark shows. The links are
    left out of the Tab order (a chart may hold 2,000): the experiments table is the keyboard's
    way to the same pages. Marks() links nothing."""

    def __init__(self, url=None, params=None):
        self.url, self.params = url, params or {}

    @property
    def role(self):
        """The chart's role: an image, or a group when its marks are links."""
        return "img" if self.url is None else "group"

    def said(self, experiment, shown):
        """'experiment 27 (lr 0.01, act relu): loss 0.303'."""
        params = self.params.get(experiment) or {}
        named = ", ".join(f"{name} {_value_text(value)}" for name, value in params.items())
        return f"experiment {experiment}{f' ({named})' if named else ''}: {shown}"

    def wrap(self, mark, experiment, shown):
        """The mark as a link to the experiment, titled; the bare mark without a url."""
        if self.url is None or experiment is None:
            return mark
        return (
            f'<a href="{escape(self.url(experiment))}" tabindex="-1" class="mark" '
            f'data-experiment="{experiment}"><title>{escape(self.said(experiment, shown))}'
            f"</title>{mark}</a>"
        )


def _value_text(value):
    return fmt(value) if isinstance(value, float) else str(value)


def drawn_note(total, limit=MAX_DRAWN):
    """What a thinned chart says under it, or None when it draws everything."""
    return f"drawing {limit:,} of {total:,} (evenly sampled)" if total > limit else None


def direction_known(data):
    """Whether the plot data knows which way is better (else no best-so-far line is drawn)."""
    return data.get("optimization_source") != "assumed"
