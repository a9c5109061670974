"""Likely duplicate customers: nightly detection, live candidates for one customer,
and dismissing a pair that is not a duplicate.

Detection is set-based: for each blocking key (email, phone, tax id, name key) the
database groups customers by the key and joins each group with itself, so the work
grows with the number of duplicates, not with the square of the customers. Keys
shared by more than MAX_GROUP customers (a company switchboard, info@...) say
nothing about identity and are skipped.

Similar names (PostgreSQL only, pg_trgm): comparing every name with every other is
out of the question at a million customers, so names are compared only within
small blocks of customers that already share the country (set) and the first (or
the last) word of their name key, e.g. "garcia jose lopez" and "garcia jose lopes".
The live lookup for one customer does the same through the search tokens' index
(customers with the first or last name-key word as a token, same country).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.accounts.models import User
from tendero.core.errors import NotAllowed
from tendero.customers.models import Customer, CustomerEmail, CustomerPhone, SearchToken
from tendero.stewardship.models import DuplicatePair, DuplicatePairQuerySet, DuplicateReason

# Beyond this many customers sharing one key, the key is not about identity.
MAX_GROUP = 20
# Blocks compared for similar names (same country and first/last name word).
MAX_SIMILAR_BLOCK = 50
SIMILARITY_THRESHOLD = 0.6
# How much each reason says about two records being one customer (score capped at 100).
WEIGHTS: dict[str, int] = {
    DuplicateReason.TAX_ID: 50,
    DuplicateReason.EMAIL: 40,
    DuplicateReason.PHONE: 30,
    DuplicateReason.NAME: 20,
    DuplicateReason.SIMILAR_NAME: 10,
}
# Separators people type in tax ids ("B-12.345.678" is "B12345678").
TAX_SEPARATORS = ("-", " ", ".", "/")


def score(reasons: Iterable[str]) -> int:
    return min(100, sum(WEIGHTS.get(reason, 0) for reason in set(reasons)))


def ordered_reasons(reasons: Iterable[str]) -> list[str]:
    """Reasons in a stable order: the strongest first."""
    return sorted(set(reasons), key=lambda reason: (-WEIGHTS.get(reason, 0), reason))


def reason_labels(reasons: Iterable[str]) -> list[str]:
    labels = dict(DuplicateReason.choices)
    return [str(labels.get(reason, reason)) for reason in reasons]


# ---------------------------------------------------------------- detection


def _q(name: str | None) -> str:
    assert name, "a column without a name"
    return connection.ops.quote_name(name)


def _normalised_tax_id(column: str) -> str:
    expression = column
    for separator in TAX_SEPARATORS:
        expression = f"REPLACE({expression}, '{separator}', '')"
    return f"UPPER({expression})"


def _pairs_sharing(table: str, id_column: str, key: str, where: str = "") -> str:
    """SQL for (first_id, second_id) of rows of `table` sharing `key` in groups of
    2..MAX_GROUP distinct customers."""
    condition = f"WHERE {where}" if where else ""
    return f"""
        WITH keys AS (
            SELECT {key} AS k FROM {table} {condition}
            GROUP BY {key}
            HAVING COUNT(DISTINCT {id_column}) BETWEEN 2 AND {MAX_GROUP}
        ), members AS (
            SELECT DISTINCT {key} AS k, {id_column} AS customer_id
            FROM {table} {condition}
            {"AND" if where else "WHERE"} {key} IN (SELECT k FROM keys)
        )
        SELECT DISTINCT a.customer_id, b.customer_id
        FROM members a JOIN members b ON a.k = b.k AND a.customer_id < b.customer_id
    """  # noqa: S608 (identifiers from the models' meta, quoted; no user input)


def _blocking_queries() -> list[tuple[str, str]]:
    email = CustomerEmail._meta
    phone = CustomerPhone._meta
    customer = Customer._meta
    tax_id = _q(customer.get_field("tax_id").column)
    name_key = _q(customer.get_field("name_key").column)
    return [
        (
            DuplicateReason.EMAIL,
            _pairs_sharing(
                _q(email.db_table),
                _q(email.get_field("customer").column),
                f"UPPER({_q(email.get_field('address').column)})",
            ),
        ),
        (
            DuplicateReason.PHONE,
            _pairs_sharing(
                _q(phone.db_table),
                _q(phone.get_field("customer").column),
                _q(phone.get_field("number").column),
            ),
        ),
        (
            DuplicateReason.TAX_ID,
            _pairs_sharing(
                _q(customer.db_table),
                _q(customer.pk.column),
                _normalised_tax_id(tax_id),
                where=f"{_normalised_tax_id(tax_id)} <> ''",
            ),
        ),
        (
            DuplicateReason.NAME,
            _pairs_sharing(
                _q(customer.db_table),
                _q(customer.pk.column),
                name_key,
                where=f"{name_key} <> ''",
            ),
        ),
    ]


def _similar_name_queries() -> list[str]:
    """PostgreSQL: pairs of customers with similar (not equal) name keys, within
    blocks of the same country and first, or last, name-key word."""
    customer = Customer._meta
    table = _q(customer.db_table)
    pk = _q(customer.pk.column)
    name_key = _q(customer.get_field("name_key").column)
    country = _q(customer.get_field("country").column)
    first_word = f"split_part({name_key}, ' ', 1)"
    last_word = f"reverse(split_part(reverse({name_key}), ' ', 1))"
    queries = []
    for word in (first_word, last_word):
        queries.append(
            f"""
            WITH blocked AS (
                SELECT {pk} AS id, {name_key} AS name_key, {country} AS country,
                       {word} AS word
                FROM {table} WHERE {name_key} <> '' AND {country} <> ''
            ), blocks AS (
                SELECT country, word FROM blocked GROUP BY country, word
                HAVING COUNT(*) BETWEEN 2 AND {MAX_SIMILAR_BLOCK}
            ), members AS (
                SELECT b.* FROM blocked b JOIN blocks USING (country, word)
            )
            SELECT a.id, b.id FROM members a
            JOIN members b ON a.country = b.country AND a.word = b.word AND a.id < b.id
            WHERE a.name_key <> b.name_key
              AND similarity(a.name_key, b.name_key) >= {SIMILARITY_THRESHOLD}
            """  # noqa: S608 (identifiers from the models' meta, quoted; no user input)
        )
    return queries


def detected_pairs() -> dict[tuple[int, int], set[str]]:
    """Every likely duplicate pair (first id < second id) with its reasons, from the
    database's grouping (see the module docstring)."""
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    queries: list[tuple[str, str]] = _blocking_queries()
    if connection.vendor == "postgresql":
        queries += [(DuplicateReason.SIMILAR_NAME, sql) for sql in _similar_name_queries()]
    with connection.cursor() as cursor:
        for reason, sql in queries:
            cursor.execute(sql)
            while rows := cursor.fetchmany(5000):
                for first_id, second_id in rows:
                    found[(first_id, second_id)].add(reason)
    return found


