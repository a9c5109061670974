"""Customers (people and organisations), their contacts, tags, account executives
and the relationship ladder."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

if TYPE_CHECKING:
    from tendero.accounts.models import User


def display_language(code: str) -> str:
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(translation.get_language() or "en")
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    LAPSED = "lapsed", _("Lapsed")
    WON_BACK = "won_back", _("Won back")


class RelationshipLevel(models.IntegerChoices):
    """The ladder a relationship climbs one rung at a time."""

    PRODUCT = 1, _("Product")
    SOLUTIONS = 2, _("Solutions")
    RELATIONSHIP = 3, _("Relationship")
    TRUST = 4, _("Trust")


class AcquisitionSource(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    WEBSITE = "website", _("Website")
    STORE = "store", _("Store")
    PHONE = "phone", _("Phone sales")
    FIELD_SALES = "field_sales", _("Field sales")
    CAMPAIGN = "campaign", _("Campaign")
    PARTNER = "partner", _("Partner")
    EVENT = "event", _("Event")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def portfolio_scope(user: User | Any) -> Q | None:
    """Whose customers `user` may see, as a filter on `account_executive_id`: an empty
    Q for everyone's (view_all_customers), their own portfolio's (view_customer), or
    None for nobody's. Rows kept per account executive (the Insights figures) are
    scoped by the same rule as the customers themselves."""
    if not user or not user.is_authenticated or not user.is_active:
        return None
    if user.has_perm("customers.view_all_customers"):
        return Q()
    if user.has_perm("customers.view_customer"):
        return Q(account_executive_id=user.pk)
    return None


class CustomerQuerySet(models.QuerySet["Customer"]):
    def visible_to(self, user: User | Any) -> CustomerQuerySet:
        """The customers `user` may see: everyone's with view_all_customers, else their own."""
        scope = portfolio_scope(user)
        return self.none() if scope is None else self.filter(scope)

    def matching(
        self,
        *,
        q: str | None = None,
        kind: str | None = None,
        lifecycle_stage: str | None = None,
        relationship_level: int | None = None,
        account_executive_id: int | None = None,
        tag: str | None = None,
        country: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> CustomerQuerySet:
        """The customers that pass every filter given (the list page's and the API's)."""
        qs = self.search(q) if q else self
        exact = {
            "kind": kind,
            "lifecycle_stage": lifecycle_stage,
            "relationship_level": relationship_level,
            "account_executive_id": account_executive_id,
            "country": country.upper() if country else None,
            "created_at__gte": created_after,
            "created_at__lt": created_before,
        }
        qs = qs.filter(**{lookup: value for lookup, value in exact.items() if value})
        if tag:
            tagged = Customer.tags.through.objects.filter(
                customer_id=models.OuterRef("pk"), tag__name__iexact=tag
            )
            qs = qs.filter(models.Exists(tagged))
        return qs

    def search(self, text: str) -> CustomerQuerySet:
        """Customers for whom every word of `text` begins one of their search tokens
        (names, contacts' names, emails, phones, tax id), accents and case ignored:
        "jose per" finds José Pérez. See tendero.customers.search."""
        # Imported here: the search module builds on these models.
        from tendero.customers.search import filter_customers

        return filter_customers(self, text)  # type: ignore[return-value]


class Customer(models.Model):
    """A person or an organisation we serve, for life."""

    kind = models.CharField(_("kind"), max_length=12, choices=CustomerKind.choices)
    display_name = models.CharField(_("name"), max_length=200)
    preferred_name = models.CharField(
        _("preferred name"),
        max_length=100,
        blank=True,
        help_text=_("How they like to be addressed."),
    )
    tax_id = models.CharField(_("tax or legal id"), max_length=40, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = CountryField(_("country"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    acquisition_source = models.CharField(
        _("acquisition source"), max_length=20, choices=AcquisitionSource.choices, blank=True
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=10,
        choices=LifecycleStage.choices,
        default=LifecycleStage.PROSPECT,
    )
    relationship_level = models.PositiveSmallIntegerField(
        _("relationship level"),
        choices=RelationshipLevel.choices,
        default=RelationshipLevel.PRODUCT,
    )
    # The current account executive, kept alongside the assignment history so that
    # portfolio-scoped queries are a single indexed filter.
    account_executive = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account executive"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portfolio",
        # The portfolio indexes below start with it: an index of its own would
        # only cost writes.
        db_index=False,
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    # Stay in touch: how often we expect to hear from (or talk to) them, in days,
    # set by hand or learned from their own history, and when that falls due next.
    contact_rhythm_days = models.PositiveSmallIntegerField(
        _("contact rhythm (days)"), null=True, blank=True
    )
    contact_rhythm_learned = models.BooleanField(_("rhythm learned from history"), default=False)
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    next_contact_due = models.DateField(_("next contact due"), null=True, blank=True)
    # Duplicate detection: the name reduced to its sorted, accent-free, lower-case
    # words, so "García López, José" and "jose garcia lopez" share one key.
    name_key = models.CharField(max_length=200, blank=True, default="", editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["display_name", "id"]
        permissions = [
            ("view_all_customers", "Can see every customer, not only their own portfolio"),
            ("assign_account_executive", "Can assign account executives"),
            ("change_relationship_level", "Can move a customer's relationship level"),
            ("export_customers", "Can export customer lists"),
            ("merge_customers", "Can merge duplicate customers"),
        ]
        indexes = [
            models.Index(fields=["display_name", "id"], name="customer_name_idx"),
            models.Index(fields=["account_executive", "display_name"], name="customer_ae_name_idx"),
            models.Index(fields=["lifecycle_stage", "display_name"], name="customer_stage_idx"),
            models.Index(Upper("tax_id"), name="customer_tax_id_upper_idx"),
            models.Index(
                fields=["account_executive", "next_contact_due"], name="customer_ae_due_idx"
            ),
            models.Index(
                fields=["name_key"], condition=~models.Q(name_key=""), name="customer_name_key_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(relationship_level__gte=1, relationship_level__lte=4),
                name="customer_relationship_level_range",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("customers:detail", args=[self.pk])

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.pk}

    @property
    def is_organisation(self) -> bool:
        return self.kind == CustomerKind.ORGANISATION

    # The first email and phone are the primary ones. Both read the prefetched rows
    # when the query prefetched them (lists do), so they cost no query per customer.
    @property
    def primary_email(self) -> str:
        first = next(iter(self.emails.all()), None)
        return first.address if first else ""

    @property
    def primary_phone(self) -> str:
        first = next(iter(self.phones.all()), None)
        return first.number if first else ""

    @property
    def language_name(self) -> str:
        """The customer's language, named in the language of whoever is reading."""
        return display_language(self.language)

    @property
    def address_name(self) -> str:
        """How to address them: their preferred name if we know it."""
        return self.preferred_name or self.display_name


class CustomerEmail(models.Model):
    # No index of its own: the unique (customer, …) index below serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="emails", db_index=False
    )
    address = models.EmailField(_("email"), max_length=254)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        # Upper: what Django's case-insensitive lookups compare on PostgreSQL.
        indexes = [models.Index(Upper("address"), name="customer_email_upper_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "address"], name="customer_email_unique")
        ]

    def __str__(self) -> str:
        return self.address

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}


class CustomerPhone(models.Model):
    # No index of its own: the unique (customer, …) index below serves lookups by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", db_index=False
    )
    number = models.CharField(_("phone"), max_length=32, help_text=_("E.164, e.g. +34612345678"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["number"], name="customer_phone_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="customer_phone_unique")
        ]

    def __str__(self) -> str:
        return self.number

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}


class ContactQuerySet(models.QuerySet["Contact"]):
    def visible_to(self, user: User | Any) -> ContactQuerySet:
        return self.filter(customer__in=Customer.objects.visible_to(user))


class Contact(models.Model):
    """A person at an organisation customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}


class AccountExecutiveAssignment(models.Model):
    """One period during which a user was a customer's account executive."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="account_executive_assignments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    started_at = models.DateTimeField(_("from"), default=timezone.now)
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(ended_at__isnull=True),
                name="one_current_account_executive",
            )
        ]
        indexes = [models.Index(fields=["customer", "-started_at"], name="ae_assignment_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}

    def tenure_days(self) -> int:
        end: datetime = self.ended_at or timezone.now()
        return max((end - self.started_at).days, 0)


class RelationshipLevelChange(models.Model):
    """A step on the relationship ladder, with who took it and why."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="level_changes")
    from_level = models.PositiveSmallIntegerField(choices=RelationshipLevel.choices)
    to_level = models.PositiveSmallIntegerField(choices=RelationshipLevel.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.TextField(_("reason"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="level_change_idx")]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_level} → {self.to_level}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id}

    @property
    def is_promotion(self) -> bool:
        return self.to_level > self.from_level


class SearchToken(models.Model):
    """One searchable word of a customer: a name word (the customer's or a
    contact's), an email, a phone number or a tax id, reduced to lower case
    without accents. Search-as-you-type is a prefix range on `token`."""

    # Its own index, although the unique (customer, token) starts with it too: it
    # is what PostgreSQL picks to check a customer's other search words.
    # No constraint in the database: these rows are derived (`tendero reindex_search`
    # rebuilds them), Django still deletes them with their customer, searches join
    # them to the customers a reader may see, and checking the key of every one of a
    # customer's ten-odd words was half the time a large import spent in PostgreSQL.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    token = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["token", "customer"], name="search_token_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "token"], name="search_token_unique")
        ]

    def __str__(self) -> str:
        return self.token


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    CONTACTS = "contacts", _("Contacts")
    FACTS = "facts", _("Personal facts")
    PURCHASES = "purchases", _("Purchases")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Previewed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One import of a file: its column mapping, progress and outcome."""

    kind = models.CharField(_("what"), max_length=12, choices=ImportKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    original_name = models.CharField(_("file"), max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    file_format = models.CharField(max_length=8, blank=True)  # csv or xlsx
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # header -> field name
    dry_run = models.BooleanField(default=False)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The process that runs the import (or ran it last): a job left running by a
    # process that was killed is told from one still running by these (see
    # importing.fail_if_abandoned). The start time tells a pid given to another
    # process since.
    runner_pid = models.PositiveIntegerField(null=True, blank=True)
    runner_host = models.CharField(max_length=255, blank=True)
    runner_started_at = models.DateTimeField(null=True, blank=True)
    # When the job was found running with its process gone (and marked failed).
    abandoned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("import_data", "Can import customers, contacts and facts")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def outcome_message(self) -> str:
        """The job's message or, for a job whose process ended while it ran, why it
        stopped (in the reader's language)."""
        if self.abandoned_at is None:
            return self.message
        values = {
            "done": self.processed_rows,
            "total": self.total_rows,
            "pid": self.runner_pid,
            "host": self.runner_host,
        }
        if self.dry_run:
            return str(
                _(
                    "The dry run stopped after %(done)s of %(total)s rows: the process "
                    "running it (pid %(pid)s on %(host)s) ended before it finished. "
                    "Nothing was written; run it again."
                )
                % values
            )
        return str(
            _(
                "The import stopped after %(done)s of %(total)s rows: the process running "
                "it (pid %(pid)s on %(host)s) ended before it finished. The rows before "
                "were imported; running the same file again completes it."
            )
            % values
        )

    @property
    def percent_done(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, self.processed_rows * 100 // self.total_rows)


class ImportRowError(models.Model):
    """A row an import rejected, and why: one message per field."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    errors = models.JSONField(default=dict)  # field -> [messages]
    values = models.JSONField(default=dict)  # the row as read

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_row_error_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number}"
