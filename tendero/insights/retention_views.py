"""The Insights page: retention and lifetime value beside the sales view."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from tendero.core.htmx import htmx_details
from tendero.core.http import require_permission
from tendero.insights import charts
from tendero.insights.retention import (
    MAX_COHORTS,
    MAX_PERIODS,
    ProductKind,
    ProductSales,
    Retention,
    retention,
)


class RetentionForm(forms.Form):
    unit = forms.ChoiceField(
        label=gettext_lazy("Periods of"),
        choices=[("quarter", gettext_lazy("Quarters")), ("month", gettext_lazy("Months"))],
        required=False,
    )
    periods = forms.IntegerField(
        label=gettext_lazy("How many"), min_value=1, max_value=MAX_PERIODS, required=False
    )
    months = forms.IntegerField(
        label=gettext_lazy("Cohorts (months)"), min_value=1, max_value=MAX_COHORTS, required=False
    )

    def settings(self) -> dict[str, Any]:
        """The valid choices, the defaults for the rest."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "unit": data.get("unit") or "quarter",
            "periods": data.get("periods") or 8,
            "months": data.get("months") or 12,
        }


def _charts(result: Retention) -> dict[str, Any]:
    labels = [flow.label for flow in result.periods]
    return {
        "flow_chart": charts.bars(
            _("Customers won and lost"),
            labels,
            {
                pgettext("customers", "Won"): [flow.won for flow in result.periods],
                pgettext("customers", "Lost"): [flow.lost for flow in result.periods],
            },
        ),
        "value_chart": charts.lines(
            _("Sales and lifetime value"),
            labels,
            {
                _("Lifetime value won"): [round(f.value_won) for f in result.periods],
                _("Lifetime value lost"): [round(f.value_lost) for f in result.periods],
                _("Revenue"): [float(f.revenue) for f in result.periods],
            },
        ),
    }


def product_label(line: ProductSales) -> str:
    """How the page names a line of the product view."""
    if line.kind == ProductKind.OTHER:
        return _("Other products (%(n)s)") % {"n": line.products}
    if line.kind == ProductKind.NONE:
        return _("No product")
    return line.name


def _product_view(result: Retention) -> dict[str, Any]:
    """The product view's chart (revenue by product, stacked per period) and tables."""
    lines = result.products
    if not lines:
        return {"product_lines": [], "product_chart": ""}
    labels = [product_label(line) for line in lines]
    colours = iter(charts.PRODUCT_COLOURS)
    special = {ProductKind.OTHER: charts.OTHER_COLOUR, ProductKind.NONE: charts.NONE_COLOUR}
    return {
        "product_lines": list(zip(labels, lines, strict=True)),
        "product_range": (result.periods[0].label, result.periods[-1].label),
        "product_periods": [
            (flow.label, [(line.units[at], line.revenue[at]) for line in lines])
            for at, flow in enumerate(result.periods)
        ],
        "unnamed_only": all(line.kind == ProductKind.NONE for line in lines),
        "product_chart": charts.stacked_bars(
            _("Sales by product"),
            [flow.label for flow in result.periods],
            [
                (label, [float(revenue) for revenue in line.revenue])
                for label, line in zip(labels, lines, strict=True)
            ],
            [special.get(line.kind) or next(colours) for line in lines],
        ),
    }


@login_required
def insights(request: HttpRequest) -> HttpResponse:
    """Both views of the customer base over the last periods, cohorts and scorecard,
    for the customers the user may see."""
    require_permission(request, "customers.view_customer")
    form = RetentionForm(request.GET or None)
    result = retention(request.user, **form.settings())
    context = {
        "form": form,
        "result": result,
        "cohort_columns": range(max((len(c.retention) for c in result.cohorts), default=0)),
        **_charts(result),
        **_product_view(result),
    }
    template = "insights/_retention.html" if htmx_details(request) else "insights/retention.html"
    return render(request, template, context)
