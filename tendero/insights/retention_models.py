"""The Insights page's figures, materialised: what `tendero.insights.retention` reads.

Worked out from the purchases ledger by `tendero.insights.refresh.refresh_retention`
(nightly at 03:15, or `tendero insights refresh`), all tables replaced in one
transaction, so a reader sees the previous refresh's figures or the new ones, never a
mix. Derived state, never edited by people.

The aggregates are kept per account executive so that a sales rep's page sums only
their own portfolio's rows and a manager's sums all of them. They follow each
portfolio as it was at the refresh: a customer moved to another account executive
counts in the new portfolio from the next refresh on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tendero.accounts.models import User
from tendero.contracts.models import PRODUCT_MAX_LENGTH
from tendero.customers.models import Customer


def _executive() -> models.ForeignKey[User | None, User | None]:
    """Who a row belongs to: a column without a key or an index of its own (the rows
    are rewritten every night and read through the indexes declared with them)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account executive"),
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )


class RetentionRefresh(models.Model):
    """One refresh of the Insights figures: when it ran, how long it took, on what."""

    class Trigger(models.TextChoices):
        COMMAND = "command", _("Command")
        TASK = "task", _("Nightly task")
        DEMO = "demo", _("Demo data")

    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    seconds = models.FloatField(_("seconds"))
    currency = models.CharField(_("currency"), max_length=3)
    customers = models.PositiveIntegerField(_("customers with purchases"))
    purchases = models.PositiveBigIntegerField(_("purchases"))

    class Meta:
        ordering = ["-finished_at", "-id"]
        verbose_name = _("insights refresh")
        verbose_name_plural = _("insights refreshes")

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} ({self.trigger})"


class CustomerActivity(models.Model):
    """A customer with purchases in the company's currency: their first and last
    purchase (the moment and the local day), what they spent in the year from the
    first and in the year up to the last, and their account executive at the refresh."""

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    account_executive = _executive()
    first_at = models.DateTimeField(_("first purchase"))
    last_at = models.DateTimeField(_("last purchase"))
    first_day = models.DateField(_("first purchase day"))
    last_day = models.DateField(_("last purchase day"))
    first_year_value = models.DecimalField(_("first year's value"), max_digits=16, decimal_places=2)
    last_year_value = models.DecimalField(_("last year's value"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("customer activity")
        verbose_name_plural = _("customer activity")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.first_day} to {self.last_day}"


class ActivityDay(models.Model):
    """Per account executive and local day: the customers whose first purchase was
    that day with their first year's value, and those whose last purchase was that
    day with their last year's value. Won, lost and active customers of any period
    are sums over these rows (see `retention.customer_flows`)."""

    account_executive = _executive()
    day = models.DateField(_("day"))
    first_buyers = models.PositiveIntegerField(_("first purchases"))
    first_year_value = models.DecimalField(_("first year's value"), max_digits=18, decimal_places=2)
    last_buyers = models.PositiveIntegerField(_("last purchases"))
    last_year_value = models.DecimalField(_("last year's value"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("activity by day")
        verbose_name_plural = _("activity by day")
        indexes = [models.Index(fields=["account_executive", "day"], name="activity_day_exec_idx")]

    def __str__(self) -> str:
        return f"{self.day}: {self.first_buyers} first, {self.last_buyers} last"


class CohortMonth(models.Model):
    """Per account executive: how many of the customers first buying in `cohort`
    (a month) bought in `month`."""

    account_executive = _executive()
    cohort = models.DateField(_("cohort"))  # the month's first day
    month = models.DateField(_("month"))  # the month's first day
    customers = models.PositiveIntegerField(_("customers"))

    class Meta:
        verbose_name = _("cohort month")
        verbose_name_plural = _("cohort months")
        indexes = [
            models.Index(fields=["account_executive", "cohort"], name="cohort_month_exec_idx")
        ]

    def __str__(self) -> str:
        return f"{self.cohort:%Y-%m} in {self.month:%Y-%m}: {self.customers}"


class PeriodSales(models.Model):
    """Per period (a month or a quarter) and account executive: revenue, purchases and
    the customers buying (kept per quarter too: customers buying in several months of
    a quarter count once in it)."""

    unit = models.CharField(_("period"), max_length=7)  # "month" or "quarter"
    start = models.DateField(_("start"))
    account_executive = _executive()
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    purchases = models.PositiveIntegerField(_("purchases"))
    customers = models.PositiveIntegerField(_("buying customers"))

    class Meta:
        verbose_name = _("sales per period")
        verbose_name_plural = _("sales per period")
        indexes = [models.Index(fields=["unit", "start"], name="period_sales_start_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.start}: {self.revenue}"


class ProductPeriodSales(models.Model):
    """Per period (a month or a quarter), account executive and product (as purchases
    name it; "" for none): units, revenue and purchases."""

    unit = models.CharField(_("period"), max_length=7)  # "month" or "quarter"
    start = models.DateField(_("start"))
    account_executive = _executive()
    product = models.CharField(_("product"), max_length=PRODUCT_MAX_LENGTH)
    units = models.DecimalField(_("units"), max_digits=18, decimal_places=3)
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    purchases = models.PositiveIntegerField(_("purchases"))

    class Meta:
        verbose_name = _("product sales per period")
        verbose_name_plural = _("product sales per period")
        indexes = [models.Index(fields=["unit", "start"], name="product_sales_start_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.start} {self.product}: {self.revenue}"
