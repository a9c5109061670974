"""Pages for duplicates: the list of likely pairs, dismissing one, comparing two
customers and merging them, and the "possible duplicates" box of a customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tendero.accounts.access import signed_in_user
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.core.htmx import htmx_details
from tendero.core.http import require_permission
from tendero.core.pagination import fetch_window, page_number
from tendero.customers.models import Customer
from tendero.customers.views import not_allowed, visible_customer
from tendero.dialogue.models import Interaction
from tendero.knowledge.models import PersonalFact
from tendero.stewardship.duplicates import dismiss_duplicate_pair, duplicates_of, open_pairs_for
from tendero.stewardship.merging import DUPLICATE, MERGE_FIELDS, SURVIVOR, merge_customers
from tendero.stewardship.models import DuplicatePair

PER_PAGE = 20


# ---------------------------------------------------------------- list


@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """The open pairs the user may see, strongest first, paginated without COUNT(*)."""
    require_permission(request, "stewardship.view_duplicatepair")
    user = signed_in_user(request)
    page = page_number(request)
    offset = (page - 1) * PER_PAGE
    window = fetch_window(
        open_pairs_for(user),
        offset,
        PER_PAGE,
        counted=DuplicatePair.objects.open().visible_to(user),
    )
    for pair in window.items:
        pair.sides = [pair.first, pair.second]
    context = {
        "pairs": window.items,
        "page": page,
        "has_previous": page > 1,
        "has_next": window.has_next,
        "total": window.count,
        "total_is_capped": not window.count_is_exact,
    }
    fragment = htmx_details(request)
    template = (
        "stewardship/duplicates/_pairs.html" if fragment else "stewardship/duplicates/list.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def dismiss(request: HttpRequest, pair_id: int) -> HttpResponse:
    """ "Not a duplicate": the row disappears (htmx) or the list reloads."""
    user = signed_in_user(request)
    pair = get_object_or_404(DuplicatePair.objects.open().visible_to(user), pk=pair_id)
    try:
        dismiss_duplicate_pair(user, pair)
    except NotAllowed as error:
        return not_allowed(request, error)
    if htmx_details(request):
        return HttpResponse("")
    messages.success(request, _("Marked as not a duplicate."))
    return redirect("duplicates:list")


# ---------------------------------------------------------------- compare and merge


@dataclass
class FieldRow:
    name: str
    label: str
    cells: list[tuple[int, str]]  # (customer id, the value as shown)
    differs: bool
    keep: int  # the id of the customer whose value is kept


def _shown(customer: Customer, name: str) -> str:
    if name == "country":
        return str(customer.country.name) if customer.country else ""  # type: ignore[attr-defined]
    if name == "language":
        return customer.language_name
    if name in ("acquisition_source", "lifecycle_stage"):
        return str(getattr(customer, f"get_{name}_display")())
    return str(getattr(customer, name) or "")


def _label(name: str) -> str:
    field = Customer._meta.get_field(name)
    return str(getattr(field, "verbose_name", name)).capitalize()


def _history_size(customer: Customer) -> dict[str, int]:
    return {
        "contacts": customer.contacts.count(),
        "interactions": Interaction.objects.filter(customer=customer).count(),
        "facts": PersonalFact.objects.filter(customer=customer).count(),
    }


def _default_survivor(pair: list[Customer], sizes: dict[int, dict[str, int]]) -> Customer:
    """The one with more history; on a tie, the older one."""
    return min(pair, key=lambda c: (-sum(sizes[c.pk].values()), c.created_at, c.pk))


def _compare_context(
    request: HttpRequest, pair: list[Customer], posted: dict[str, Any] | None = None
) -> dict[str, Any]:
    sizes = {customer.pk: _history_size(customer) for customer in pair}
    default = _default_survivor(pair, sizes)
    survivor_id = (posted or {}).get("survivor", default.pk)
    rows = []
    for name in MERGE_FIELDS:
        raw = [str(getattr(customer, name) or "") for customer in pair]
        differs = raw[0] != raw[1]
        keep = default.pk
        if differs and not str(getattr(default, name) or ""):
            keep = next(c.pk for c in pair if c.pk != default.pk)
        if posted and f"keep_{name}" in posted:
            keep = posted[f"keep_{name}"]
        rows.append(
            FieldRow(
                name=name,
                label=_label(name),
                cells=[(customer.pk, _shown(customer, name)) for customer in pair],
                differs=differs,
                keep=keep,
            )
        )
    # Fields empty on both sides say nothing: leave them out.
    rows = [row for row in rows if row.differs or any(value for _pk, value in row.cells)]
    return {
        "pair": pair,
        "columns": [
            {
                "customer": customer,
                "sizes": sizes[customer.pk],
                "emails": [e.address for e in customer.emails.all()],
                "phones": [p.number for p in customer.phones.all()],
                "tags": [t.name for t in customer.tags.all()],
            }
            for customer in pair
        ],
        "rows": rows,
        "differing": [row for row in rows if row.differs],
        "survivor_id": survivor_id,
    }


def _load_pair(request: HttpRequest, pk: int, other_pk: int) -> list[Customer]:
    if pk == other_pk:
        raise Http404
    visible = Customer.objects.visible_to(request.user).prefetch_related("emails", "phones", "tags")
    return [get_object_or_404(visible, pk=pk), get_object_or_404(visible, pk=other_pk)]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_http_methods(["GET", "POST"])
def compare(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Two customers side by side; choose what to keep and merge them."""
    pair = _load_pair(request, pk, other_pk)
    if not request.user.has_perm("customers.merge_customers"):
        return not_allowed(request)
    if request.method != "POST":
        return render(
            request, "stewardship/duplicates/compare.html", _compare_context(request, pair)
        )

    ids = [customer.pk for customer in pair]
    posted: dict[str, Any] = {}
    errors: list[str] = []
    survivor_id = _int(request.POST.get("survivor"))
    if survivor_id not in ids:
        errors.append(_("Choose which customer to keep."))
    else:
        posted["survivor"] = survivor_id
    for name in MERGE_FIELDS:
        keep = _int(request.POST.get(f"keep_{name}"))
        if keep in ids:
            posted[f"keep_{name}"] = keep
    versions = {customer.pk: _int(request.POST.get(f"version_{customer.pk}")) for customer in pair}
    if not request.POST.get("confirm"):
        errors.append(_("Confirm that the duplicate will be merged and removed."))
    if errors or None in versions.values():
        context = _compare_context(request, pair, posted)
        context["errors"] = errors or [_("Reload the page and try again.")]
        return render(request, "stewardship/duplicates/compare.html", context, status=422)

    survivor = next(c for c in pair if c.pk == survivor_id)
    duplicate = next(c for c in pair if c.pk != survivor_id)
    choices = {
        name: SURVIVOR if posted[f"keep_{name}"] == survivor.pk else DUPLICATE
        for name in MERGE_FIELDS
        if f"keep_{name}" in posted
    }
    duplicate_name = duplicate.display_name
    try:
        merge_customers(
            signed_in_user(request),
            survivor,
            duplicate,
            survivor_version=versions[survivor.pk] or 0,
            duplicate_version=versions[duplicate.pk] or 0,
            field_choices=choices,
        )
    except NotAllowed as error:
        return not_allowed(request, error)
    except (VersionConflict, InvalidData) as error:
        pair = _load_pair(request, pk, other_pk)
        context = _compare_context(request, pair, posted)
        context["errors"] = [error.message]
        context["conflict"] = isinstance(error, VersionConflict)
        status = 409 if isinstance(error, VersionConflict) else 422
        return render(request, "stewardship/duplicates/compare.html", context, status=status)
    messages.success(
        request,
        _("%(duplicate)s was merged into %(survivor)s.")
        % {"duplicate": duplicate_name, "survivor": survivor.display_name},
    )
    return redirect(survivor.get_absolute_url())


# ---------------------------------------------------------------- customer page box


@login_required
def candidates(request: HttpRequest, pk: int) -> HttpResponse:
    """The "possible duplicates" box of a customer page, alone (htmx)."""
    customer = visible_customer(request, pk)
    found = []
    if request.user.has_perm("stewardship.view_duplicatepair"):
        found = duplicates_of(customer, request.user)
    return render(
        request,
        "stewardship/duplicates/_candidates.html",
        {"customer": customer, "candidates": found},
    )
