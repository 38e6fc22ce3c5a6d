"""The charts say what they show in words: an image with a title and a description a screen
reader reads (the best value and where it is), not only marks."""

from bs4 import BeautifulSoup

from dashboard.ui import charts


def _svg(markup):
    return BeautifulSoup(str(markup), "html.parser").select_one("svg")


def test_the_metric_chart_names_its_best_experiment():
    points = [
        {"experiment": 25, "order": 1, "value": 0.5, "best": 0.5},
        {"experiment": 27, "order": 2, "value": 0.303, "best": 0.303},
        {"experiment": 26, "order": 3, "value": 0.4, "best": 0.303},
    ]
    data = {"metric": "loss", "optimization": "minimize", "points": points}

    svg = _svg(charts.metric_chart(data))

    assert svg["role"] == "img"
    assert svg.title.text == "loss per experiment"
    assert "best 0.303 at experiment 27" in svg.desc.text
    assert svg["aria-label"].startswith("loss per experiment. loss of 3 experiments")


def test_a_history_chart_gives_each_series_range():
    svg = _svg(charts.history_chart({"loss": [(1, 2.0), (2, 1.0), (3, 0.5)]}, "loss history"))

    assert svg.desc.text == "loss: 3 points, x 1 to 3, y 0.5 to 2, last 0.5."


def test_importance_bars_read_out_their_values():
    data = {"metric": "loss", "features": [{"name": "lr", "importance": 0.45, "std": 0.1}]}

    svg = _svg(charts.importance_chart(data))

    assert "lr 0.450 ± 0.100" in svg.desc.text


def test_a_chart_whose_marks_link_experiments_is_a_named_group_of_titled_links():
    """An image hides its children from assistive technologies (and axe refuses links inside
    one): a chart whose marks are links is a group, named and described as an image is."""
    points = [{"experiment": 27, "order": 1, "value": 0.303, "best": 0.303}]
    data = {"metric": "loss", "optimization": "minimize", "points": points}
    link = charts.Marks(lambda experiment: f"/x/{experiment}/", {27: {"lr": 0.01}})

    svg = _svg(charts.metric_chart(data, link))

    assert (svg["role"], svg.title.text) == ("group", "loss per experiment")
    assert "best 0.303 at experiment 27" in svg.desc.text
    mark = svg.select_one("a.mark")
    assert (mark["href"], mark["tabindex"]) == ("/x/27/", "-1")
    assert mark.title.text == "experiment 27 (lr 0.01): loss 0.303"
