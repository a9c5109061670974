from django.db import models


class FieldNote(models.Model):
    """A note taken at a customer's premises."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="field_notes"
    )
    noted_at = models.DateTimeField()
    text = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["customer", "noted_at"])]

    def __str__(self) -> str:
        return self.text
