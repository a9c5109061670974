"""Search as you type: an inverted index of the words of every customer.

Each customer owns a set of SearchToken rows: the words of their names and their
contacts' names, their email addresses, phone numbers and tax id, reduced to lower
case without accents. A query is reduced the same way into words, and a customer
matches when every query word is the beginning of one of their tokens. One word
drives an index range scan (`token >= w AND token < w_next`, in byte order, ordered
by token and stopped at the limit); the others are checked against each row: rare
ones through a hash of their customers built once, very common ones on the
customer's own tokens. PostgreSQL compares `token COLLATE "C"` (migration 0007
indexes it); SQLite compares text bytewise already.

Each two adjacent words of a name are a token too ("jose garcia", with a space,
which no query word holds): words typed in a name's order ("josé garcía", "maria
lo") are then one short range instead of an intersection, which only runs when the
pairs give fewer results than asked for. The customer list filter (`?q=`) reads the
matching ids first and narrows the list to them (see `filter_customers`).

The normalisation functions at the top are pure (no database, no models) so that
data migrations can import them.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Collate
from django.db.models.lookups import GreaterThanOrEqual, LessThan, StartsWith

from tendero.customers.models import Contact, Customer, CustomerEmail, CustomerPhone, SearchToken

if TYPE_CHECKING:
    from tendero.accounts.models import User

TOKEN_LENGTH = 100
MAX_QUERY_LENGTH = 200
MAX_LIMIT = 50
BATCH_SIZE = 2000

_WORD = re.compile(r"[^\W_]+")
_TAX_ID_PUNCTUATION = re.compile(r"[\s.\-]")
_QUERY_SEPARATORS = re.compile(r"[\s.\-/+()]")

# ------------------------------------------------------------ pure normalisation


_SPACES = re.compile(r"(\s+)")


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=65_536)
def _normalise_word(word: str) -> str:
    # Case folding can produce characters that decompose again (İ → i̇): strip twice.
    return _strip_marks(_strip_marks(word).casefold())


def normalise(text: str) -> str:
    """Lower case without accents: "José" → "jose", "Straße" → "strasse", "Ñu" → "nu"."""
    if text.isascii():
        return text.lower()
    # Word by word, each remembered: names share their words ("García", "José"), and
    # decomposing a word character by character is what indexing a customer costs most.
    # The same result as for the whole text: decomposition and folding never reach
    # across a space.
    return "".join(_normalise_word(part) for part in _SPACES.split(text))


def words(text: str) -> list[str]:
    """The normalised words of `text`, split on anything not a letter or digit."""
    return [word[:TOKEN_LENGTH] for word in _WORD.findall(normalise(text))]


def name_key(display_name: str) -> str:
    """The name reduced to its sorted words, so "García López, José" and
    "jose garcia lopez" share one key (for duplicate detection)."""
    return " ".join(sorted(words(display_name)))[:200]


def pair_tokens(text: str) -> set[str]:
    """Each two adjacent words of a name, joined by a space: "José García López" gives
    "jose garcia" and "garcia lopez". A query typed in the name's order ("josé gar")
    is then one prefix range instead of an intersection of two."""
    found = words(text)
    return {f"{first} {second}"[:TOKEN_LENGTH] for first, second in itertools.pairwise(found)}


def _name_tokens(text: str) -> set[str]:
    found = set(words(text)) | pair_tokens(text)
    # "O'Brien" and "García-López" are also found typed as one word.
    for part in normalise(text).split():
        joined = "".join(_WORD.findall(part))
        if joined:
            found.add(joined[:TOKEN_LENGTH])
    return found


def email_tokens(address: str) -> set[str]:
    """The whole address (one token, lower case), its local part and the local part's words."""
    address = normalise(address.strip())
    if not address:
        return set()
    local = address.rpartition("@")[0] or address
    return {address[:TOKEN_LENGTH], local[:TOKEN_LENGTH], *words(local)}


