"""Values, durations and counts in words, as every page writes them."""

import json


def display_value(value, digits=10):
    """A param, metric or spec value as text (floats to `digits` significant digits)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return format(value, f".{digits}g")
    if isinstance(value, (int, str)):
        return str(value)
    return json.dumps(value)


def duration_text(delta):
    """A timedelta as "45s", "3m 05s", "2h 03m" or "4d 5h"; "—" for None."""
    if delta is None:
        return "—"
    minutes, seconds = divmod(max(int(delta.total_seconds()), 0), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def span(start, end):
    """The time from start to end; None unless both are known."""
    return None if start is None or end is None else end - start


def plural(count, word="experiment"):
    """The word for a count of things ("experiment" or "experiments")."""
    return word if count == 1 else f"{word}s"


def byte_size(size):
    """A size in bytes as people read it: 512 B, 3.2 KiB, 1.5 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def resources_text(resources):
    """A group's environment.resources as people read them: "1 GPU · CPU 0.5 (limit 2) ·
    memory 512 MB" (None without any)."""
    units = {
        "gpu": ("GPU", ""),
        "tpu": ("TPU", ""),
        "cpu": ("CPU", ""),
        "memory": ("memory", " MB"),
    }
    parts = []
    for name, (label, unit) in units.items():
        bounds = (resources or {}).get(name)
        if not bounds:
            continue
        requests, limits = bounds.get("requests"), bounds.get("limits")
        text = f"{label} {requests if requests is not None else limits}{unit}"
        if requests is not None and limits is not None and limits != requests:
            text += f" (limit {limits}{unit})"
        parts.append(text)
    return " · ".join(parts) or None
