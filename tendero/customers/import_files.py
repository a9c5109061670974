"""Reading import files: what a CSV or XLSX file looks like (format, encoding,
delimiter, headers), its rows as text, and the columns recognised from Spanish and
English headers."""

from __future__ import annotations

import codecs
import csv
import logging
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tendero.core.errors import DomainError
from tendero.customers.models import (
    ImportKind,
)

logger = logging.getLogger(__name__)
_SNIFF_BYTES = 64 * 1024
_CHUNK_BYTES = 1024 * 1024


class UnusableFile(DomainError):
    """The file cannot be imported at all: unknown format, no header, a required
    column missing. (A bad row is not this: it is reported and skipped.)"""

    status = 422


# Fields each kind of import understands, with a label for the mapping step.
FIELD_LABELS: dict[str, dict[str, Any]] = {
    ImportKind.CUSTOMERS: {
        "external_id": gettext_lazy("External id"),
        "id": gettext_lazy("Tendero id"),
        "display_name": gettext_lazy("Name"),
        "preferred_name": gettext_lazy("Preferred name"),
        "kind": gettext_lazy("Kind (person or organisation)"),
        "emails": gettext_lazy("Email(s)"),
        "phones": gettext_lazy("Phone(s)"),
        "tax_id": gettext_lazy("Tax or legal id"),
        "street": gettext_lazy("Street"),
        "city": gettext_lazy("City"),
        "region": gettext_lazy("Region"),
        "postal_code": gettext_lazy("Postal code"),
        "country": gettext_lazy("Country"),
        "language": gettext_lazy("Language"),
        "currency": gettext_lazy("Currency"),
        "lifecycle_stage": gettext_lazy("Lifecycle stage"),
        "acquisition_source": gettext_lazy("Acquisition source"),
        "tags": gettext_lazy("Tags"),
    },
    ImportKind.CONTACTS: {
        "customer_external_id": gettext_lazy("Customer's external id"),
        "customer_id": gettext_lazy("Customer's Tendero id"),
        "first_name": gettext_lazy("First name"),
        "last_name": gettext_lazy("Last name"),
        "preferred_name": gettext_lazy("Preferred name"),
        "role": gettext_lazy("Role"),
        "email": gettext_lazy("Email"),
        "phone": gettext_lazy("Phone"),
        "is_primary": gettext_lazy("Primary contact"),
    },
    ImportKind.FACTS: {
        "customer_external_id": gettext_lazy("Customer's external id"),
        "customer_id": gettext_lazy("Customer's Tendero id"),
        "contact_email": gettext_lazy("Contact's email (if about a contact)"),
        "kind": gettext_lazy("Kind of fact"),
        "text": gettext_lazy("What we know"),
        "relation": gettext_lazy("Relation"),
        "related_name": gettext_lazy("Their name"),
        "date": gettext_lazy("Date"),
        "recurs_yearly": gettext_lazy("Every year"),
    },
    ImportKind.PURCHASES: {
        "customer_external_id": gettext_lazy("Customer's external id"),
        "customer_id": gettext_lazy("Customer's Tendero id"),
        "occurred_at": gettext_lazy("Date"),
        "amount": gettext_lazy("Amount (negative for a refund)"),
        "currency": gettext_lazy("Currency"),
        "external_id": gettext_lazy("Reference (ticket, invoice, order)"),
        "description": gettext_lazy("Description"),
        "product": gettext_lazy("Product (name or code)"),
        "quantity": gettext_lazy("Quantity (units; negative for units returned)"),
    },
}
# Other names accepted for a field in --map and in mappings sent to the API.
FIELD_ALIASES: dict[str, dict[str, str]] = {
    ImportKind.CUSTOMERS: {"email": "emails", "phone": "phones", "name": "display_name"}
}
LIST_FIELDS = frozenset({"emails", "phones", "tags"})

# At least one of each group must be mapped.
REQUIRED_FIELDS: dict[str, list[tuple[str, ...]]] = {
    ImportKind.CUSTOMERS: [("display_name", "external_id", "id")],
    ImportKind.CONTACTS: [("customer_external_id", "customer_id"), ("first_name",)],
    ImportKind.FACTS: [("customer_external_id", "customer_id"), ("kind",)],
    ImportKind.PURCHASES: [
        ("customer_external_id", "customer_id"),
        ("occurred_at",),
        ("amount",),
    ],
}


