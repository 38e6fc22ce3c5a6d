"""The rule for names of users, projects and groups (slugs)."""

import re

# \Z, not $: $ also matches before a final newline, which would let "name\n" through.
SLUG = re.compile(r"^[A-Za-z0-9_-]+\Z")
MAX_NAME = 128


def is_slug(value, max_length=MAX_NAME):
    """Whether value is a slug: letters, digits, underscores and hyphens."""
    return bool(value) and len(value) <= max_length and bool(SLUG.match(value))
