"""HTML pages for customers and their contacts. Views parse and authorize; every
change goes through tendero.customers.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from tendero.accounts.access import signed_in_user
from tendero.audit.models import AuditEntry
from tendero.core import timeline
from tendero.core.errors import DomainError, NotAllowed, VersionConflict
from tendero.core.htmx import htmx_details
from tendero.core.http import require_permission
from tendero.core.pagination import fetch_window, page_number
from tendero.customers import briefing, services
from tendero.customers.forms import (
    AccountExecutiveForm,
    ContactEditForm,
    ContactForm,
    CustomerEditForm,
    CustomerFilterForm,
    CustomerForm,
    RelationshipLevelForm,
    TimelineFilterForm,
)
from tendero.customers.models import Contact, Customer, RelationshipLevel
from tendero.customers.timeline_display import describe_entries
from tendero.customers.validation import format_phone
from tendero.organization.models import Department

PER_PAGE = 25
AUDIT_ROWS = 50


def not_allowed(request: HttpRequest, error: NotAllowed | None = None) -> HttpResponse:
    message = error.message if error else _("You do not have permission to do this.")
    return render(request, "403.html", {"message": message}, status=403)


def visible_customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)


def tenure_label(days: int) -> str:
    """A tenure the way people say it: days for the first two months, then months."""
    if days < 60:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    months = days // 30
    if months < 24:
        return ngettext("%(n)d month", "%(n)d months", months) % {"n": months}
    years = days // 365
    return ngettext("%(n)d year", "%(n)d years", years) % {"n": years}


# ---------------------------------------------------------------- list


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """The customers the user may see, filtered, sorted and paginated without COUNT(*)."""
    user = signed_in_user(request)
    form = CustomerFilterForm(
        request.GET, show_account_executive=user.has_perm("customers.view_all_customers")
    )
    qs = form.filter(Customer.objects.visible_to(user))
    page = page_number(request)
    offset = (page - 1) * PER_PAGE
    window = fetch_window(
        qs.select_related("account_executive", "value").prefetch_related(
            "tags", "emails", "phones"
        ),
        offset,
        PER_PAGE,
        counted=qs,
    )
    rows = window.items
    params = request.GET.copy()
    params.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "customers": rows,
        "page": page,
        "has_previous": page > 1,
        "has_next": window.has_next,
        "total": window.count,
        "total_is_capped": not window.count_is_exact,
        "first_row": offset + 1 if rows else 0,
        "last_row": offset + len(rows),
        "query_string": params.urlencode(),
        "filtered": bool(form.active_filters),
        "chips": _chips(request, form),
        "columns": _columns(request, form.active_sort),
        "active_sort": form.active_sort,
    }
    template = "customers/_table.html" if htmx_details(request) else "customers/list.html"
    return render(request, template, context)


def _chips(request: HttpRequest, form: CustomerFilterForm) -> list[dict[str, str]]:
    """One chip per filter in use, with the query string that drops it."""
    chips = []
    for name, shown in form.active_filters:
        params = request.GET.copy()
        params.pop("page", None)
        params.pop(name, None)
        chips.append({"label": shown, "query": params.urlencode()})
    return chips


def _columns(request: HttpRequest, active: str) -> list[dict[str, str]]:
    """The table's columns; sortable ones carry the query string that sorts by them
    (clicking the sorted column again reverses it)."""
    labels = [
        ("name", _("Name")),
        ("", _("Email and phone")),
        ("kind", _("Kind")),
        ("stage", _("Stage")),
        ("level", _("Level")),
        ("ae", _("Account executive")),
        ("country", _("Country")),
        ("created", _("Created")),
    ]
    columns = []
    for key, label in labels:
        column = {"label": label, "query": "", "sort": ""}
        if key:
            params = request.GET.copy()
            params.pop("page", None)
            params["sort"] = f"-{key}" if active == key else key
            column["query"] = params.urlencode()
            column["sort"] = "asc" if active == key else "desc" if active == f"-{key}" else ""
        columns.append(column)
    return columns


# ---------------------------------------------------------------- detail


def _departments() -> list[tuple[int, str]]:
    return list(Department.objects.active().values_list("pk", "name"))


def _timeline_context(
    request: HttpRequest, customer: Customer, departments: list[tuple[int, str]] | None = None
) -> dict[str, Any]:
    """One page of the timeline with its filters (one query for the entries)."""
    form = TimelineFilterForm(
        request.GET, departments=_departments() if departments is None else departments
    )
    filters = form.filters()
    page = timeline.page([customer.pk], filters=filters, cursor=form.cursor())
    query = request.GET.copy()
    query.pop("cursor", None)
    query.pop("tab", None)
    user = signed_in_user(request)
    return {
        "customer": customer,
        "timeline_form": form,
        "entries": describe_entries(page.entries),
        # Asked once here rather than for each of the entries.
        "can_note_facts": user.has_perm("knowledge.add_personalfact"),
        "can_edit_interactions": user.has_perm("dialogue.change_interaction"),
        "add_fact_url": reverse("knowledge:add", args=[customer.pk]),
        "next_cursor": page.next_cursor,
        "filter_query": query.urlencode(),
        "filtered": filters != timeline.TimelineFilters(),
    }


def _header_context(request: HttpRequest, customer: Customer, tab: str) -> dict[str, Any]:
    days = getattr(customer, "tenure_days", None)
    return {
        "customer": customer,
        "tab": tab,
        "tags": list(customer.tags.all()),
        "tenure": tenure_label(days) if days is not None else "",
        "tabs": [
            ("overview", _("Overview"), reverse("customers:detail", args=[customer.pk])),
            ("knowledge", _("Knowledge"), reverse("customers:knowledge", args=[customer.pk])),
            ("contacts", _("Contacts"), reverse("customers:contacts", args=[customer.pk])),
            ("history", _("History"), reverse("customers:history", args=[customer.pk])),
        ],
    }


def _render_tab(
    request: HttpRequest, customer: Customer, tab: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A tab alone for htmx (swapped into the page, URL pushed), or the whole page."""
    template = f"customers/tabs/_{tab}.html"
    htmx = htmx_details(request)
    if htmx and htmx.target == "tab-panel" and not htmx.history_restore_request:
        return render(
            request, template, {"customer": customer, "tab": tab, **context}, status=status
        )
    page = {**_header_context(request, customer, tab), **context, "tab_template": template}
    return render(request, "customers/detail.html", page, status=status)


