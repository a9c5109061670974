"""Forms for personal knowledge: they check shape (lengths, choices, dates); the
knowledge services validate meaning and answer with field errors."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tendero.core.forms import LineField, MultilineField
from tendero.customers.forms import ServiceErrorsMixin
from tendero.customers.models import Contact, Customer
from tendero.knowledge.models import FactKind, PersonalFact, RelationKind
from tendero.knowledge.services import (
    NO_YEAR,
    REASON_MAX,
    RELATED_NAME_MAX,
    RELATIONAL_KINDS,
    TEXT_MAX,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class FactForm(ServiceErrorsMixin, forms.Form):
    """A fact about the customer or one of their contacts. The contact choices are
    the customer's contacts, passed in already fetched (no query per render)."""

    kind = forms.ChoiceField(label=_("What kind of fact"), choices=FactKind.choices)
    contact = forms.ChoiceField(label=_("About"), required=False)
    text = MultilineField(
        label=_("What we know"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. “Supports Real Betis”, “Prefers calls after 17:00”."),
    )
    relation = forms.ChoiceField(
        label=_("Relation"),
        choices=[("", "—"), *RelationKind.choices],
        required=False,
        help_text=_("For family members and relations: who they are to the person."),
    )
    related_name = LineField(label=_("Their name"), max_length=RELATED_NAME_MAX, required=False)
    related_contact = forms.ChoiceField(label=_("Who is also the contact"), required=False)
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    recurs_yearly = forms.BooleanField(
        label=_("Every year (birthdays and anniversaries)"), required=False
    )
    year_unknown = forms.BooleanField(label=_("We don't know the year"), required=False)
    source_interaction_id = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1
    )

    service_field_aliases = {
        "contact_id": "contact",
        "related_contact_id": "related_contact",
    }

    def __init__(
        self,
        *args: Any,
        customer: Customer,
        contacts: list[Contact],
        autofocus: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if autofocus:  # swapped in by htmx: the cursor goes where the typing starts
            self.fields["text"].widget.attrs["autofocus"] = True
        self.customer = customer
        people = [(str(c.pk), c.full_name) for c in contacts]
        contact_field: Any = self.fields["contact"]
        contact_field.choices = [("", customer.display_name), *people]
        related_field: Any = self.fields["related_contact"]
        related_field.choices = [("", "—"), *people]
        if not contacts:
            del self.fields["contact"]
            del self.fields["related_contact"]

    @classmethod
    def initial_for(cls, fact: PersonalFact) -> dict[str, Any]:
        day = fact.date
        year_unknown = day is not None and day.year == NO_YEAR
        if day is not None and year_unknown:
            day = _in_year(day, date.today().year)
        return {
            "kind": fact.kind,
            "contact": str(fact.contact_id or ""),
            "text": fact.text,
            "relation": fact.relation,
            "related_name": fact.related_name,
            "related_contact": str(fact.related_contact_id or ""),
            "date": day,
            "recurs_yearly": fact.recurs_yearly,
            "year_unknown": year_unknown,
            "version": fact.version,
        }

    def service_data(self) -> dict[str, Any]:
        """The cleaned values in the shape knowledge.record_fact and correct_fact take."""
        data = self.cleaned_data
        day = data.get("date")
        if day is not None and data.get("year_unknown"):
            day = _in_year(day, NO_YEAR)
        clean: dict[str, Any] = {
            "kind": data.get("kind"),
            "text": data.get("text", ""),
            "relation": data.get("relation", ""),
            "related_name": data.get("related_name", ""),
            "date": day,
            "recurs_yearly": bool(data.get("recurs_yearly")),
        }
        if "contact" in self.fields:
            clean["contact_id"] = data.get("contact") or None
            clean["related_contact_id"] = data.get("related_contact") or None
        if clean["kind"] not in RELATIONAL_KINDS:
            # The relation fields are hidden for other kinds: whatever was typed
            # there before the kind changed is not part of this fact.
            clean["relation"] = clean["related_name"] = ""
            clean.pop("related_contact_id", None)
        if data.get("source_interaction_id"):
            clean["source_interaction_id"] = data["source_interaction_id"]
        return clean


def _in_year(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February into a common year
        return date(year, 2, 28)


class FactEditForm(FactForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Where a fact was learned does not change when it is corrected.
        del self.fields["source_interaction_id"]


class RetireFactForm(ServiceErrorsMixin, forms.Form):
    reason = LineField(
        label=_("Why is it no longer true?"),
        max_length=REASON_MAX,
        required=False,
        help_text=_("Optional, e.g. “They moved to Valencia”."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, autofocus: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if autofocus:
            self.fields["reason"].widget.attrs["autofocus"] = True
