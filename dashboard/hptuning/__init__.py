"""Group spec parsing and normalisation, matrix options and search suggestions (no Flask, no DB)."""

from .base import Iteration, SearchError
from .errors import SpecError
from .iterations import first_iteration, next_iteration
from .options import matrix_values
from .search import suggestions
from .spec import GroupSpec, parse_group_spec, run_cmd_of
from .templates import render_cmd, render_command

__all__ = [
    "GroupSpec",
    "Iteration",
    "SearchError",
    "SpecError",
    "first_iteration",
    "matrix_values",
    "next_iteration",
    "parse_group_spec",
    "render_cmd",
    "render_command",
    "run_cmd_of",
    "suggestions",
]