def normalise_header(text: str) -> str:
    """Accent-free, lower-case, punctuation and runs of spaces as one space:
    "Correo electrónico" -> "correo electronico", "E-mail" -> "e mail"."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    cleaned = "".join(c if c.isalnum() else " " for c in plain)
    return " ".join(cleaned.split())


def _synonyms(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for target, words in table.items():
        found[normalise_header(target)] = target
        for word in words:
            found[normalise_header(word)] = target
    return found


_CUSTOMER_HEADERS = _synonyms(
    {
        "external_id": (
            "external id", "id externo", "codigo", "código cliente", "codigo cliente",
            "cod cliente", "referencia", "ref", "id cliente", "customer id", "client id",
            "customer number", "número de cliente", "numero cliente", "account number",
        ),
        "display_name": (
            "name", "nombre", "razón social", "razon social", "nombre completo", "cliente",
            "full name", "customer name", "customer", "company name", "display name",
            "nombre cliente", "nombre del cliente", "denominación",
        ),
        "preferred_name": ("preferred name", "nombre preferido", "apodo", "nickname", "alias"),
        "kind": ("kind", "type", "tipo", "tipo de cliente", "tipo cliente", "customer type"),
        "emails": (
            "email", "emails", "e-mail", "mail", "correo", "correo electrónico",
            "correos", "email address", "dirección de correo", "correo e",
        ),
        "phones": (
            "phone", "phones", "teléfono", "telefono", "teléfonos", "móvil", "movil",
            "celular", "mobile", "tel", "telephone", "phone number", "número de teléfono",
        ),
        "tax_id": (
            "tax id", "vat", "vat number", "nif", "cif", "nie", "rut", "rfc", "dni", "cuit",
            "nit", "tax number", "nif cif", "identificación fiscal", "id fiscal",
        ),
        "street": ("street", "address", "dirección", "direccion", "calle", "domicilio"),
        "city": ("city", "ciudad", "localidad", "población", "municipio", "town"),
        "region": ("region", "región", "provincia", "estado", "state", "province", "comunidad"),
        "postal_code": (
            "postal code", "zip", "zip code", "postcode", "código postal", "codigo postal",
            "cp", "c.p.",
        ),
        "country": ("country", "país", "pais", "country code"),
        "language": ("language", "idioma", "lengua"),
        "currency": ("currency", "moneda", "divisa"),
        "lifecycle_stage": ("lifecycle stage", "stage", "etapa", "fase", "etapa del ciclo"),
        "acquisition_source": (
            "acquisition source", "source", "origen", "fuente", "canal de captación",
        ),
        "tags": ("tags", "tag", "etiquetas", "etiqueta", "labels"),
    }
)  # fmt: skip
_CONTACT_HEADERS = _synonyms(
    {
        "customer_external_id": (
            "customer external id", "external id", "id externo cliente", "código cliente",
            "codigo cliente", "cliente", "customer", "referencia cliente", "empresa",
            "customer ref", "company id",
        ),
        "customer_id": ("customer id", "tendero id", "id cliente tendero"),
        "first_name": ("first name", "nombre", "given name", "name"),
        "last_name": ("last name", "apellidos", "apellido", "surname", "family name"),
        "preferred_name": ("preferred name", "nombre preferido", "apodo", "nickname"),
        "role": ("role", "cargo", "puesto", "title", "job title", "función"),
        "email": ("email", "e-mail", "mail", "correo", "correo electrónico"),
        "phone": ("phone", "teléfono", "telefono", "móvil", "movil", "celular", "mobile"),
        "is_primary": ("primary", "is primary", "principal", "contacto principal", "main"),
    }
)  # fmt: skip
_FACT_HEADERS = _synonyms(
    {
        "customer_external_id": (
            "customer external id", "external id", "código cliente", "codigo cliente",
            "cliente", "customer", "referencia cliente",
        ),
        "customer_id": ("customer id", "tendero id"),
        "contact_email": (
            "contact email", "contact", "email contacto", "correo contacto", "contacto",
            "email", "correo",
        ),
        "kind": ("kind", "tipo", "type", "tipo de dato"),
        "text": ("text", "texto", "dato", "descripción", "description", "what", "nota", "qué"),
        "relation": ("relation", "relación", "parentesco", "relationship"),
        "related_name": ("related name", "nombre relacionado", "su nombre", "name", "nombre"),
        "date": ("date", "fecha"),
        "recurs_yearly": ("recurs yearly", "every year", "anual", "cada año", "yearly"),
    }
)  # fmt: skip
_PURCHASE_HEADERS = _synonyms(
    {
        "customer_external_id": (
            "customer external id", "cliente", "customer", "código cliente", "codigo cliente",
            "cod cliente", "id externo cliente", "referencia cliente", "customer ref",
            "customer code", "client", "client id", "cliente id", "id cliente", "nº cliente",
            "numero cliente", "número de cliente", "customer number", "account number",
        ),
        "customer_id": ("customer id", "tendero id", "id cliente tendero"),
        "occurred_at": (
            "date", "fecha", "fecha compra", "fecha de compra", "fecha venta", "fecha factura",
            "purchase date", "order date", "invoice date", "when", "cuándo", "fecha y hora",
            "date time", "datetime", "timestamp", "occurred at",
        ),
        "amount": (
            "amount", "importe", "total", "importe total", "monto", "total amount",
            "importe eur", "suma", "total price", "precio total", "line total", "total línea",
            "total linea", "net amount", "importe neto",
        ),
        "currency": ("currency", "moneda", "divisa", "currency code"),
        "external_id": (
            "external id", "referencia", "ref", "reference", "id externo", "número", "numero",
            "nº", "ticket", "factura", "nº factura", "numero factura", "número de factura",
            "invoice", "invoice number", "order", "order number", "pedido", "nº pedido",
            "numero pedido", "transaction id", "id transacción", "id transaccion",
        ),
        "description": (
            "description", "descripción", "descripcion", "concepto", "detalle", "what",
            "qué", "notes", "notas", "observaciones",
        ),
        "product": (
            "product", "producto", "item", "artículo", "articulo", "sku", "product code",
            "product name", "product id", "código producto", "codigo producto",
            "código de producto", "código artículo", "codigo articulo", "cod producto",
            "cod articulo", "ref producto", "referencia producto", "nombre producto",
            "nombre del producto", "modelo", "model", "servicio", "service", "tarifa",
            "plan", "ean",
        ),
        "quantity": (
            "quantity", "qty", "cantidad", "units", "unidades", "uds", "ud", "unid",
            "cant", "nº unidades", "numero de unidades", "número de unidades", "pieces",
            "piezas", "units sold", "unidades vendidas", "cantidad vendida",
        ),
    }
)  # fmt: skip
# Headers that name a field only when no other column does: "Precio" is a purchase's
# amount in a file of tickets, but a unit price beside "Importe" and "Cantidad".
_FALLBACK_HEADERS: dict[str, dict[str, str]] = {
    ImportKind.PURCHASES: _synonyms(
        {"amount": ("price", "precio", "value", "valor", "pvp", "precio venta")}
    ),
}
HEADER_SYNONYMS: dict[str, dict[str, str]] = {
    ImportKind.CUSTOMERS: _CUSTOMER_HEADERS,
    ImportKind.CONTACTS: _CONTACT_HEADERS,
    ImportKind.FACTS: _FACT_HEADERS,
    ImportKind.PURCHASES: _PURCHASE_HEADERS,
}


# Reading files


@dataclass
class FileShape:
    file_format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)


def _detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as UTF-8, else Windows-1252.
    Read in chunks: a file of a million rows is never held in memory."""
    with path.open("rb") as handle:
        head = handle.read(3)
        bom = head == codecs.BOM_UTF8
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(head if not bom else b"")
            while chunk := handle.read(_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig" if bom else "utf-8"


def _detect_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines() if line.strip()][:20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=";,\t|").delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in (";", ",", "\t")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def inspect_file(
    path: Path, original_name: str = "", *, encoding: str = "", delimiter: str = ""
) -> FileShape:
    """Find the file's format, encoding, delimiter and header row.

    Raises UnusableFile if it is neither CSV nor XLSX or has no header row.
    """
    name = (original_name or path.name).lower()
    with path.open("rb") as handle:
        start = handle.read(_SNIFF_BYTES)
    if start.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        shape = FileShape("xlsx")
    elif name.endswith(".xls") or start.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnusableFile(_("Old Excel files (.xls) cannot be read: save it as XLSX or CSV."))
    elif b"\x00" in start and not start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnusableFile(_("This is not a CSV or XLSX file."))
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnusableFile(_("UTF-16 files cannot be read: save it as UTF-8 CSV or XLSX."))
    else:
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise UnusableFile(_("Unknown encoding “%(e)s”.") % {"e": encoding}) from None
        else:
            encoding = _detect_encoding(path)
        if delimiter and len(delimiter) != 1:
            if delimiter.lower() in ("tab", "\\t"):
                delimiter = "\t"
            else:
                raise UnusableFile(_("The delimiter must be one character."))
        if not delimiter:
            delimiter = _detect_delimiter(start.decode(encoding, errors="replace"))
        shape = FileShape("csv", encoding, delimiter)
    try:
        first = next(_iter_all_rows(path, shape), None)
    except Exception as exc:  # openpyxl raises many kinds of errors on a damaged file
        raise UnusableFile(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
    headers = [cell.strip() for cell in first or []]
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise UnusableFile(_("The file has no header row."))
    shape.headers = headers
    return shape


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _iter_all_rows(path: Path, shape: FileShape) -> Iterator[list[str]]:
    if shape.file_format == "xlsx":
        import openpyxl

        # A file object, not the path: openpyxl would refuse a name without .xlsx.
        with path.open("rb") as handle:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                for values in sheet.iter_rows(values_only=True):
                    yield [_cell_text(v) for v in values]
            finally:
                workbook.close()
    else:
        with path.open(encoding=shape.encoding, errors="replace", newline="") as handle:
            yield from csv.reader(handle, delimiter=shape.delimiter)


def iter_data_rows(path: Path, shape: FileShape) -> Iterator[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, cells) of every non-blank row after the header."""
    rows = _iter_all_rows(path, shape)
    next(rows, None)
    for number, cells in enumerate(rows, start=2):
        if any(cell.strip() for cell in cells):
            yield number, cells


def count_data_rows(path: Path, shape: FileShape) -> int:
    return sum(1 for _row in iter_data_rows(path, shape))


# Mapping


def recognise_headers(headers: list[str], kind: str) -> dict[str, str]:
    """header -> field for every header (\"\" when not recognised). A header that is the
    field's own name wins over a synonym; a field is mapped from one column only
    (except emails and phones, which may come from several)."""
    synonyms = HEADER_SYNONYMS[kind]
    fields = FIELD_LABELS[kind]
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    normalised = [normalise_header(h) for h in headers]
    exact = {n.replace(" ", "_") for n in normalised}
    for header, norm in zip(headers, normalised, strict=True):
        name = norm.replace(" ", "_")
        if name in fields and name not in taken and name != "id":
            mapping[header] = name
            taken.add(name)
    for header, norm in zip(headers, normalised, strict=True):
        if header in mapping:
            continue
        target = synonyms.get(norm, "")
        if kind == ImportKind.CUSTOMERS and norm == "id":
            # Tendero's own exports have both "id" and "external_id": there "id" is ours.
            target = "id" if "external_id" in exact else "external_id"
        if target and (target not in taken or target in LIST_FIELDS):
            mapping[header] = target
            taken.add(target)
        else:
            mapping[header] = ""
    fallbacks = _FALLBACK_HEADERS.get(kind, {})
    for header, norm in zip(headers, normalised, strict=True):
        target = fallbacks.get(norm, "")
        if target and not mapping[header] and target not in taken:
            mapping[header] = target
            taken.add(target)
    return mapping


def field_name(kind: str, name: str) -> str:
    """The field a --map or API mapping names ("" for "ignore"); raises UnusableFile."""
    name = name.strip()
    if name in ("", "-", "ignore"):
        return ""
    name = FIELD_ALIASES.get(kind, {}).get(name, name)
    if name not in FIELD_LABELS[kind]:
        raise UnusableFile(
            _("Unknown field “%(field)s”; the fields are: %(fields)s.")
            % {"field": name, "fields": ", ".join(FIELD_LABELS[kind])}
        )
    return name


def mapping_problems(kind: str, mapping: Mapping[str, str]) -> list[str]:
    """What keeps this mapping from being usable (a required field not mapped, a field
    mapped twice), as messages."""
    problems = []
    mapped = [f for f in mapping.values() if f]
    for group in REQUIRED_FIELDS[kind]:
        if not any(f in mapped for f in group):
            problems.append(
                _("No column is mapped to %(fields)s.")
                % {"fields": _(" or ").join(str(f) for f in group)}
            )
    for name in sorted({f for f in mapped if mapped.count(f) > 1} - LIST_FIELDS):
        problems.append(_("Several columns are mapped to %(field)s.") % {"field": name})
    return problems
