"""`tendero load_demo_data`: Tendero Telecom's users and customers, once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tendero.accounts.roles import ROLE_LABELS
from tendero.customers.demo import DEMO_CUSTOMERS, create_demo_data


class Command(BaseCommand):
    help = "Load the Tendero Telecom demo data (does nothing if it is already there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=DEMO_CUSTOMERS, help="How many customers to create."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logins = create_demo_data(stdout=self.stdout, customers=options["customers"])
        width = max(len(username) for username, _role, _password in logins)
        self.stdout.write("")
        self.stdout.write(f"{'username':<{width}}  {'role':<14}  password")
        for username, role, password in logins:
            self.stdout.write(f"{username:<{width}}  {ROLE_LABELS[role]!s:<14}  {password}")
