"""Forms for a user's own account: language and API tokens."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class LanguagePreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Interface language"),
        choices=[("", _("Follow my browser")), *settings.LANGUAGES],
        required=False,
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What uses it, e.g. “Accounting sync”."),
    )
    expires_at = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a token that does not expire."),
    )
