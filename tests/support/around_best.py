"""The group the clone and around-best tests narrow: a finished grid whose loss is smallest at
lr 0.5, units 30 (its best experiment), with a categorical param that is never narrowed."""

from dashboard.extensions import db
from tests.factories import finish, make_group

SEARCH = (
    "version: 1\nkind: group\nhptuning:\n  concurrency: 2\n  matrix:\n"
    "    lr: {linspace: '0:1:5'}\n    units: {values: [10, 20, 30, 40]}\n"
    "    act: {values: [relu, tanh]}\n"
    "run:\n  cmd: train --lr={{ lr }} --units={{ units }} --act={{ act }}\n"
)


def loss(index, params):
    """Smallest at lr 0.5, units 30; ties (the two acts) broken by order."""
    return abs(params["lr"] - 0.5) + abs(params["units"] - 30) / 100 + index / 1000


def searched_group(project, objective=("loss", "minimize"), **fields):
    """The SEARCH group of the project, every experiment finished with its loss, optimising
    `objective` (metric, direction) when given."""
    group = make_group(project, content=SEARCH, **fields)
    if objective:
        group.objective = {"metric": objective[0], "optimization": objective[1]}
        db.session.commit()
    finish(group, metric=loss)
    return group