def _fetch_360(request: HttpRequest, pk: int, *related: str) -> Customer:
    queryset = briefing.with_briefing_fields(Customer.objects.visible_to(request.user))
    customer = get_object_or_404(queryset.prefetch_related("tags", *related), pk=pk)
    since = getattr(customer, "assigned_since", None)
    customer.tenure_days = (  # type: ignore[attr-defined]
        max((timezone.now() - since).days, 0) if since else None
    )
    return customer


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360 page: header, briefing, timeline and what is open. A fixed
    number of queries whatever the length of the customer's history."""
    customer = _fetch_360(request, pk)
    contacts = list(customer.contacts.all()) if customer.is_organisation else []
    departments = _departments()
    context = {
        "briefing": briefing.build(customer, contacts),
        "today": timezone.localdate(),
        **_timeline_context(request, customer, departments),
    }
    return _render_tab(request, customer, "overview", context)


@login_required
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline fragment: filtered (the whole card) or the next page (entries only)."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if not htmx_details(request):
        query = request.GET.copy()
        query.pop("cursor", None)
        url = reverse("customers:detail", args=[pk])
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    context = _timeline_context(request, customer)
    template = (
        "customers/_timeline_entries.html"
        if request.GET.get("cursor")
        else "customers/_timeline.html"
    )
    return render(request, template, context)


@login_required
def customer_knowledge(request: HttpRequest, pk: int) -> HttpResponse:
    # Imported here: the knowledge views build on this module's helpers.
    from tendero.knowledge import views as knowledge_views

    customer = _fetch_360(request, pk)
    return _render_tab(
        request, customer, "knowledge", knowledge_views.panel_context(request, customer)
    )


@login_required
def customer_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _fetch_360(request, pk, "contacts", "emails", "phones")
    return _render_tab(request, customer, "contacts", {"contacts": list(customer.contacts.all())})


def _history_context(
    request: HttpRequest,
    customer: Customer,
    level_form: RelationshipLevelForm | None = None,
    ae_form: AccountExecutiveForm | None = None,
) -> dict[str, Any]:
    user = signed_in_user(request)
    assignments = list(customer.account_executive_assignments.select_related("user", "assigned_by"))
    for assignment in assignments:
        assignment.tenure = tenure_label(assignment.tenure_days())  # type: ignore[attr-defined]
    level = customer.relationship_level
    level_steps = []
    if level + 1 in RelationshipLevel.values:
        level_steps.append(("up", level + 1, RelationshipLevel(level + 1).label))
    if level - 1 in RelationshipLevel.values:
        level_steps.append(("down", level - 1, RelationshipLevel(level - 1).label))
    can_change_level = user.has_perm("customers.change_relationship_level")
    can_assign = user.has_perm("customers.assign_account_executive")
    if can_assign and ae_form is None:
        ae_form = AccountExecutiveForm(
            initial={"user": customer.account_executive_id}, auto_id="id_ae_%s"
        )
    if can_change_level and level_form is None:
        level_form = RelationshipLevelForm(auto_id="id_level_%s")
    audit: list[AuditEntry] = []
    if user.has_perm("audit.view_auditentry"):
        audit = list(
            AuditEntry.objects.for_customer(customer.pk).select_related("actor", "content_type")[
                :AUDIT_ROWS
            ]
        )
    for entry in audit:
        entry.verb = _audit_verb(entry.action)
        entry.object_label = _audit_object(entry.content_type.model)
        entry.display_changes = _display_changes(entry)
        entry.is_creation = entry.action == AuditEntry.Action.CREATE
    return {
        "assignments": assignments,
        "level_changes": list(customer.level_changes.select_related("changed_by")),
        "level_steps": level_steps,
        "level_form": level_form if can_change_level else None,
        "ae_form": ae_form if can_assign else None,
        "audit": audit,
        "can_see_audit": user.has_perm("audit.view_auditentry"),
        "audit_limit": AUDIT_ROWS,
    }


