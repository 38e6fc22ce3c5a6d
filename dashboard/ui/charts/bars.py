"""Charts of bars and boxes: param importance, hyperband's brackets and rungs, asha's rungs."""

from dashboard.ui.charts import kit
from dashboard.ui.charts.kit import WIDTH


def _bar(x, y, width, height, fill, extra=""):
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height}" '
        f'fill="{fill}" rx="3"{extra}/>'
    )


def bar_chart(bars, *, title, value_label, width=WIDTH):
    """Horizontal bars: [(label, value, annotation)], values >= 0 (negatives drawn as 0)."""
    if not bars:
        return kit.no_data(width, title)
    row = 26
    height = 30 + row * len(bars) + 30
    peak = max(max(value for _, value, _ in bars), 1e-12)
    left, right = 170, width - 120
    parts = []
    for index, (label, value, annotation) in enumerate(bars):
        y = 20 + index * row
        length = max(value, 0) / peak * (right - left)
        parts.append(kit.text(left - 8, y + 15, label[:24], anchor="end", size=12))
        parts.append(_bar(left, y + 3, length, row - 8, kit.colour(0)))
        parts.append(kit.text(left + length + 6, y + 15, annotation, anchor="start", size=11))
    parts.append(kit.text((left + right) / 2, height - 8, value_label, size=12, cls="axis-label"))
    said = f"{value_label}: " + "; ".join(f"{label} {note}" for label, _, note in bars) + "."
    return kit.svg(width, height, "".join(parts), title, said)


def importance_chart(data):
    """Permutation importance per param as bars (mean ± std of the R² drop)."""
    return bar_chart(
        [
            (f["name"], f["importance"], f"{f['importance']:.3f} ± {f['std']:.3f}")
            for f in data["features"]
        ],
        title=f"param importance for {data['metric']}",
        value_label="drop in R² when the param is shuffled",
    )


def hyperband_chart(data, width=WIDTH):
    """One row per bracket, one box per rung: configs run, promoted from the rung before."""
    brackets = data["brackets"]
    if not brackets:
        return kit.no_data(width, "hyperband", "No iteration has started yet.")
    rungs = max(len(b["rungs"]) for b in brackets)
    peak = max(r["n_configs"] or 1 for b in brackets for r in b["rungs"])
    cell, row, left = (width - 110) / max(rungs, 1), 74, 100
    height = 40 + row * len(brackets)
    colour = kit.colour(0)
    best = "best" if kit.direction_known(data) else "highest"
    parts = [
        kit.text(left + i * cell + cell / 2, 16, f"rung {i}", size=12, cls="axis-label")
        for i in range(rungs)
    ]
    said = []
    for b_index, bracket in enumerate(brackets):
        y = 28 + b_index * row
        name = f"bracket {bracket['bracket']}"
        parts.append(kit.text(left - 10, y + row / 2, name, anchor="end", size=12))
        for rung in bracket["rungs"]:
            x = left + rung["rung"] * cell
            bar = max(rung["n_configs"] / peak * (cell - 16), 4)
            done = rung["finished"] / max(rung["experiments"], 1) * bar
            # The rung's configs as a pale box, filled as far as its experiments finished.
            pale = f' fill-opacity="0.12" stroke="{colour}"'
            parts.append(_bar(x + 8, y + 8, bar, 22, colour, pale))
            parts.append(_bar(x + 8, y + 8, done, 22, colour, ' fill-opacity="0.55"'))
            text = f"{rung['n_configs']} configs × {kit.fmt(rung['resource'])}"
            if rung["rung"]:
                text += f", {rung['promoted']} promoted"
            parts.append(kit.text(x + 8, y + 46, text, anchor="start", size=11))
            value = f"{best} {kit.fmt(rung['best'])}"
            parts.append(kit.text(x + 8, y + 60, value, anchor="start", size=10))
            said.append(f"{name} rung {rung['rung']}: {text}, {value}")
    title = "hyperband brackets and rungs"
    return kit.svg(width, height, "".join(parts), title, "; ".join(said) + ".")


def asha_chart(data, width=WIDTH):
    """One row per asha rung, the last rung on top: its configurations as a pale bar, filled
    as far as they finished; how many were promoted and the best value reached there."""
    rungs = data["rungs"]
    if not any(r["configurations"] for r in rungs):
        return kit.no_data(width, "asha", "No configuration has started yet.")
    peak = max(r["configurations"] for r in rungs) or 1
    row, left, right = 46, 150, width - 20
    height = 20 + row * len(rungs)
    colour = kit.colour(0)
    best = "best" if kit.direction_known(data) else "highest"
    parts, said = [], []
    for index, rung in enumerate(reversed(rungs)):
        y = 10 + index * row
        label = f"rung {rung['rung']}: {data['resource']} {kit.fmt(rung['resource'])}"
        parts.append(kit.text(left - 10, y + 16, label, anchor="end", size=12))
        bar = max(rung["configurations"] / peak * (right - left), 4)
        done = rung["finished"] / max(rung["configurations"], 1) * bar
        parts.append(_bar(left, y + 4, bar, 18, colour, f' fill-opacity="0.12" stroke="{colour}"'))
        parts.append(_bar(left, y + 4, done, 18, colour, ' fill-opacity="0.55"'))
        text = (
            f"{rung['configurations']} configs, {rung['running']} unfinished, "
            f"{rung['promoted']} promoted"
        )
        if rung["best"] is not None:
            text += f", {best} {kit.fmt(rung['best'])}"
        parts.append(kit.text(left, y + 38, text, anchor="start", size=11))
        said.append(f"{label}: {text}")
    return kit.svg(width, height, "".join(parts), "asha rungs", "; ".join(said) + ".")