def phone_tokens(number: str) -> set[str]:
    """The E.164 digits without "+", the national significant number and the national
    dialling digits (with a trunk prefix such as the UK's 0, where there is one)."""
    digits = re.sub(r"\D", "", number)
    if not digits:
        return set()
    found = {digits[:TOKEN_LENGTH]}
    country_code = _country_code(digits)
    if country_code is None:
        return found
    # In E.164 (as numbers are stored) the national significant number is what
    # follows the country code (Italy's leading 0 included), as parsing would find.
    national = digits[len(str(country_code)) :]
    if not national:
        return found
    found.add(national[:TOKEN_LENGTH])
    # Dialled at home with a trunk prefix (0 in the UK, France, Germany...).
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    trunk = metadata.national_prefix if metadata is not None else None
    if trunk and trunk.isdigit():
        found.add(f"{trunk}{national}"[:TOKEN_LENGTH])
    return {token for token in found if token}


def _country_code(digits: str) -> int | None:
    """The calling code that E.164 `digits` start with (1 to 3 digits; no code is the
    start of another), or None."""
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code
    return None


def tax_id_token(tax_id: str) -> str:
    """The tax id in lower case, without spaces, dots or dashes: "B-12.345.678" → "b12345678"."""
    return _TAX_ID_PUNCTUATION.sub("", normalise(tax_id))[:TOKEN_LENGTH]


def tokens_from(
    *,
    display_name: str = "",
    preferred_name: str = "",
    tax_id: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    contact_names: Iterable[str] = (),
) -> set[str]:
    """Every token of a customer, from plain values (what data migrations call)."""
    found: set[str] = set()
    for text in (display_name, preferred_name, *contact_names):
        if text:
            found |= _name_tokens(text)
    for address in emails:
        found |= email_tokens(address)
    for number in phones:
        found |= phone_tokens(number)
    if tax_id and (token := tax_id_token(tax_id)):
        found.add(token)
    return found


@dataclass(frozen=True)
class ParsedQuery:
    """A query reduced to what is compared: `words` each must begin one of a customer's
    tokens; `exact` is the kind of query ("words", "email", "number") for display."""

    words: tuple[str, ...]
    kind: str
    typed: tuple[str, ...] = ()  # the words in the order they were typed

    def __bool__(self) -> bool:
        return bool(self.words)


def parse_query(q: str) -> ParsedQuery:
    """Reduce what someone typed to the words that must match.

    - With "@": an email address, matched whole against the address tokens.
    - Every space-separated part has a digit (or is one letter, as in "X 1234567 L"):
      a phone number or tax id, matched with its spaces, dots, dashes, "+" and
      parentheses removed ("+34 (612) 345-678" → "34612345678").
    - Otherwise the words of the query, each a prefix of some token.
    """
    # NUL and other control characters cannot be stored, so no token holds them.
    text = "".join(c for c in (q or "")[:MAX_QUERY_LENGTH] if c.isprintable()).strip()
    if not text:
        return ParsedQuery((), "words")
    if "@" in text:
        address = normalise(text).replace(" ", "")[:TOKEN_LENGTH]
        return ParsedQuery((address,) if address.strip("@") else (), "email")
    parts = text.split()
    if all(any(c.isdigit() for c in part) or len(part) == 1 for part in parts) and any(
        c.isdigit() for c in text
    ):
        compact = _QUERY_SEPARATORS.sub("", normalise(text))
        if compact and _WORD.fullmatch(compact):
            kind = "number" if compact.isdigit() else "words"
            return ParsedQuery((compact[:TOKEN_LENGTH],), kind)
    found = list(dict.fromkeys(words(text)))
    typed = tuple(found)
    # The longest word first: alone, it narrows a range scan the most.
    found.sort(key=len, reverse=True)
    return ParsedQuery(tuple(found), "words", typed)


def pair_prefix(parsed: ParsedQuery) -> str | None:
    """For words typed in a name's order ("josé garcía", "maria lo"), the beginning of
    the pair token of the last two ("jose garcia", "maria lo"); None for one word."""
    if parsed.kind != "words" or len(parsed.typed) < 2:
        return None
    return f"{parsed.typed[-2]} {parsed.typed[-1]}"[:TOKEN_LENGTH]


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with `prefix`
    (in code point order, which is UTF-8 byte order); None if there is none."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be stored: skip them
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