@login_required
def customer_history(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _fetch_360(request, pk)
    return _render_tab(request, customer, "history", _history_context(request, customer))


def _audit_verb(action: int) -> str:
    return {
        AuditEntry.Action.CREATE: pgettext("audit action", "created"),
        AuditEntry.Action.UPDATE: pgettext("audit action", "changed"),
        AuditEntry.Action.DELETE: pgettext("audit action", "deleted"),
    }.get(action, pgettext("audit action", "viewed"))


def _audit_object(model: str) -> str:
    return {
        "customer": pgettext("audit object", "customer"),
        "customeremail": pgettext("audit object", "email"),
        "customerphone": pgettext("audit object", "phone"),
        "contact": pgettext("audit object", "contact"),
        "accountexecutiveassignment": pgettext("audit object", "account executive assignment"),
        "relationshiplevelchange": pgettext("audit object", "relationship level change"),
    }.get(model, model)


def _field_label(entry: AuditEntry, field: str) -> str:
    model = entry.content_type.model_class()
    try:
        found = model._meta.get_field(field) if model else None
    except FieldDoesNotExist:
        return field
    return str(getattr(found, "verbose_name", field))


def _display_changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field label, before, after) worth showing: a creation lists only the values it set."""
    return [
        (_field_label(entry, field), before, after)
        for field, before, after in entry.field_changes
        if not (entry.action == AuditEntry.Action.CREATE and (not after or field == "id"))
    ]


class FormOutcome:
    """What became of a form submitted to a service: a response to send at once
    (a redirect after success, or a 403), or the status to re-render the form with."""

    def __init__(
        self, response: HttpResponse | None = None, status: int = 200, conflict: bool = False
    ) -> None:
        self.response = response
        self.status = status
        self.conflict = conflict


def submit_form(
    request: HttpRequest,
    form: Any,
    change: Callable[[dict[str, Any]], Any],
    success_message: Callable[[Any], str],
    success_url: Callable[[Any], str],
    respond: Callable[[Any], HttpResponse] | None = None,
) -> FormOutcome:
    """Validate `form`, hand its data to a service through `change`, and map the
    service's domain errors onto the form: typed input is never lost. After a
    success: `respond`'s answer if given (an htmx fragment), else a confirmation
    and a redirect."""
    if not form.is_valid():
        return FormOutcome(status=400)
    try:
        result = change(form.cleaned_data)
    except NotAllowed as exc:
        return FormOutcome(response=not_allowed(request, exc))
    except VersionConflict as exc:
        form.add_error(None, exc.message)
        return FormOutcome(status=409, conflict=True)
    except DomainError as exc:
        form.add_service_errors(exc)
        return FormOutcome(status=exc.status)
    if respond is not None:
        return FormOutcome(response=respond(result))
    messages.success(request, success_message(result))
    return FormOutcome(response=redirect(success_url(result)))


@login_required
@require_POST
def change_level(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the relationship one rung, with a reason."""
    require_permission(request, "customers.change_relationship_level")
    customer = visible_customer(request, pk)
    form = RelationshipLevelForm(request.POST, auto_id="id_level_%s")
    outcome = submit_form(
        request,
        form,
        lambda data: services.change_relationship_level(
            signed_in_user(request), customer, data["to_level"], data["reason"]
        ),
        lambda _change: _("Relationship level changed."),
        lambda _change: reverse("customers:history", args=[customer.pk]),
    )
    if outcome.response:
        return outcome.response
    customer = _fetch_360(request, pk)
    context = _history_context(request, customer, level_form=form)
    return _render_tab(request, customer, "history", context, status=outcome.status)


