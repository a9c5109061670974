"""Form fields for text that follow tendero.core.text, so that a page refuses what
the API and the importer refuse, with the same message (and before Django's own
"Null characters are not allowed.")."""

from __future__ import annotations

from typing import Any

from django import forms

from tendero.core.text import clean_line, clean_multiline


class LineField(forms.CharField):
    """A one-line text (a name, a city, a subject): see tendero.core.text."""

    multiline = False

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return clean_multiline(value) if self.multiline else clean_line(value)


class MultilineField(LineField):
    """A text of several lines (notes, reasons): line feeds and tabs are kept."""

    multiline = True
    widget = forms.Textarea
