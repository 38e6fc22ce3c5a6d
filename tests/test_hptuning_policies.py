"""hptuning.policies: the median, average and truncation decisions, on hand-computed cases.

Values are chosen so that running averages are exact in binary (integers, halves, quarters, or
a value repeated), so ties are real ties.
"""

import pytest

from dashboard.hptuning.policies import MIN_OTHERS, Standing, decide, should_stop, standings


def rule(kind, optimization="minimize", metric="loss", every=1, percent=None):
    policy = {"kind": kind, "evaluation_interval": every}
    if percent is not None:
        policy = {"kind": kind, "percent": percent, "evaluation_interval": every}
    return {"metric": metric, "value": None, "optimization": optimization, "policy": policy}


# ---- standings -------------------------------------------------------------------------


def test_standings_keep_the_lowest_highest_and_running_average_at_each_report():
    assert standings([10, 8, 6, 12]) == [
        Standing(10, 10, 10.0),
        Standing(8, 10, 9.0),
        Standing(6, 10, 8.0),
        Standing(6, 12, 9.0),
    ]


def test_the_best_is_the_lowest_when_minimising_and_the_highest_when_maximising():
    standing = Standing(lowest=1, highest=5, average=3.0)
    assert (standing.best("minimize"), standing.best("maximize")) == (1, 5)


# ---- median ----------------------------------------------------------------------------

# Others' running averages at report 3: 8, 7 and 5; their median is 7.
OTHERS = [[10, 8, 6], [9, 7, 5], [6, 5, 4]]


def test_median_stops_an_experiment_whose_best_is_worse_than_the_median_of_averages():
    message = decide(rule("median"), 3, [12, 10, 9], OTHERS)
    assert message == (
        "Median stopping rule at report 3: loss 9 is worse than the median 7 of 3 experiments."
    )


def test_median_keeps_an_experiment_whose_best_beats_the_median():
    # Its average (11) is far worse: the rule compares its best (6.5).
    assert decide(rule("median"), 3, [20, 6.5, 6.5], OTHERS) is None


def test_median_keeps_an_experiment_tied_with_the_median():
    assert decide(rule("median"), 3, [12, 10, 7], OTHERS) is None


def test_median_message_has_the_contract_style():
    others = [[value] * 7 for value in (0.3, 0.5, 0.54, 0.6, 0.9)]
    own = [1.5, 1.2, 1.0, 0.95, 0.93, 0.92, 0.91]
    assert decide(rule("median"), 7, own, others) == (
        "Median stopping rule at report 7: loss 0.91 is worse than the median 0.54 of 5 "
        "experiments."
    )


def test_median_when_maximising_stops_a_lower_best():
    # Averages at report 2: 0.5, 0.75, 1.0; median 0.75.
    others = [[0.25, 0.75], [0.5, 1.0], [1.0, 1.0]]
    assert decide(rule("median", "maximize", "acc"), 2, [0.5, 0.625], others) == (
        "Median stopping rule at report 2: acc 0.625 is worse than the median 0.75 of 3 "
        "experiments."
    )
    assert decide(rule("median", "maximize", "acc"), 2, [0.75, 0.5], others) is None  # a tie
    assert decide(rule("median", "maximize", "acc"), 2, [0.25, 0.875], others) is None


def test_median_of_an_even_number_of_experiments_is_the_mean_of_the_middle_two():
    others = [[1], [2], [3], [4]]
    assert decide(rule("median"), 1, [3], others) == (
        "Median stopping rule at report 1: loss 3 is worse than the median 2.5 of 4 experiments."
    )
    assert decide(rule("median"), 1, [2.5], others) is None


def test_close_numbers_get_the_digits_that_tell_them_apart():
    others = [[0.54321]] * 3
    assert decide(rule("median"), 1, [0.54322], others) == (
        "Median stopping rule at report 1: loss 0.54322 is worse than the median 0.54321 of 3 "
        "experiments."
    )


def test_others_compare_on_their_first_n_reports_only():
    # At report 2 the first other's average is 8 (its 3rd report, 0, is not seen yet).
    others = [[8, 8, 0], [7, 7], [5, 5]]
    assert decide(rule("median"), 2, [9, 9], others) == (
        "Median stopping rule at report 2: loss 9 is worse than the median 7 of 3 experiments."
    )


# ---- average ---------------------------------------------------------------------------


def test_average_compares_with_the_mean_of_running_averages():
    # Averages 1, 2 and 6: the mean is 3, the median 2.
    others = [[1], [2], [6]]
    assert decide(rule("average"), 1, [2.5], others) is None
    assert decide(rule("median"), 1, [2.5], others) is not None
    assert decide(rule("average"), 1, [4], others) == (
        "Average stopping rule at report 1: loss 4 is worse than the mean 3 of 3 experiments."
    )