@login_required
@require_POST
def assign_account_executive(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the customer to another account executive (or to nobody)."""
    require_permission(request, "customers.assign_account_executive")
    customer = visible_customer(request, pk)
    form = AccountExecutiveForm(request.POST, auto_id="id_ae_%s")
    outcome = submit_form(
        request,
        form,
        lambda data: services.assign_account_executive(
            signed_in_user(request), customer, data["user"], data["reason"]
        ),
        lambda _result: _("Account executive updated."),
        lambda _result: reverse("customers:history", args=[customer.pk]),
    )
    if outcome.response:
        return outcome.response
    customer = _fetch_360(request, pk)
    context = _history_context(request, customer, ae_form=form)
    return _render_tab(request, customer, "history", context, status=outcome.status)


# ---------------------------------------------------------------- create, edit, delete


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    require_permission(request, "customers.add_customer")
    outcome = FormOutcome()
    form = CustomerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        outcome = submit_form(
            request,
            form,
            lambda data: services.create_customer(signed_in_user(request), form.service_data()),
            lambda customer: _("%(name)s was added.") % {"name": customer.display_name},
            lambda customer: customer.get_absolute_url(),
        )
        if outcome.response:
            return outcome.response
    context = {"form": form, "customer": None}
    return render(request, "customers/form.html", context, status=outcome.status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request, "customers.change_customer")
    customer = get_object_or_404(
        Customer.objects.visible_to(request.user).prefetch_related("emails", "phones", "tags"),
        pk=pk,
    )
    outcome = FormOutcome()
    if request.method == "POST":
        form: CustomerForm = CustomerEditForm(request.POST)
        outcome = submit_form(
            request,
            form,
            lambda data: services.update_customer(
                signed_in_user(request), customer, data["version"], form.service_data()
            ),
            lambda _customer: _("Changes saved."),
            lambda _customer: customer.get_absolute_url(),
        )
        if outcome.response:
            return outcome.response
    else:
        form = CustomerEditForm(
            initial={**CustomerForm.initial_for(customer), "version": customer.version}
        )
    context = {"form": form, "customer": customer, "conflict": outcome.conflict}
    return render(request, "customers/form.html", context, status=outcome.status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request, "customers.delete_customer")
    customer = visible_customer(request, pk)
    if request.method == "POST":
        try:
            services.delete_customer(signed_in_user(request), customer)
        except NotAllowed as exc:
            return not_allowed(request, exc)
        messages.success(request, _("%(name)s was deleted.") % {"name": customer.display_name})
        return redirect("customers:list")
    return render(request, "customers/confirm_delete.html", {"customer": customer})


# ---------------------------------------------------------------- contacts


def _visible_contact(request: HttpRequest, pk: int, contact_pk: int) -> Contact:
    return get_object_or_404(
        Contact.objects.visible_to(request.user).select_related("customer"),
        pk=contact_pk,
        customer_id=pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request, "customers.add_contact")
    customer = visible_customer(request, pk)
    outcome = FormOutcome()
    form = ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        outcome = submit_form(
            request,
            form,
            lambda data: services.create_contact(
                signed_in_user(request), customer, form.service_data()
            ),
            lambda _contact: _("Contact added."),
            lambda _contact: _contacts_url(customer.pk),
        )
        if outcome.response:
            return outcome.response
    context = {"form": form, "customer": customer, "contact": None}
    return render(request, "customers/contact_form.html", context, status=outcome.status)


def _contacts_url(customer_pk: int) -> str:
    return reverse("customers:contacts", args=[customer_pk])


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    require_permission(request, "customers.change_contact")
    contact = _visible_contact(request, pk, contact_pk)
    outcome = FormOutcome()
    if request.method == "POST":
        form: ContactForm = ContactEditForm(request.POST)
        outcome = submit_form(
            request,
            form,
            lambda data: services.update_contact(
                signed_in_user(request), contact, data["version"], form.service_data()
            ),
            lambda _contact: _("Contact saved."),
            lambda _contact: _contacts_url(pk),
        )
        if outcome.response:
            return outcome.response
    else:
        form = ContactEditForm(
            initial={
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "preferred_name": contact.preferred_name,
                "role": contact.role,
                "email": contact.email,
                "phone": format_phone(contact.phone) if contact.phone else "",
                "is_primary": contact.is_primary,
                "version": contact.version,
            }
        )
    context = {
        "form": form,
        "customer": contact.customer,
        "contact": contact,
        "conflict": outcome.conflict,
    }
    return render(request, "customers/contact_form.html", context, status=outcome.status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    require_permission(request, "customers.delete_contact")
    contact = _visible_contact(request, pk, contact_pk)
    if request.method == "POST":
        try:
            services.delete_contact(signed_in_user(request), contact)
        except NotAllowed as exc:
            return not_allowed(request, exc)
        messages.success(request, _("Contact removed."))
        return redirect(_contacts_url(pk))
    context = {"customer": contact.customer, "contact": contact}
    return render(request, "customers/contact_confirm_delete.html", context)
