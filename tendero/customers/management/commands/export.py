"""`tendero export customers`: a filtered customer list as CSV or XLSX."""

import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tendero.accounts import roles
from tendero.accounts.models import User
from tendero.core.errors import DomainError
from tendero.customers import exporting
from tendero.customers.models import Customer, CustomerKind, LifecycleStage


def _moment(text: str) -> datetime:
    moment = parse_datetime(text) or parse_datetime(f"{text}T00:00:00")
    if moment is None:
        raise CommandError(f"Not a date or date and time: {text}")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = (
        "Export customers (the API's fields; re-importable) as CSV (UTF-8 with BOM, "
        "comma-separated) or XLSX, filtered like the API list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["customers"])
        parser.add_argument("--format", choices=exporting.FORMATS, default="csv")
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")
        parser.add_argument(
            "--user", default="", help="Export as this user (default: an administrator)."
        )
        parser.add_argument("--q", default="")
        parser.add_argument("--kind", choices=CustomerKind.values)
        parser.add_argument("--lifecycle-stage", choices=LifecycleStage.values)
        parser.add_argument("--relationship-level", type=int, choices=[1, 2, 3, 4])
        parser.add_argument("--account-executive", help="A username.")
        parser.add_argument("--tag")
        parser.add_argument("--country")
        parser.add_argument("--created-after")
        parser.add_argument("--created-before")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"])
        executive_id = None
        if options["account_executive"]:
            executive = User.objects.filter(username=options["account_executive"]).first()
            if executive is None:
                raise CommandError(f"No user “{options['account_executive']}”.")
            executive_id = executive.pk
        filters = {
            "q": options["q"],
            "kind": options["kind"],
            "lifecycle_stage": options["lifecycle_stage"],
            "relationship_level": options["relationship_level"],
            "account_executive_id": executive_id,
            "tag": options["tag"],
            "country": options["country"],
            "created_after": _moment(options["created_after"])
            if options["created_after"]
            else None,
            "created_before": _moment(options["created_before"])
            if options["created_before"]
            else None,
        }
        try:
            queryset = exporting.export_queryset(
                user, Customer.objects.matching(**filters).order_by("display_name", "id")
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        output: Path | None = options["output"]
        if options["format"] == "xlsx":
            handle, count = exporting.write_xlsx(user, queryset, filters)
            if output is None:
                shutil.copyfileobj(handle, sys.stdout.buffer)
            else:
                with output.open("wb") as binary:
                    shutil.copyfileobj(handle, binary)
        else:
            chunks = exporting.csv_chunks(user, queryset, filters)
            count = -1  # the header is not a customer
            if output is None:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                    count += 1
            else:
                with output.open("w", encoding="utf-8", newline="") as text:
                    for chunk in chunks:
                        text.write(chunk)
                        count += 1
        if output is not None:
            self.stderr.write(f"{count:,} customers written to {output}.")

    def _user(self, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user “{username}”.")
            return user
        user = (
            User.objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(groups__name=roles.ADMINISTRATOR))
            .order_by("-is_superuser", "pk")
            .first()
        )
        if user is None:
            raise CommandError("No active superuser or administrator: pass --user USERNAME.")
        return user
