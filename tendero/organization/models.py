"""The company's departments: each owns touchpoints with customers and is
accountable for them (interactions are logged against a department)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tendero.core.text import clean_line


class DepartmentQuerySet(models.QuerySet["Department"]):
    def active(self) -> DepartmentQuerySet:
        return self.filter(is_active=True)


class Department(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The name follows tendero.core.text's rule for one-line fields (the admin,
        the only place departments are edited, runs it)."""
        try:
            self.name = clean_line(self.name, 100)
        except ValidationError as error:
            raise ValidationError({"name": error.messages}) from None
