"""Three years of demo purchases drawn from a buy-till-you-die process, so that the
lifetime-value models have something true to find.

Who buys when: BG/NBD (Fader, Hardie and Lee 2005). Each customer has a purchase
rate lambda ~ Gamma(r, alpha) (per week) and a dropout probability p ~ Beta(a, b); after each
purchase they leave for good with probability p, otherwise the next one comes after
an exponential wait of rate lambda. Their first purchase falls anywhere in the three
years (or after they became a customer, if later).

How much: Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV"). Each customer's
spend scale nu ~ Gamma(q, gamma) and each transaction ~ Gamma(p, nu): with p=6, q=4, gamma=15
the average ticket is p*gamma/(q-1) = 30 (euros, or the customer's currency), varying
between customers far more than within one. A few purchases are refunded, wholly or
in part (a negative purchase a few days later).

What: each ticket is then given one of the demo company's products (a small telecom
range: three bestselling plans, extras, devices, accessories, services) and the
quantity that makes amount = quantity x unit price roughly (within a third of the list
price), from a random stream of its own, so the times and spends are exactly those of
the process above and the lifetime-value models find what they found before products
existed. A whole refund returns the units, a partial one returns money only (0 units).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tendero.contracts.models import Purchase, PurchaseSource, default_currency
from tendero.customers.models import Customer


@dataclass(frozen=True)
class BuyingHabits:
    """Parameters of the purchase process (rates per week)."""

    r: float = 0.25  # shape of the purchase rates lambda
    alpha: float = 4.0  # their rate (weeks): mean lambda = r/alpha = one purchase in 16 weeks
    a: float = 0.8  # dropout p ~ Beta(a, b): mean 0.24
    b: float = 2.5
    p: float = 6.0  # shape of each transaction's value
    q: float = 4.0  # shape of each customer's spend scale nu
    gamma: float = 15.0  # rate of nu
    years: int = 3
    refund_share: float = 0.02  # purchases partly refunded later


DEFAULT_HABITS = BuyingHabits()
BATCH_SIZE = 5_000
# Most purchases arrive as orders; a few were typed in or came from a file.
_SOURCES = [PurchaseSource.ORDER, PurchaseSource.MANUAL, PurchaseSource.IMPORT]
_SOURCE_WEIGHTS = [80, 12, 8]
# How it was sold. Twelve, as before products: drawing one takes the same random numbers.
_DESCRIPTIONS = [
    "Pedido online", "Compra en tienda", "Renovación anual", "Ampliación de servicio",
    "Pedido telefónico", "Alta nueva", "Portabilidad", "Pack de bienvenida", "Suscripción",
    "Cambio de tarifa", "Pedido de empresa", "Distribuidor",
]  # fmt: skip


@dataclass(frozen=True)
class DemoProduct:
    name: str
    price: Decimal  # list price of one unit
    weight: int  # how often it sells, against the others
    max_units: int  # the most one ticket buys


# Tendero Telecom's range: the plans sell most.
PRODUCTS = [
    DemoProduct("Tarifa Móvil 10 GB", Decimal("15.00"), 30, 4),
    DemoProduct("Fibra 600 Mb", Decimal("35.00"), 22, 1),
    DemoProduct("Pack Fibra + Móvil", Decimal("55.00"), 14, 1),
    DemoProduct("Bono 5 GB extra", Decimal("5.00"), 10, 4),
    DemoProduct("Funda y protector", Decimal("19.90"), 6, 3),
    DemoProduct("Seguro de terminal", Decimal("7.50"), 5, 3),
    DemoProduct("Cargador rápido 30 W", Decimal("24.90"), 5, 3),
    DemoProduct("Repetidor Wi-Fi", Decimal("39.00"), 4, 2),
    DemoProduct("Auriculares Bluetooth", Decimal("49.00"), 3, 2),
    DemoProduct("Router Wi-Fi 6", Decimal("89.00"), 3, 1),
    DemoProduct("Centralita virtual (puesto)", Decimal("29.00"), 2, 10),
    DemoProduct("Instalación a domicilio", Decimal("60.00"), 2, 1),
    DemoProduct("Tablet Nube 10", Decimal("199.00"), 1, 2),
    DemoProduct("Smartphone Aurora S", Decimal("299.00"), 1, 3),
]
# Unit prices within a third of the list price count as that product's (discounts,
# offers, rounding); a few tickets name no product (adjustments, old systems).
_PRICE_SLACK = 1.5
_WITHOUT_PRODUCT = 0.03
_MAX_PER_CUSTOMER = 400  # a guard against an extreme draw of lambda


def _moment(rng: random.Random, day: date) -> datetime:
    """A moment in opening hours (09:00-20:00, UTC as a stand-in for local time)."""
    minutes = rng.randrange(9 * 60, 20 * 60)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        minutes=minutes, seconds=rng.randrange(60)
    )


def _amount(rng: random.Random, shape: float, scale: float) -> Decimal:
    value = max(rng.gammavariate(shape, scale), 0.5)
    return Decimal(f"{value:.2f}")


def product_for(picker: random.Random, amount: Decimal) -> tuple[str, Decimal]:
    """A product of the range and its quantity for a ticket of `amount`: among those
    whose unit price would be within a third of their list price, by how often each
    sells; failing any, the nearest price."""
    if picker.random() < _WITHOUT_PRODUCT:
        return "", Decimal(1)
    fits: list[tuple[DemoProduct, int]] = []
    nearest: tuple[float, DemoProduct, int] | None = None
    for product in PRODUCTS:
        units = min(max(round(amount / product.price), 1), product.max_units)
        ratio = float(amount / (units * product.price))
        if 1 / _PRICE_SLACK <= ratio <= _PRICE_SLACK:
            fits.append((product, units))
        distance = abs(math.log(ratio))
        if nearest is None or distance < nearest[0]:
            nearest = (distance, product, units)
    if fits:
        product, units = picker.choices(fits, weights=[p.weight for p, _u in fits])[0]
    else:
        assert nearest is not None
        _distance, product, units = nearest
    return product.name, Decimal(units)


def purchase_days(
    rng: random.Random, start: date, today: date, habits: BuyingHabits = DEFAULT_HABITS
) -> list[date]:
    """The days one customer buys on, from `start` to `today`, by BG/NBD."""
    rate = rng.gammavariate(habits.r, 1 / habits.alpha)  # purchases per week
    dropout = rng.betavariate(habits.a, habits.b)
    span = (today - start).days
    if span < 0:
        return []
    day = start + timedelta(days=rng.randrange(span + 1))
    days = [day]
    while len(days) < _MAX_PER_CUSTOMER and rng.random() >= dropout and rate > 0:
        wait = rng.expovariate(rate) * 7  # days; astronomically long for a tiny rate
        if wait > (today - day).days:
            break
        day += timedelta(days=int(wait))
        days.append(day)
    return days


def create_demo_purchases(
    customers: Sequence[Customer],
    today: date | datetime,
    rng: random.Random,
    habits: BuyingHabits = DEFAULT_HABITS,
) -> int:
    """Three years of purchases (up to the day before `today`) for `customers`, written with
    bulk_create (no audit entries: demo history, not anyone's edit). Deterministic for
    a given `rng` state. References are "D<customer id>-<n>", so this is meant for a
    fresh demo database. Returns how many purchases were created."""
    # Whole days before `today`: nothing later in the day than the moment it runs.
    end = (today.date() if isinstance(today, datetime) else today) - timedelta(days=1)
    earliest = end - timedelta(days=365 * habits.years)
    now = datetime(end.year, end.month, end.day, 21, tzinfo=UTC)
    # Products and quantities from a stream of their own, seeded by `rng` without
    # drawing from it: the purchase times and spends stay those of `rng` alone.
    picker = random.Random(repr(rng.getstate()))
    pending: list[Purchase] = []
    total = 0
    for customer in customers:
        joined = customer.created_at.date() if customer.created_at else earliest
        start = max(earliest, min(joined, end))
        currency = customer.currency or default_currency()
        spend_scale = rng.gammavariate(habits.q, 1 / habits.gamma)  # nu
        ticket_scale = 1 / spend_scale
        for n, day in enumerate(purchase_days(rng, start, end, habits), start=1):
            amount = _amount(rng, habits.p, ticket_scale)
            occurred_at = _moment(rng, day)
            source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
            product, quantity = product_for(picker, amount)
            pending.append(
                Purchase(
                    customer_id=customer.pk,
                    occurred_at=occurred_at,
                    amount=amount,
                    currency=currency,
                    source=source,
                    external_id=f"D{customer.pk}-{n}",
                    description=rng.choice(_DESCRIPTIONS),
                    product=product,
                    quantity=quantity,
                    created_at=min(occurred_at, now),
                    updated_at=min(occurred_at, now),
                )
            )
            if rng.random() < habits.refund_share:
                refunded_on = day + timedelta(days=rng.randrange(1, 15))
                if refunded_on <= end:
                    share = Decimal(rng.choice(["0.25", "0.5", "1"]))
                    refund = -(amount * share).quantize(Decimal("0.01"))
                    # Everything back: the units too; part of the money: none.
                    returned = -quantity if share == 1 else Decimal(0)
                    when = _moment(rng, refunded_on)
                    pending.append(
                        Purchase(
                            customer_id=customer.pk,
                            occurred_at=when,
                            amount=refund,
                            currency=currency,
                            source=PurchaseSource.MANUAL,
                            external_id=f"D{customer.pk}-{n}-R",
                            description="Devolución",
                            product=product,
                            quantity=returned,
                            created_at=min(when, now),
                            updated_at=min(when, now),
                        )
                    )
        if len(pending) >= BATCH_SIZE:
            Purchase.objects.bulk_create(pending, batch_size=BATCH_SIZE)
            total += len(pending)
            pending = []
    if pending:
        Purchase.objects.bulk_create(pending, batch_size=BATCH_SIZE)
        total += len(pending)
    return total
