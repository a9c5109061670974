"""The two-way dialogue with each customer: every interaction, whoever started it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.customers.models import Contact, Customer

if TYPE_CHECKING:
    from tendero.accounts.models import User


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Visit")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social media")
    WEB = "web", _("Web")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Voice(models.TextChoices):
    """What the customer told us of their own accord (inbound only)."""

    FEEDBACK = "feedback", _("Feedback")
    COMPLAINT = "complaint", _("Complaint")
    IDEA = "idea", _("Idea")
    SUGGESTION = "suggestion", _("Suggestion")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class InteractionQuerySet(models.QuerySet["Interaction"]):
    def visible_to(self, user: User | Any) -> InteractionQuerySet:
        return self.filter(customer__in=Customer.objects.visible_to(user))

    def voice(self) -> InteractionQuerySet:
        """The customer's own voice: feedback, complaints, ideas, suggestions."""
        return self.exclude(voice="")

    def follow_ups_open(self) -> InteractionQuerySet:
        return self.filter(follow_up_on__isnull=False, follow_up_done_at__isnull=True)


class Interaction(models.Model):
    """One exchange with a customer: a call, an email, a visit..."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("with"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    voice = models.CharField(
        _("customer's voice"), max_length=10, choices=Voice.choices, blank=True
    )
    department = models.ForeignKey(
        "organization.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interactions",
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions_handled",
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=8, choices=Sentiment.choices, blank=True
    )
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    # Something left to do after the talk ("call back on Tuesday").
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    follow_up_done_at = models.DateTimeField(_("followed up"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # The timeline: one customer's interactions, newest first (keyset pages).
            models.Index(
                fields=["customer", "-occurred_at", "-id"], name="interaction_timeline_idx"
            ),
            models.Index(
                fields=["voice", "-occurred_at"],
                condition=~models.Q(voice=""),
                name="interaction_voice_idx",
            ),
            models.Index(
                fields=["customer", "follow_up_on"],
                condition=models.Q(follow_up_on__isnull=False, follow_up_done_at__isnull=True),
                name="interaction_follow_up_idx",
            ),
            models.Index(fields=["handled_by", "-occurred_at"], name="interaction_handler_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return f"{self.customer.get_absolute_url()}#interaction-{self.pk}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}

    @property
    def is_follow_up_open(self) -> bool:
        return self.follow_up_on is not None and self.follow_up_done_at is None
