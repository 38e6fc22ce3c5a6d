"""WSGI entry point: `flask --app wsgi ...` and application servers load `app` from here."""

from dashboard import create_app

app = create_app()
