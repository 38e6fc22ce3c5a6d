"""A small server-rendered line chart (inline SVG) for comparing metric histories."""

from markupsafe import Markup, escape

# Distinguishable colours (Okabe-Ito and friends), one per experiment, reused past 10.
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
           "#8c564b", "#7f7f7f", "#bcbd22")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40


def colour(index):
    """The colour of the index-th series."""
    return COLOURS[index % len(COLOURS)]


def tick_text(value):
    """A short label for an axis value."""
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.4g}"


def scale(values_range, length, *, invert=False):
    """A function mapping values of (low, high) onto 0..length (flipped when invert)."""
    low, high = values_range
    span = (high - low) or 1.0

    def to_pixels(value):
        fraction = (value - low) / span
        return length * (1 - fraction if invert else fraction)

    return to_pixels


def x_ticks(steps, most=6):
    """Whole report numbers to label on x: the first, the last and evenly spaced ones between."""
    stride = max(1, -(-(steps - 1) // (most - 1)))
    ticks = list(range(1, steps + 1, stride))
    if steps - ticks[-1] <= stride / 2 and len(ticks) > 1:
        ticks.pop()  # keep the last label clear of its neighbour
    return sorted(set(ticks) | {steps})


def y_range(series):
    """(low, high) over every value, widened when flat so a constant line sits mid-chart."""
    values = [v for _, points in series for v in points]
    low, high = min(values), max(values)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    return low, high


def polyline_points(points, x_of, y_of):
    """The `points` attribute of one series (report number 1, 2, ... on x)."""
    return " ".join(f"{LEFT + x_of(i + 1):.1f},{TOP + y_of(v):.1f}" for i, v in enumerate(points))


def line_chart(title, series):
    """An SVG chart of series [(label, [values...])], one colour each; markup for templates.

    Series without values are left out of the plot but keep their colour in the legend.
    """
    plotted = [(label, points) for label, points in series if points]
    if not plotted:
        return Markup("")
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    steps = max(len(points) for _, points in plotted)
    x_of = scale((1, max(steps, 2)), inner_w)
    low, high = y_range(plotted)
    y_of = scale((low, high), inner_h, invert=True)
    parts = [
        f'<svg class="compare-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" class="plot-area"/>',
    ]
    for value in (low, (low + high) / 2, high):
        y = TOP + y_of(value)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + inner_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     'class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                     f"{escape(tick_text(value))}</text>")
    for step in x_ticks(steps):
        x = LEFT + x_of(step)
        parts.append(f'<text x="{x:.1f}" y="{TOP + inner_h + 16}" text-anchor="middle" '
                     f'class="tick">{step}</text>')
    parts.append(f'<text x="{LEFT + inner_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
                 'class="axis-label">report</text>')
    for index, (label, points) in enumerate(series):
        if not points:
            continue
        stroke = colour(index)
        if len(points) == 1:
            parts.append(f'<circle cx="{LEFT + x_of(1):.1f}" cy="{TOP + y_of(points[0]):.1f}" '
                         f'r="3.5" fill="{stroke}" data-series="{escape(label)}"/>')
            continue
        parts.append(f'<polyline fill="none" stroke="{stroke}" stroke-width="2" '
                     f'data-series="{escape(label)}" '
                     f'points="{polyline_points(points, x_of, y_of)}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(labels):
    """[(label, colour)] in series order, for the HTML legend beside the charts."""
    return [(label, colour(index)) for index, label in enumerate(labels)]
