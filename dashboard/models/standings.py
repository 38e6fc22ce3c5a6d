"""Where each experiment of a group stood at each report of a metric an early-stopping policy
watches: what the policies compare at report n, kept as the reports arrive."""

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db


class MetricStanding(db.Model):
    """An experiment's lowest, highest and running average of a metric up to its n-th report
    of it (hptuning.policies.Standing).

    The key leads with (group, metric, report): a policy reads the group's experiments at
    report n as one index range. No foreign key to the group (the rows go with their
    experiment), so writing one never locks the group's row for a key check.
    """

    __tablename__ = "metric_standings"
    # An experiment's latest standing of a metric (its n so far): one step down this index.
    __table_args__ = (Index("ix_metric_standings_experiment", "experiment_id", "metric", "report"),)

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(128), primary_key=True)
    report: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    lowest: Mapped[float] = mapped_column(Float)
    highest: Mapped[float] = mapped_column(Float)
    average: Mapped[float] = mapped_column(Float)
