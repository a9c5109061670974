"""The REST API, /api/v1/: one NinjaAPI with a router per app."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from tendero.accounts.api import BearerTokenAuth, SessionAuth
from tendero.core import http, registry
from tendero.core.errors import DomainError
from tendero.core.openapi import DocumentedAPI
from tendero.core.schemas import ErrorOut


def _is_json(content_type: str) -> bool:
    # application/json, or a JSON-based type such as application/merge-patch+json.
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class JsonObjectParser(Parser):
    """Request bodies are JSON objects sent as JSON; anything else is a 415 or a 400
    with a message. Form and file fields (the import upload) are not read from here."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if not _is_json(request.content_type or ""):
            raise HttpError(415, _("Send the body as JSON, with Content-Type: application/json."))
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HttpError(400, _("The body is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise HttpError(400, _("The body must be a JSON object."))
        return data


def _signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI document and the docs page are for people and programs that may use
    the API: a bearer token or a signed-in session. Browsers are sent to sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated or BearerTokenAuth()(request):
            return view(request, *args, **kwargs)
        if request.path.endswith("openapi.json"):
            return authentication_error(request, AuthenticationError())
        return redirect_to_login(request.get_full_path())

    return wrapper


api = DocumentedAPI(
    title="Tendero API",
    version="1",
    description="Customers for life: the Tendero REST API. Authenticate with "
    "`Authorization: Bearer <token>` (create one with `tendero token create USERNAME`).",
    auth=[BearerTokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    # Swagger UI from ninja's static files; no online validator (its badge is an
    # image from swagger.io, which the Content-Security-Policy refuses).
    docs=Swagger(settings={"validatorUrl": None}),
    parser=JsonObjectParser(),
    docs_decorator=_signed_in,
    error_schema=ErrorOut,
)


@api.exception_handler(DomainError)
def customer_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body: dict[str, object] = {"detail": str(exc.message)}
    if exc.field_errors:
        body["errors"] = exc.field_errors
    current_version = getattr(exc, "current_version", None)
    if current_version is not None:
        body["current_version"] = current_version
    return api.create_response(request, body, status=exc.status)


def _field_name(location: tuple[Any, ...]) -> str:
    # ("body", "payload", "emails", 0) -> "emails.0"; ("query", "limit") -> "limit".
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else ["body"]
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(str(part) for part in parts) or "__all__"


def _error_message(error: dict[str, Any]) -> str:
    context = error.get("ctx") or {}
    kind = error.get("type")
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": context.get("max_length")}
    if kind == "string_too_short":
        return _("This field cannot be empty.")
    if kind == "too_long" and context.get("input_is_text"):
        # A limit on an optional text (`Text | None`) is checked as a length (see DocumentedAPI).
        return _("At most %(n)s characters.") % {"n": context.get("max_length")}
    if kind == "too_long":
        return _("At most %(n)s items.") % {"n": context.get("max_length")}
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Must be a whole number.")
    if kind == "string_type":
        return _("Must be text.")
    if kind == "bool_type":
        return _("Must be true or false.")
    if kind == "less_than_equal":
        return _("At most %(n)s.") % {"n": context.get("le")}
    if kind == "greater_than_equal":
        return _("At least %(n)s.") % {"n": context.get("ge")}
    return str(error.get("msg", _("Not valid.")))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Pydantic's errors in the same shape as the services': {field: [messages]}."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        if error.get("type") == "unknown_parameter":
            field = "query"  # about the query string as a whole, not one parameter
        else:
            field = _field_name(tuple(error.get("loc", ())))
        errors.setdefault(field, []).append(_error_message(error))
    return api.create_response(
        request, {"detail": _("Please correct the errors below."), "errors": errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": _("Authentication required: send Authorization: Bearer <token>.")},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="tendero"'
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps what the body parser raised in its own, untranslated, 400.
    if isinstance(exc.__cause__, HttpError):
        exc = exc.__cause__
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
@api.exception_handler(TooManyFieldsSent)
@api.exception_handler(TooManyFilesSent)
@api.exception_handler(MultiPartParserError)
def request_limit_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A body too big, too many fields or files: 413/400 as Django's handler400 answers
    for the pages (ninja would show a traceback instead when DEBUG is on)."""
    status, message = http.request_limit_status(exc)
    return api.create_response(request, {"detail": message}, status=status)


# Every app's router, as the apps registered them (tendero.core.registry), in their order.
for registered in registry.api_routers:
    api.add_router("/", registered.load())
