"""Charts as inline SVG: pure functions from plot data to escaped markup (no JS, no CDN).

kit.py holds what every chart draws with (one palette, one tick algorithm, scales, axes, marks,
the legend); each family has its module: xy.py (series over x), params.py (params against the
metric), bars.py (importance, hyperband, asha). What pages call is named here.
"""

from dashboard.ui.charts.bars import asha_chart, hyperband_chart, importance_chart
from dashboard.ui.charts.kit import Marks, fmt, swatches
from dashboard.ui.charts.params import contour_chart, parallel_chart, scatter_chart, strip_chart
from dashboard.ui.charts.xy import (
    curves_chart,
    edf_chart,
    history_chart,
    metric_chart,
    report_lines,
    suggestions_chart,
)

__all__ = [
    "Marks",
    "asha_chart",
    "contour_chart",
    "curves_chart",
    "edf_chart",
    "fmt",
    "history_chart",
    "hyperband_chart",
    "importance_chart",
    "metric_chart",
    "parallel_chart",
    "report_lines",
    "scatter_chart",
    "strip_chart",
    "suggestions_chart",
    "swatches",
]
