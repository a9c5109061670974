"""API authentication: personal bearer tokens, or the browser session (with CSRF)."""

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

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
    """The signed-in browser session; ninja enforces CSRF on unsafe methods."""
