"""Group spec parsing and normalisation, matrix options and search suggestions (no Flask, no DB)."""

from .errors import SpecError
from .options import matrix_values
from .search import suggestions
from .spec import GroupSpec, parse_group_spec
from .templates import render_command

__all__ = [
    "GroupSpec",
    "SpecError",
    "matrix_values",
    "parse_group_spec",
    "render_command",
    "suggestions",
]
