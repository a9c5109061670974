"""Idempotency-Key for the API's creating endpoints.

A client that sends `Idempotency-Key: <key>` with a request and loses the answer may
send the same request again with the same key: it gets the first answer again (the
same status and body) and nothing is written twice. The same key with a different
request (another body, another customer) answers 422. Keys belong to the user who
sent them and to one operation, and are kept for a day (see IDEMPOTENCY_KEY_LIFETIME).

Only answers that wrote something (2xx) are kept: a refused request changed nothing,
so sending it again, corrected, with the same key is allowed. The answer is written
in the transaction of the rows it reports, so either both are there or neither; two
requests with one key at the same moment are serialised by the unique key row (the
second waits for the first to commit, then replays its answer).

Use it below the router's decorator:

    @router.post("/customers/{customer_id}/purchases", ...)
    @idempotent("contracts.record_purchase")
    def create_purchase(request, customer_id: int, payload: PurchaseIn): ...
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.operation import Operation
from ninja.utils import contribute_operation_callback

from tendero.core.models import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyKey

HEADER = "Idempotency-Key"
HEADER_PARAMETER: dict[str, Any] = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
    "description": "Any unique string of up to 255 printable ASCII characters (a UUID, say). "
    "Sending the same request again with the same key within 24 hours answers what the "
    "first one answered and records nothing new; the same key with a different request "
    "answers 422.",
}

View = TypeVar("View", bound=Callable[..., Any])


def idempotent(operation: str) -> Callable[[View], View]:
    """Make a ninja operation honour the Idempotency-Key header; `operation` names it
    (keys are unique per user and operation). Declares the header in the OpenAPI
    document."""

    def decorate(view_func: View) -> View:
        contribute_operation_callback(view_func, partial(_install, operation))
        return view_func

    return decorate


def purge_expired_keys() -> int:
    """Remove the answers kept longer than a day; returns how many went."""
    deleted, _by_model = IdempotencyKey.objects.expired().delete()
    return deleted


# How it hooks into ninja: the operation's `run` (authentication, parsing, the view,
# the error handlers) runs in a transaction that keeps the answer; the view itself,
# once the caller is known, claims the key or replays the answer kept for it.


def _install(name: str, operation: Operation) -> None:
    # As ninja's decorate_view does, so that the operation's clones (one per API it is
    # mounted on) get the wrapped run too.
    wrap_run = partial(_run_once, name)
    operation.run = wrap_run(operation.run)  # type: ignore[method-assign]
    decorators = getattr(operation, "_run_decorators", [])
    operation._run_decorators = [*decorators, wrap_run]  # type: ignore[attr-defined]
    operation.view_func = _claiming(operation.view_func)
    extra = dict(operation.openapi_extra or {})
    extra["parameters"] = [*extra.get("parameters", []), HEADER_PARAMETER]
    operation.openapi_extra = extra


@dataclass
class _Pending:
    operation: str
    key: str
    request_hash: str
    claimed: IdempotencyKey | None = None


class _Discard(Exception):
    """Rolls back the claimed key of a request that was refused."""

    def __init__(self, response: HttpResponseBase) -> None:
        self.response = response


def _run_once(name: str, run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(run)
    def run_once(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(HEADER)
        if key is None:
            return run(request, **kwargs)
        pending = _Pending(name, key, _request_hash(request))
        request._idempotency = pending  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                response = run(request, **kwargs)
                if pending.claimed is None:  # a replay, or refused before the view
                    return response
                if not 200 <= response.status_code < 300:
                    raise _Discard(response)
                pending.claimed.response_status = response.status_code
                pending.claimed.response_body = response.content.decode()  # type: ignore[attr-defined]
                pending.claimed.save(update_fields=["response_status", "response_body"])
                return response
        except _Discard as discarded:
            return discarded.response

    return run_once


def _claiming(view_func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view_func)
    def claiming_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        pending: _Pending | None = getattr(request, "_idempotency", None)
        if pending is not None:
            replay = _claim(pending, request.auth)  # type: ignore[attr-defined]
            if replay is not None:
                return replay
        return view_func(request, *args, **kwargs)

    return claiming_view


def _claim(pending: _Pending, user: Any) -> HttpResponse | None:
    """Take the key for this request (None: go on and answer it), or the answer kept
    for it. Raises HttpError 422 if the key is malformed or was used for a different
    request."""
    if not _well_formed(pending.key):
        raise HttpError(
            422,
            _("The Idempotency-Key header must be 1 to %(n)d printable ASCII characters.")
            % {"n": IDEMPOTENCY_KEY_MAX_LENGTH},
        )
    mine = IdempotencyKey.objects.filter(user=user, operation=pending.operation, key=pending.key)
    mine.expired().delete()
    try:
        with transaction.atomic():
            # Its answer is filled in once known, in this same transaction.
            pending.claimed = IdempotencyKey.objects.create(
                user=user,
                operation=pending.operation,
                key=pending.key,
                request_hash=pending.request_hash,
                response_status=0,
                response_body="",
            )
        return None
    except IntegrityError:
        # Kept already, or another request with this key committed while we waited.
        earlier = mine.get()
    if earlier.request_hash != pending.request_hash:
        raise HttpError(
            422,
            _(
                "This Idempotency-Key was used for a different request: "
                "send a new key with a new request."
            ),
        )
    return HttpResponse(
        earlier.response_body,
        status=earlier.response_status,
        content_type="application/json; charset=utf-8",
    )


def _well_formed(key: str) -> bool:
    return 0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH and key.isascii() and key.isprintable()


def _request_hash(request: HttpRequest) -> str:
    """The same request: the same method, path, query and JSON body (keys in any order)."""
    try:
        body = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError):
        body = request.body.hex()
    query = sorted(request.GET.lists())
    text = json.dumps([request.method, request.path, query, body])
    return hashlib.sha256(text.encode()).hexdigest()
