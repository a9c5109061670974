"""Personal knowledge pages: the panel of the customer 360 page and its forms.

Each URL answers htmx with a fragment and a plain browser with a full page, so
links work without JavaScript. Changes go through tendero.knowledge.services.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tendero.accounts.access import signed_in_user
from tendero.core.errors import DomainError, NotAllowed
from tendero.core.htmx import htmx_details
from tendero.core.http import require_permission
from tendero.customers.models import Contact, Customer
from tendero.customers.views import not_allowed, submit_form, visible_customer
from tendero.knowledge import services as knowledge
from tendero.knowledge.forms import FactEditForm, FactForm, RetireFactForm
from tendero.knowledge.models import PersonalFact

PAGE = "knowledge/page.html"
PANEL = "knowledge/_panel.html"
FACT_FORM = "knowledge/_fact_form.html"
FACT_ROW = "knowledge/_fact.html"
FACT_EDIT = "knowledge/_fact_edit.html"
FACT_RETIRE = "knowledge/_fact_retire.html"
CHANGED = json.dumps({"timeline-changed": True, "knowledge-changed": True})


def _contacts(customer: Customer) -> list[Contact]:
    return list(customer.contacts.all()) if customer.is_organisation else []


def _visible_fact(request: HttpRequest, pk: int, fact_pk: int) -> PersonalFact:
    customer = visible_customer(request, pk)
    fact = get_object_or_404(
        PersonalFact.objects.select_related(
            "contact", "learned_by", "related_contact", "source_interaction", "retired_by"
        ),
        pk=fact_pk,
        customer_id=customer.pk,
    )
    fact.customer = customer
    return fact


def _decorate(fact: PersonalFact) -> PersonalFact:
    """What the row shows beyond the model: whether the date's year is known."""
    shown: Any = fact
    shown.year_known = fact.date is not None and fact.date.year != knowledge.NO_YEAR
    shown.is_relational = fact.kind in knowledge.RELATIONAL_KINDS
    return fact


def _permissions(request: HttpRequest) -> dict[str, bool]:
    return {
        "can_add": request.user.has_perm("knowledge.add_personalfact"),
        "can_change": request.user.has_perm("knowledge.change_personalfact"),
    }


def _groups(
    customer: Customer, contacts: list[Contact], facts: list[PersonalFact]
) -> list[dict[str, Any]]:
    """Facts by person: the customer first, then each contact with something known."""
    by_contact: dict[int | None, list[PersonalFact]] = {}
    for fact in facts:
        by_contact.setdefault(fact.contact_id, []).append(_decorate(fact))
    people: list[tuple[int | None, str, Contact | None]] = [(None, customer.display_name, None)]
    people += [(c.pk, c.full_name, c) for c in contacts]
    groups = []
    for key, name, contact in people:
        rows = by_contact.pop(key, [])
        if key is not None and not rows:
            continue
        groups.append(
            {
                "name": name,
                "contact": contact,
                "relations": [f for f in rows if f.kind in knowledge.RELATIONAL_KINDS],
                "facts": [f for f in rows if f.kind not in knowledge.RELATIONAL_KINDS],
            }
        )
    return groups


def panel_context(
    request: HttpRequest,
    customer: Customer,
    show_retired: bool | None = None,
    form: FactForm | None = None,
    contacts: list[Contact] | None = None,
) -> dict[str, Any]:
    """The context of knowledge/_panel.html for a customer the reader may
    see (the 360 page's knowledge tab uses it too). A fixed number of queries:
    contacts (unless prefetched), facts, upcoming dates."""
    if show_retired is None:
        show_retired = request.GET.get("retired") == "1"
    contacts = _contacts(customer) if contacts is None else contacts
    facts = list(
        knowledge.all_facts(customer) if show_retired else knowledge.current_facts(customer)
    )
    current = [f for f in facts if f.retired_at is None]
    retired = [_decorate(f) for f in facts if f.retired_at is not None]
    permissions = _permissions(request)
    if form is None and permissions["can_add"]:
        form = _add_form(request, customer, contacts)
    upcoming = knowledge.upcoming_dates(customer, timezone.localdate())
    for item in upcoming:
        _decorate(item.fact)
    return {
        "customer": customer,
        "groups": _groups(customer, contacts, current),
        "retired": retired,
        "show_retired": show_retired,
        "upcoming": upcoming,
        "form": form,
        "fact_count": len(current),
        **permissions,
    }