# ---------------------------------------------------------------- the index


def tokens_for(customer: Customer) -> set[str]:
    """Every token of `customer` (reads prefetched emails, phones and contacts if present)."""
    return tokens_from(
        display_name=customer.display_name,
        preferred_name=customer.preferred_name,
        tax_id=customer.tax_id,
        emails=[email.address for email in customer.emails.all()],
        phones=[phone.number for phone in customer.phones.all()],
        contact_names=[
            name
            for contact in customer.contacts.all()
            for name in (contact.first_name, contact.last_name, contact.preferred_name)
            if name
        ],
    )


def _batches(customer_ids: Iterable[int] | None) -> Iterator[list[int]]:

    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        for start in range(0, len(ids), BATCH_SIZE):
            yield ids[start : start + BATCH_SIZE]
        return
    last = 0
    while True:
        batch = list(
            Customer.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def collect_tokens(
    customers: Iterable[tuple[int, str, str, str]],
    emails: Iterable[tuple[int, str]] = (),
    phones: Iterable[tuple[int, str]] = (),
    contacts: Iterable[tuple[int, str, str, str]] = (),
) -> dict[int, set[str]]:
    """The tokens of many customers from plain rows: (id, display_name, preferred_name,
    tax_id), (customer id, address), (customer id, number) and (customer id,
    first_name, last_name, preferred_name). What batch indexing and migrations call."""
    addresses: dict[int, list[str]] = {}
    for customer_id, address in emails:
        addresses.setdefault(customer_id, []).append(address)
    numbers: dict[int, list[str]] = {}
    for customer_id, number in phones:
        numbers.setdefault(customer_id, []).append(number)
    contact_names: dict[int, list[str]] = {}
    for customer_id, *names in contacts:
        contact_names.setdefault(customer_id, []).extend(name for name in names if name)
    return {
        pk: tokens_from(
            display_name=display_name,
            preferred_name=preferred_name,
            tax_id=tax_id,
            emails=addresses.get(pk, ()),
            phones=numbers.get(pk, ()),
            contact_names=contact_names.get(pk, ()),
        )
        for pk, display_name, preferred_name, tax_id in customers
    }


def index_customers(
    customer_ids: Iterable[int] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Rebuild the search tokens and name_key of these customers (None: all of them, in
    batches of 2,000). Writes only what changed, so it is safe to run twice. Returns how
    many customers were indexed; `progress` is called with the running total after
    each batch. Call it inside the transaction that changed the customers."""

    done = 0
    for batch in _batches(customer_ids):
        rows = list(
            Customer.objects.filter(pk__in=batch).values_list(
                "pk", "display_name", "preferred_name", "tax_id", "name_key"
            )
        )
        wanted = collect_tokens(
            [row[:4] for row in rows],
            CustomerEmail.objects.filter(customer_id__in=batch).values_list(
                "customer_id", "address"
            ),
            CustomerPhone.objects.filter(customer_id__in=batch).values_list(
                "customer_id", "number"
            ),
            Contact.objects.filter(customer_id__in=batch).values_list(
                "customer_id", "first_name", "last_name", "preferred_name"
            ),
        )
        with transaction.atomic():
            stale: list[int] = []
            present: dict[int, set[str]] = {pk: set() for pk in wanted}
            for token_id, customer_id, token in SearchToken.objects.filter(
                customer_id__in=batch
            ).values_list("pk", "customer_id", "token"):
                if token in wanted.get(customer_id, ()):
                    present[customer_id].add(token)
                else:
                    stale.append(token_id)
            if stale:
                SearchToken.objects.filter(pk__in=stale).delete()
            new = [
                SearchToken(customer_id=pk, token=token)
                for pk, tokens in wanted.items()
                for token in sorted(tokens - present[pk])
            ]
            SearchToken.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
            renamed = [
                Customer(pk=pk, name_key=key)
                for pk, display_name, _preferred, _tax_id, old_key in rows
                if (key := name_key(display_name)) != old_key
            ]
            if renamed:
                Customer.objects.bulk_update(renamed, ["name_key"], batch_size=1000)
        done += len(rows)
        if progress is not None:
            progress(done)
    return done


# ---------------------------------------------------------------- searching


def _token_expression() -> Expression | F:
    # PostgreSQL compares in the database's collation unless told otherwise; prefix
    # ranges need byte order, and migration 0007 indexes token COLLATE "C".
    if connection.vendor == "postgresql":
        return Collate(F("token"), "C")
    return F("token")


def _prefix_conditions(prefix: str) -> list[Any]:
    token = _token_expression()
    conditions: list[Any] = [GreaterThanOrEqual(token, Value(prefix))]
    upper = prefix_upper_bound(prefix)
    if upper is None:
        conditions.append(StartsWith(F("token"), Value(prefix)))
    else:
        conditions.append(LessThan(token, Value(upper)))
    return conditions


def _has_token_starting_with(prefix: str, outer: str = "pk", *, as_range: bool = False) -> Exists:
    """The customer (`outer`) has a token starting with `prefix`. As a plain LIKE the
    check runs on the customer's own few tokens (the (customer, token) index); as a
    byte-order range (`as_range`) the database may instead read the whole range once."""

    tokens = SearchToken.objects.filter(customer_id=OuterRef(outer))
    if as_range:
        return Exists(tokens.filter(*_prefix_conditions(prefix)))
    return Exists(tokens.filter(token__startswith=prefix))


def _condition(parsed: ParsedQuery) -> Q:
    driving, *others = parsed.words
    condition = Q(_has_token_starting_with(driving, as_range=True))
    for word in others:
        condition &= Q(_has_token_starting_with(word))
    return condition


# A list filter first reads the customer ids of the driving word's tokens (the other
# words checked on each customer), up to this many token rows. A word that begins
# more tokens is common enough for the list to walk its order and check each row.
CANDIDATE_ROWS = 50_000
MAX_IN_LIST = 10_000  # ids as parameters, where they cannot be sent as one array


class _InArray(Func):
    """`expression = ANY(ARRAY(SELECT unnest(%s)))`, the values sent as one array
    (PostgreSQL). One parameter, because compiling and planning tens of thousands
    of `IN (%s, ...)` parameters takes longer than the search itself. Behind a
    sub-select, because with the array's size in sight the planner takes a list's
    `ORDER BY display_name LIMIT 26` for cheaper by walking the name index and
    filtering every row (seconds when the matches sort late) than by fetching the
    few thousand rows by primary key and sorting them (tens of milliseconds)."""

    output_field = BooleanField()

    def __init__(self, expression: Any, values: list[int]) -> None:
        super().__init__(expression)
        self.values = values

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:  # type: ignore[override]
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"{sql} = ANY(ARRAY(SELECT unnest(%s::bigint[])))", (*params, self.values)


def _candidate_ids(parsed: ParsedQuery) -> set[int] | None:
    """Every customer matching `parsed` (all of them, not only those a user may see),
    or None when the driving word begins more than CANDIDATE_ROWS tokens."""

    driving, *others = parsed.words
    rows = SearchToken.objects.filter(*_prefix_conditions(driving))
    for word in others:
        rows = rows.filter(_has_token_starting_with(word, "customer_id"))
    found = list(rows.order_by().values_list("customer_id", flat=True)[: CANDIDATE_ROWS + 1])
    if len(found) > CANDIDATE_ROWS:
        return None
    return set(found)


def filter_customers(queryset: QuerySet[Customer], q: str) -> QuerySet[Customer]:
    """`queryset` narrowed to the customers matching `q`; all of it for an empty query,
    none of it for a query with nothing to search for (only punctuation).

    The matching customers are read first (one query, bounded by CANDIDATE_ROWS) and
    the queryset is narrowed to their ids: a list ordered by name then sorts a few
    thousand rows and counts them by primary key, instead of walking its name index
    and probing every customer's tokens until a page is full (slow when one customer
    in a hundred matches). Words too common for that keep the per-row check, which
    fills a page quickly precisely because so many customers match."""
    if not (q or "").strip():
        return queryset
    parsed = parse_query(q)
    if not parsed:
        return queryset.none()
    ids = _candidate_ids(parsed)
    if ids is None:
        return queryset.filter(_condition(parsed))
    if not ids:
        return queryset.none()
    if connection.vendor == "postgresql":
        return queryset.filter(_InArray(F("pk"), sorted(ids)))
    if len(ids) > MAX_IN_LIST:  # SQLite takes at most 32,766 parameters
        return queryset.filter(_condition(parsed))
    return queryset.filter(pk__in=sorted(ids))


RANGE_SAMPLE = 30_000


def _rarest_first(query_words: Sequence[str]) -> list[tuple[str, int]]:
    """The words with how many tokens start with each (counted up to RANGE_SAMPLE, in
    one query over the index), rarest first, longest first among equals; none if a word begins no
    token at all. Driving the scan with the rarest word keeps "mar gar" from probing
    every "mar…" customer for a "gar…"."""

    selects = []
    params: list[Any] = []
    for word in query_words:
        sample = SearchToken.objects.filter(*_prefix_conditions(word)).values("pk")
        sql, sample_params = sample[:RANGE_SAMPLE].query.sql_with_params()
        # Django compiled `sql`; the words travel as parameters.
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) AS sample)")  # noqa: S608
        params.extend(sample_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        counts = cursor.fetchone()
    ranked = sorted(zip(query_words, counts, strict=True), key=lambda wc: (wc[1], -len(wc[0])))
    if ranked[0][1] == 0:
        return []  # a word that begins no token at all: nobody matches
    return ranked


def _collect(
    rows: QuerySet[Any], limit: int, found: dict[int, str], *, pages: int
) -> dict[int, str]:
    """Adds to `found` (customer id → token) the customers of `rows` (token rows in token
    order) not in it yet, until it holds `limit`: a page of 4 * `limit` rows, then, if
    `pages` allows and those held many tokens of the same customers, a bigger one."""
    fetch = limit * 4
    after: str | None = None
    for _attempt in range(pages):
        page = rows
        if after is not None:
            # Carry on from the last token seen.
            page = page.filter(GreaterThanOrEqual(_token_expression(), Value(after)))
        if found:
            page = page.exclude(customer_id__in=list(found))
        fetched = list(page.values_list("customer_id", "token")[:fetch])
        for customer_id, token in fetched:
            found.setdefault(customer_id, token)
            if len(found) >= limit:
                return found
        if len(fetched) < fetch:
            break
        after = fetched[-1][1]
        fetch = limit * 20
    return found


def _ordered_matches(user: User | Any, parsed: ParsedQuery, limit: int) -> list[tuple[int, str]]:
    """(customer id, matched token) of the first `limit` visible customers, in the order
    of the tokens their driving word matched, each customer once.

    A single word: one query, or two when a page of token rows held many tokens of the
    same customers. Several words typed in a name's order ("josé garcía", "maria lo")
    first read the pair tokens of the last two (one short range, the other words
    checked on each customer's own tokens), which usually fills the page. When it
    does not, the words are intersected: one query counting each word's tokens (up
    to RANGE_SAMPLE), which decides how each is checked, and one for the rows; those
    results follow the pair matches."""

    visible = Customer.objects.visible_to(user)
    if visible.query.is_empty():
        return []

    def scoped(rows: QuerySet[Any]) -> QuerySet[Any]:
        # Everyone-sees-everything needs no join at all; a portfolio is a semi-join.
        if visible.query.has_filters():
            rows = rows.filter(customer__in=visible.values("pk"))
        return rows.order_by(_token_expression().asc(), "customer_id")

    found: dict[int, str] = {}
    pair = pair_prefix(parsed)
    if pair is not None:
        rows = SearchToken.objects.filter(*_prefix_conditions(pair))
        for word in parsed.typed[:-2]:
            rows = rows.filter(_has_token_starting_with(word, "customer_id"))
        _collect(scoped(rows), limit, found, pages=1)
        if len(found) >= limit:
            return list(found.items())
    if len(parsed.words) > 1:
        counted = _rarest_first(parsed.words)
        if not counted:
            return list(found.items())
        # The rarest word drives the ordered scan (so even without a match it reads
        # few rows); each other word is read once into a hash that every row is
        # checked against, or, when too common to count fully, checked on each
        # candidate's own tokens.
        (driving, _count), *others = counted
    else:
        driving, others = parsed.words[0], []
    rows = SearchToken.objects.filter(*_prefix_conditions(driving))
    for word, count in others:
        if count < RANGE_SAMPLE:
            few = SearchToken.objects.filter(*_prefix_conditions(word)).values("customer_id")
            # Inside CASE, PostgreSQL keeps the IN as one hashed subplan instead of
            # planning a join (which it misjudges for such ranges).
            in_hash = Case(When(Q(customer_id__in=few), then=Value(True)), default=Value(False))
            name = f"in_{word}_range"
            rows = rows.alias(**{name: in_hash}).filter(**{name: True})
        else:
            rows = rows.filter(_has_token_starting_with(word, "customer_id"))
    # One more page at most, and none after the query that counted the words.
    _collect(scoped(rows), limit, found, pages=1 if others else 2)
    return list(found.items())[:limit]


def search_customers(user: User | Any, q: str, limit: int = 10) -> list[Customer]:
    """The customers `user` may see that match `q`, at most `limit` (1 to 50), ordered by
    the token that matched (so "jos" lists José before Josefa). Each result carries
    `matched_token`, `primary_email_address` and `primary_phone_number` (at most three
    queries in all). Nothing for an empty query or one of only punctuation."""

    limit = max(1, min(int(limit), MAX_LIMIT))
    parsed = parse_query(q)
    if not parsed:
        return []
    matches = _ordered_matches(user, parsed, limit)
    if not matches:
        return []
    first_email = CustomerEmail.objects.filter(customer_id=OuterRef("pk")).order_by(
        "position", "id"
    )
    first_phone = CustomerPhone.objects.filter(customer_id=OuterRef("pk")).order_by(
        "position", "id"
    )
    customers = Customer.objects.filter(pk__in=[pk for pk, _token in matches]).annotate(
        primary_email_address=Subquery(first_email.values("address")[:1]),
        primary_phone_number=Subquery(first_phone.values("number")[:1]),
    )
    by_id = {customer.pk: customer for customer in customers}
    results: list[Customer] = []
    for pk, token in matches:
        customer = by_id.get(pk)
        if customer is not None:
            customer.matched_token = token  # type: ignore[attr-defined]
            results.append(customer)
    return results


# ---------------------------------------------------------------- highlighting


def highlight_spans(text: str, query_words: Sequence[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched) parts: the beginning of each word of `text`
    whose normalised form starts with a query word is marked, however it is
    accented or cased ("jos" marks "Jos" in "José")."""
    if not text or not query_words:
        return [(text, False)] if text else []
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _WORD.finditer(text):
        start, end = match.span()
        word = match.group()
        normalised = normalise(word)
        best = max(
            (len(w) for w in query_words if w and normalised.startswith(w)),
            default=0,
        )
        if not best:
            continue
        # Walk the original characters until their normalised length covers the match.
        covered = 0
        cut = start
        for char in word:
            if covered >= best:
                break
            covered += len(normalise(char))
            cut += 1
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:cut], True))
        position = cut
        if cut < end:
            parts.append((text[cut:end], False))
            position = end
    if position < len(text):
        parts.append((text[position:], False))
    return parts


def digits_highlight_spans(text: str, digits: str) -> list[tuple[str, bool]]:
    """Marks the characters of a formatted phone number or tax id whose letters and
    digits contain `digits` (a compact number query), skipping the punctuation."""
    if not text or not digits:
        return [(text, False)] if text else []
    compact = [(i, normalise(c)) for i, c in enumerate(text) if c.isalnum()]
    offset = "".join(c for _i, c in compact).find(digits)
    if offset < 0 or offset + len(digits) > len(compact):
        return [(text, False)]
    first = compact[offset][0]
    last = compact[offset + len(digits) - 1][0] + 1
    pieces = [(text[:first], False), (text[first:last], True), (text[last:], False)]
    return [piece for piece in pieces if piece[0]]
