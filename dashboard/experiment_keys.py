"""The shape of an experiment's own key, and masking it in text people read (its log).

An experiment's key (POLYAXON_TOKEN) is `xp_` and 40 hex digits; the server keeps only its
SHA-256. Its log is readable by every viewer of the project, so a script that prints its
environment would hand them a live key. Every string of that shape is masked wherever log text
is shown: the log view and API, and exit messages built from the log's tail. The shape is
enough (no digest to compare): it also covers the keys of earlier runs (a restart issues a new
one), the Celery side builds exit messages without a database, and nothing else has that
prefix. Masked on reading, not writing: the experiment writes its log directly.
"""

import re

EXPERIMENT_KEY_PREFIX = "xp_"
KEY_PATTERN = re.compile(re.escape(EXPERIMENT_KEY_PREFIX) + r"[0-9a-fA-F]{40}")
MASK = EXPERIMENT_KEY_PREFIX + "*" * 8


def mask_keys(text):
    """The text with every experiment key in it replaced by a mask."""
    return KEY_PATTERN.sub(MASK, text)
