"""Answers worked out from a group's experiments, kept in this process while the group's version
stays the same.

The database raises a group's version (services.group.tallies.experiments_version) with
every insert, update or delete of its experiments, metric reports included, in the same
transaction: an equal version means the same experiments, so an answer keyed by it stays
right. The caller reads the version before the data it works the answer out from: a change
committed in between is then at worst kept under the older version, which nobody reads again,
never under the newer one. Keys name the group by its uuid, not its id, which SQLite may give
a deleted group's successor.
Only requests that write nothing work answers out: inside a transaction that changed a group's
experiments, the version read does not yet match what it sees (PostgreSQL's triggers add it at
the commit), or not for good (a rollback takes it back).

A finished group's plots and counts are so worked out once per process instead of on every
request. A running group's version moves with every report, so its answers are worked out
afresh each time: each caller bounds that cost on its own.
"""

import threading
from collections import OrderedDict

# How much the answers kept may weigh in all, per process, in units of their own `weight`:
# plots weigh their points (about 300 bytes each in memory: some 15 MB in all), a count 1.
BUDGET = 50_000


class Memo:
    """The most recently used answers, within a budget of their weights."""

    def __init__(self, budget=BUDGET):
        self.budget = budget
        self._answers = OrderedDict()  # key -> (answer, weight)
        self._weight = 0
        self._lock = threading.Lock()  # gthread workers share the process

    def get(self, key, build, weight=lambda answer: 1):
        """The answer kept for key, else build()'s (kept unless it alone passes the budget)."""
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
                return kept[0]
        answer = build()  # outside the lock: two threads may both build a missing answer
        heavy = max(1, weight(answer))
        if heavy <= self.budget:
            with self._lock:
                if key not in self._answers:
                    self._answers[key] = (answer, heavy)
                    self._weight += heavy
                while self._weight > self.budget:
                    self._weight -= self._answers.popitem(last=False)[1][1]
        return answer

    def clear(self):
        """Forget every answer."""
        with self._lock:
            self._answers.clear()
            self._weight = 0


answers = Memo()
