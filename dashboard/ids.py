"""Row ids as the database holds them (pure: imports nothing, so the app factory stays light)."""

# The largest id the id columns hold (32-bit integers on PostgreSQL).
MAX_ID = 2**31 - 1
