"""What the purchases API accepts and answers. Inputs forbid unknown fields; the
services validate meaning (amount bounds and decimals, currency codes, nothing in
the future, references already used)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from tendero.contracts.models import PRODUCT_MAX_LENGTH, PurchaseSource
from tendero.contracts.services import AMOUNT_DIGITS, MAX_BATCH, QUANTITY_DIGITS
from tendero.core.decimals import decimal_field
from tendero.core.schemas import (
    BodyId,
    InputSchema,
    Moment,
    ObjectId,
    Page,
    PageParams,
    PatchSchema,
    QueryParams,
    Text,
    UserRef,
    Version,
)

# A JSON number or a string of digits ("12.50"): both are exact once parsed.
Amount = Annotated[
    Decimal,
    decimal_field(*AMOUNT_DIGITS),
    Field(
        allow_inf_nan=False,
        description='Negative for a refund; at most two decimals, e.g. 12.50 or "12.50".',
    ),
]
CurrencyCode = Annotated[Text, Field(max_length=3, description="ISO 4217, e.g. EUR.")]
Reference = Annotated[
    Text,
    Field(
        max_length=100,
        description="The sale's reference in its own system (ticket, invoice, order): "
        "recording it again is harmless.",
    ),
]
Description = Annotated[Text, Field(max_length=200)]
Product = Annotated[
    Text,
    Field(
        max_length=PRODUCT_MAX_LENGTH,
        description="What was bought: its name or code as the selling system names it.",
    ),
]
Quantity = Annotated[
    Decimal,
    decimal_field(*QUANTITY_DIGITS),
    Field(
        allow_inf_nan=False,
        description="Units, at most three decimals (kilos, hours...), with the amount's "
        "sign: above 0 for a sale; for a refund the units that came back, negative (0 if "
        "none). Left out: 1, or -1 for a refund.",
    ),
]


class CustomerRef(Schema):
    id: int
    display_name: str


class PurchaseOut(Schema):
    id: int
    customer: CustomerRef
    occurred_at: datetime
    amount: Decimal = Field(description="Negative for a refund (a string in JSON, exact).")
    currency: str
    product: str = Field(description='What was bought ("" when not known).')
    quantity: Decimal = Field(
        description="Units, with the amount's sign (a string in JSON, exact)."
    )
    source: PurchaseSource
    external_id: str
    description: str
    created_by: UserRef | None
    version: int
    created_at: datetime
    updated_at: datetime


class PurchasePage(Page):
    items: list[PurchaseOut]


class PurchaseIn(InputSchema):
    """A purchase (negative amount: a refund). `occurred_at` defaults to now (at most
    5 minutes ahead), `currency` to the customer's (or the company's), `source` to api,
    `quantity` to one unit (-1 for a refund)."""

    amount: Amount
    occurred_at: Moment | None = None
    currency: CurrencyCode = ""
    product: Product = ""
    quantity: Quantity | None = None
    source: PurchaseSource = PurchaseSource.API
    external_id: Reference = ""
    description: Description = ""


class PurchaseBatchItem(PurchaseIn):
    customer_id: BodyId


class PurchaseBatchIn(InputSchema):
    items: list[PurchaseBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class PurchaseBatchOut(Schema):
    created: int = Field(description="How many were new.")
    already_recorded: int = Field(description="How many references were there already.")
    items: list[PurchaseOut] = Field(description="In the order sent.")


class PurchasePatch(PatchSchema):
    """Only the fields sent change; `version` is the one you read (409 if stale)."""

    version: Version
    amount: Amount | None = Field(None)
    occurred_at: Moment | None = Field(None)
    currency: CurrencyCode | None = Field(None)
    product: Product | None = Field(None)
    quantity: Quantity | None = Field(
        None,
        description="Left out while the amount changes sign (a sale corrected into a "
        "refund), the units keep their number and take the amount's sign.",
    )
    source: PurchaseSource | None = Field(None)
    external_id: Reference | None = Field(None)
    description: Description | None = Field(None)


class PurchaseDeleteParams(QueryParams):
    version: int = Field(ge=1, le=2**31 - 1, description="The version you read; see 409 Conflict.")


class PurchaseListParams(PageParams):
    customer_id: ObjectId | None = None
    source: PurchaseSource | None = None
    currency: Annotated[Text, Field(max_length=3)] | None = None
    since: Moment | None = Field(None, description="From this moment (inclusive).")
    until: Moment | None = Field(None, description="Before this moment (exclusive).")


class CustomerPurchaseListParams(PageParams):
    source: PurchaseSource | None = None
    since: Moment | None = Field(None, description="From this moment (inclusive).")
    until: Moment | None = Field(None, description="Before this moment (exclusive).")
