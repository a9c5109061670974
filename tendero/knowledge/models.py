"""Personal knowledge: what we know about each person (the customer or one of their
contacts), their family and relations, and the dates that matter to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.customers.models import Contact, Customer

if TYPE_CHECKING:
    from tendero.accounts.models import User


class FactKind(models.TextChoices):
    INTEREST = "interest", _("Interest")
    PREFERENCE = "preference", _("Preference")
    DISLIKE = "dislike", _("Dislike")
    FAMILY_MEMBER = "family_member", _("Family member")
    RELATION = "relation", _("Relation")
    IMPORTANT_DATE = "important_date", _("Important date")
    PROFESSIONAL_GOAL = "professional_goal", _("Professional goal")
    NOTE = "note", _("Note")


class RelationKind(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    PARTNER = "partner", _("Partner")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Sibling")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    OTHER_FAMILY = "other_family", _("Other family")
    ASSISTANT = "assistant", _("Assistant")
    MANAGER = "manager", _("Manager")
    COLLEAGUE = "colleague", _("Colleague")
    DIRECT_REPORT = "direct_report", _("Direct report")
    FRIEND = "friend", _("Friend")
    OTHER = "other", _("Other")


FAMILY_RELATIONS = frozenset(
    {
        RelationKind.SPOUSE,
        RelationKind.PARTNER,
        RelationKind.CHILD,
        RelationKind.PARENT,
        RelationKind.SIBLING,
        RelationKind.GRANDCHILD,
        RelationKind.GRANDPARENT,
        RelationKind.OTHER_FAMILY,
    }
)


class PersonalFactQuerySet(models.QuerySet["PersonalFact"]):
    def visible_to(self, user: User | Any) -> PersonalFactQuerySet:
        return self.filter(customer__in=Customer.objects.visible_to(user))

    def current(self) -> PersonalFactQuerySet:
        return self.filter(retired_at__isnull=True)


class PersonalFact(models.Model):
    """Something we know about a person: the customer themself (`contact` empty)
    or one of their contacts. Who learned it, when, and in which interaction."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="facts")
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("about"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="facts",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FactKind.choices)
    text = models.CharField(_("what we know"), max_length=500, blank=True)
    # Family members and relations: who they are to the person, and their name.
    relation = models.CharField(
        _("relation"), max_length=20, choices=RelationKind.choices, blank=True
    )
    related_name = models.CharField(_("their name"), max_length=200, blank=True)
    related_contact = models.ForeignKey(
        Contact,
        verbose_name=_("who is also the contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    date = models.DateField(_("date"), null=True, blank=True)
    recurs_yearly = models.BooleanField(
        _("every year"), default=False, help_text=_("Birthdays and anniversaries.")
    )
    # month * 100 + day of a yearly date, so that "in the next 30 days" is an
    # indexed range rather than a scan of every fact.
    month_day = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    learned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learned by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    learned_at = models.DateTimeField(_("learned"), default=timezone.now)
    source_interaction = models.ForeignKey(
        "dialogue.Interaction",
        verbose_name=_("learned in"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="facts_learned",
    )
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_reason = models.CharField(_("why it was retired"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PersonalFactQuerySet.as_manager()

    class Meta:
        ordering = ["-learned_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-learned_at", "-id"], name="fact_customer_idx"),
            models.Index(
                fields=["customer", "month_day"],
                condition=models.Q(recurs_yearly=True, retired_at__isnull=True),
                name="fact_yearly_date_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.text or self.related_name

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}

    @property
    def is_current(self) -> bool:
        return self.retired_at is None
