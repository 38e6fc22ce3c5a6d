"""The scheduler's search process: iterations worked out outside the round, within limits, in
turns by project."""

import time

import pytest

from dashboard.hptuning.iterations import work_out
from dashboard.runner.searches import Searches
from tests.factories import EXAMPLES, wide_bo_results, wide_bo_yml

HANG_GUARD = 90  # seconds: the outcome is asserted once it is reached, or fails past this
BO = (EXAMPLES / "bo.yml").read_text()
FIRST = {"content": BO, "last": None, "results": []}


def slow_request(width=500, observations=200, utility="n_iter: 250"):
    """A GP suggestion that takes a minute or more."""
    return {
        "content": wide_bo_yml(width, observations, utility),
        "last": {"number": 0, "data": {"kind": "initial"}},
        "results": wide_bo_results(width, observations),
    }


@pytest.fixture
def searches():
    made = []

    def make(timeout=60, memory=2048 * 2**20):
        made.append(Searches(timeout=timeout, memory=memory))
        return made[-1]

    yield make
    for one in made:
        one.close()


def answers(searches, count):
    """Poll until `count` answers came; the keys in the order they came."""
    end = time.monotonic() + HANG_GUARD
    while len(searches.finished) < count:
        assert time.monotonic() < end, f"timed out waiting for {count} answers"
        searches.poll()
        time.sleep(0.05)
    return list(searches.finished)


def test_a_request_is_answered_in_a_later_poll_as_it_would_be_here(searches):
    pool = searches()
    pool.submit("first", 1, FIRST)
    assert "first" in pool and not pool.finished  # the round never waits for it
    assert answers(pool, 1) == ["first"]
    assert pool.finished["first"] == work_out(FIRST)


def test_a_request_past_the_time_limit_fails_naming_it_and_the_next_is_answered(searches):
    pool = searches(timeout=2)
    pool.submit("slow", 1, slow_request())
    pool.submit("next", 2, FIRST)
    assert answers(pool, 2) == ["slow", "next"]
    assert pool.finished["slow"] == {
        "error": {
            "message": ("working out the next iteration took longer than the time limit of 2 s")
        }
    }
    assert pool.finished["next"] == work_out(FIRST)


def test_a_request_past_the_memory_limit_fails_naming_it(searches):
    pool = searches(memory=700 * 2**20)
    # 100,000 warm-up points of 3,001 columns: 2.4 GB.
    pool.submit("big", 1, slow_request(3000, 20, "n_warmup: 100000"))
    pool.submit("next", 1, FIRST)
    assert answers(pool, 2) == ["big", "next"]
    assert pool.finished["big"] == {
        "error": {
            "limit": "memory",
            "message": (
                "working out the next iteration needed more than the search process's memory limit "
                "of 700 MiB"
            ),
        }
    }
    assert pool.finished["next"] == work_out(FIRST)


def test_a_search_error_is_answered_with_its_message(searches):
    pool = searches()
    results = [[{"lr": 0.01, "units": 32, "activation": "relu"}, None, 0]]
    pool.submit("none", 1, {"content": BO, "last": {"number": 0, "data": {}}, "results": results})
    answers(pool, 1)
    assert pool.finished["none"] == {
        "error": {
            "limit": None,
            "message": (
                "no experiment reported the metric 'accuracy'; the bo search cannot continue"
            ),
        }
    }


def test_projects_take_turns(searches):
    pool = searches()
    for key, project in [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")]:
        pool.submit(key, project, FIRST)
    assert answers(pool, 4) == ["a1", "b1", "a2", "a3"]


def test_a_request_no_longer_wanted_is_dropped_and_its_work_ended(searches):
    pool = searches()
    pool.submit("slow", 1, slow_request())
    pool.submit("queued", 1, FIRST)
    end = time.monotonic() + HANG_GUARD
    while pool.current is None:  # the slow one is being worked out
        assert time.monotonic() < end
        pool.poll()
        time.sleep(0.05)
    process = pool.process
    pool.keep(["other"])
    assert "slow" not in pool and "queued" not in pool
    assert process.poll() is not None and pool.process is None
