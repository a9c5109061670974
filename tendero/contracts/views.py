"""HTML pages of the purchases ledger: one customer's purchases with a form to record
one (htmx, no reload), and the company-wide list scoped to what the user may see (a
sales rep: their portfolio). Every change goes through tendero.contracts.services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tendero.accounts.access import signed_in_user
from tendero.contracts import services
from tendero.contracts.forms import PurchaseFilterForm, PurchaseForm
from tendero.contracts.models import Purchase, PurchaseQuerySet
from tendero.core.errors import DomainError, NotAllowed, VersionConflict
from tendero.core.htmx import htmx_details
from tendero.core.http import require_permission
from tendero.core.pagination import between_days, page_context
from tendero.customers.models import Customer
from tendero.customers.views import not_allowed, visible_customer

PER_PAGE = 25


def _purchase_form(customer: Customer, data: Any = None) -> PurchaseForm:
    return PurchaseForm(data, customer=customer, auto_id="id_purchase_%s")


def _customer_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    qs = Purchase.objects.filter(customer=customer).order_by("-occurred_at", "-id")
    return {
        "customer": customer,
        "can_delete": request.user.has_perm("contracts.delete_purchase"),
        "can_correct": request.user.has_perm("contracts.change_purchase"),
        "summary": services.customer_summary(customer),
        **page_context(request, qs.select_related("created_by"), qs, PER_PAGE),
    }


@login_required
@require_http_methods(["GET", "POST"])
def customer_purchases(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's purchases, newest first, and (for whoever may record them) the form
    to record one. htmx gets the section back: the form ready for the next one and
    the list with the new purchase."""
    require_permission(request, "contracts.view_purchase")
    customer = visible_customer(request, pk)
    user = signed_in_user(request)
    can_record = user.has_perm("contracts.add_purchase")
    form = _purchase_form(customer) if can_record else None
    status, saved = 200, None
    if request.method == "POST":
        require_permission(request, "contracts.add_purchase")
        form = _purchase_form(customer, request.POST)
        if form.is_valid():
            try:
                saved = services.record_purchase(user, customer, form.service_data())
            except NotAllowed as exc:
                return not_allowed(request, exc)
            except DomainError as exc:
                form.add_service_errors(exc)
                status = exc.status
        else:
            status = 400
        if saved is not None:
            if not htmx_details(request):
                messages.success(request, _("Purchase recorded."))
                return redirect("contracts:customer_purchases", pk=customer.pk)
            form = _purchase_form(customer)
            form.fields["product"].widget.attrs["autofocus"] = True
    context = {**_customer_context(request, customer), "form": form, "saved": saved}
    if htmx_details(request):
        # htmx swaps only 2xx answers: a form with errors comes back as 200 to be shown.
        return render(request, "contracts/_customer_purchases.html", context)
    return render(request, "contracts/customer_purchases.html", context, status=status)


@login_required
@require_POST
def delete_purchase(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a purchase recorded by mistake (the version read must still be current);
    htmx gets the customer's purchases back."""
    require_permission(request, "contracts.delete_purchase")
    purchase = get_object_or_404(
        Purchase.objects.visible_to(request.user).select_related("customer"), pk=pk
    )
    customer = purchase.customer
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    error = ""
    try:
        services.delete_purchase(signed_in_user(request), purchase, version)
    except NotAllowed as exc:
        return not_allowed(request, exc)
    except VersionConflict as exc:
        error = exc.message
    if not htmx_details(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Purchase removed."))
        return redirect("contracts:customer_purchases", pk=customer.pk)
    user = signed_in_user(request)
    form = _purchase_form(customer) if user.has_perm("contracts.add_purchase") else None
    context = {
        **_customer_context(request, customer),
        "form": form,
        "saved": None,
        "removed": not error,
        "error": error,
    }
    return render(request, "contracts/_customer_purchases.html", context)


def _correction_initial(purchase: Purchase) -> dict[str, Any]:
    return {
        "product": purchase.product,
        "quantity": f"{purchase.quantity.normalize():f}",
        "amount": f"{purchase.amount:f}",
        "currency": purchase.currency,
        "occurred_at": timezone.localtime(purchase.occurred_at).replace(microsecond=0),
        "description": purchase.description,
        "external_id": purchase.external_id,
        "source": purchase.source,
    }


@login_required
@require_http_methods(["GET", "POST"])
def edit_purchase(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a purchase (the version read must still be current), then back to the
    customer's purchases."""
    require_permission(request, "contracts.change_purchase")
    purchase = get_object_or_404(
        Purchase.objects.visible_to(request.user).select_related("customer"), pk=pk
    )
    customer = purchase.customer
    form = PurchaseForm(
        request.POST if request.method == "POST" else None,
        customer=customer,
        initial=_correction_initial(purchase),
        auto_id="id_purchase_%s",
    )
    source: Any = form.fields["source"]
    if purchase.source not in {choice for choice, _label in source.choices}:
        # Imported or sent through the API: keep where it came from.
        source.choices = [(purchase.source, purchase.get_source_display())]
    version, status, conflict = purchase.version, 200, ""
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = 0
        if form.is_valid():
            try:
                services.correct_purchase(
                    signed_in_user(request), purchase, form.service_data(), version
                )
            except NotAllowed as exc:
                return not_allowed(request, exc)
            except VersionConflict as exc:
                # Show what it is now, to be reviewed and saved again.
                form = PurchaseForm(
                    customer=customer,
                    initial=_correction_initial(purchase),
                    auto_id="id_purchase_%s",
                )
                conflict = exc.message
                version, status = purchase.version, exc.status
            except DomainError as exc:
                form.add_service_errors(exc)
                status = exc.status
            else:
                messages.success(request, _("Purchase corrected."))
                return redirect("contracts:customer_purchases", pk=customer.pk)
        else:
            status = 400
    context = {
        "customer": customer,
        "purchase": purchase,
        "form": form,
        "version": version,
        "conflict": conflict,
    }
    return render(request, "contracts/edit.html", context, status=status)


def filtered_purchases(user: Any, filters: dict[str, Any]) -> PurchaseQuerySet:
    """The purchases the user may see, narrowed by the list's filters, newest first."""
    qs = between_days(
        Purchase.objects.visible_to(user), "occurred_at", filters.get("since"), filters.get("until")
    )
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    return qs.order_by("-occurred_at", "-id")


@login_required
def purchase_list(request: HttpRequest) -> HttpResponse:
    """Every purchase the user may see (a sales rep: their portfolio's), filtered by
    date range and source."""
    require_permission(request, "contracts.view_purchase")
    form = PurchaseFilterForm(request.GET)
    filters = form.values()
    qs = filtered_purchases(signed_in_user(request), filters)
    shown = qs.select_related("customer", "created_by")
    context = {
        "form": form,
        "filtered": bool(filters),
        **page_context(request, shown, qs, PER_PAGE),
    }
    template = "contracts/_list_results.html" if htmx_details(request) else "contracts/list.html"
    return render(request, template, context)
