"""HTML pages of the dialogue: logging an interaction in seconds from the customer page
(htmx, no reload), correcting and removing one, the customer's voice across every
visible customer, and the going-quiet list. Every change goes through
tendero.dialogue.services or tendero.dialogue.rhythm."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tendero.accounts.access import signed_in_user
from tendero.core.errors import DomainError, NotAllowed, VersionConflict
from tendero.core.htmx import htmx_details
from tendero.core.http import require_permission
from tendero.core.pagination import between_days, page_context
from tendero.customers.models import Customer
from tendero.customers.views import not_allowed, visible_customer
from tendero.dialogue import rhythm, services
from tendero.dialogue.forms import (
    GoingQuietForm,
    InteractionEditForm,
    InteractionForm,
    RhythmForm,
    VoiceFilterForm,
)
from tendero.dialogue.models import Interaction

PER_PAGE = 25
TIMELINE_CHANGED = json.dumps({"timeline-changed": True})


def _visible_interaction(request: HttpRequest, pk: int) -> Interaction:
    return get_object_or_404(
        Interaction.objects.visible_to(request.user).select_related("customer"), pk=pk
    )


def _timeline_changed(response: HttpResponse) -> HttpResponse:
    """Tell the page (the customer timeline listens) that interactions changed."""
    response["HX-Trigger"] = TIMELINE_CHANGED
    return response


def _error_status(request: HttpRequest, status: int) -> int:
    # htmx swaps only 2xx answers: a form with errors must come back as 200 to be shown.
    return 200 if htmx_details(request) else status


def _apply(form: Any, change: Callable[[], Any]) -> tuple[Any, int, bool]:
    """Run a service call for a valid form; map its errors onto the form.
    Returns (result or None, status, conflict). NotAllowed is left to the caller."""
    try:
        return change(), 200, False
    except VersionConflict as exc:
        form.add_error(None, exc.message)
        return None, 409, True
    except NotAllowed:
        raise
    except DomainError as exc:
        form.add_service_errors(exc)
        return None, exc.status, False


# ---------------------------------------------------------------- logging


def _log_form(customer: Customer, data: Any = None) -> InteractionForm:
    return InteractionForm(data, customer=customer, auto_id="id_log_%s")


@login_required
@require_http_methods(["GET", "POST"])
def log_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    """The log form: a fragment for htmx (the customer page), a page otherwise."""
    require_permission(request, "dialogue.add_interaction")
    customer = visible_customer(request, pk)
    form = _log_form(customer, request.POST if request.method == "POST" else None)
    status, saved = 200, None
    if request.method == "POST":
        if form.is_valid():
            try:
                saved, status, _conflict = _apply(
                    form,
                    lambda: services.record_interaction(
                        signed_in_user(request), customer, form.service_data()
                    ),
                )
            except NotAllowed as exc:
                return not_allowed(request, exc)
        else:
            status = 400
        if saved is not None:
            if not htmx_details(request):
                messages.success(request, _("Interaction logged."))
                return redirect(customer.get_absolute_url())
            form = _log_form(customer)
            # Ready for the next one: htmx focuses an autofocus field it swaps in.
            form.fields["subject"].widget.attrs["autofocus"] = True
    context = {"customer": customer, "log_form": form, "saved": saved}
    if htmx_details(request):
        response = render(
            request, "dialogue/_log_form.html", context, status=_error_status(request, status)
        )
        return _timeline_changed(response) if saved else response
    return render(request, "dialogue/log.html", context, status=status)


# ---------------------------------------------------------------- editing, deleting


@login_required
@require_http_methods(["GET", "POST"])
def edit_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request, "dialogue.change_interaction")
    interaction = _visible_interaction(request, pk)
    customer = interaction.customer
    auto_id = f"id_edit_{interaction.pk}_%s"
    status, conflict = 200, False
    if request.method == "POST":
        form = InteractionEditForm(
            request.POST, customer=customer, interaction=interaction, auto_id=auto_id
        )
        if form.is_valid():
            try:
                saved, status, conflict = _apply(
                    form,
                    lambda: services.update_interaction(
                        signed_in_user(request),
                        interaction,
                        form.service_data(),
                        form.cleaned_data["version"],
                    ),
                )
            except NotAllowed as exc:
                return not_allowed(request, exc)
            if saved is not None:
                message = _("Interaction saved.")
                if not htmx_details(request):
                    messages.success(request, message)
                    return redirect(interaction.get_absolute_url())
                return _timeline_changed(
                    render(request, "dialogue/_done.html", {"message": message})
                )
        else:
            status = 400
    else:
        form = InteractionEditForm(
            initial=InteractionForm.initial_for(interaction),
            customer=customer,
            interaction=interaction,
            auto_id=auto_id,
        )
    context = {
        "customer": customer,
        "interaction": interaction,
        "form": form,
        "conflict": conflict,
    }
    template = "dialogue/_edit_form.html" if htmx_details(request) else "dialogue/edit.html"
    return render(request, template, context, status=_error_status(request, status))


@login_required
@require_http_methods(["GET", "POST"])
def delete_interaction(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request, "dialogue.delete_interaction")
    interaction = _visible_interaction(request, pk)
    customer = interaction.customer
    if request.method == "POST":
        try:
            services.delete_interaction(signed_in_user(request), interaction)
        except NotAllowed as exc:
            return not_allowed(request, exc)
        message = _("Interaction removed.")
        if not htmx_details(request):
            messages.success(request, message)
            return redirect(customer.get_absolute_url())
        return _timeline_changed(render(request, "dialogue/_done.html", {"message": message}))
    context = {"customer": customer, "interaction": interaction}
    template = (
        "dialogue/_confirm_delete.html" if htmx_details(request) else "dialogue/confirm_delete.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def complete_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    require_permission(request, "dialogue.change_interaction")
    interaction = _visible_interaction(request, pk)
    try:
        services.complete_follow_up(signed_in_user(request), interaction)
    except NotAllowed as exc:
        return not_allowed(request, exc)
    except DomainError as exc:
        if htmx_details(request):
            return render(request, "dialogue/_done.html", {"message": exc.message, "error": True})
        messages.error(request, exc.message)
        return redirect(interaction.get_absolute_url())
    message = _("Follow-up done.")
    if not htmx_details(request):
        messages.success(request, message)
        return redirect(interaction.get_absolute_url())
    return _timeline_changed(render(request, "dialogue/_done.html", {"message": message}))


@login_required
def open_follow_ups(request: HttpRequest, pk: int) -> HttpResponse:
    """Every open follow-up of one customer, soonest due first (the 360 page shows
    the first few)."""
    require_permission(request, "dialogue.view_interaction")
    customer = visible_customer(request, pk)
    qs = (
        Interaction.objects.filter(customer=customer)
        .follow_ups_open()
        .order_by("follow_up_on", "id")
    )
    context = {
        "customer": customer,
        "today": timezone.localdate(),
        **page_context(request, qs.select_related("handled_by", "contact"), qs, PER_PAGE),
    }
    return render(request, "dialogue/follow_ups.html", context)


# ---------------------------------------------------------------- the customer's voice


def voice_interactions(user: Any, filters: dict[str, Any]) -> Any:
    """The voice the user may see, narrowed by the filters, newest first."""
    qs = Interaction.objects.visible_to(user).voice()
    if filters.get("voice"):
        qs = qs.filter(voice=filters["voice"])
    if filters.get("channel"):
        qs = qs.filter(channel=filters["channel"])
    if filters.get("department"):
        qs = qs.filter(department_id=filters["department"])
    if filters.get("sentiment"):
        qs = qs.filter(sentiment=filters["sentiment"])
    qs = between_days(qs, "occurred_at", filters.get("since"), filters.get("until"))
    return qs.order_by("-occurred_at", "-id")


@login_required
def voice(request: HttpRequest) -> HttpResponse:
    """Feedback, complaints, ideas and suggestions from every customer the user may see."""
    require_permission(request, "dialogue.view_interaction")
    form = VoiceFilterForm(request.GET)
    filters = form.values()
    qs = voice_interactions(signed_in_user(request), filters)
    shown = qs.select_related("customer", "department", "handled_by", "contact")
    context = {
        "form": form,
        "filtered": bool(filters),
        **page_context(request, shown, qs, PER_PAGE),
    }
    template = "dialogue/_voice_results.html" if htmx_details(request) else "dialogue/voice.html"
    return render(request, template, context)


# ---------------------------------------------------------------- stay in touch


def _rhythm_form(customer: Customer, data: Any = None) -> RhythmForm:
    initial = {"days": customer.contact_rhythm_days, "version": customer.version}
    if customer.contact_rhythm_learned:
        initial["days"] = None
    return RhythmForm(data, initial=initial, auto_id=f"id_rhythm_{customer.pk}_%s")


@login_required
def going_quiet(request: HttpRequest) -> HttpResponse:
    """Relationships overdue against their own rhythm: the signed-in rep's portfolio,
    or, for whoever sees every customer, everyone's or one account executive's."""
    user = signed_in_user(request)
    require_permission(request, "customers.view_customer")
    today = timezone.localdate()
    sees_all = user.has_perm("customers.view_all_customers")
    form = GoingQuietForm(request.GET) if sees_all else None
    qs = rhythm.going_quiet(user, today)
    counted = Customer.objects.visible_to(user).filter(next_contact_due__lt=today)
    if form is not None and form.is_valid() and form.cleaned_data["account_executive"]:
        executive_id = form.cleaned_data["account_executive"]
        qs = qs.filter(account_executive_id=executive_id)
        counted = counted.filter(account_executive_id=executive_id)
    context = {
        "form": form,
        "today": today,
        "can_set_rhythm": user.has_perm("customers.change_customer"),
        **page_context(request, qs.select_related("account_executive"), counted, PER_PAGE),
    }
    for customer in context["rows"]:
        customer.days_overdue = (today - customer.next_contact_due).days
        if context["can_set_rhythm"]:
            customer.rhythm_form = _rhythm_form(customer)
    template = (
        "dialogue/_going_quiet_results.html"
        if htmx_details(request)
        else "dialogue/going_quiet.html"
    )
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def set_rhythm(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's contact rhythm, and the form to set it by hand (or learn it)."""
    customer = visible_customer(request, pk)
    user = signed_in_user(request)
    can_set = user.has_perm("customers.change_customer")
    form = _rhythm_form(customer) if can_set else None
    status, conflict, saved = 200, False, False
    if request.method == "POST":
        require_permission(request, "customers.change_customer")
        form = _rhythm_form(customer, request.POST)
        if form.is_valid():
            bound = form
            try:
                result, status, conflict = _apply(
                    bound,
                    lambda: rhythm.set_contact_rhythm(
                        user, customer, bound.cleaned_data["days"], bound.cleaned_data["version"]
                    ),
                )
            except NotAllowed as exc:
                return not_allowed(request, exc)
            if result is not None:
                if not htmx_details(request):
                    messages.success(request, _("Contact rhythm saved."))
                    return redirect(customer.get_absolute_url())
                saved = True
                form = _rhythm_form(customer)
        else:
            status = 400
        if conflict:
            # Offer the typed days again against the current version: one more click saves.
            customer.refresh_from_db()
            data = request.POST.copy()
            data["version"] = str(customer.version)
            form = _rhythm_form(customer, data)
            form.is_valid()
    context = {
        "customer": customer,
        "rhythm_form": form,
        "saved": saved,
        "conflict": conflict,
    }
    template = "dialogue/_rhythm_form.html" if htmx_details(request) else "dialogue/rhythm.html"
    return render(request, template, context, status=_error_status(request, status))
