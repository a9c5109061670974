"""Customer lifetime value: each scoring run, and each customer's latest scores.

Scores are derived state, recomputed in bulk by `tendero.insights.pipeline`
(nightly, or `tendero clv score`), never edited by people, so they are not in
the audit trail; the `ModelRun` rows say how each set of scores was made.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from tendero.customers.models import Customer


class Segment(models.TextChoices):
    """Where a customer stands by value and by how likely they are still buying.
    The rule is `tendero.insights.scoring.segment_of`."""

    CHAMPION = "champion", _("Champion")
    LOYAL = "loyal", _("Loyal")
    AT_RISK = "at_risk", _("At risk")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")
    NEW = "new", _("New")


class ModelRun(models.Model):
    """One scoring of every customer: what was fitted, on what, and how long it took."""

    class Trigger(models.TextChoices):
        COMMAND = "command", _("Command")
        TASK = "task", _("Nightly task")
        DEMO = "demo", _("Demo data")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    calibration_end = models.DateField(_("calibration end"))
    period = models.CharField(_("period"), max_length=4)
    transaction_model = models.CharField(_("transaction model"), max_length=12)
    spend_model = models.CharField(_("spend model"), max_length=12, default="gamma-gamma")
    currency = models.CharField(_("currency"), max_length=3)
    # {"transaction": {...}, "spend": {...}, "standard_errors": {...}, "thresholds": {...}}
    params = models.JSONField(_("fitted parameters"), default=dict, blank=True)
    transaction_log_likelihood = models.FloatField(null=True, blank=True)
    spend_log_likelihood = models.FloatField(null=True, blank=True)
    n_customers = models.PositiveIntegerField(_("customers"), default=0)
    n_histories = models.PositiveIntegerField(_("distinct histories"), default=0)
    aggregate_seconds = models.FloatField(null=True, blank=True)
    fit_seconds = models.FloatField(null=True, blank=True)
    predict_seconds = models.FloatField(null=True, blank=True)
    write_seconds = models.FloatField(null=True, blank=True)
    total_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("scoring run")
        verbose_name_plural = _("scoring runs")

    def __str__(self) -> str:
        return f"{self.transaction_model} {self.calibration_end} ({self.status})"

    def timings_line(self) -> str:
        """`aggregate X s, fit X s, predict X s, write X s, total X s, customers N, histories M`
        (stable: scripts read it)."""

        def seconds(value: float | None) -> str:
            return f"{value or 0.0:.3f}"

        return (
            f"aggregate {seconds(self.aggregate_seconds)} s, fit {seconds(self.fit_seconds)} s, "
            f"predict {seconds(self.predict_seconds)} s, write {seconds(self.write_seconds)} s, "
            f"total {seconds(self.total_seconds)} s, customers {self.n_customers}, "
            f"histories {self.n_histories}"
        )


class CustomerValue(models.Model):
    """A customer's latest lifetime-value scores. Only customers with purchases up to
    the calibration end have one; the others have not been scored."""

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="value",
    )
    model_run = models.ForeignKey(
        ModelRun,
        verbose_name=_("scoring run"),
        on_delete=models.PROTECT,
        related_name="+",
        # Only ever read through the customer; an index would slow the nightly bulk write,
        # and so would a database constraint: the nightly upsert changes every row's run,
        # and PostgreSQL would check each (5 s of 50 for a million customers). Deleting a
        # run that scores still point to is refused by Django (PROTECT).
        db_index=False,
        db_constraint=False,
    )
    scored_at = models.DateTimeField(_("scored"))
    p_alive = models.FloatField(_("probability still buying"))
    expected_purchases_90d = models.FloatField(_("expected purchases, next 90 days"))
    clv_12m = models.DecimalField(_("expected value, 12 months"), max_digits=14, decimal_places=2)
    clv_36m = models.DecimalField(_("expected value, 36 months"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # The history the scores come from, in the run's period unit (weeks or days).
    frequency = models.PositiveIntegerField(_("repeat purchases"))
    recency = models.FloatField(_("recency"))
    T = models.FloatField(_("age"), db_column="age")
    monetary_value = models.DecimalField(_("average repeat spend"), max_digits=14, decimal_places=2)
    segment = models.CharField(_("segment"), max_length=12, choices=Segment.choices)

    class Meta:
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")
        # No secondary index: each would slow the nightly rewrite of every row (a segment
        # index cost a third of it); add one with the first query that needs it.

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.clv_36m} {self.currency}"

    @property
    def p_alive_percent(self) -> int:
        return round(self.p_alive * 100)


def month_start(day: date, months_back: int = 0) -> date:
    """The first day of `day`'s month, `months_back` months earlier."""
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


class ValueSnapshot(models.Model):
    """A customer's scores as they stood in one month: the month's first scoring run
    (by calibration end) copies every `CustomerValue`. The scorecard compares today's
    scores with a year-old snapshot of the same customers: how a portfolio's lifetime
    value changed, and which customers at risk then are buying again now.

    About a million small rows a month for a million customers; snapshots older
    than SNAPSHOT_MONTHS are deleted by the run that writes a new one."""

    month = models.DateField(_("month"))  # its first day
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="value_snapshots",
        # The monthly copy checks no key; deleting a customer deletes theirs (Django's
        # cascade, through the customer index below).
        db_constraint=False,
    )
    model_run = models.ForeignKey(
        ModelRun,
        verbose_name=_("scoring run"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    p_alive = models.FloatField(_("probability still buying"))
    clv_36m = models.DecimalField(_("expected value, 36 months"), max_digits=14, decimal_places=2)
    segment = models.CharField(_("segment"), max_length=12, choices=Segment.choices)

    class Meta:
        verbose_name = _("value snapshot")
        verbose_name_plural = _("value snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "customer"], name="value_snapshot_month_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.month:%Y-%m}: {self.clv_36m}"


# The Insights page's materialised figures: a module of their own, registered here.
from tendero.insights.retention_models import (  # noqa: E402, F401
    ActivityDay,
    CohortMonth,
    CustomerActivity,
    PeriodSales,
    ProductPeriodSales,
    RetentionRefresh,
)


class PortfolioValue(models.Model):
    """What the latest scoring run expects of each account executive's portfolio, and
    how that moved since the same customers' scores of about a year ago: the
    scorecard's lifetime-value columns, written with the scores (one row per executive,
    and one for customers without one) so that the Insights page does not sum a
    million scores per request. Portfolios as they were at the scoring."""

    model_run = models.ForeignKey(
        ModelRun,
        verbose_name=_("scoring run"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    account_executive = models.ForeignKey(
        "accounts.User",
        verbose_name=_("account executive"),
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    customers = models.PositiveIntegerField(_("customers scored"))
    expected_value = models.DecimalField(
        _("expected value, 36 months"), max_digits=18, decimal_places=2
    )
    at_risk = models.PositiveIntegerField(_("at risk"))
    # The month compared with (None: no earlier snapshot), the same customers' value
    # then, how many of them were at risk then and how many of those are champions or
    # loyal now.
    since = models.DateField(_("compared with"), null=True)
    value_then = models.DecimalField(
        _("expected value then"), max_digits=18, decimal_places=2, null=True
    )
    at_risk_then = models.PositiveIntegerField(_("at risk then"), default=0)
    recovered = models.PositiveIntegerField(_("recovered"), default=0)

    class Meta:
        verbose_name = _("portfolio value")
        verbose_name_plural = _("portfolio values")

    def __str__(self) -> str:
        return f"{self.account_executive_id}: {self.expected_value}"
