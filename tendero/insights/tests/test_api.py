"""The insights API: a customer's value within the caller's scope, scoring runs only
for people who see every customer; 401/403/404, never 500."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from tendero.accounts.models import User
from tendero.conftest import api_client
from tendero.contracts.models import Purchase
from tendero.customers.models import Customer
from tendero.insights.models import ModelRun
from tendero.insights.pipeline import score_all

API = "/api/v1"
END = date(2025, 6, 30)


@pytest.fixture
def scored(make_customer: Callable[..., Customer], sales: User) -> list[Customer]:
    """Ana (Sergio's) and Bea (nobody's) have bought twice or more; Carla never."""
    ana = make_customer(display_name="Ana", account_executive=sales)
    bea = make_customer(display_name="Bea")
    carla = make_customer(display_name="Carla", account_executive=sales)
    purchases = []
    for customer, days in (
        (ana, ((200, "40"), (120, "55"), (30, "30"))),
        (bea, ((300, "20"), (250, "25"))),
    ):
        for ago, amount in days:
            when = timezone.make_aware(datetime.combine(END - timedelta(days=ago), time(12)))
            purchases.append(
                Purchase(
                    customer=customer, occurred_at=when, amount=Decimal(amount), currency="EUR"
                )
            )
    Purchase.objects.bulk_create(purchases)
    run = score_all(calibration_end=END)
    assert run.status == ModelRun.Status.SUCCEEDED, run.message
    return [ana, bea, carla]


def test_a_customer_value_is_shown_to_who_may_see_the_customer(
    scored: list[Customer], sales: User, manager: User
) -> None:
    ana = scored[0]
    for user in (sales, manager):
        response = api_client(user).get(f"{API}/customers/{ana.pk}/value")
        assert response.status_code == 200
        body = response.json()
        assert body["customer_id"] == ana.pk
        assert 0 <= body["p_alive"] <= 1
        assert Decimal(body["clv_36m"]) >= Decimal(body["clv_12m"]) >= 0
        assert body["frequency"] == 2 and body["period"] == "week"
        assert body["segment"] in {"champion", "loyal", "at_risk", "hibernating", "lost", "new"}
        assert body["currency"] == "EUR" and body["calibration_end"] == END.isoformat()


def test_outside_the_scope_it_is_not_found(
    scored: list[Customer], sales: User, other_sales: User, outsider: User
) -> None:
    ana, bea, _carla = scored
    assert api_client(sales).get(f"{API}/customers/{bea.pk}/value").status_code == 404
    assert api_client(other_sales).get(f"{API}/customers/{ana.pk}/value").status_code == 404
    assert api_client(outsider).get(f"{API}/customers/{ana.pk}/value").status_code == 404
    assert api_client(sales).get(f"{API}/customers/999999/value").status_code == 404
    assert api_client(sales).get(f"{API}/customers/0/value").status_code == 404
    assert Client().get(f"{API}/customers/{ana.pk}/value").status_code == 401


def test_a_customer_not_scored_yet_is_a_404_with_a_message(
    scored: list[Customer], sales: User
) -> None:
    response = api_client(sales).get(f"{API}/customers/{scored[2].pk}/value")
    assert response.status_code == 404
    assert response.json()["detail"] == "This customer has not been scored yet."


def test_scoring_runs_are_for_people_who_see_every_customer(
    scored: list[Customer], manager: User, sales: User, outsider: User
) -> None:
    response = api_client(manager).get(f"{API}/insights/model-runs")
    assert response.status_code == 200
    (run,) = response.json()["items"]
    assert run["status"] == "succeeded" and run["n_customers"] == 2
    assert set(run["params"]) >= {"transaction", "spend"}
    assert run["aggregate_seconds"] >= 0 and run["total_seconds"] >= 0
    for user in (sales, outsider):
        assert api_client(user).get(f"{API}/insights/model-runs").status_code == 403
    assert api_client(manager).get(f"{API}/insights/model-runs?limit=0").status_code == 422
    assert api_client(manager).get(f"{API}/insights/model-runs?limit=x").status_code == 422


def test_the_endpoints_are_in_the_openapi_schema(admin_user: User) -> None:
    paths = api_client(admin_user).get(f"{API}/openapi.json").json()["paths"]
    assert "/api/v1/customers/{customer_id}/value" in paths
    assert "/api/v1/insights/model-runs" in paths
