"""Narrow a group's matrix around its best experiment: the polyaxonfile of a finer search.

Each numeric option keeps its kind and count and is narrowed to ± spread × its width around the
best experiment's value, clipped to its own bounds (log options in log space); numeric `values`
keep those inside that window; normal-like options are centred on the best value with their
scale × spread. Categorical options (and `pvalues`) are kept as written.
"""

import copy
import math
from dataclasses import dataclass

import yaml

from .errors import SpecError
from .fields import is_number
from .options import KEYS, option_length
from .spec import parse_group_spec

SPREAD_RULE = "must be a number greater than 0 and at most 1"
# Bounds of each option narrowed as a window, and whether the window is taken in log space:
# "ln" (the bounds are natural logs), "base" (exponents of `base`), "geometric" (the values).
WINDOWED = {
    "range": ("start", "stop", None),
    "linspace": ("start", "stop", None),
    "logspace": ("start", "stop", "base"),
    "geomspace": ("start", "stop", "geometric"),
    "uniform": ("low", "high", None),
    "quniform": ("low", "high", None),
    "loguniform": ("low", "high", "ln"),
    "qloguniform": ("low", "high", "ln"),
}
CENTRED = {"normal": False, "qnormal": False, "lognormal": True, "qlognormal": True}
SIGNIFICANT = 15  # digits kept of a computed bound: float noise (0.30000000000000004) trimmed


@dataclass(frozen=True)
class Narrowed:
    """The narrowed polyaxonfile and one line per matrix param saying what became of it."""

    content: str
    notes: list


def parse_spread(raw):
    """The spread (a number or its text) as a float; SpecError at `spread` unless 0 < it <= 1."""
    value = raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip()) if len(raw) <= 64 else None
        except ValueError:
            value = None
    if not is_number(value) or not math.isfinite(value) or not 0 < value <= 1:
        shown = raw if not isinstance(raw, str) or len(raw) <= 20 else f"{raw[:20]}..."
        raise SpecError.at("spread", f"{SPREAD_RULE}, got {shown!r}")
    return float(value)


def around_best(content, params, spread):
    """The polyaxonfile `content` with its matrix narrowed around `params` (the best
    experiment's), and notes of what was narrowed; SpecError for a bad spread or file."""
    spread = parse_spread(spread)
    spec = parse_group_spec(content, max_experiments=None, check_template=False)
    data = copy.deepcopy(spec.data)
    written = data["hptuning"]["matrix"]
    notes = []
    for name, entry in spec.matrix.items():
        option, normal = next(iter(entry.items()))
        try:
            narrowed, note = _narrow(option, normal, params.get(name), spread)
        except (OverflowError, ValueError):  # numbers past a float's range: left as they are
            narrowed, note = None, f"{option} kept: its numbers are too large to narrow"
        if narrowed is not None:
            written[name] = {option: _written_as(written[name][option], option, narrowed)}
        notes.append(f"{name}: {note}")
    return Narrowed(content=_dump(data), notes=notes)


def _narrow(option, spec, best, spread):
    """(the narrowed normalised option or None when kept, a note saying what was done)."""
    if option == "pvalues":
        return None, "pvalues kept"
    if option == "values":
        return _narrow_values(spec, best, spread)
    if not is_number(best) or not math.isfinite(best):
        return None, f"{option} kept: the best experiment has no number for it"
    if option in CENTRED:
        narrowed = _centred(option, spec, best, spread)
    elif option == "range":
        narrowed = _range(spec, best, spread)
    else:
        narrowed = _windowed(option, spec, best, spread)
    if narrowed is None:
        return None, f"{option} kept: {_number(best)} has no logarithm"
    before = f"{option} {_text(option, spec)}"
    if narrowed == spec:
        return None, f"{before} kept: the window {_around(option, spec, best)} covers it"
    return narrowed, f"{before} → {_text(option, narrowed)} {_around(option, spec, best)}"


def _narrow_values(values, best, spread):
    numbers = [v for v in values if is_number(v)]
    if len(numbers) < len(values):
        return None, "values kept (categorical)"
    if not is_number(best):
        return None, "values kept: the best experiment has no number for it"
    half = spread * (max(numbers) - min(numbers))
    kept = [v for v in values if abs(v - best) <= half * (1 + 1e-9)]
    if len(kept) == len(values):
        return None, f"values kept: all of {_list(values)} are within ±{_number(half)}"
    return kept, f"values {_list(values)} → {_list(kept)} around {_number(best)}"


