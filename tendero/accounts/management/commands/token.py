"""`tendero token create|list|revoke`: personal API tokens from the command line."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tendero.accounts.models import ApiToken, User
from tendero.accounts.services import AccountError, create_api_token


class Command(BaseCommand):
    help = "Create, list or revoke a user's API tokens. A new token is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a token and print it.")
        create.add_argument("username")
        create.add_argument("--name", default="command line")
        create.add_argument("--expires-days", type=int, default=None)
        listing = sub.add_parser("list", help="List a user's tokens (never their values).")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="Revoke a token by id.")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            updated = ApiToken.objects.filter(
                pk=options["token_id"], revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
            if not updated:
                raise CommandError(f"No active token with id {options['token_id']}.")
            self.stdout.write(f"Revoked token {options['token_id']}.")
            return
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        if action == "list":
            for token in ApiToken.objects.filter(user=user):
                state = (
                    "revoked"
                    if token.revoked_at
                    else ("expired" if token.is_expired() else "active")
                )
                self.stdout.write(f"{token.pk}\t{token.hint}…\t{token.name}\t{state}")
            return
        expires = options["expires_days"]
        if expires is not None and expires <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=expires) if expires else None
        try:
            issued = create_api_token(user, options["name"], expires_at=expires_at)
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
        # The token alone on stdout, so scripts can capture it; the advice on stderr.
        self.stdout.write(issued.raw)
        self.stderr.write("Store it now: Tendero keeps only its hash and cannot show it again.")
