"""Importing customers, contacts, personal facts and purchases from CSV and XLSX files.

The flow: `create_job` stores what the file looks like (format, encoding,
delimiter, headers) and a column mapping recognised from the headers; the
mapping can be corrected (`set_mapping`); `run_import` then reads the file as a
stream, validates every row with the same rules as the services
(`services._clean_customer`, `services._clean_contact`,
`knowledge.clean_fact_data`) and writes the good rows in batches, each batch in
one transaction. A bad row never stops an import: it becomes an ImportRowError
(row numbers as the spreadsheet shows them: the header is row 1) and nothing of
it is written. A dry run does everything but write.

Idempotency: customers are matched by `external_id` (or, in a file exported by
Tendero, by `id`); a matched customer is updated only where the file differs,
so importing the same file twice changes nothing the second time. A blank cell
leaves the field as it is. Rows without an external id are created every time.
Contacts are matched within their customer by email (else by name); facts by
kind, text, related name and date; purchases by their reference (`external_id`:
the same reference with the same customer, moment, amount and currency is left
as it is, product and quantity included; with a different customer, moment,
amount or currency the row is rejected).
"""

from __future__ import annotations

import codecs
import csv
import functools
import itertools
import logging
import multiprocessing
import os
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from tendero.accounts.models import User
from tendero.bulk import AuditRow, CopyText, copy_audit_entries, insert_rows
from tendero.core import processes
from tendero.core.spreadsheets import restore_cell
from tendero.customers import services
from tendero.customers.errors import CustomerError, InvalidCustomerData, NotAllowed
from tendero.customers.models import (
    AccountExecutiveAssignment,
    AcquisitionSource,
    Contact,
    Customer,
    CustomerEmail,
    CustomerKind,
    CustomerPhone,
    FactKind,
    ImportJob,
    ImportKind,
    ImportRowError,
    ImportStatus,
    LifecycleStage,
    PersonalFact,
    RelationKind,
    SearchToken,
    Tag,
)
from tendero.customers.search import name_key, tokens_from
from tendero.privacy.models import AuditEntry

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
PREVIEW_ROWS = 10
_SNIFF_BYTES = 64 * 1024
_CHUNK_BYTES = 1024 * 1024


class UnusableFile(CustomerError):
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
_LIST_FIELDS = frozenset({"emails", "phones", "tags"})

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
        if target and (target not in taken or target in _LIST_FIELDS):
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
    for name in sorted({f for f in mapped if mapped.count(f) > 1} - _LIST_FIELDS):
        problems.append(_("Several columns are mapped to %(field)s.") % {"field": name})
    return problems


def _check_can_import(by: User) -> None:
    if not (by.has_perm("customers.import_data") and by.has_perm("customers.view_importjob")):
        raise NotAllowed(_("You do not have permission to import data."))


def create_job(
    by: User,
    kind: str,
    path: Path,
    original_name: str,
    *,
    overrides: Mapping[str, str] | None = None,
    dry_run: bool = False,
    encoding: str = "",
    delimiter: str = "",
) -> ImportJob:
    """Record an import of the file at `path`: its shape and the mapping recognised from
    its headers, corrected by `overrides` (header -> field).

    Raises NotAllowed, UnusableFile (unknown format, no header, unknown field,
    a header in `overrides` that the file does not have).
    """
    _check_can_import(by)
    if kind not in ImportKind.values:
        raise UnusableFile(_("Unknown kind of import “%(kind)s”.") % {"kind": kind})
    shape = inspect_file(path, original_name, encoding=encoding, delimiter=delimiter)
    mapping = recognise_headers(shape.headers, kind)
    for header, name in (overrides or {}).items():
        if header not in mapping:
            matches = [h for h in mapping if normalise_header(h) == normalise_header(header)]
            if not matches:
                raise UnusableFile(
                    _("The file has no column “%(header)s”; its columns are: %(headers)s.")
                    % {"header": header, "headers": ", ".join(shape.headers)}
                )
            header = matches[0]
        mapping[header] = field_name(kind, name)
    return ImportJob.objects.create(
        kind=kind,
        status=ImportStatus.UPLOADED,
        original_name=original_name[:255] or path.name[:255],
        stored_path=str(path),
        file_format=shape.file_format,
        encoding=shape.encoding,
        delimiter=shape.delimiter,
        headers=shape.headers,
        mapping=mapping,
        dry_run=dry_run,
        created_by=by,
    )


def store_upload(chunks: Iterator[bytes], original_name: str) -> Path:
    """Save an uploaded file under UPLOADS_DIR with a random name (never served)."""
    directory = Path(settings.UPLOADS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if original_name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    path = directory / f"import-{secrets.token_hex(16)}{suffix}"
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return path


def set_mapping(by: User, job: ImportJob, mapping: Mapping[str, str]) -> ImportJob:
    """Replace the job's column mapping (header -> field, \"\" to ignore a column).

    Raises NotAllowed, UnusableFile (unknown header or field, unusable mapping),
    InvalidCustomerData if the job is already running or done.
    """
    _check_can_import(by)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        raise InvalidCustomerData(_("This import has already run."))
    clean = {header: "" for header in job.headers}
    for header, name in mapping.items():
        if header not in clean:
            raise UnusableFile(_("The file has no column “%(header)s”.") % {"header": header})
        clean[header] = field_name(job.kind, name)
    problems = mapping_problems(job.kind, clean)
    if problems:
        raise UnusableFile(" ".join(problems), {"mapping": problems})
    job.mapping = clean
    job.save(update_fields=["mapping"])
    return job


def job_shape(job: ImportJob) -> FileShape:
    return FileShape(job.file_format, job.encoding, job.delimiter, list(job.headers))


def preview_rows(job: ImportJob, limit: int = PREVIEW_ROWS) -> list[list[str]]:
    """The first rows of the file, one cell per header, for the mapping step."""
    width = len(job.headers)
    rows = itertools.islice(iter_data_rows(Path(job.stored_path), job_shape(job)), limit)
    return [(cells + [""] * width)[:width] for _number, cells in rows]


def unknown_columns(job: ImportJob) -> list[str]:
    return [header for header in job.headers if header and not job.mapping.get(header)]


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
            from tendero.customers.forms import LANGUAGE_CHOICES

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
def _translate(kind: str, value: str) -> str:
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


def _boolean(value: str) -> bool | str:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value  # the service refuses it with its own message


def _row_fields(columns: list[str], cells: list[str]) -> dict[str, Any]:
    """field -> text (list fields: every value of every column mapped to them)."""
    values: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=False):
        if not name:
            continue
        # A file Tendero exported has its formula-like cells quoted ('=...): unquoted.
        text = restore_cell(cell.strip())
        if name in _LIST_FIELDS:
            if text:
                values.setdefault(name, []).extend(_split_list(text))
        elif text and not values.get(name):
            values[name] = text
    return values


