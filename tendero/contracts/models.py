"""What customers buy from us: the purchases ledger, one row per transaction.

A refund is a purchase with a negative amount (a credit note against an earlier
sale): the ledger stays append-only in spirit, a customer's spend is the plain sum
of their rows, and the lifetime-value models see refunds where they happened.

What was bought is the `product` (as the selling system names it, until a catalog
links it) and how many units the `quantity`. A quantity has the sign of its amount:
a sale's is positive, a refund's is the units that came back as a negative number
(0 when money came back and nothing else), so that the units sold are the plain sum
of the quantities, as the revenue is the sum of the amounts, and the unit price
(amount / quantity) is positive for sales and returns alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.customers.models import Customer

if TYPE_CHECKING:
    from tendero.accounts.models import User


PRODUCT_MAX_LENGTH = 120


def default_currency() -> str:
    """The company's currency (TENDERO_DEFAULT_CURRENCY): a purchase's when its customer
    has none set, and the one lifetime values and insights are in."""
    return str(settings.TENDERO_DEFAULT_CURRENCY).upper()


class PurchaseSource(models.TextChoices):
    """Where a purchase came from; later capabilities (orders, subscriptions) write
    into the same ledger with their own source."""

    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    ORDER = "order", _("Order")
    SUBSCRIPTION = "subscription", _("Subscription")


class PurchaseQuerySet(models.QuerySet["Purchase"]):
    def visible_to(self, user: User | Any) -> PurchaseQuerySet:
        """The purchases of the customers `user` may see."""
        if (
            user
            and user.is_authenticated
            and user.is_active
            and user.has_perm("customers.view_all_customers")
        ):
            # No semi-join with every customer: the newest purchases come straight
            # from their index.
            return self.all()
        return self.filter(customer__in=Customer.objects.visible_to(user))


class Purchase(models.Model):
    """One transaction of a customer: what they paid (negative: a refund), when, in
    which currency and where we learned of it."""

    # Kept on every row (Citus-ready: the ledger can be distributed by customer id).
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="purchases"
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Negative for a refund."),
    )
    currency = models.CharField(_("currency"), max_length=3)
    # Plain text until the catalog app links purchases to its products. The database
    # defaults (also for quantity) keep writers that name columns themselves (COPY)
    # working without them.
    product = models.CharField(
        _("product"),
        max_length=PRODUCT_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",
        help_text=_("Its name or code, as the till, shop or invoice names it."),
    )
    # Decimal: a CRM sells kilos, litres, metres and hours as well as pieces.
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        default=Decimal(1),
        db_default=Decimal(1),
        help_text=_("Units; negative for units returned with a refund."),
    )
    source = models.CharField(
        _("source"), max_length=12, choices=PurchaseSource.choices, default=PurchaseSource.MANUAL
    )
    # The reference of the sale in the system it came from (ticket, invoice, order
    # number): what makes recording it again harmless.
    external_id = models.CharField(_("reference"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PurchaseQuerySet.as_manager()

    # Set by the services on the object they return: False when recording found the
    # same purchase already there (an idempotent repeat). Not a column.
    just_created: bool = False

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [
            # One customer's purchases by time (the ledger page, the timeline) and the
            # per-customer summary (count, first, last, sum of amounts) that the
            # lifetime-value scoring aggregates over every customer: with the amount
            # in the index PostgreSQL answers it from the index alone.
            models.Index(
                fields=["customer", "occurred_at", "amount"], name="purchase_customer_time_idx"
            ),
            # The company-wide ledger, newest first.
            models.Index(fields=["-occurred_at", "-id"], name="purchase_recent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="purchase_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("contracts:customer_purchases", args=[self.customer_id])

    def get_additional_data(self) -> dict[str, Any]:
        # Puts the purchase in its customer's history (AuditEntry.customer_id).
        return {"customer_id": self.customer_id}

    @property
    def is_refund(self) -> bool:
        return self.amount < 0
