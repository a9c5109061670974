"""Domain errors every service raises; the edges (pages, API, commands) turn them into
4xx answers with the message, and field errors at their fields."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base class: carries a message a person understands, and field errors if any."""

    status = 400

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidData(DomainError):
    status = 422


class VersionConflict(DomainError):
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


class NotAllowed(DomainError):
    status = 403