def detect_duplicates() -> int:
    """Refresh the DuplicatePair rows from what the data says now: add new pairs,
    update the reasons and score of open ones, remove open pairs whose reasons are
    gone. Dismissed pairs are left as they are (never shown again). Returns the
    number of open pairs. Safe to run twice; raises nothing of its own."""
    found = detected_pairs()
    now = timezone.now()
    with transaction.atomic():
        existing = {
            (pair.first_id, pair.second_id): pair
            for pair in DuplicatePair.objects.only(
                "id", "first_id", "second_id", "reasons", "score", "dismissed_at"
            )
        }
        new = []
        changed = []
        for key, reasons in found.items():
            ordered = ordered_reasons(reasons)
            pair = existing.get(key)
            if pair is None:
                new.append(
                    DuplicatePair(
                        first_id=key[0],
                        second_id=key[1],
                        reasons=ordered,
                        score=score(ordered),
                        detected_at=now,
                    )
                )
            elif pair.dismissed_at is None and (
                pair.reasons != ordered or pair.score != score(ordered)
            ):
                pair.reasons = ordered
                pair.score = score(ordered)
                changed.append(pair)
        gone = [
            pair.pk
            for key, pair in existing.items()
            if pair.dismissed_at is None and key not in found
        ]
        DuplicatePair.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        DuplicatePair.objects.bulk_update(changed, ["reasons", "score"], batch_size=1000)
        for start in range(0, len(gone), 1000):
            DuplicatePair.objects.filter(pk__in=gone[start : start + 1000]).delete()
    return DuplicatePair.objects.open().count()


# ---------------------------------------------------------------- reads


@dataclass
class Candidate:
    """A customer that may be the same as another one, and why."""

    customer: Customer
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return score(self.reasons)

    @property
    def reason_labels(self) -> list[str]:
        return reason_labels(self.reasons)


# Bounded reads: a key shared by more customers than this is skipped anyway.
_LIVE_ROWS = 200


def _shared_key_matches(
    rows: Iterable[tuple[Any, int]], reason: str, found: dict[int, set[str]]
) -> None:
    by_key: dict[Any, set[int]] = defaultdict(set)
    for key, customer_id in rows:
        by_key[key].add(customer_id)
    for ids in by_key.values():
        # The customer itself is not among the rows: a group of MAX_GROUP has MAX_GROUP - 1.
        if len(ids) < MAX_GROUP:
            for customer_id in ids:
                found[customer_id].add(reason)