def _add_form(request: HttpRequest, customer: Customer, contacts: list[Contact]) -> FactForm:
    initial: dict[str, Any] = {}
    interaction = request.GET.get("interaction", "")
    if interaction.isdigit():
        initial["source_interaction_id"] = interaction
    return FactForm(initial=initial, customer=customer, contacts=contacts, auto_id="id_fact_new_%s")


def _page(
    request: HttpRequest,
    customer: Customer,
    fragment: str,
    context: dict[str, Any],
    title: str,
    status: int = 200,
) -> HttpResponse:
    """A fragment on a full page, for browsers without htmx (links still work)."""
    page = {
        **context,
        "customer": customer,
        "fragment": fragment,
        "title": title,
        "as_row": fragment in (FACT_ROW, FACT_EDIT, FACT_RETIRE),
    }
    return render(request, PAGE, page, status=status)


def _add_page(
    request: HttpRequest,
    customer: Customer,
    form: FactForm,
    contacts: list[Contact],
    status: int = 200,
) -> HttpResponse:
    context = panel_context(request, customer, show_retired=False, form=form, contacts=contacts)
    context["open_form"] = True
    return _page(request, customer, PANEL, context, _("Add a fact"), status=status)


@login_required
@require_GET
def panel(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything we know about the customer and their contacts."""
    require_permission(request, "knowledge.view_personalfact")
    customer = visible_customer(request, pk)
    context = panel_context(request, customer)
    if htmx_details(request) is not None:
        return render(request, PANEL, context)
    title = _("What we know about %(name)s") % {"name": customer.display_name}
    return _page(request, customer, PANEL, context, title)


@login_required
@require_http_methods(["GET", "POST"])
def add(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a fact. From the panel, htmx gets the fresh panel; a form fetched on
    its own (e.g. next to an interaction, with ?interaction=<id>) swaps itself for a
    blank one. Either way the timeline and the knowledge panels are told to refresh."""
    require_permission(request, "knowledge.add_personalfact")
    customer = visible_customer(request, pk)
    contacts = _contacts(customer)
    if request.method == "GET":
        form = _add_form(request, customer, contacts)
        context = {"customer": customer, "form": form, "standalone": True}
        if htmx_details(request) is not None:
            return render(request, FACT_FORM, context)
        return _add_page(request, customer, form, contacts)
    form = FactForm(request.POST, customer=customer, contacts=contacts, auto_id="id_fact_new_%s")
    form_id = f"knowledge-add-{customer.pk}"
    htmx = htmx_details(request)
    standalone = htmx is not None and htmx.target == form_id
    status = 400
    if form.is_valid():
        try:
            knowledge.record_fact(signed_in_user(request), customer, form.service_data())
        except NotAllowed as exc:
            return not_allowed(request, exc)
        except DomainError as exc:
            form.add_service_errors(exc)
            status = exc.status
        else:
            if not htmx_details(request) is not None:
                messages.success(request, _("Fact recorded."))
                return redirect(reverse("knowledge:panel", args=[customer.pk]))
            if standalone:
                interaction = form.cleaned_data.get("source_interaction_id")
                fresh = FactForm(
                    initial={"source_interaction_id": interaction} if interaction else {},
                    customer=customer,
                    contacts=contacts,
                    auto_id="id_fact_new_%s",
                )
                context = {"customer": customer, "form": fresh, "standalone": True, "saved": True}
                response = render(request, FACT_FORM, context)
            else:
                context = panel_context(request, customer, show_retired=False, contacts=contacts)
                context["saved"] = True
                response = render(request, PANEL, context)
            response["HX-Trigger"] = CHANGED
            return response
    context = {"customer": customer, "form": form, "standalone": standalone}
    if htmx_details(request) is not None:
        # 200, so that htmx swaps it: the form, errors at the fields, input kept.
        response = render(request, FACT_FORM, context)
        response["HX-Retarget"] = f"#{form_id}"
        response["HX-Reswap"] = "outerHTML"
        return response
    return _add_page(request, customer, form, contacts, status=status)


@login_required
@require_GET
def fact(request: HttpRequest, pk: int, fact_pk: int) -> HttpResponse:
    """One fact's row (what "cancel" brings back)."""
    require_permission(request, "knowledge.view_personalfact")
    found = _decorate(_visible_fact(request, pk, fact_pk))
    context = {"customer": found.customer, "fact": found, **_permissions(request)}
    if htmx_details(request) is not None:
        return render(request, FACT_ROW, context)
    return _page(request, found.customer, FACT_ROW, context, _("What we know"))


def _row_changed(request: HttpRequest, found: PersonalFact) -> HttpResponse:
    """After a correction or retirement: the row, the upcoming dates (out of band)."""
    upcoming = knowledge.upcoming_dates(found.customer, timezone.localdate())
    for item in upcoming:
        _decorate(item.fact)
    context = {
        "customer": found.customer,
        "fact": _decorate(found),
        "upcoming": upcoming,
        "oob_upcoming": True,
        **_permissions(request),
    }
    response = render(request, FACT_ROW, context)
    response["HX-Trigger"] = CHANGED
    return response


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int, fact_pk: int) -> HttpResponse:
    """Correct a fact, if nobody changed it meanwhile (the version)."""
    require_permission(request, "knowledge.change_personalfact")
    found = _visible_fact(request, pk, fact_pk)
    customer = found.customer
    contacts = _contacts(customer)
    auto_id = f"id_fact_{found.pk}_%s"
    status = 200
    conflict = False
    if request.method == "POST":
        form = FactEditForm(request.POST, customer=customer, contacts=contacts, auto_id=auto_id)
        outcome = submit_form(
            request,
            form,
            lambda data: knowledge.correct_fact(
                signed_in_user(request), found, form.service_data(), data["version"]
            ),
            lambda _fact: _("Fact corrected."),
            lambda _fact: reverse("knowledge:panel", args=[customer.pk]),
            respond=(lambda _fact: _row_changed(request, found))
            if htmx_details(request) is not None
            else None,
        )
        if outcome.response:
            return outcome.response
        status, conflict = outcome.status, outcome.conflict
    else:
        form = FactEditForm(
            initial=FactForm.initial_for(found),
            customer=customer,
            contacts=contacts,
            auto_id=auto_id,
            autofocus=htmx_details(request) is not None,
        )
    context = {"customer": customer, "fact": found, "form": form, "conflict": conflict}
    if htmx_details(request) is not None:
        return render(request, FACT_EDIT, context)
    return _page(request, customer, FACT_EDIT, context, _("Correct a fact"), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def retire(request: HttpRequest, pk: int, fact_pk: int) -> HttpResponse:
    """Mark a fact as no longer true; it stays in the history."""
    require_permission(request, "knowledge.change_personalfact")
    found = _visible_fact(request, pk, fact_pk)
    customer = found.customer
    status = 200
    conflict = False
    if request.method == "POST":
        form = RetireFactForm(request.POST, auto_id=f"id_retire_{found.pk}_%s")
        outcome = submit_form(
            request,
            form,
            lambda data: knowledge.retire_fact(
                signed_in_user(request), found, data["reason"], data["version"]
            ),
            lambda _fact: _("Fact retired."),
            lambda _fact: reverse("knowledge:panel", args=[customer.pk]),
            respond=(lambda _fact: _row_changed(request, found))
            if htmx_details(request) is not None
            else None,
        )
        if outcome.response:
            return outcome.response
        status, conflict = outcome.status, outcome.conflict
    else:
        form = RetireFactForm(
            initial={"version": found.version},
            auto_id=f"id_retire_{found.pk}_%s",
            autofocus=htmx_details(request) is not None,
        )
    context = {"customer": customer, "fact": _decorate(found), "form": form, "conflict": conflict}
    if htmx_details(request) is not None:
        return render(request, FACT_RETIRE, context)
    return _page(request, customer, FACT_RETIRE, context, _("Retire a fact"), status=status)
