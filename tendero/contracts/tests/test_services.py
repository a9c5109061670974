"""The purchases ledger's services: recording (idempotent by reference), batches all or
nothing, corrections and removals with versions, permissions and the audit trail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tendero.audit.models import AuditEntry
from tendero.contracts import services
from tendero.contracts.models import Purchase
from tendero.core.errors import InvalidData, NotAllowed, VersionConflict


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", account_executive=sales, currency="USD")


@pytest.fixture
def theirs(make_customer, other_sales):
    return make_customer(display_name="Carlos Vega", account_executive=other_sales)


def test_a_purchase_takes_the_customers_currency_and_now(sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "12.50"})

    assert purchase.just_created
    assert (purchase.amount, purchase.currency, purchase.source) == (
        Decimal("12.50"), "USD", "manual",
    )  # fmt: skip
    assert abs(purchase.occurred_at - timezone.now()) < timedelta(seconds=5)
    assert purchase.created_by == sales


def test_without_a_customer_currency_the_default_is_euros(sales, make_customer):
    customer = make_customer(display_name="Eva", account_executive=sales)
    assert services.record_purchase(sales, customer, {"amount": 3}).currency == "EUR"


def test_a_refund_is_a_negative_purchase(sales, customer):
    refund = services.record_purchase(sales, customer, {"amount": "-4,99", "currency": "eur"})
    assert refund.amount == Decimal("-4.99") and refund.is_refund and refund.currency == "EUR"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", "12"), ("12.5", "12.5"), ("12,50", "12.50"), ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"), ("1.234.567", "1234567"), ("-12,50 €", "-12.50"),
        ("(3.10)", "-3.10"), ("€ 7", "7"), ("USD 1 234,5", "1234.5"),
    ],
)  # fmt: skip
def test_amounts_as_people_write_them(text, expected):
    assert services.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1-2", "--1", "1e5", "NaN", "€", "12 EURO"])
def test_what_is_not_an_amount(text):
    assert services.parse_amount(text) is None


@pytest.mark.parametrize("text", ["1.000", "1,000", "-2.500 €", "(12,345)", "EUR 999.000"])
def test_an_amount_that_reads_two_ways_is_refused_not_guessed(sales, customer, text):
    """A Spanish thousand ("1.000") or an English one ("1,000") would otherwise be
    recorded as one euro."""
    with pytest.raises(InvalidData) as error:
        services.record_purchase(sales, customer, {"amount": text})
    assert "two ways" in error.value.field_errors["amount"][0]
    for clear in ("1000", "1.000,00", "1,000.00", "0,500", "12,50"):
        assert not services.is_ambiguous_amount(clear)


def test_every_problem_is_reported_at_once_and_nothing_written(sales, customer):
    with pytest.raises(InvalidData) as error:
        services.record_purchase(
            sales,
            customer,
            {
                "amount": "12.345",
                "currency": "XXZ",
                "occurred_at": timezone.now() + timedelta(hours=1),
                "source": "gift",
                "description": "x" * 201,
                "colour": "red",
            },
        )

    assert set(error.value.field_errors) == {
        "amount", "currency", "occurred_at", "source", "description", "colour",
    }  # fmt: skip
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    "amount", [None, "", "0", 0, "nan", float("inf"), "1000000000000", True, [], "12.001"]
)
def test_bad_amounts_are_refused(sales, customer, amount):
    with pytest.raises(InvalidData) as error:
        services.record_purchase(sales, customer, {"amount": amount})
    assert "amount" in error.value.field_errors


def test_moments_before_1900_or_in_the_future_are_refused(sales, customer):
    for moment in ("1899-12-31", timezone.now() + timedelta(minutes=6), "not a date"):
        with pytest.raises(InvalidData):
            services.record_purchase(sales, customer, {"amount": 1, "occurred_at": moment})
    # Clocks drift: a few minutes ahead is fine; a day alone is its midnight.
    services.record_purchase(
        sales, customer, {"amount": 1, "occurred_at": timezone.now() + timedelta(minutes=2)}
    )
    day = services.record_purchase(sales, customer, {"amount": 1, "occurred_at": "05/03/2024"})
    local = timezone.localtime(day.occurred_at)
    assert (local.year, local.month, local.day, local.hour) == (2024, 3, 5, 0)


def test_the_same_reference_twice_is_one_purchase(sales, customer):
    data = {"amount": "10", "external_id": "T-1", "occurred_at": "2024-05-01T10:00:00Z"}
    first = services.record_purchase(sales, customer, data)
    again = services.record_purchase(sales, customer, {**data, "description": "retry"})

    assert again.pk == first.pk and not again.just_created
    assert Purchase.objects.count() == 1


def test_a_reference_of_another_purchase_is_refused(sales, manager, customer, theirs):
    data = {"amount": "10", "external_id": "T-1", "occurred_at": "2024-05-01T10:00:00Z"}
    services.record_purchase(sales, customer, data)

    for by, who, changed in [
        (sales, customer, {"amount": "11"}),
        (manager, theirs, {}),
        (sales, customer, {"currency": "EUR"}),
    ]:
        with pytest.raises(InvalidData) as error:
            services.record_purchase(by, who, {**data, **changed})
        assert "external_id" in error.value.field_errors
    assert Purchase.objects.count() == 1


def test_permissions_and_scope(sales, other_sales, outsider, reader, customer):
    for user in (other_sales, outsider, reader):
        with pytest.raises(NotAllowed):
            services.record_purchase(user, customer, {"amount": 1})
    assert not Purchase.objects.exists()


def test_a_purchase_is_in_the_customers_audit_trail(sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "5"})

    entry = AuditEntry.objects.get_for_object(purchase).get()
    assert entry.customer_id == customer.pk and entry.actor == sales
    assert AuditEntry.objects.for_customer(customer.pk).filter(pk=entry.pk).exists()


def test_a_batch_is_all_or_nothing_with_errors_by_index(sales, customer, theirs):
    items = [
        (customer, {"amount": "1", "external_id": "B-1"}),
        (customer, {"amount": "abc"}),
        (theirs, {"amount": "2"}),  # not in the sales rep's portfolio
        (None, {"amount": "3"}),
    ]
    with pytest.raises(InvalidData) as error:
        services.record_purchase_batch(sales, items)

    assert set(error.value.field_errors) == {
        "items.1.amount", "items.2.customer_id", "items.3.customer_id",
    }  # fmt: skip
    assert not Purchase.objects.exists()


def test_a_batch_again_records_nothing_new(sales, customer):
    moment = "2024-05-01T10:00:00Z"
    items = [
        (customer, {"amount": "1", "external_id": "B-1", "occurred_at": moment}),
        (customer, {"amount": "2", "external_id": "B-2", "occurred_at": moment}),
        (customer, {"amount": "1", "external_id": "B-1", "occurred_at": moment}),  # repeated
        (customer, {"amount": "3"}),
    ]
    first = services.record_purchase_batch(sales, items)
    assert len(first) == 4 and first[0].pk == first[2].pk
    assert Purchase.objects.count() == 3

    again = services.record_purchase_batch(sales, items[:3])
    assert [p.pk for p in again] == [p.pk for p in first[:3]]
    assert not any(p.just_created for p in again)
    assert Purchase.objects.count() == 3


def test_a_batch_repeating_a_reference_with_other_values_is_refused(sales, customer):
    items = [
        (customer, {"amount": "1", "external_id": "B-1"}),
        (customer, {"amount": "2", "external_id": "B-1"}),
    ]
    with pytest.raises(InvalidData) as error:
        services.record_purchase_batch(sales, items)
    assert set(error.value.field_errors) == {"items.1.external_id"}
    assert not Purchase.objects.exists()


def test_correcting_checks_the_version(sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "5"})

    services.correct_purchase(sales, purchase, {"amount": "6", "description": "Fixed"}, 1)
    purchase.refresh_from_db()
    assert (purchase.amount, purchase.description, purchase.version) == (
        Decimal("6.00"), "Fixed", 2,
    )  # fmt: skip
    with pytest.raises(VersionConflict) as conflict:
        services.correct_purchase(sales, purchase, {"amount": "7"}, 1)
    assert conflict.value.current_version == 2
    purchase.refresh_from_db()
    assert purchase.amount == Decimal("6.00")
    assert AuditEntry.objects.get_for_object(purchase).count() == 2


def test_correcting_cannot_take_another_purchases_reference(sales, customer):
    services.record_purchase(sales, customer, {"amount": "5", "external_id": "R-1"})
    other = services.record_purchase(sales, customer, {"amount": "6", "external_id": "R-2"})
    with pytest.raises(InvalidData):
        services.correct_purchase(sales, other, {"external_id": "R-1"}, 1)
    other.refresh_from_db()
    assert (other.external_id, other.version) == ("R-2", 1)


def test_only_managers_and_administrators_delete(sales, manager, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "5"})
    with pytest.raises(NotAllowed):
        services.delete_purchase(sales, purchase, 1)
    with pytest.raises(VersionConflict):
        services.delete_purchase(manager, purchase, 7)
    services.delete_purchase(manager, purchase, 1)
    assert not Purchase.objects.exists()
    assert AuditEntry.objects.for_customer(customer.pk).filter(action=2).exists()


def test_summary_per_currency(sales, customer):
    services.record_purchase(sales, customer, {"amount": "5"})
    services.record_purchase(sales, customer, {"amount": "-2"})
    services.record_purchase(sales, customer, {"amount": "7", "currency": "EUR"})

    summary = {line["currency"]: line for line in services.customer_summary(customer)}
    assert summary["USD"]["count"] == 2 and Decimal(summary["USD"]["total"]) == Decimal("3")
    assert summary["EUR"]["count"] == 1


def test_a_batch_leaves_an_audit_entry_per_purchase(sales, customer):
    _first, second = services.record_purchase_batch(
        sales, [(customer, {"amount": "1.5"}), (customer, {"amount": "-2", "external_id": "X"})]
    )

    entries = AuditEntry.objects.for_customer(customer.pk).filter(content_type__model="purchase")
    assert entries.count() == 2
    entry = AuditEntry.objects.get_for_object(second).get()
    assert (entry.actor, entry.action, entry.customer_id) == (sales, 0, customer.pk)
    assert entry.changes["amount"] == ["None", "-2.00"]
    assert entry.changes["external_id"] == ["None", "X"]
    assert "description" not in entry.changes


def test_a_reference_recorded_meanwhile_fails_the_whole_write(sales, customer):
    from django.db import IntegrityError, transaction

    services.record_purchase(sales, customer, {"amount": "1", "external_id": "RACE"})
    now = timezone.now()
    rows = [
        Purchase(customer=customer, amount=Decimal("2"), currency="EUR", external_id="NEW"),
        Purchase(customer=customer, amount=Decimal("3"), currency="EUR", external_id="RACE"),
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        services._insert_created(sales, rows, now)
    assert list(Purchase.objects.values_list("external_id", flat=True)) == ["RACE"]


# Products and quantities


def test_product_and_quantity_are_recorded_and_one_unit_is_the_default(sales, customer):
    boiler = services.record_purchase(
        sales, customer, {"amount": "90", "product": "  Caldera C-30 ", "quantity": "2"}
    )
    plain = services.record_purchase(sales, customer, {"amount": "5"})
    refund = services.record_purchase(sales, customer, {"amount": "-5"})

    boiler.refresh_from_db()
    assert (boiler.product, boiler.quantity) == ("Caldera C-30", Decimal("2.000"))
    assert (plain.product, plain.quantity) == ("", Decimal("1"))
    assert refund.quantity == Decimal("-1")  # one unit back


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", "3"), ("1,5", "1.5"), ("1.5", "1.5"), ("0,125", "0.125"), ("1500", "1500"),
        ("12.345,5", "12345.5"), ("1,234.5", "1234.5"), ("1.234.567", "1234567"),
        ("1 000", "1000"), ("-2", "-2"),
    ],
)  # fmt: skip
def test_quantities_as_people_write_them(sales, customer, text, expected):
    amount = "-1" if text.startswith("-") else "10"
    purchase = services.record_purchase(sales, customer, {"amount": amount, "quantity": text})
    assert purchase.quantity == Decimal(expected)


@pytest.mark.parametrize(
    ("amount", "quantity", "says"),
    [
        ("10", "abc", "Enter a quantity"),
        ("10", "1.000", "can be read two ways"),  # one, or a thousand?
        ("10", "2,500", "can be read two ways"),
        ("10", "1.2345", "At most three decimals"),
        ("10", "nan", "Enter a quantity"),
        ("10", True, "Enter a quantity"),
        ("10", [], "Enter a quantity"),
        ("10", 10**10, "too large"),
        ("10", "0", "A sale sells something"),
        ("10", "-1", "A sale sells something"),
        ("-10", "2", "A refund takes units back"),
    ],
)
def test_bad_quantities_are_refused_with_a_reason(sales, customer, amount, quantity, says):
    with pytest.raises(InvalidData) as error:
        services.record_purchase(sales, customer, {"amount": amount, "quantity": quantity})
    assert says in " ".join(error.value.field_errors["quantity"])
    assert not Purchase.objects.exists()


def test_a_refund_of_money_only_returns_no_units(sales, customer):
    refund = services.record_purchase(sales, customer, {"amount": "-3", "quantity": 0})
    assert refund.quantity == 0 and refund.is_refund


def test_a_product_name_is_text_of_at_most_120_characters(sales, customer):
    for product in ("x" * 121, "a\x00b", 42):
        with pytest.raises(InvalidData) as error:
            services.record_purchase(sales, customer, {"amount": "1", "product": product})
        assert "product" in error.value.field_errors
    assert not Purchase.objects.exists()


def test_correcting_product_and_quantity_is_versioned_and_audited(sales, customer):
    purchase = services.record_purchase(
        sales, customer, {"amount": "30", "product": "Router", "quantity": 1}
    )

    services.correct_purchase(sales, purchase, {"product": "Router Wi-Fi 6", "quantity": "2"}, 1)
    purchase.refresh_from_db()
    assert (purchase.product, purchase.quantity, purchase.version) == (
        "Router Wi-Fi 6", Decimal("2"), 2,
    )  # fmt: skip
    with pytest.raises(VersionConflict):
        services.correct_purchase(sales, purchase, {"quantity": "5"}, 1)
    with pytest.raises(InvalidData) as error:
        services.correct_purchase(sales, purchase, {"quantity": ""}, 2)
    assert "quantity" in error.value.field_errors
    purchase.refresh_from_db()
    assert (purchase.quantity, purchase.version) == (Decimal("2"), 2)

    created, corrected = AuditEntry.objects.get_for_object(purchase).order_by("timestamp", "pk")
    assert created.changes["product"][1] == "Router"
    assert corrected.changes["product"] == ["Router", "Router Wi-Fi 6"]
    assert [Decimal(v) for v in corrected.changes["quantity"]] == [1, 2]


def test_a_sale_corrected_into_a_refund_takes_its_units_back(sales, customer):
    purchase = services.record_purchase(sales, customer, {"amount": "30", "quantity": "3"})

    services.correct_purchase(sales, purchase, {"amount": "-30"}, 1)
    assert purchase.quantity == Decimal("-3")
    with pytest.raises(InvalidData) as error:
        services.correct_purchase(sales, purchase, {"quantity": "3"}, 2)
    assert "A refund takes units back" in error.value.field_errors["quantity"][0]
    services.correct_purchase(sales, purchase, {"quantity": "0"}, 2)
    services.correct_purchase(sales, purchase, {"amount": "10"}, 3)
    assert purchase.quantity == 1  # money only came back: the sale is one unit again


def test_a_repeated_reference_keeps_the_purchase_as_it_was(sales, customer):
    data = {"amount": "10", "external_id": "T-1", "occurred_at": "2024-05-01T10:00:00Z"}
    first = services.record_purchase(sales, customer, {**data, "product": "A", "quantity": 1})
    again = services.record_purchase(sales, customer, {**data, "product": "B", "quantity": 2})
    assert again.pk == first.pk and not again.just_created
    assert (again.product, again.quantity) == ("A", 1)


def test_a_batch_writes_and_audits_product_and_quantity(sales, customer):
    first, second = services.record_purchase_batch(
        sales,
        [
            (customer, {"amount": "45", "product": "Fibra 600", "quantity": "1,5"}),
            (customer, {"amount": "-2", "external_id": "X"}),
        ],
    )

    rows = dict(Purchase.objects.values_list("pk", "quantity"))
    assert rows == {first.pk: Decimal("1.5"), second.pk: Decimal("-1")}
    assert Purchase.objects.get(pk=first.pk).product == "Fibra 600"
    entry = AuditEntry.objects.get_for_object(first).get()
    assert entry.changes["product"] == ["None", "Fibra 600"]
    assert entry.changes["quantity"] == ["None", "1.500"]
    assert AuditEntry.objects.get_for_object(second).get().changes["quantity"] == ["None", "-1.000"]


def test_a_batch_reports_bad_quantities_by_index(sales, customer):
    with pytest.raises(InvalidData) as error:
        services.record_purchase_batch(
            sales, [(customer, {"amount": "1"}), (customer, {"amount": "1", "quantity": "-1"})]
        )
    assert set(error.value.field_errors) == {"items.1.quantity"}
    assert not Purchase.objects.exists()
