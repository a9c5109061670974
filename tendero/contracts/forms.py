"""Forms for the purchases pages: shape at the edge (lengths, choices); the services
validate meaning (amount bounds and decimals, currency code, nothing in the future,
references already recorded)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.contracts.models import PRODUCT_MAX_LENGTH, PurchaseSource, default_currency
from tendero.core.forms import LineField
from tendero.customers.forms import ServiceErrorsMixin
from tendero.customers.models import Customer

BLANK = ("", "—")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# What a person records by hand; imports, the API, orders and subscriptions set theirs.
HAND_SOURCES = [PurchaseSource.MANUAL, PurchaseSource.ORDER]


class PurchaseForm(ServiceErrorsMixin, forms.Form):
    """Record one purchase; field names are the service's. The amount and the quantity
    stay text so that "12,50" (Spanish) and "12.50" both work: the service reads them."""

    product = LineField(
        label=_("Product"),
        max_length=PRODUCT_MAX_LENGTH,
        required=False,
        help_text=_("Its name or code, as the till, shop or invoice names it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    quantity = LineField(
        label=_("Quantity"),
        max_length=30,
        required=False,
        help_text=_("Units. Empty: one (a refund: one back, -1); 0 for a refund of money only."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 6}),
    )
    amount = LineField(
        label=_("Amount"),
        max_length=30,
        help_text=_("Negative for a refund."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = LineField(
        label=_("Currency"),
        max_length=3,
        widget=forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"}),
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Leave as it is for now."),
    )
    description = LineField(label=_("What"), max_length=200, required=False)
    external_id = LineField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("Ticket, invoice or order number: recording it twice is harmless."),
    )
    source = forms.ChoiceField(
        label=_("Source"),
        choices=[(s.value, s.label) for s in HAND_SOURCES],
        initial=PurchaseSource.MANUAL,
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("currency", customer.currency or default_currency())
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        for name in ("occurred_at", "quantity"):
            if not data[name]:
                data.pop(name)
        for name in ("description", "external_id", "product"):
            data[name] = data[name] or ""
        return data


class PurchaseFilterForm(forms.Form):
    """The filters of the purchases list; an invalid value is ignored (filters nothing)."""

    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[BLANK, *PurchaseSource.choices]
    )

    def values(self) -> dict[str, Any]:
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}