def _customer_input(fields: dict[str, Any]) -> dict[str, Any]:
    data = dict(fields)
    data.pop("id", None)
    if "kind" in data:
        data["kind"] = _translate("kind", data["kind"])
    if "lifecycle_stage" in data:
        data["lifecycle_stage"] = _translate("lifecycle_stage", data["lifecycle_stage"])
    if "acquisition_source" in data:
        data["acquisition_source"] = _translate("acquisition_source", data["acquisition_source"])
    if "country" in data:
        data["country"] = _country(data["country"])
    if "language" in data:
        data["language"] = _translate("language", data["language"])
    return data


# Running an import


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    processed: int = 0
    touched_customers: list[int] = field(default_factory=list)


class _Run:
    """State shared by the batches of one run."""

    def __init__(self, job: ImportJob, by: User) -> None:
        self.job = job
        self.by = by
        self.dry_run = job.dry_run
        self.columns = [job.mapping.get(h, "") for h in job.headers]
        self.headers = list(job.headers)
        self.seen_keys: set[str] = set()
        self.outcome = Outcome()
        self.now = timezone.now()
        self.pool: Executor | None = None

    def raw(self, cells: list[str]) -> dict[str, str]:
        raw = {}
        for index, cell in enumerate(cells):
            header = self.headers[index] if index < len(self.headers) else f"#{index + 1}"
            if cell.strip() or index < len(self.headers):
                # PostgreSQL's JSON cannot hold NUL characters.
                raw[header or f"#{index + 1}"] = cell.replace("\x00", "")
        return raw

    def row_error(self, number: int, cells: list[str], errors: Any) -> ImportRowError:
        return ImportRowError(
            job_id=self.job.pk,
            row_number=number,
            errors={k: [str(m).replace("\x00", "") for m in v] for k, v in errors.items()},
            values=self.raw(cells),
        )

    def reject(
        self, errors_out: list[ImportRowError], number: int, cells: list[str], errors: Any
    ) -> None:
        errors_out.append(self.row_error(number, cells, errors))
        self.outcome.rejected += 1


def run_import(
    job: ImportJob,
    by: User,
    progress: Callable[[ImportJob], None] | None = None,
    *,
    parallel: bool = False,
) -> ImportJob:
    """Read the job's file and import (or, for a dry run, only validate) every row,
    batch by batch; record every rejected row. Counters and status are saved on the
    job after each batch so that pages can show progress.

    `parallel`: a large customers file's rows are cleaned in forked worker processes
    while this one writes (for the command line: forking a threaded server or task
    worker is best avoided). The outcome is the same either way.

    Raises NotAllowed, UnusableFile (the mapping is not usable); any other failure
    marks the job failed (with a message) and is raised again. Batches written before
    a failure stay written; running the same file again completes the import.
    """
    _check_can_import(by)
    problems = mapping_problems(job.kind, job.mapping)
    if problems:
        raise UnusableFile(" ".join(problems), {"mapping": problems})
    needs: tuple[str, ...] = {
        "customers": ("customers.add_customer", "customers.change_customer")
    }.get(job.kind, ("customers.add_contact", "customers.change_contact"))
    if job.kind == ImportKind.FACTS:
        needs = ("customers.add_personalfact",)
    if job.kind == ImportKind.PURCHASES:
        needs = ("contracts.add_purchase",)
    for permission in needs:
        services._require(by, permission)
    fail_abandoned_jobs()
    path = Path(job.stored_path)
    shape = job_shape(job)
    ImportRowError.objects.filter(job=job).delete()
    job.total_rows = job.processed_rows = job.created_count = job.updated_count = 0
    job.unchanged_count = job.error_count = 0
    job.status = ImportStatus.RUNNING
    job.started_at = timezone.now()
    job.finished_at = job.abandoned_at = None
    job.message = ""
    runner = processes.this_process()
    job.runner_pid, job.runner_host = runner.pid, runner.host
    job.runner_started_at = runner.started_at
    job.save()
    run = _Run(job, by)
    write_batch = {
        ImportKind.CUSTOMERS: _customer_batch,
        ImportKind.CONTACTS: _contact_batch,
        ImportKind.FACTS: _fact_batch,
        ImportKind.PURCHASES: _purchase_batch,
    }[ImportKind(job.kind)]
    first_row = 2
    try:
        job.total_rows = count_data_rows(path, shape)
        job.save(update_fields=["total_rows"])
        run.pool = _worker_pool(job) if parallel else None
        rows = iter_data_rows(path, shape)
        for batch, write in _batches(run, rows, write_batch):
            first_row = batch[0][0]
            with transaction.atomic():
                errors: list[ImportRowError] = []
                touched = write(errors)
                ImportRowError.objects.bulk_create(errors)
                run.outcome.processed += len(batch)
                _save_progress(job, run.outcome)
            if touched and not run.dry_run:
                _index_for_search(touched)
            if progress is not None:
                progress(job)
    except Exception as exc:
        logger.exception("Import %s failed", job.pk)
        job.status = ImportStatus.FAILED
        job.message = (
            _(
                "The import stopped in the rows from %(row)d on (rows before them were "
                "imported; running the same file again completes it): %(error)s"
            )
            % {"row": first_row, "error": exc}
        )[:500]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        raise
    finally:
        if run.pool is not None:
            run.pool.shutdown(cancel_futures=True)
            run.pool = None
    job.status = ImportStatus.PREVIEWED if run.dry_run else ImportStatus.DONE
    job.finished_at = timezone.now()
    if (
        job.kind == ImportKind.CUSTOMERS
        and job.mapping
        and "external_id" not in job.mapping.values()
    ):
        job.message = _(
            "No column is an external id: importing this file again would create "
            "these customers again."
        )
    elif (
        job.kind == ImportKind.PURCHASES
        and job.mapping
        and "external_id" not in job.mapping.values()
    ):
        job.message = _(
            "No column is a reference (ticket, invoice or order number): importing this "
            "file again would record these purchases again."
        )
    job.save(update_fields=["status", "finished_at", "message"])
    logger.info(
        "Import %s (%s, %s) by %s: %d created, %d updated, %d unchanged, %d rejected%s",
        job.pk,
        job.kind,
        job.original_name,
        by.username,
        job.created_count,
        job.updated_count,
        job.unchanged_count,
        job.error_count,
        " (dry run)" if run.dry_run else "",
    )
    return job


