"""The rule for names of users, projects and groups (slugs)."""

import re

SLUG = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_NAME = 128


def is_slug(value, max_length=MAX_NAME):
    """Whether value is a slug: letters, digits, underscores and hyphens."""
    return bool(value) and len(value) <= max_length and bool(SLUG.match(value))
