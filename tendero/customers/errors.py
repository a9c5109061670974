"""The domain errors customer services raise: the kernel's (tendero.core.errors),
under the names the customer apps have always used."""

from tendero.core.errors import DomainError, InvalidData, NotAllowed, VersionConflict

CustomerError = DomainError
InvalidCustomerData = InvalidData

__all__ = ["CustomerError", "InvalidCustomerData", "NotAllowed", "VersionConflict"]
