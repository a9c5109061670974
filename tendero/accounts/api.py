"""API authentication: personal bearer tokens, or the browser session (with CSRF)."""

from typing import Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

from tendero.accounts.models import User
from tendero.accounts.services import authenticate_api_token


class BearerTokenAuth(HttpBearer):
    openapi_description = "A personal API token: `tendero token create USERNAME`."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_api_token(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The signed-in browser session, with CSRF enforced on unsafe methods.

    Without a signed-in session this answers "not authenticated" (401) rather than
    failing the CSRF check first: a client with a missing or bad token must be told
    about the token, not about a cookie it never had.
    """

    openapi_description = "The browser session; unsafe methods need the X-CSRFToken header."

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, _("CSRF check failed: send the X-CSRFToken header."))
        return user


def request_user(request: HttpRequest) -> User:
    """The authenticated caller: ninja puts what the auth callback returned in request.auth."""
    return cast(User, request.auth)  # type: ignore[attr-defined]
