"""Helpers shared by the tests that are neither fixtures (conftest.py) nor data (factories.py)."""
