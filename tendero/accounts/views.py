"""Pages about the signed-in user's own account: language and API tokens."""

from datetime import datetime, time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tendero.accounts import services
from tendero.accounts.access import signed_in_user
from tendero.accounts.forms import ApiTokenForm, LanguagePreferenceForm
from tendero.accounts.models import ApiToken, User


def _remember_language(response: HttpResponse, language: str) -> HttpResponse:
    """The cookie LocaleMiddleware reads; no cookie means: follow the browser."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
        )
    return response


def _preferences_page(
    request: HttpRequest,
    language_form: LanguagePreferenceForm | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    context = {
        "language_form": language_form
        or LanguagePreferenceForm(initial={"language": user.language}),
        "token_form": token_form or ApiTokenForm(),
        "tokens": ApiToken.objects.filter(user=user, revoked_at__isnull=True),
        "new_token": new_token,
        "now": timezone.now(),
    }
    return render(request, "accounts/preferences.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's language and their API tokens."""
    if request.method != "POST":
        return _preferences_page(request)
    form = LanguagePreferenceForm(request.POST)
    if not form.is_valid():
        return _preferences_page(request, language_form=form, status=400)
    language = form.cleaned_data["language"]
    try:
        services.set_language_preference(signed_in_user(request), language)
    except services.AccountError:
        form.add_error("language", _("Tendero does not speak this language yet."))
        return _preferences_page(request, language_form=form, status=400)
    if language:
        translation.activate(language)
    messages.success(request, _("Your preferences were saved."))
    return _remember_language(redirect("accounts:preferences"), language)


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    """Issue an API token and show its value this once."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _preferences_page(request, token_form=form, status=400)
    expires_on = form.cleaned_data["expires_at"]
    expires_at = None
    if expires_on is not None:
        expires_at = timezone.make_aware(datetime.combine(expires_on, time.max))
        if expires_at <= timezone.now():
            form.add_error("expires_at", _("Choose a date in the future."))
            return _preferences_page(request, token_form=form, status=400)
    try:
        issued = services.create_api_token(
            signed_in_user(request), form.cleaned_data["name"], expires_at
        )
    except services.AccountError:
        form.add_error(None, _("This token could not be created."))
        return _preferences_page(request, token_form=form, status=400)
    return _preferences_page(request, new_token=issued.raw, status=201)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.revoke_api_token(signed_in_user(request), token_id)
    except services.AccountError:
        messages.error(request, _("This token does not exist or was already revoked."))
        return redirect("accounts:preferences")
    messages.success(request, _("The token was revoked; it no longer works."))
    return redirect("accounts:preferences")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The top bar's language switch: a cookie for everyone, a saved preference for users."""
    language = request.POST.get("language", "")
    if language and language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Unsupported language."))
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        services.set_language_preference(user, language)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    return _remember_language(redirect(next_url), language)
