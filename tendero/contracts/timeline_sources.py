"""Purchases on the customer timeline: amount, currency, product and units, what and
where from."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, QuerySet
from django.db.models.functions import Cast

from tendero.contracts.models import Purchase
from tendero.core import timeline
from tendero.core.timeline import columns, person_name


def _purchases(customer_ids: list[int]) -> QuerySet[Any]:
    # The timeline's columns are text: the amount travels as text (formatted in the
    # reader's language by the template), the currency in `channel`, the source in
    # `direction`, the reference in `extra`, the product in `body` and its units, as
    # text too, in `voice` (a dialogue column: the dialogue filters leave purchases
    # out of the feed, so they never read it).
    return Purchase.objects.filter(customer_id__in=customer_ids).annotate(
        **columns(
            tl_object_id=F("pk"),
            tl_occurred_at=F("occurred_at"),
            tl_title=F("description"),
            tl_body=F("product"),
            tl_voice=Cast("quantity", output_field=CharField()),
            tl_channel=F("currency"),
            tl_direction=F("source"),
            tl_outcome=Cast("amount", output_field=CharField()),
            tl_actor=person_name("created_by"),
            tl_extra=F("external_id"),
        )
    )


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    timeline.register(
        timeline.TimelineSource(
            kind="purchase",
            group="purchases",
            label=_("Purchases"),
            template="contracts/timeline/_purchase.html",
            rows=_purchases,
            time_field="occurred_at",
        )
    )
