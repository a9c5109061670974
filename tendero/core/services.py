"""The service kit every app's services.py uses: one transaction with the acting user
in the audit trail, the permission check, field errors collected for a person to see
at once, the text and choice checks, and the optimistic version check."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from auditlog.context import set_actor
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tendero.core.errors import InvalidData, NotAllowed, VersionConflict
from tendero.core.text import clean_line, clean_multiline

# Database integer limits: anything outside them cannot be a row, so it never
# reaches a query (SQLite and PostgreSQL would fail on it rather than answer "none").
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1


class Actor(Protocol):
    """Who acts: a user of Tendero (anything with Django's permission check)."""

    pk: Any

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...


@contextmanager
def audited(by: Actor) -> Iterator[None]:
    """One transaction whose changes the audit trail records as `by`'s."""
    with transaction.atomic(), set_actor(by):
        yield


def require(by: Actor, permission: str) -> None:
    """Raise NotAllowed unless `by` holds `permission`."""
    if not by.has_perm(permission):
        raise NotAllowed(_("You do not have permission to do this."))


def require_to_see(by: Actor, permission: str) -> None:
    """Raise NotAllowed ("...to see this") unless `by` holds `permission`: for reads."""
    if not by.has_perm(permission):
        raise NotAllowed(_("You do not have permission to see this."))


class FieldErrors:
    """Collects field errors so that a person sees every problem at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(str(message))

    def check(self, field: str, func: Callable[[], Any]) -> Any:
        try:
            return func()
        except ValidationError as exc:
            for message in exc.messages:
                self.add(field, message)
            return None

    def raise_if_any(self) -> None:
        """Raise InvalidData with every field error collected, if there is any."""
        if self.fields:
            raise InvalidData(_("Please correct the errors below."), self.fields)


def clean_text(
    errors: FieldErrors, field: str, value: Any, max_length: int, *, multiline: bool = False
) -> str:
    """`value` stripped and checked by tendero.core.text (clean_line, or clean_multiline
    for fields that keep line breaks); "" with the field's error if it is refused."""
    clean = clean_multiline if multiline else clean_line
    try:
        return clean(value, max_length)
    except ValidationError as error:
        for message in error.messages:
            errors.add(field, message)
        return "" if error.code != "max_length" else str(value).strip()


def choice(errors: FieldErrors, field: str, value: Any, choices: Iterable[Any]) -> Any:
    """`value`, with the field's error if it is not one of `choices`."""
    allowed = {str(c) for c in choices}
    if str(value) not in allowed:
        errors.add(field, _("“%(value)s” is not one of the choices.") % {"value": value})
    return value


def claim_version(record: models.Model, expected_version: int) -> None:
    """Move `record` (a model with `version` and `updated_at`) to the next version if it
    is still at `expected_version`, then reload it; raise VersionConflict (with the
    current version) otherwise.

    Call inside the writing transaction: the conditional UPDATE locks the row
    (PostgreSQL) or the database (SQLite) until commit, so two editors of one
    version cannot both win.
    """
    manager = type(record)._default_manager
    bumped = manager.filter(pk=record.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not bumped:
        current = manager.filter(pk=record.pk).values_list("version", flat=True).first()
        raise VersionConflict(current or 0)
    record.refresh_from_db()
