"""The REST API, /api/v1/: one NinjaAPI with a router per app."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tendero.accounts.api import BearerTokenAuth, SessionAuth
from tendero.customers.errors import CustomerError

api = NinjaAPI(
    title="Tendero API",
    version="1",
    description="Customers for life: the Tendero REST API. Authenticate with "
    "`Authorization: Bearer <token>` (create one with `tendero token create USERNAME`).",
    auth=[BearerTokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(CustomerError)
def customer_error(request: HttpRequest, exc: CustomerError) -> HttpResponse:
    body: dict[str, object] = {"detail": exc.message}
    if exc.field_errors:
        body["errors"] = exc.field_errors
    current_version = getattr(exc, "current_version", None)
    if current_version is not None:
        body["current_version"] = current_version
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "The request is not valid.", "errors": exc.errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Authentication required: send Authorization: Bearer <token>."}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="tendero"'
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


from tendero.customers.api import router as customers_router  # noqa: E402
from tendero.privacy.api import router as privacy_router  # noqa: E402

api.add_router("/", customers_router)
api.add_router("/", privacy_router)
