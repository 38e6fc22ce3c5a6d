"""Answers kept per group version: built once, the least recently used let go past the budget."""

from dashboard.services.group.versioned import Memo


def counting(answer):
    """A build function returning answer, and the list of its calls."""
    calls = []

    def build():
        calls.append(answer)
        return answer

    return build, calls


def test_an_answer_is_built_once_while_it_is_kept():
    memo = Memo(budget=10)
    build, calls = counting("plots")

    assert memo.get(("plots", "uuid", 3), build) == "plots"
    assert memo.get(("plots", "uuid", 3), build) == "plots"
    assert calls == ["plots"]


def test_another_version_is_another_answer():
    memo = Memo(budget=10)
    memo.get(("count", "uuid", 3), lambda: (5, 10))

    assert memo.get(("count", "uuid", 4), lambda: (6, 10)) == (6, 10)


def test_past_the_budget_the_least_recently_used_answers_go():
    memo = Memo(budget=5)
    memo.get("a", lambda: "a", weight=lambda answer: 2)
    memo.get("b", lambda: "b", weight=lambda answer: 2)
    memo.get("a", lambda: "a again")  # used again: b is now the older one
    memo.get("c", lambda: "c", weight=lambda answer: 2)

    assert memo.get("a", lambda: "rebuilt") == "a"
    assert memo.get("b", lambda: "rebuilt") == "rebuilt"


def test_an_answer_heavier_than_the_whole_budget_is_not_kept():
    memo = Memo(budget=5)
    build, calls = counting("huge")

    memo.get("huge", build, weight=lambda answer: 6)
    memo.get("huge", build, weight=lambda answer: 6)

    assert calls == ["huge", "huge"]