def _similar_names(customer: Customer) -> list[int]:
    """PostgreSQL: customers of the same country sharing the first or last word of
    the name key (the search tokens' index) whose name key is similar, not equal."""
    from django.contrib.postgres.search import TrigramSimilarity

    words = customer.name_key.split()
    tokens = SearchToken.objects.filter(token__in={words[0], words[-1]}).values("customer_id")
    return list(
        Customer.objects.filter(country=customer.country, pk__in=tokens)
        .exclude(pk=customer.pk)
        .exclude(name_key=customer.name_key)
        .alias(likeness=TrigramSimilarity("name_key", customer.name_key))
        .filter(likeness__gte=SIMILARITY_THRESHOLD)
        .values_list("pk", flat=True)[:_LIVE_ROWS]
    )


def duplicates_of(customer: Customer, user: User | Any) -> list[Candidate]:
    """The customers `user` may see that look like `customer` now (same email, phone,
    tax id or name key; similar name on PostgreSQL), strongest first, excluding
    pairs someone dismissed. At most four queries, each on an index: emails and
    phones (one UNION), name key and tax id, similar names (PostgreSQL), and the
    candidates themselves."""
    found: dict[int, set[str]] = defaultdict(set)
    own_emails = CustomerEmail.objects.filter(customer=customer).values(upper=Upper("address"))
    emails = (
        CustomerEmail.objects.annotate(key=Upper("address"), reason=Value(DuplicateReason.EMAIL))
        .filter(key__in=own_emails)
        .exclude(customer=customer)
        .order_by()
        .values_list("key", "customer_id", "reason")
    )
    own_phones = CustomerPhone.objects.filter(customer=customer).values("number")
    phones = (
        CustomerPhone.objects.annotate(key=F("number"), reason=Value(DuplicateReason.PHONE))
        .filter(number__in=own_phones)
        .exclude(customer=customer)
        .order_by()
        .values_list("key", "customer_id", "reason")
    )
    by_reason: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for key, customer_id, reason in emails.union(phones, all=True)[: 2 * _LIVE_ROWS]:
        by_reason[reason].append((key, customer_id))

    tax_id = customer.tax_id.strip().upper()
    lookups = Q()
    if customer.name_key:
        lookups |= Q(name_key=customer.name_key)
    if tax_id:
        lookups |= Q(tax_id__iexact=tax_id)
    if lookups:
        same = (
            Customer.objects.filter(lookups)
            .exclude(pk=customer.pk)
            .values_list("pk", "name_key", "tax_id")[:_LIVE_ROWS]
        )
        for pk, name_key, other_tax_id in same:
            if customer.name_key and name_key == customer.name_key:
                by_reason[DuplicateReason.NAME].append((name_key, pk))
            if tax_id and other_tax_id.strip().upper() == tax_id:
                by_reason[DuplicateReason.TAX_ID].append((tax_id, pk))
    for reason, rows in by_reason.items():
        _shared_key_matches(rows, reason, found)
    if connection.vendor == "postgresql" and customer.name_key and customer.country:
        for pk in _similar_names(customer):
            found[pk].add(DuplicateReason.SIMILAR_NAME)
    if not found:
        return []
    dismissed = DuplicatePair.objects.filter(dismissed_at__isnull=False).filter(
        Q(first_id=customer.pk, second_id=OuterRef("pk"))
        | Q(first_id=OuterRef("pk"), second_id=customer.pk)
    )
    candidates = [
        Candidate(other, ordered_reasons(found[other.pk]))
        for other in Customer.objects.visible_to(user)
        .filter(pk__in=list(found))
        .exclude(Exists(dismissed))
    ]
    candidates.sort(key=lambda c: (-c.score, c.customer.display_name, c.customer.pk))
    return candidates


def open_pairs_for(user: User | Any) -> DuplicatePairQuerySet:
    """The open pairs `user` may see, strongest first, with both customers' emails
    and phones for display (a fixed number of queries per page)."""
    return (
        DuplicatePair.objects.open()
        .visible_to(user)
        .select_related("first", "second")
        .prefetch_related("first__emails", "first__phones", "second__emails", "second__phones")
    )


def dismiss_duplicate_pair(by: User, pair: DuplicatePair) -> DuplicatePair:
    """Record that the two customers of `pair` are not the same: the pair is no
    longer shown and detection never brings it back. Dismissing twice changes
    nothing. Raises NotAllowed (no permission, or a customer the user cannot see)."""
    if not by.has_perm("stewardship.change_duplicatepair"):
        raise NotAllowed(_("You do not have permission to do this."))
    visible = Customer.objects.visible_to(by).filter(pk__in=[pair.first_id, pair.second_id])
    if visible.count() != 2:
        raise NotAllowed(_("You do not have permission to do this."))
    if pair.dismissed_at is None:
        pair.dismissed_at = timezone.now()
        pair.dismissed_by = by
        DuplicatePair.objects.filter(pk=pair.pk, dismissed_at__isnull=True).update(
            dismissed_at=pair.dismissed_at, dismissed_by=by
        )
    return pair