def _window(centre, low, high, spread):
    """[centre ± spread × (high - low)] clipped to [low, high] (centre clamped into it first)."""
    half = spread * (high - low)
    centre = min(max(centre, low), high)
    return max(low, centre - half), min(high, centre + half)


def _windowed(option, spec, best, spread):
    low_key, high_key, scale = WINDOWED[option]
    low, high = spec[low_key], spec[high_key]
    if scale == "geometric":
        return _geometric(spec, best, spread)
    if scale == "ln":
        centre = math.log(best) if best > 0 else low
    elif scale == "base":
        if spec["base"] == 1:
            return None
        centre = math.log(best, spec["base"]) if best > 0 else low
    else:
        centre = best
    new_low, new_high = _trimmed(*_window(centre, low, high, spread))
    return {**spec, low_key: new_low, high_key: new_high}


def _geometric(spec, best, spread):
    """geomspace in log10 space of the values' magnitudes (start and stop share a sign)."""
    sign = 1 if spec["start"] > 0 else -1
    ends = sorted(math.log10(abs(spec[key])) for key in ("start", "stop"))
    centre = math.log10(abs(best)) if best * sign > 0 else ends[0]
    low, high = _window(centre, *ends, spread)
    magnitudes = _trimmed(10**low, 10**high)
    start, stop = magnitudes if sign > 0 else (-magnitudes[1], -magnitudes[0])
    return {**spec, "start": start, "stop": stop}


def _range(spec, best, spread):
    """A range of the same count in the window; integer ranges stay integers (and so hold
    fewer values when the window holds fewer integers)."""
    start, stop, step = spec["start"], spec["stop"], spec["step"]
    count = option_length("range", spec)
    low, high = _window(best, start, stop, spread)
    if all(isinstance(v, int) for v in (start, stop, step)):
        first, last = math.ceil(low), max(math.floor(high), math.ceil(low))
        new_step = max(1, (last - first) // count)
        end = min(first + new_step * count, last + 1, stop)
        first = min(first, end - 1)
        return {"start": first, "stop": end, "step": new_step}
    low, high = _trimmed(low, high)
    new_step = _trim((high - low) / count)
    narrowed = {"start": low, "stop": high, "step": new_step}
    if option_length("range", narrowed) != count:
        # (high - low) / step came out a hair above count: end half a step past the last value.
        narrowed["stop"] = _trim(low + new_step * (count - 0.5))
    return narrowed


def _centred(option, spec, best, spread):
    if CENTRED[option]:
        if best <= 0:
            return None
        best = math.log(best)
    return {**spec, "loc": _trim(best), "scale": _trim(spec["scale"] * spread)}


def _trim(value):
    """A computed float without its noise; a bound kept as written (an int) stays so."""
    return value if isinstance(value, int) else float(f"{value:.{SIGNIFICANT}g}")


def _trimmed(low, high):
    """Both bounds trimmed of float noise, unless that would make them meet."""
    trimmed = _trim(low), _trim(high)
    return trimmed if trimmed[0] < trimmed[1] else (low, high)


def _written_as(raw, option, spec):
    """The normalised option written back in the form the file used: 'a:b:c', a list or a
    mapping, with the keys it gave (logspace's base is optional); `values` as a list."""
    if option == "values":
        return spec
    if isinstance(raw, list):
        return [spec[key] for key in KEYS[option][: len(raw)]]
    if isinstance(raw, dict):
        return {key: spec[key] for key in raw}
    if isinstance(raw, str):
        keys = KEYS[option][: len(raw.split(":"))]
        return ":".join(repr(spec[key]) for key in keys)
    return spec


def _text(option, spec):
    return ":".join(_number(spec[key]) for key in KEYS[option])


def _around(option, spec, best):
    """'around 0.01', with the value's log when the option's bounds are logs."""
    scale = WINDOWED.get(option, (None, None, "ln" if CENTRED.get(option) else None))[2]
    if best <= 0:
        scale = None
    if scale == "ln":
        return f"around {_number(best)} (ln {math.log(best):g})"
    if scale == "base":
        return f"around {_number(best)} ({_number(spec['base'])}^{math.log(best, spec['base']):g})"
    return f"around {_number(best)}"


def _number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def _list(values, most=10):
    shown = ", ".join(_number(v) for v in values[:most])
    return f"[{shown}{', ...' if len(values) > most else ''}]"


class _Dumper(yaml.SafeDumper):
    """Writes shared nodes out in full (no &anchors): each option is its own value."""

    def ignore_aliases(self, data):
        return True


def _dump(data):
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=1000,
    )
