"""Every request and response shape of the JSON API, declared once (pydantic 2), one module
per resource; base.py holds what they share (request and response bases, dates, names, tags,
pages and errors)."""
