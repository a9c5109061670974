"""Who is asking: the signed-in user of a request, for the pages behind sign-in."""

from django.http import HttpRequest

from tendero.accounts.models import User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user; call only behind login_required (an anonymous user is a bug)."""
    user = request.user
    assert isinstance(user, User)
    return user
