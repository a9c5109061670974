"""Insights: /api/v1/ endpoints for lifetime-value scores and the runs that made them.

A customer's value is fetched through the caller's customer scope (outside it:
404, like an unknown id); the scoring runs describe the whole customer base, so
only people who may see every customer may list them (403 otherwise).
"""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from tendero.accounts.api import request_user
from tendero.core.schemas import ErrorOut
from tendero.core.services import require_to_see
from tendero.customers.api import get_visible_customer
from tendero.insights.models import CustomerValue, ModelRun
from tendero.insights.schemas import CustomerValueOut, ModelRunList

router = Router(tags=["Insights"])

MAX_RUNS = 100


class ModelRunParams(Schema):
    limit: int = Field(20, ge=1, le=MAX_RUNS, description="How many runs, newest first.")


@router.get(
    "/customers/{customer_id}/value",
    response={200: CustomerValueOut, 403: ErrorOut, 404: ErrorOut},
    summary="Show a customer's lifetime value",
    description="The latest scores: probability still buying, expected purchases in the "
    "next 90 days, expected 12- and 36-month value (discounted, in the company's currency) "
    "and segment. 404 when the customer has not been scored (no purchases yet, or no "
    "scoring run since their first purchase).",
)
def get_customer_value(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    customer = get_visible_customer(request, customer_id)
    value = CustomerValue.objects.select_related("model_run").filter(customer=customer).first()
    if value is None:
        raise HttpError(404, _("This customer has not been scored yet."))
    run = value.model_run
    return {
        "customer_id": customer.pk,
        "p_alive": value.p_alive,
        "expected_purchases_90d": value.expected_purchases_90d,
        "clv_12m": value.clv_12m,
        "clv_36m": value.clv_36m,
        "currency": value.currency,
        "segment": value.segment,
        "frequency": value.frequency,
        "recency": value.recency,
        "T": value.T,
        "monetary_value": value.monetary_value,
        "period": run.period,
        "calibration_end": run.calibration_end,
        "scored_at": value.scored_at,
        "model_run_id": run.pk,
    }


@router.get(
    "/insights/model-runs",
    response={200: ModelRunList, 403: ErrorOut},
    summary="List lifetime-value scoring runs",
    description="Newest first: fitted parameters, log-likelihoods, customers and distinct "
    "histories, and the seconds spent aggregating, fitting, predicting and writing. Only for "
    "people who may see every customer.",
)
def list_model_runs(request: HttpRequest, params: Query[ModelRunParams]) -> dict[str, Any]:
    require_to_see(request_user(request), "customers.view_all_customers")
    return {"items": list(ModelRun.objects.order_by("-started_at", "-id")[: params.limit])}
