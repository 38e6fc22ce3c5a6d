"""Work the scheduler's round starts in a thread of its own, so the round never waits for it."""

import threading
import time

from flask import current_app

from dashboard.extensions import db


class Periodic:
    """Runs `work` for `app` in a thread named `name`, at most every `every` seconds and never
    two at once; subclasses provide `work` (it runs in an app context)."""

    name = "periodic"

    def __init__(self, app, *, every):
        self.app = app
        self.every = every
        self.thread = None
        self.started = None

    def maybe_start(self):
        """Start a pass in a thread if one is due and none is running; returns at once."""
        now = time.monotonic()
        if self.thread is not None and self.thread.is_alive():
            return
        if self.started is not None and now - self.started < self.every:
            return
        self.started = now
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()

    def _run(self):
        with self.app.app_context():
            try:
                self.work()
            except Exception:  # a database hiccup: the next pass tries again
                current_app.logger.exception("%s failed", self.name)
            finally:
                db.session.remove()

    def work(self):
        raise NotImplementedError
