"""Forms for the dialogue pages: shape at the edge (choices, lengths, dates); the
services validate meaning (whose contact, which department, no voice on outbound)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.accounts.models import User
from tendero.core.forms import LineField, MultilineField
from tendero.customers.forms import ServiceErrorsMixin, account_executive_candidates
from tendero.customers.models import Customer
from tendero.dialogue.models import Channel, Direction, Interaction, Sentiment, Voice
from tendero.dialogue.rhythm import MAX_RHYTHM_DAYS, MIN_RHYTHM_DAYS
from tendero.organization.models import Department

BLANK = ("", "—")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _department_choices(include: int | None = None) -> list[tuple[Any, str]]:
    departments = Department.objects.filter(is_active=True)
    if include:
        # An interaction logged against a department closed since keeps showing it.
        departments = Department.objects.filter(pk=include) | departments
    return [BLANK, *((d.pk, d.name) for d in departments.order_by("name"))]


class InteractionForm(ServiceErrorsMixin, forms.Form):
    """Log (or correct) one interaction; field names are the service's."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, initial=Direction.OUTBOUND
    )
    subject = LineField(label=_("Subject"), max_length=200)
    notes = MultilineField(
        label=_("Notes"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("Leave as it is for now."),
    )
    contact_id = forms.TypedChoiceField(
        label=_("With"), required=False, coerce=int, empty_value=None
    )
    department_id = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    voice = forms.ChoiceField(
        label=_("Customer's voice"),
        required=False,
        choices=[BLANK, *Voice.choices],
        help_text=_("Feedback, a complaint, an idea or a suggestion they brought (inbound)."),
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[BLANK, *Sentiment.choices]
    )
    outcome = LineField(label=_("Outcome"), max_length=200, required=False)
    follow_up_on = forms.DateField(
        label=_("Follow up on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    # Shown in a <details> below the essentials.
    MORE = ("contact_id", "department_id", "voice", "sentiment", "outcome", "follow_up_on")

    def __init__(
        self,
        *args: Any,
        customer: Customer,
        interaction: Interaction | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        contacts = list(customer.contacts.all()) if customer.is_organisation else []
        if contacts:
            contact_field: Any = self.fields["contact_id"]
            contact_field.choices = [BLANK, *((c.pk, c.full_name) for c in contacts)]
        else:
            # A person, or an organisation without contacts yet: nobody to pick.
            del self.fields["contact_id"]
        department_field: Any = self.fields["department_id"]
        department_field.choices = _department_choices(
            interaction.department_id if interaction else None
        )
        if interaction is None and not self.is_bound:
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )

    def more_fields(self) -> list[Any]:
        return [self[name] for name in self.MORE if name in self.fields]

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name not in self.MORE and name != "version"]

    def more_has_values(self) -> bool:
        """Keep the <details> open when something in it was filled in or is wrong."""
        if not self.is_bound:
            return any(self.initial.get(name) for name in self.MORE)
        return any(self.data.get(name) for name in self.MORE) or any(
            name in self.errors for name in self.MORE
        )

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.fields if name != "version"}
        if not data["occurred_at"]:
            data.pop("occurred_at")
        for name in ("notes", "voice", "sentiment", "outcome"):
            data[name] = data[name] or ""
        return data

    @staticmethod
    def initial_for(interaction: Interaction) -> dict[str, Any]:
        return {
            "channel": interaction.channel,
            "direction": interaction.direction,
            "subject": interaction.subject,
            "notes": interaction.notes,
            "occurred_at": timezone.localtime(interaction.occurred_at),
            "contact_id": interaction.contact_id,
            "department_id": interaction.department_id,
            "voice": interaction.voice,
            "sentiment": interaction.sentiment,
            "outcome": interaction.outcome,
            "follow_up_on": interaction.follow_up_on,
            "version": interaction.version,
        }


class InteractionEditForm(InteractionForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class RhythmForm(ServiceErrorsMixin, forms.Form):
    days = forms.IntegerField(
        label=_("Contact every (days)"),
        required=False,
        min_value=MIN_RHYTHM_DAYS,
        max_value=MAX_RHYTHM_DAYS,
        help_text=_("Leave empty to learn it from their history."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class VoiceFilterForm(forms.Form):
    """The filters of the voice page; invalid values are ignored (they filter nothing)."""

    voice = forms.ChoiceField(label=_("Kind"), required=False, choices=[BLANK, *Voice.choices])
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[BLANK, *Channel.choices]
    )
    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    sentiment = forms.ChoiceField(
        label=_("Sentiment"), required=False, choices=[BLANK, *Sentiment.choices]
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        department_field: Any = self.fields["department"]
        department_field.choices = [
            BLANK,
            *Department.objects.order_by("name").values_list("pk", "name"),
        ]

    def values(self) -> dict[str, Any]:
        """The valid filters given (an invalid one is dropped, not an error page)."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}


class GoingQuietForm(forms.Form):
    account_executive = forms.TypedChoiceField(
        label=_("Account executive"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people: QuerySet[User] = account_executive_candidates()
        field: Any = self.fields["account_executive"]
        field.choices = [("", _("Everyone")), *((u.pk, str(u)) for u in people)]
