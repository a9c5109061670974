"""What Tendero answers when a request cannot be served: one message per kind of
failure, as JSON on the API and as a page of the site everywhere else.

Django reads the body and the query string lazily, so a request too big or with
too many fields fails wherever it is first read: in a view, in the CSRF check or in
the API's parser. Each of those paths ends here: Django's own error handlers
(handler400/404/500, wired in tendero.urls), the API's exception handlers (in
tendero.api, with the same messages) and ApiErrorsAsJsonMiddleware for the few
answers the API framework writes itself (a wrong method).
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# What Django raises when it reads a request beyond its limits.
REQUEST_LIMIT_ERRORS: tuple[type[Exception], ...] = (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    MultiPartParserError,
)


def api_prefix() -> str:
    """Where the REST API lives, from the URL configuration (e.g. "/api/v1/")."""
    return reverse("api:openapi-json").removesuffix("openapi.json")


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(api_prefix())


def api_error(status: int, message: str) -> JsonResponse:
    """An API error in the shape of the API's ErrorOut schema: {"detail": message}."""
    return JsonResponse({"detail": message}, status=status)


def request_limit_status(exc: Exception) -> tuple[int, str]:
    """The status and message for a request Django refused to read."""
    if isinstance(exc, RequestDataTooBig):
        return 413, _(
            "The request is too large: at most %(size)s of data besides uploaded files."
        ) % {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    if isinstance(exc, MultiPartParserError):
        return 400, _("The multipart body could not be read (a missing or invalid boundary).")
    if isinstance(exc, TooManyFilesSent):
        return 400, _("Too many files: at most %(n)s in one request.") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    return 400, _("Too many parameters: at most %(n)s in one request.") % {
        "n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    }


def _page(request: HttpRequest, template: str, status: int, message: str = "") -> HttpResponse:
    """The error page in the site's layout; a plain page when the layout itself fails
    (the database is down, the request cannot be read...)."""
    context = {"status": status, "message": message}
    try:
        return render(request, template, context, status=status)
    except Exception:
        logger.exception("The %s page could not be rendered in the site's layout.", status)
        return HttpResponse(render_to_string("error_plain.html", context), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a request Django could not read (too big, too many fields or files)
    or otherwise suspicious."""
    if isinstance(exception, REQUEST_LIMIT_ERRORS):
        status, message = request_limit_status(exception)
    else:
        status, message = 400, _("The request could not be understood.")
    if is_api_request(request):
        return api_error(status, message)
    if isinstance(exception, TooManyFieldsSent):
        # The layout reads the query string (the search box): show it as if none came.
        request.GET = QueryDict()
    return _page(request, "400.html", status, message)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404."""
    if is_api_request(request):
        return api_error(404, _("Not found."))
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the error is logged by Django; the person gets a calm page."""
    if is_api_request(request):
        return api_error(500, _("Something went wrong on our side. Please try again later."))
    return _page(request, "500.html", 500)


def _default_message(response: HttpResponseBase) -> str:
    if response.status_code == 405:
        return _("This method is not allowed here; allowed: %(methods)s.") % {
            "methods": response.get("Allow", "")
        }
    if response.status_code == 404:
        return _("Not found.")
    if response.status_code == 403:
        return _("You do not have permission to do this.")
    if response.status_code >= 500:
        return _("Something went wrong on our side. Please try again later.")
    return _("The request could not be served.")


class ApiErrorsAsJsonMiddleware:
    """Every error the API answers is JSON, including those the API framework writes
    without calling the API's exception handlers (405 for a wrong method)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
            or not is_api_request(request)
            or (settings.DEBUG and response.status_code >= 500)  # keep Django's debug page
        ):
            return response
        json_response = api_error(response.status_code, _default_message(response))
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                json_response[header] = response[header]
        return json_response


def require_permission(request: HttpRequest, permission: str) -> None:
    """Raise PermissionDenied (a 403 page) unless the request's user holds `permission`."""
    if not request.user.has_perm(permission):
        raise PermissionDenied
