"""Domain errors raised by customer services; the edges turn them into 4xx answers."""

from django.utils.translation import gettext_lazy as _


class CustomerError(Exception):
    """Base class: carries a message a person understands."""

    status = 400

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidCustomerData(CustomerError):
    status = 422


class VersionConflict(CustomerError):
    status = 409

    def __init__(self, current_version: int) -> None:
        super().__init__(
            str(
                _(
                    "Someone else changed this record while you were editing it. "
                    "Nothing was saved: reload to see their changes, then apply yours again."
                )
            )
        )
        self.current_version = current_version


class NotAllowed(CustomerError):
    status = 403