def test_average_when_maximising():
    others = [[1], [2], [6]]
    assert decide(rule("average", "maximize", "acc"), 1, [2.5], others) == (
        "Average stopping rule at report 1: acc 2.5 is worse than the mean 3 of 3 experiments."
    )
    assert decide(rule("average", "maximize", "acc"), 1, [3], others) is None  # a tie


# ---- truncation ------------------------------------------------------------------------


def test_truncation_stops_the_worst_quarter_of_four():
    others = [[1], [2], [3]]
    assert decide(rule("truncation", percent=25), 1, [4], others) == (
        "Truncation stopping rule at report 1: loss 4 is in the worst 25% of 4 experiments."
    )
    assert decide(rule("truncation", percent=25), 1, [2.5], others) is None


def test_truncation_with_half_stops_the_two_worst_of_four():
    others = [[1], [2], [3]]
    assert decide(rule("truncation", percent=50), 1, [2.5], others) is not None
    assert decide(rule("truncation", percent=50), 1, [1.5], others) is None


def test_truncation_stops_none_while_the_percent_is_less_than_one_experiment():
    # 20% of 4 experiments is 0.8 of one.
    assert decide(rule("truncation", percent=20), 1, [100], [[1], [2], [3]]) is None
    # 20% of 5 is one.
    assert decide(rule("truncation", percent=20), 1, [100], [[1], [2], [3], [4]]) is not None


def test_truncation_ranks_on_the_best_value():
    # Its average (3) is the worst, its best (1) the best.
    others = [[2, 2], [2.5, 2.5], [2.75, 2.75]]
    assert decide(rule("truncation", percent=25), 2, [5, 1], others) is None


def test_truncation_ties_take_the_most_favourable_rank():
    assert decide(rule("truncation", percent=25), 1, [3], [[1], [2], [3]]) is None
    assert decide(rule("truncation", percent=75), 1, [5], [[5], [5], [5]]) is None


def test_truncation_when_maximising_stops_the_lowest():
    others = [[0.875], [0.75], [0.625]]
    assert decide(rule("truncation", "maximize", "acc", percent=25), 1, [0.5], others) == (
        "Truncation stopping rule at report 1: acc 0.5 is in the worst 25% of 4 experiments."
    )
    assert decide(rule("truncation", "maximize", "acc", percent=25), 1, [0.7], others) is None


def test_truncation_pools_only_the_experiments_that_reached_report_n():
    # The fourth other ended after one report: it is not among those at report 2.
    others = [[1, 1], [2, 2], [3, 3], [9]]
    assert decide(rule("truncation", percent=20), 2, [4, 4], others) is None
    assert decide(rule("truncation", percent=25), 2, [4, 4], others) is not None


# ---- when a policy acts -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["median", "average", "truncation"])
def test_no_policy_acts_before_three_others_have_n_reports(kind):
    hopeless = rule(kind, percent=50 if kind == "truncation" else None)
    assert MIN_OTHERS == 3
    assert decide(hopeless, 1, [100], [[1], [2]]) is None
    assert decide(hopeless, 2, [100, 100], [[1, 1], [2, 2], [3]]) is None
    assert decide(hopeless, 2, [100, 100], [[1, 1], [2, 2], [3, 3]]) is not None


@pytest.mark.parametrize("kind", ["median", "average", "truncation"])
def test_a_policy_is_evaluated_every_evaluation_interval_reports(kind):
    hopeless = rule(kind, every=2, percent=50 if kind == "truncation" else None)
    others = [[1] * 4, [2] * 4, [3] * 4]
    assert decide(hopeless, 1, [100], others) is None
    assert decide(hopeless, 2, [100] * 2, others) is not None
    assert decide(hopeless, 3, [100] * 3, others) is None
    assert decide(hopeless, 4, [100] * 4, others) is not None


def test_an_experiment_with_fewer_than_n_reports_is_not_judged_at_n():
    assert decide(rule("median"), 3, [100, 100], OTHERS) is None


def test_should_stop_takes_standings_at_n():
    others = [Standing(1, 3, 2.0), Standing(2, 4, 3.0), Standing(0, 8, 4.0)]
    assert should_stop(rule("median"), 5, Standing(3.5, 9, 6.0), others) == (
        "Median stopping rule at report 5: loss 3.5 is worse than the median 3 of 3 experiments."
    )
    assert should_stop(rule("median"), 5, Standing(3, 9, 6.0), others) is None
