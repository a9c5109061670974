"""Forms for the customer pages: they check shape at the edge (lengths, choices,
integers); the services do the domain validation and normalising."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from tendero.accounts.models import User
from tendero.core import timeline
from tendero.core.errors import DomainError
from tendero.core.forms import LineField, MultilineField
from tendero.customers.models import (
    AcquisitionSource,
    Customer,
    CustomerKind,
    LifecycleStage,
    RelationshipLevel,
    Tag,
)
from tendero.customers.validation import format_phone
from tendero.dialogue.models import Channel, Direction

BLANK = ("", "—")

LANGUAGE_CHOICES = [
    BLANK,
    ("es", _("Spanish")),
    ("en", _("English")),
    ("pt", _("Portuguese")),
    ("fr", _("French")),
    ("de", _("German")),
    ("it", _("Italian")),
    ("ca", _("Catalan")),
    ("eu", _("Basque")),
    ("gl", _("Galician")),
    ("nl", _("Dutch")),
    ("zh", _("Chinese")),
    ("ar", _("Arabic")),
]

CURRENCY_CHOICES = [
    BLANK,
    ("EUR", _("EUR — Euro")),
    ("USD", _("USD — US dollar")),
    ("GBP", _("GBP — Pound sterling")),
    ("MXN", _("MXN — Mexican peso")),
    ("ARS", _("ARS — Argentine peso")),
    ("COP", _("COP — Colombian peso")),
    ("CLP", _("CLP — Chilean peso")),
    ("PEN", _("PEN — Peruvian sol")),
    ("BRL", _("BRL — Brazilian real")),
    ("CHF", _("CHF — Swiss franc")),
    ("JPY", _("JPY — Japanese yen")),
    ("CNY", _("CNY — Chinese yuan")),
]


def account_executive_candidates() -> QuerySet[User]:
    """Who may be an account executive: the rule services.assign_account_executive applies."""
    return User.objects.with_permission("customers.view_customer").order_by(
        "first_name", "last_name", "username"
    )


class ServiceErrorsMixin:
    """Puts a service's field errors next to the matching fields."""

    # Service field names that a form calls differently.
    service_field_aliases: dict[str, str] = {}

    def add_service_errors(self, error: DomainError) -> None:
        form: Any = self
        placed = False
        for service_field, messages in error.field_errors.items():
            field = self.service_field_aliases.get(service_field, service_field)
            for message in messages:
                if field in form.fields:
                    form.add_error(field, message)
                    placed = True
                else:
                    form.add_error(None, f"{field}: {message}")
        if not placed and not error.field_errors:
            form.add_error(None, error.message)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class CustomerForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    display_name = LineField(label=_("Name"), max_length=200)
    preferred_name = LineField(
        label=_("Preferred name"),
        max_length=100,
        required=False,
        help_text=_("How they like to be addressed."),
    )
    tax_id = LineField(label=_("Tax or legal id"), max_length=40, required=False)
    emails = MultilineField(
        label=_("Emails"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; the first is the primary address."),
    )
    phones = MultilineField(
        label=_("Phones"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. +34 612 345 678; the first is the primary number."),
    )
    street = LineField(label=_("Street"), max_length=200, required=False)
    city = LineField(label=_("City"), max_length=100, required=False)
    region = LineField(label=_("Region"), max_length=100, required=False)
    postal_code = LineField(label=_("Postal code"), max_length=20, required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, required=False)
    acquisition_source = forms.ChoiceField(
        label=_("Acquisition source"),
        choices=[BLANK, *AcquisitionSource.choices],
        required=False,
    )
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, initial=LifecycleStage.PROSPECT
    )
    tags = LineField(
        label=_("Tags"),
        max_length=1000,
        required=False,
        help_text=_("Separated by commas."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country_field: Any = self.fields["country"]
        country_field.choices = [BLANK, *countries]
        # The lists offer the usual languages and currencies; a customer may have
        # another (set through the API or an import). Keep it selectable so that
        # editing anything else does not fail on it; the service validates it.
        for name in ("language", "currency"):
            current = self.data.get(name) or self.initial.get(name)
            field: Any = self.fields[name]
            if current and current not in dict(field.choices):
                field.choices = [*field.choices, (current, current)]

    @classmethod
    def initial_for(cls, customer: Customer) -> dict[str, Any]:
        return {
            "kind": customer.kind,
            "display_name": customer.display_name,
            "preferred_name": customer.preferred_name,
            "tax_id": customer.tax_id,
            "emails": "\n".join(e.address for e in customer.emails.all()),
            "phones": "\n".join(format_phone(p.number) for p in customer.phones.all()),
            "street": customer.street,
            "city": customer.city,
            "region": customer.region,
            "postal_code": customer.postal_code,
            "country": str(customer.country or ""),
            "language": customer.language,
            "currency": customer.currency,
            "acquisition_source": customer.acquisition_source,
            "lifecycle_stage": customer.lifecycle_stage,
            "tags": ", ".join(t.name for t in customer.tags.all()),
        }

    def service_data(self) -> dict[str, Any]:
        """The cleaned values in the shape the customer services take."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["emails"] = _lines(data.get("emails", ""))
        data["phones"] = _lines(data.get("phones", ""))
        data["tags"] = [t.strip() for t in data.get("tags", "").split(",") if t.strip()]
        return data


class CustomerEditForm(CustomerForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ContactForm(ServiceErrorsMixin, forms.Form):
    first_name = LineField(label=_("First name"), max_length=100)
    last_name = LineField(label=_("Last name"), max_length=100, required=False)
    preferred_name = LineField(label=_("Preferred name"), max_length=100, required=False)
    role = LineField(label=_("Role"), max_length=100, required=False)
    email = LineField(label=_("Email"), max_length=254, required=False)
    phone = LineField(label=_("Phone"), max_length=40, required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class ContactEditForm(ContactForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RelationshipLevelForm(ServiceErrorsMixin, forms.Form):
    to_level = forms.TypedChoiceField(
        label=_("New level"), choices=RelationshipLevel.choices, coerce=int
    )
    reason = MultilineField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What evidence shows the relationship changed?"),
    )


class AccountExecutiveForm(ServiceErrorsMixin, forms.Form):
    user = forms.ModelChoiceField(
        label=_("Account executive"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )
    reason = LineField(label=_("Reason"), max_length=200, required=False)

    service_field_aliases = {"account_executive": "user"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user_field: Any = self.fields["user"]
        user_field.queryset = account_executive_candidates()


SORTS = {
    "name": ("display_name", "id"),
    "kind": ("kind", "display_name", "id"),
    "stage": ("lifecycle_stage", "display_name", "id"),
    "level": ("relationship_level", "display_name", "id"),
    "ae": ("account_executive__first_name", "account_executive__last_name", "display_name", "id"),
    "country": ("country", "display_name", "id"),
    "created": ("created_at", "id"),
}


class CustomerFilterForm(forms.Form):
    """The list's filters. Invalid values are ignored rather than refused."""

    q = LineField(label=_("Search"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any kind")), *CustomerKind.choices], required=False
    )
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", _("Any stage")), *LifecycleStage.choices], required=False
    )
    level = forms.TypedChoiceField(
        label=_("Level"),
        choices=[("", _("Any level")), *RelationshipLevel.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    ae = forms.ModelChoiceField(
        label=_("Account executive"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag"),
        queryset=Tag.objects.all(),
        to_field_name="name",
        required=False,
        empty_label=_("Any tag"),
    )
    country = forms.ChoiceField(label=_("Country"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        choices=[(k, k) for k in SORTS] + [(f"-{k}", f"-{k}") for k in SORTS],
        required=False,
    )

    def __init__(self, *args: Any, show_account_executive: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country_field: Any = self.fields["country"]
        country_field.choices = [("", _("Any country")), *countries]
        if show_account_executive:
            ae_field: Any = self.fields["ae"]
            ae_field.queryset = account_executive_candidates()
        else:
            del self.fields["ae"]

    def value(self, name: str) -> Any:
        if not hasattr(self, "cleaned_data"):
            return None
        return self.cleaned_data.get(name)

    def filter(self, qs: QuerySet[Customer]) -> QuerySet[Customer]:
        self.is_valid()  # fills cleaned_data with the valid values only
        tag = self.value("tag")
        ae = self.value("ae")
        qs = qs.matching(  # type: ignore[attr-defined]
            q=self.value("q"),
            kind=self.value("kind"),
            lifecycle_stage=self.value("stage"),
            relationship_level=self.value("level"),
            account_executive_id=ae.pk if ae else None,
            tag=tag.name if tag else None,
            country=self.value("country"),
        )
        sort = self.value("sort") or "name"
        descending = sort.startswith("-")
        fields = SORTS[sort.lstrip("-")]
        return qs.order_by(*(f"-{f}" if descending else f for f in fields))

    @property
    def active_sort(self) -> str:
        return self.value("sort") or "name"

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        """(name, shown value) of every filter in use, for the chips."""
        chips = []
        for name in ("q", "kind", "stage", "level", "ae", "tag", "country"):
            value = self.value(name)
            if value in (None, ""):
                continue
            field = self.fields[name]
            shown = str(value)
            choices = getattr(field, "choices", None)
            if choices is not None and not isinstance(field, forms.ModelChoiceField):
                shown = str(dict((str(k), v) for k, v in choices).get(str(value), value))
            chips.append((name, f"{field.label}: {shown}"))
        return chips


class TimelineFilterForm(forms.Form):
    """Narrows a customer's timeline. Invalid values are ignored, not refused:
    a filter link that went stale still shows a timeline."""

    group = forms.ChoiceField(label=_("Show"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    direction = forms.ChoiceField(label=_("Direction"), required=False)
    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    voice = forms.BooleanField(label=_("Customer's voice only"), required=False)

    def __init__(self, *args: Any, departments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        group_field = self.fields["group"]
        channel_field = self.fields["channel"]
        direction_field = self.fields["direction"]
        department_field = self.fields["department"]
        assert isinstance(group_field, forms.ChoiceField)
        assert isinstance(channel_field, forms.ChoiceField)
        assert isinstance(direction_field, forms.ChoiceField)
        assert isinstance(department_field, forms.ChoiceField)
        group_field.choices = [("", _("Everything")), *timeline.groups()]
        channel_field.choices = [("", _("Any channel")), *Channel.choices]
        direction_field.choices = [("", _("Both directions")), *Direction.choices]
        department_field.choices = [("", _("Any department")), *departments]

    def filters(self) -> timeline.TimelineFilters:
        """The timeline filters chosen; fields that did not validate count as unset."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        group = data.get("group") if "group" not in self.errors else ""
        return timeline.TimelineFilters(
            groups=frozenset([group]) if group else frozenset(),
            channel=data.get("channel", "") if "channel" not in self.errors else "",
            direction=data.get("direction", "") if "direction" not in self.errors else "",
            department_id=data.get("department") if "department" not in self.errors else None,
            voice_only=bool(data.get("voice")),
        )

    def cursor(self) -> timeline.Cursor | None:
        """Where the page starts: after the entry the cursor names (None: the newest)."""
        raw = self.data.get("cursor", "")
        return timeline.Cursor.decode(raw) if raw and len(raw) <= 200 else None