def _batches(
    run: _Run,
    rows: Iterator[tuple[int, list[str]]],
    write_batch: Callable[[_Run, list[tuple[int, list[str]]], list[ImportRowError]], list[int]],
) -> Iterator[tuple[list[tuple[int, list[str]]], Callable[[list[ImportRowError]], list[int]]]]:
    """(batch, function writing it given the list for its rejected rows) for every batch."""
    if run.pool is not None and write_batch is _customer_batch and "id" not in run.columns:
        yield from _customers_ahead(run, rows)
        return
    while batch := list(itertools.islice(rows, BATCH_SIZE)):
        yield batch, functools.partial(write_batch, run, batch)


def _worker_pool(job: ImportJob) -> Executor | None:
    """Processes to clean a large customers file's rows in, or None to clean them here.

    They are forked (they need no setup: about 0.1 s for two, where spawned ones take
    seconds, each setting Django up) once this process's database connections are
    closed (reconnecting takes milliseconds), so that none of them holds a connection
    of this one: a worker outliving this process would keep its session open, in its
    transaction, with its locks. And they end when this process ends, even killed
    (processes.die_with_parent). A connection in a transaction cannot be closed:
    inside one, the rows are cleaned here.
    """
    cpus = WORKERS or os.cpu_count() or 1
    if (
        job.kind != ImportKind.CUSTOMERS
        or job.total_rows < PARALLEL_MIN_ROWS
        or (cpus < 2 and not WORKERS)
        or "fork" not in multiprocessing.get_all_start_methods()
        or any(c.in_atomic_block for c in connections.all(initialized_only=True))
    ):
        return None
    _close_connections()
    pool = ProcessPoolExecutor(
        cpus,
        mp_context=multiprocessing.get_context("fork"),
        initializer=processes.die_with_parent,
        initargs=(os.getpid(),),
    )
    # With fork, the first task forks every worker (none is forked later): now, while
    # no connection is open. The next query opens one again.
    pool.submit(int)
    return pool


def _close_connections() -> None:
    """Close this process's database connections, pooled ones included."""
    for database in connections.all(initialized_only=True):
        database.close()  # a pooled connection goes back to its pool, still open
        if database.vendor == "postgresql" and database.settings_dict["OPTIONS"].get("pool"):
            database.close_pool()  # type: ignore[attr-defined]


def _save_progress(job: ImportJob, outcome: Outcome) -> None:
    job.processed_rows = outcome.processed
    job.created_count = outcome.created
    job.updated_count = outcome.updated
    job.unchanged_count = outcome.unchanged
    job.error_count = outcome.rejected
    job.save(
        update_fields=[
            "processed_rows",
            "created_count",
            "updated_count",
            "unchanged_count",
            "error_count",
        ]
    )


def _index_for_search(customer_ids: list[int]) -> None:
    from tendero.customers.search import index_customers

    index_customers(customer_ids)


def fail_if_abandoned(job: ImportJob) -> ImportJob:
    """Mark the job failed if it is recorded as running in a process of this host that
    has ended (killed, say): its page and the API then say why (`outcome_message`),
    and it can be run again. Returns the job, as it now is. A job running in a live
    process, or in one of another host (which cannot be checked from here), is left
    as it is; so is one that was changed meanwhile."""
    if job.status != ImportStatus.RUNNING or job.runner_pid is None:
        return job
    if job.runner_host != processes.host_name() or processes.is_alive(
        job.runner_pid, job.runner_started_at
    ):
        return job
    now = timezone.now()
    marked = ImportJob.objects.filter(
        pk=job.pk,
        status=ImportStatus.RUNNING,
        runner_pid=job.runner_pid,
        runner_host=job.runner_host,
        runner_started_at=job.runner_started_at,
    ).update(status=ImportStatus.FAILED, finished_at=now, abandoned_at=now)
    if not marked:
        job.refresh_from_db()
        return job
    job.status, job.finished_at, job.abandoned_at = ImportStatus.FAILED, now, now
    logger.warning(
        "Import %s was running in process %s on %s, which has ended: marked failed "
        "after %d of %d rows",
        job.pk,
        job.runner_pid,
        job.runner_host,
        job.processed_rows,
        job.total_rows,
    )
    return job


def fail_abandoned_jobs() -> int:
    """Mark failed every job recorded as running in a process of this host that has
    ended (see fail_if_abandoned); returns how many were."""
    running = ImportJob.objects.filter(
        status=ImportStatus.RUNNING, runner_host=processes.host_name()
    )
    return sum(fail_if_abandoned(job).abandoned_at is not None for job in running)


def start_run(by: User, job: ImportJob, *, dry_run: bool) -> ImportJob:
    """Queue the job to run (for real or as a dry run). Raises NotAllowed, UnusableFile,
    InvalidCustomerData if it is running or done already."""
    _check_can_import(by)
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED, ImportStatus.FAILED):
        raise InvalidCustomerData(_("This import has already run."))
    problems = mapping_problems(job.kind, job.mapping)
    if problems:
        raise UnusableFile(" ".join(problems), {"mapping": problems})
    job.dry_run = dry_run
    job.status = ImportStatus.QUEUED
    job.save(update_fields=["dry_run", "status"])
    return job


