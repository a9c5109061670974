"""Reading an import row's cells: the words people write in spreadsheets
(Spanish and English choices, countries, yes and no, lists) turned into the values
the services take."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django_countries import countries

from tendero.core.spreadsheets import restore_cell
from tendero.customers.forms import LANGUAGE_CHOICES
from tendero.customers.import_files import (
    LIST_FIELDS,
    normalise_header,
)
from tendero.customers.models import AcquisitionSource, CustomerKind, LifecycleStage
from tendero.knowledge.models import FactKind, RelationKind

logger = logging.getLogger(__name__)


# Turning cells into service input


def _words(choices: Any, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Normalised value or label (English or Spanish) -> choice value."""
    found = {normalise_header(k): v for k, v in (extra or {}).items()}
    for value, label in choices.choices:
        found[normalise_header(str(value))] = str(value)
        for language in ("en", "es"):
            with translation.override(language):
                found[normalise_header(str(label))] = str(value)
    return found


_CACHE: dict[str, dict[str, str]] = {}


def _lookup(name: str) -> dict[str, str]:
    if name not in _CACHE:
        if name == "kind":
            _CACHE[name] = _words(
                CustomerKind,
                {
                    "persona": "person", "particular": "person", "individual": "person",
                    "persona fisica": "person", "p": "person", "empresa": "organisation",
                    "organización": "organisation", "organizacion": "organisation",
                    "organization": "organisation", "company": "organisation",
                    "business": "organisation", "sociedad": "organisation",
                    "persona juridica": "organisation", "e": "organisation", "o": "organisation",
                },
            )  # fmt: skip
        elif name == "lifecycle_stage":
            _CACHE[name] = _words(LifecycleStage)
        elif name == "acquisition_source":
            _CACHE[name] = _words(AcquisitionSource)
        elif name == "fact_kind":
            _CACHE[name] = _words(
                FactKind,
                {"interés": "interest", "gusto": "preference", "familiar": "family_member",
                 "fecha": "important_date", "fecha importante": "important_date",
                 "objetivo": "professional_goal", "meta profesional": "professional_goal"},
            )  # fmt: skip
        elif name == "relation":
            _CACHE[name] = _words(
                RelationKind,
                {"esposa": "spouse", "esposo": "spouse", "hija": "child", "hijo": "child",
                 "madre": "parent", "padre": "parent", "hermana": "sibling",
                 "hermano": "sibling", "nieta": "grandchild", "nieto": "grandchild",
                 "abuela": "grandparent", "abuelo": "grandparent", "jefe": "manager",
                 "jefa": "manager", "amiga": "friend", "amigo": "friend"},
            )  # fmt: skip
        elif name == "country":
            found: dict[str, str] = {}
            for language in ("en", "es"):
                with translation.override(language):
                    for code, label in countries:
                        found[normalise_header(str(label))] = code
            found.update({"espana": "ES", "mexico": "MX", "eeuu": "US", "usa": "US", "uk": "GB"})
            _CACHE[name] = found
        elif name == "language":
            languages: dict[str, str] = {}
            for code, label in LANGUAGE_CHOICES:
                if code:
                    for language in ("en", "es"):
                        with translation.override(language):
                            languages[normalise_header(str(label))] = code
                    languages["espanol"] = "es"
                    languages["castellano"] = "es"
            _CACHE[name] = languages
    return _CACHE[name]


# Files repeat the same few kinds, countries, stages...: remember what they become.
@functools.lru_cache(maxsize=4096)
def translate_cell(kind: str, value: str) -> str:
    return _lookup(kind).get(normalise_header(value), value)


@functools.lru_cache(maxsize=4096)
def _country(value: str) -> str:
    if len(value.strip()) == 2:
        return value.strip().upper()
    return _lookup("country").get(normalise_header(value), value)


def _split_list(value: str) -> list[str]:
    for separator in ("|", ";", "\n"):
        value = value.replace(separator, ",")
    return [part.strip() for part in value.split(",") if part.strip()]


_TRUE = frozenset({"1", "true", "yes", "y", "si", "sí", "s", "x", "verdadero"})
_FALSE = frozenset({"", "0", "false", "no", "n", "falso"})


def boolean_cell(value: str) -> bool | str:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value  # the service refuses it with its own message


def row_fields(columns: list[str], cells: list[str]) -> dict[str, Any]:
    """field -> text (list fields: every value of every column mapped to them)."""
    values: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=False):
        if not name:
            continue
        # A file Tendero exported has its formula-like cells quoted ('=...): unquoted.
        text = restore_cell(cell.strip())
        if name in LIST_FIELDS:
            if text:
                values.setdefault(name, []).extend(_split_list(text))
        elif text and not values.get(name):
            values[name] = text
    return values


def customer_input(fields: dict[str, Any]) -> dict[str, Any]:
    data = dict(fields)
    data.pop("id", None)
    if "kind" in data:
        data["kind"] = translate_cell("kind", data["kind"])
    if "lifecycle_stage" in data:
        data["lifecycle_stage"] = translate_cell("lifecycle_stage", data["lifecycle_stage"])
    if "acquisition_source" in data:
        data["acquisition_source"] = translate_cell(
            "acquisition_source", data["acquisition_source"]
        )
    if "country" in data:
        data["country"] = _country(data["country"])
    if "language" in data:
        data["language"] = translate_cell("language", data["language"])
    return data