# Customers


def _customer_batch(
    run: _Run, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    return _finish_customers(run, _prepare_customers(run, batch), errors)


@dataclass
class _PreparedCustomers:
    """A batch of customer rows looked up and checked, being cleaned."""

    rejected: list[ImportRowError]
    todo: list[tuple[int, list[str], Customer | None]]
    results: Callable[[], list[_NewCustomer | _Rejected]]
    lists: dict[int, dict[str, list[str]]]
    known_tags: dict[str, int]
    may_add_tags: bool


def _prepare_customers(run: _Run, batch: list[tuple[int, list[str]]]) -> _PreparedCustomers:
    """Look the batch's customers up, make the checks that need no cleaning (in file
    order: they decide which row of a repeated key counts) and start cleaning the other
    rows (in worker processes for a large file)."""
    by = run.by
    parsed = [(number, cells, _row_fields(run.columns, cells)) for number, cells in batch]
    keys = {f["external_id"] for _n, _c, f in parsed if f.get("external_id")}
    ids = set()
    for _n, _c, f in parsed:
        if f.get("id") and not f.get("external_id") and str(f["id"]).isdigit():
            ids.add(int(f["id"]))
    # Plain customers, and their emails, phones and tags as plain values (one query
    # each): prefetching would build a model object for every email, phone and tag.
    by_key = {c.external_id: c for c in _customers_by_key(keys)}
    by_id = {c.pk: c for c in Customer.objects.filter(pk__in=ids)} if ids else {}
    lists = _current_lists([c.pk for c in [*by_key.values(), *by_id.values()]])
    see_all = by.has_perm("customers.view_all_customers")
    visible_ids: set[int] = set()
    if not see_all:
        candidates = [c.pk for c in [*by_key.values(), *by_id.values()]]
        visible_ids = set(
            Customer.objects.visible_to(by).filter(pk__in=candidates).values_list("pk", flat=True)
        )
    tag_names = {name for _n, _c, f in parsed for name in f.get("tags", [])}

    rejected: list[ImportRowError] = []
    todo: list[tuple[int, list[str], Customer | None]] = []
    inputs: list[tuple[dict[str, Any], Customer | None]] = []
    for number, cells, fields in parsed:
        key = fields.get("external_id", "")
        current: Customer | None = None
        if key:
            if key in run.seen_keys:
                rejected.append(run.row_error(number, cells, {"external_id": [
                    _("“%(id)s” appears earlier in this file; only the first row is imported.")
                    % {"id": key}]}))  # fmt: skip
                continue
            run.seen_keys.add(key)
            current = by_key.get(key)
        elif fields.get("id"):
            raw_id = str(fields["id"])
            current = by_id.get(int(raw_id)) if raw_id.isdigit() else None
            if current is None or raw_id in run.seen_keys:
                rejected.append(run.row_error(number, cells, {"id": [_("No such customer.")]}))
                continue
            run.seen_keys.add(raw_id)
        if current is not None and not see_all and current.pk not in visible_ids:
            # As any clash of keys, or an unknown id: nothing about whose customer it is.
            unusable = (
                {"external_id": [services.external_id_taken()]}
                if key
                else {"id": [_("No such customer.")]}
            )
            rejected.append(run.row_error(number, cells, unusable))
            continue
        todo.append((number, cells, current))
        inputs.append((fields, current))
    return _PreparedCustomers(
        rejected,
        todo,
        _clean_all(run, inputs),
        lists,
        _known_tags(tag_names),
        by.has_perm("customers.add_tag"),
    )


def _finish_customers(
    run: _Run, prepared: _PreparedCustomers, errors: list[ImportRowError]
) -> list[int]:
    """Decide each row's outcome from its cleaned values, and write the batch."""
    known_tags = prepared.known_tags
    rejected = prepared.rejected
    new: list[_NewCustomer] = []
    changed: list[tuple[Customer, dict[str, Any], dict[str, tuple[Any, Any]]]] = []
    for (number, cells, current), result in zip(prepared.todo, prepared.results(), strict=True):
        if isinstance(result, _Rejected):
            rejected.append(run.row_error(number, cells, result.field_errors))
            continue
        clean = result.clean
        if not prepared.may_add_tags:
            unknown = [t for t in clean.get("tags", []) if t.lower() not in known_tags]
            if unknown:
                rejected.append(run.row_error(number, cells, {"tags": [
                    _("“%(name)s” does not exist.") % {"name": unknown[0]}]}))  # fmt: skip
                continue
        if current is None:
            new.append(result)
            continue
        differences = _customer_differences(current, clean, prepared.lists.get(current.pk))
        if differences:
            changed.append((current, clean, differences))
        else:
            run.outcome.unchanged += 1
    errors += sorted(rejected, key=lambda e: e.row_number)
    run.outcome.rejected += len(rejected)
    run.outcome.created += len(new)
    run.outcome.updated += len(changed)
    if run.dry_run or not (new or changed):
        return []
    return _write_customers(run, new, changed, known_tags)


def _customers_ahead(
    run: _Run, rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[list[tuple[int, list[str]]], Callable[[list[ImportRowError]], list[int]]]]:
    """Batches of customer rows, each prepared (and its cleaning started) before the
    one before it is written: the worker processes clean while the database writes.

    Only when the rows are matched by external id alone: a row of the next batch can
    then not be about a customer the batch before writes (its key would have been
    seen), so looking it up before that batch is written finds what it would after.
    """
    batch = list(itertools.islice(rows, BATCH_SIZE))
    prepared = _prepare_customers(run, batch) if batch else None
    while batch and prepared is not None:
        following = list(itertools.islice(rows, BATCH_SIZE))
        prepared_next = _prepare_customers(run, following) if following else None
        yield batch, functools.partial(_finish_customers, run, prepared)
        batch, prepared = following, prepared_next


@dataclass
class _NewCustomer:
    """A row cleaned by the services' rules, with what a new customer needs besides."""

    clean: dict[str, Any]
    name_key: str = ""
    tokens: list[str] = field(default_factory=list)
    pk: int = 0


@dataclass
class _Rejected:
    field_errors: dict[str, list[str]]


# Rows a worker process cleans at a time, and the fewest rows worth a pool.
CLEAN_CHUNK = 1_000
PARALLEL_MIN_ROWS = 20_000
WORKERS = 0  # 0: one per CPU


def _clean_rows(
    inputs: list[tuple[dict[str, Any], Customer | None]],
) -> list[_NewCustomer | _Rejected]:
    """Turn each row's fields into service input and clean it with
    `services._clean_customer` (what creating or updating a customer runs); for a new
    customer, compute its name key and search tokens too. Pure: runs in worker
    processes as well as in this one."""
    results: list[_NewCustomer | _Rejected] = []
    for fields, current in inputs:
        data = _customer_input(fields)
        if current is None:
            data.setdefault("kind", CustomerKind.PERSON)
        try:
            clean = services._clean_customer(data, current)
        except InvalidCustomerData as exc:
            results.append(_Rejected(exc.field_errors))
            continue
        result = _NewCustomer(clean)
        if current is None:
            result.name_key = name_key(clean.get("display_name", ""))
            result.tokens = sorted(
                tokens_from(
                    display_name=clean.get("display_name", ""),
                    preferred_name=clean.get("preferred_name", ""),
                    tax_id=clean.get("tax_id", ""),
                    emails=clean.get("emails", []),
                    phones=clean.get("phones", []),
                )
            )
        results.append(result)
    return results


def _clean_all(
    run: _Run, inputs: list[tuple[dict[str, Any], Customer | None]]
) -> Callable[[], list[_NewCustomer | _Rejected]]:
    """Start cleaning the rows; the function returned waits for and returns the results.

    With a pool, the rows of new customers are cleaned (and tokenised) in the worker
    processes; the rows of existing ones here, when the results are asked for: sending
    a customer to a worker costs about as much as cleaning its row.
    """
    fresh = [i for i, (_fields, current) in enumerate(inputs) if current is None]
    if run.pool is None or len(fresh) <= CLEAN_CHUNK:
        return functools.partial(_clean_rows, inputs)
    pool = run.pool
    futures = [
        pool.submit(_clean_rows, [inputs[i] for i in fresh[start : start + CLEAN_CHUNK]])
        for start in range(0, len(fresh), CLEAN_CHUNK)
    ]

    def results() -> list[_NewCustomer | _Rejected]:
        fresh_set = set(fresh)
        known = [row for i, row in enumerate(inputs) if i not in fresh_set]
        found: list[_NewCustomer | _Rejected | None] = [None] * len(inputs)
        for i, result in zip(
            [i for i in range(len(inputs)) if i not in fresh_set], _clean_rows(known), strict=True
        ):
            found[i] = result
        for i, result in zip(
            fresh, [r for future in futures for r in future.result()], strict=True
        ):
            found[i] = result
        return [result for result in found if result is not None]

    return results


def _known_tags(names: set[str]) -> dict[str, int]:
    """lower-case name -> tag id, for the tags that exist among `names`."""
    if not names:
        return {}
    lowered = {n.lower() for n in names}
    return {
        name.lower(): pk
        for pk, name in Tag.objects.annotate(lowered=Lower("name"))
        .filter(lowered__in=lowered)
        .values_list("pk", "name")
    }


def _customers_by_key(keys: set[str]) -> Iterable[Customer]:
    """The customers with these external ids. On PostgreSQL the keys go as one array
    (thousands of parameters cost more to send than to look up), and the condition on
    the empty key lets the partial unique index serve."""
    if not keys:
        return []
    if connection.vendor != "postgresql":
        return Customer.objects.filter(external_id__in=keys)
    table = connection.ops.quote_name(Customer._meta.db_table)
    # Identifiers from the models' meta, quoted; the values are parameters.
    sql = f"SELECT * FROM {table} WHERE external_id = ANY(%s) AND NOT external_id = ''"  # noqa: S608
    return Customer.objects.raw(sql, [sorted(keys)])


def _current_lists(customer_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    """customer id -> its emails and phones (in their order) and tag names (sorted)."""
    found: dict[int, dict[str, list[str]]] = {
        pk: {"emails": [], "phones": [], "tags": []} for pk in customer_ids
    }
    if not customer_ids:
        return found
    if connection.vendor == "postgresql":
        _current_lists_by_array(customer_ids, found)
        return found
    for model, name, column in (
        (CustomerEmail, "emails", "address"),
        (CustomerPhone, "phones", "number"),
    ):
        rows = (
            model.objects.filter(customer_id__in=customer_ids)
            .order_by("customer_id", "position", "id")
            .values_list("customer_id", column)
        )
        for customer_id, value in rows:
            found[customer_id][name].append(value)
    links = Customer.tags.through.objects.filter(customer_id__in=customer_ids)
    for customer_id, tag in links.values_list("customer_id", "tag__name"):
        found[customer_id]["tags"].append(tag)
    for lists in found.values():
        lists["tags"].sort()
    return found


def _current_lists_by_array(
    customer_ids: list[int], found: dict[int, dict[str, list[str]]]
) -> None:
    """_current_lists on PostgreSQL: the ids as one array parameter."""
    quote = connection.ops.quote_name
    through = Customer.tags.through._meta
    # Identifiers from the models' meta, quoted; the ids are one parameter.
    emails, phones = quote(CustomerEmail._meta.db_table), quote(CustomerPhone._meta.db_table)
    links, tags = quote(through.db_table), quote(Tag._meta.db_table)
    order = "WHERE customer_id = ANY(%s) ORDER BY customer_id, position, id"
    queries = [
        ("emails", f"SELECT customer_id, address FROM {emails} {order}"),  # noqa: S608
        ("phones", f"SELECT customer_id, number FROM {phones} {order}"),  # noqa: S608
        (
            "tags",
            f"SELECT link.customer_id, tag.name FROM {links} link "  # noqa: S608
            f"JOIN {tags} tag ON tag.id = link.tag_id WHERE link.customer_id = ANY(%s)",
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in queries:
            cursor.execute(sql, [customer_ids])
            for customer_id, value in cursor.fetchall():
                found[customer_id][name].append(value)
    for lists in found.values():
        lists["tags"].sort()


def _customer_differences(
    customer: Customer, clean: dict[str, Any], lists: dict[str, list[str]] | None = None
) -> dict[str, tuple[Any, Any]]:
    if lists is None:
        lists = _current_lists([customer.pk])[customer.pk]
    differences: dict[str, tuple[Any, Any]] = {}
    for name, value in clean.items():
        if name in ("emails", "phones"):
            if value != lists[name]:
                differences[name] = (lists[name], value)
        elif name == "tags":
            if {v.lower() for v in value} != {t.lower() for t in lists["tags"]}:
                differences[name] = (lists["tags"], sorted(value))
        else:
            before = getattr(customer, name)
            before = str(before or "") if name == "country" else before
            if before != value:
                differences[name] = (before, value)
    return differences


def _text(value: Any) -> str:
    if type(value) is str:  # most values: the same as below, sooner
        return value or "None"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "None" if value in (None, "") else str(value)


def _write_customers(
    run: _Run,
    new: list[_NewCustomer],
    changed: list[tuple[Customer, dict[str, Any], dict[str, tuple[Any, Any]]]],
    known_tags: dict[str, int],
) -> list[int]:
    """Write one batch: a fixed number of queries, however many rows."""
    by, now = run.by, run.now
    wanted_tags = {t for n in new for t in n.clean.get("tags", [])} | {
        t for _c, clean, d in changed if "tags" in d for t in clean["tags"]
    }
    missing = {t.lower(): t for t in wanted_tags if t.lower() not in known_tags}
    if missing:
        Tag.objects.bulk_create([Tag(name=n) for n in missing.values()], ignore_conflicts=True)
        known_tags = {**known_tags, **_known_tags(set(missing.values()))}
    executive = None if by.has_perm("customers.view_all_customers") else by
    _insert_customers(new, executive, now)
    emails: list[tuple[int, str, int]] = []
    phones: list[tuple[int, str, int]] = []
    tag_links: list[tuple[int, int]] = []
    through = Customer.tags.through
    for row in new:
        emails += [(row.pk, a, i) for i, a in enumerate(row.clean.get("emails", []))]
        phones += [(row.pk, n, i) for i, n in enumerate(row.clean.get("phones", []))]
        tag_links += [(row.pk, known_tags[t.lower()]) for t in row.clean.get("tags", [])]
    update_fields: set[str] = set()
    replaced: dict[str, list[int]] = {"emails": [], "phones": [], "tags": []}
    for customer, clean, differences in changed:
        for name in differences:
            if name in _LIST_FIELDS:
                replaced[name].append(customer.pk)
            else:
                setattr(customer, name, clean[name])
                update_fields.add(name)
                if name == "display_name":
                    customer.name_key = name_key(customer.display_name)
                    update_fields.add("name_key")
        customer.version += 1
        customer.updated_at = now
        if "emails" in differences:
            emails += [(customer.pk, a, i) for i, a in enumerate(clean["emails"])]
        if "phones" in differences:
            phones += [(customer.pk, n, i) for i, n in enumerate(clean["phones"])]
        if "tags" in differences:
            tag_links += [(customer.pk, known_tags[t.lower()]) for t in clean["tags"]]
    if changed:
        Customer.objects.bulk_update(
            [c for c, _clean, _d in changed], [*sorted(update_fields), "version", "updated_at"]
        )
    # Raw deletes: the audit entries below record these changes once per customer
    # rather than once per email (and signals would cost a query per row).
    for model, name in ((CustomerEmail, "emails"), (CustomerPhone, "phones"), (through, "tags")):
        if replaced[name]:
            doomed = model.objects.filter(customer_id__in=replaced[name])
            doomed._raw_delete(doomed.db)
    insert_rows(CustomerEmail, ["customer_id", "address", "position"], emails)
    insert_rows(CustomerPhone, ["customer_id", "number", "position"], phones)
    insert_rows(through, ["customer_id", "tag_id"], tag_links)
    if executive is not None:
        AccountExecutiveAssignment.objects.bulk_create(
            [
                AccountExecutiveAssignment(
                    customer_id=row.pk,
                    user=executive,
                    started_at=now,
                    assigned_by=by,
                    reason=_("Imported"),
                )
                for row in new
            ]
        )
    entries = []
    for row in new:
        changes = {name: ["None", _text(value)] for name, value in row.clean.items() if value}
        entries.append(
            (row.pk, row.clean.get("display_name", ""), AuditEntry.Action.CREATE, changes)
        )
    for customer, _clean, differences in changed:
        changes = {name: [_text(b), _text(a)] for name, (b, a) in differences.items()}
        entries.append((customer.pk, str(customer), AuditEntry.Action.UPDATE, changes))
    _insert_audit_entries(entries, run)
    # New customers are indexed for search here, in the batch's transaction (they have
    # no tokens and no contacts yet); changed ones are re-indexed after the batch.
    insert_rows(
        SearchToken,
        ["customer_id", "token"],
        [(row.pk, token) for row in new for token in row.tokens],
    )
    return [c.pk for c, _clean, _d in changed]


def _insert_customers(new: list[_NewCustomer], executive: User | None, now: datetime) -> None:
    """Insert the new customers and set their ids. On PostgreSQL: ids from the table's
    sequence in one query, then COPY of plain rows: every column as a new Customer()
    would have it, with the cleaned values, name key, executive and times set."""
    if not new:
        return
    if connection.vendor != "postgresql":
        customers = []
        for row in new:
            customer = Customer(**{k: v for k, v in row.clean.items() if k not in _LIST_FIELDS})
            customer.account_executive = executive
            customer.created_at = customer.updated_at = now
            # Set here so that indexing for search finds nothing more to write on the row.
            customer.name_key = row.name_key
            customers.append(customer)
        Customer.objects.bulk_create(customers)
        for row, customer in zip(new, customers, strict=True):
            row.pk = customer.pk
        return
    template = Customer(account_executive=executive, created_at=now, updated_at=now)
    fields = list(Customer._meta.concrete_fields)
    real = connections[DEFAULT_DB_ALIAS]
    defaults = [f.get_db_prep_save(getattr(template, f.attname), real) for f in fields]
    position = {f.attname: i for i, f in enumerate(fields)}
    prepare = {f.attname: f.get_db_prep_save for f in fields}
    pk_at, name_key_at = position["id"], position["name_key"]
    quote = connection.ops.quote_name
    table = Customer._meta.db_table
    names = ", ".join(quote(f.column or f.attname) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, Customer._meta.pk.column, len(new)],
        )
        for row, (pk,) in zip(new, cursor.fetchall(), strict=True):
            row.pk = pk
        text = CopyText(cursor.cursor)
        common = [text(value) for value in defaults]
        lines = []
        for row in new:
            values = list(common)
            values[pk_at] = str(row.pk)
            values[name_key_at] = text(row.name_key)
            for name, value in row.clean.items():
                if name not in _LIST_FIELDS:
                    # Cleaned values are text, which CharField's preparation returns as
                    # it is; anything else goes through the field.
                    values[position[name]] = text(
                        value if type(value) is str else prepare[name](value, real)
                    )
            lines.append("\t".join(values))
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")


def _insert_audit_entries(entries: list[tuple[int, str, int, dict[str, Any]]], run: _Run) -> None:
    """One AuditEntry per (customer id, its name, action, changes)."""
    if not entries:
        return
    content_type = ContentType.objects.get_for_model(Customer)
    template = _audit_entry(content_type, 0, "", AuditEntry.Action.CREATE, {}, run)
    copy_audit_entries(
        template,
        (
            AuditRow(pk, pk, name, changes, {"customer_id": pk, "import_job": run.job.pk}, action)
            for pk, name, action, changes in entries
        ),
    )


def _audit_entry(
    content_type: ContentType, pk: int, name: str, action: int, changes: dict[str, Any], run: _Run
) -> AuditEntry:
    return AuditEntry(
        content_type=content_type,
        object_pk=str(pk),
        object_id=pk,
        object_repr=name[:500],
        action=action,
        changes=changes,
        changes_text="",
        actor=run.by,
        actor_email=run.by.email or "",
        timestamp=run.now,
        additional_data={"customer_id": pk, "import_job": run.job.pk},
        customer_id=pk,
    )


# Contacts


def _customers_for(
    fields_list: list[dict[str, Any]], by: User
) -> tuple[dict[str, Customer], dict[int, Customer]]:
    keys = {f["customer_external_id"] for f in fields_list if f.get("customer_external_id")}
    ids = {int(f["customer_id"]) for f in fields_list if str(f.get("customer_id", "")).isdigit()}
    visible = Customer.objects.visible_to(by)
    by_key = {c.external_id: c for c in visible.filter(external_id__in=keys)} if keys else {}
    by_id = {c.pk: c for c in visible.filter(pk__in=ids)} if ids else {}
    return by_key, by_id


def _customer_of(
    fields: dict[str, Any], by_key: dict[str, Customer], by_id: dict[int, Customer]
) -> Customer | None:
    if fields.get("customer_external_id"):
        return by_key.get(fields["customer_external_id"])
    raw = str(fields.get("customer_id", ""))
    return by_id.get(int(raw)) if raw.isdigit() else None


def _no_customer() -> dict[str, list[str]]:
    return {"customer": [_("No such customer.")]}


def _contact_batch(
    run: _Run, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    parsed = [(number, cells, _row_fields(run.columns, cells)) for number, cells in batch]
    by_key, by_id = _customers_for([f for _n, _c, f in parsed], run.by)
    customer_ids = {c.pk for c in [*by_key.values(), *by_id.values()]}
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids):
        contacts.setdefault(contact.customer_id, []).append(contact)
    touched: list[int] = []
    for number, cells, fields in parsed:
        customer = _customer_of(fields, by_key, by_id)
        if customer is None:
            run.reject(errors, number, cells, _no_customer())
            continue
        if customer.kind != CustomerKind.ORGANISATION:
            run.reject(
                errors, number, cells, {"customer": [_("Only organisations have contacts.")]}
            )
            continue
        data = {k: v for k, v in fields.items() if k in services.CONTACT_FIELDS}
        if "is_primary" in data:
            data["is_primary"] = _boolean(data["is_primary"])
        try:
            clean = services._clean_contact(data, None, str(customer.country or ""))
        except InvalidCustomerData as exc:
            run.reject(errors, number, cells, exc.field_errors)
            continue
        current = _matching_contact(contacts.get(customer.pk, []), clean)
        if current is None:
            run.outcome.created += 1
            if not run.dry_run:
                contact = services.create_contact(run.by, customer, data)
                contacts.setdefault(customer.pk, []).append(contact)
                touched.append(customer.pk)
            else:
                contacts.setdefault(customer.pk, []).append(Contact(customer=customer, **clean))
            continue
        changes = {k: v for k, v in clean.items() if getattr(current, k) != v}
        if not changes:
            run.outcome.unchanged += 1
            continue
        run.outcome.updated += 1
        if not run.dry_run:
            services.update_contact(run.by, current, current.version, changes)
            touched.append(customer.pk)
    return touched


def _matching_contact(candidates: list[Contact], clean: dict[str, Any]) -> Contact | None:
    email = (clean.get("email") or "").lower()
    for contact in candidates:
        if email and contact.email.lower() == email:
            return contact
    if email:
        return None
    name = (clean.get("first_name", "").lower(), clean.get("last_name", "").lower())
    for contact in candidates:
        if (contact.first_name.lower(), contact.last_name.lower()) == name:
            return contact
    return None


# Personal facts


def _fact_batch(
    run: _Run, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    from tendero.customers import knowledge  # written alongside; imported when needed

    parsed = [(number, cells, _row_fields(run.columns, cells)) for number, cells in batch]
    by_key, by_id = _customers_for([f for _n, _c, f in parsed], run.by)
    customer_ids = {c.pk for c in [*by_key.values(), *by_id.values()]}
    contacts: dict[tuple[int, str], Contact] = {}
    for existing in Contact.objects.filter(customer_id__in=customer_ids).exclude(email=""):
        contacts.setdefault((existing.customer_id, existing.email.lower()), existing)
    known: set[tuple[Any, ...]] = set()
    for fact in PersonalFact.objects.filter(customer_id__in=customer_ids, retired_at__isnull=True):
        known.add(_fact_key(fact.customer_id, fact.contact_id, fact.__dict__))
    touched: list[int] = []
    for number, cells, fields in parsed:
        customer = _customer_of(fields, by_key, by_id)
        if customer is None:
            run.reject(errors, number, cells, _no_customer())
            continue
        contact: Contact | None = None
        if fields.get("contact_email"):
            contact = contacts.get((customer.pk, fields["contact_email"].lower()))
            if contact is None:
                run.reject(errors, number, cells, {"contact_email": [_("No such contact.")]})
                continue
        data: dict[str, Any] = {
            k: v for k, v in fields.items() if k in ("text", "related_name", "date")
        }
        data["kind"] = _translate("fact_kind", fields.get("kind", ""))
        if fields.get("relation"):
            data["relation"] = _translate("relation", fields["relation"])
        if "recurs_yearly" in fields:
            data["recurs_yearly"] = fields["recurs_yearly"]
        if contact is not None:
            data["contact_id"] = contact.pk
        try:
            clean = knowledge.clean_fact_data(data, customer, current=None)
        except InvalidCustomerData as exc:
            run.reject(errors, number, cells, exc.field_errors)
            continue
        key = _fact_key(customer.pk, contact.pk if contact else None, clean)
        if key in known:
            run.outcome.unchanged += 1
            continue
        known.add(key)
        run.outcome.created += 1
        if not run.dry_run:
            knowledge.record_fact(run.by, customer, data)
            touched.append(customer.pk)
    return touched


def _fact_key(
    customer_id: int, contact_id: int | None, values: Mapping[str, Any]
) -> tuple[Any, ...]:
    return (
        customer_id,
        contact_id,
        values.get("kind") or "",
        (values.get("text") or "").strip().lower(),
        (values.get("related_name") or "").strip().lower(),
        str(values.get("date") or ""),
    )


# Purchases

_PURCHASE_INPUT = (
    "occurred_at", "amount", "currency", "external_id", "description", "product", "quantity",
)  # fmt: skip


def _sheet_number(text: str) -> Any:
    """A spreadsheet's number cell comes as Python writes a float ("1.125": a decimal
    point, no grouping, no trailing zero), never "one thousand one hundred twenty-five"
    as the same text typed in a Spanish file would be: as a Decimal, which the ledger
    does not second-guess. Text Python would not write ("1.000", "1,5") was typed
    and is left for the ledger to read."""
    try:
        written_by_python = str(float(text)) == text
    except ValueError:
        return text
    return Decimal(text) if written_by_python else text


def _purchase_batch(
    run: _Run, batch: list[tuple[int, list[str]]], errors: list[ImportRowError]
) -> list[int]:
    """Purchases of customers the importing user may see, idempotent by reference: one
    already recorded with the same customer, moment, amount and currency is unchanged;
    with different ones the row is rejected. The batch's good rows are written in one
    go (with their audit entries)."""
    from tendero.contracts import services as ledger
    from tendero.contracts.models import Purchase, PurchaseSource

    parsed = [(number, cells, _row_fields(run.columns, cells)) for number, cells in batch]
    by_key, by_id = _customers_for([f for _n, _c, f in parsed], run.by)
    from_sheet = run.job.file_format == "xlsx"
    cleaned: list[tuple[int, list[str], ledger.NewPurchase]] = []
    for number, cells, fields in parsed:
        customer = _customer_of(fields, by_key, by_id)
        if customer is None:
            run.reject(errors, number, cells, _no_customer())
            continue
        data: dict[str, Any] = {k: fields[k] for k in _PURCHASE_INPUT if k in fields}
        data["source"] = PurchaseSource.IMPORT
        if from_sheet and "quantity" in data:
            data["quantity"] = _sheet_number(data["quantity"])
        try:
            values = ledger.clean_purchase_data(data, customer)
        except InvalidCustomerData as exc:
            run.reject(errors, number, cells, exc.field_errors)
            continue
        cleaned.append((number, cells, ledger.NewPurchase(customer, values)))
    references = {i.values.get("external_id", "") for _n, _c, i in cleaned} - {""}
    known = {p.external_id: p for p in Purchase.objects.filter(external_id__in=references)}
    new: list[ledger.NewPurchase] = []
    for number, cells, item in cleaned:
        reference = item.values.get("external_id", "")
        if reference and reference in run.seen_keys:
            run.reject(errors, number, cells, {"external_id": [
                _("“%(id)s” appears earlier in this file; only the first row is imported.")
                % {"id": reference}]})  # fmt: skip
            continue
        if reference:
            run.seen_keys.add(reference)
        if reference in known:
            if ledger.same_purchase(known[reference], item.customer.pk, item.values):
                run.outcome.unchanged += 1
            else:
                run.reject(errors, number, cells, {"external_id": [ledger.reference_taken()]})
            continue
        new.append(item)
        run.outcome.created += 1
    if new and not run.dry_run:
        ledger.write_purchases(run.by, new)
    # Purchases change nothing customers are searched by: no customer to re-index.
    return []


def rate(job: ImportJob) -> float:
    """Rows per second so far."""
    if not job.started_at:
        return 0.0
    seconds = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
    return job.processed_rows / seconds if seconds > 0 else 0.0


def rejected_rows(job: ImportJob, leading: list[str]) -> Iterator[list[Any]]:
    """The rejected-rows report of `job`: a header (`leading`, the words for the row
    number and its errors, then the file's headers), then each rejected row with its
    number, its errors and its cells as they were read. Write it with
    tendero.core.spreadsheets (csv_lines, CsvWriter), which quotes what a spreadsheet
    would run."""
    yield [*leading, *job.headers]
    rejected = ImportRowError.objects.filter(job=job).order_by("row_number", "id")
    for error in rejected.iterator(chunk_size=2000):
        yield [
            error.row_number,
            format_errors(error.errors),
            *(error.values.get(h, "") for h in job.headers),
        ]


def format_errors(errors: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
