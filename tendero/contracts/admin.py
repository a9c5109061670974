from django.contrib import admin

from tendero.contracts.models import Purchase


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    """Read-mostly: purchases are recorded from the customer's page, imports and the API,
    which validate them and keep references unique."""

    list_display = [
        "occurred_at", "customer", "product", "quantity", "amount", "currency", "source",
        "external_id",
    ]  # fmt: skip
    list_filter = ["source", "currency"]
    search_fields = ["external_id", "product", "description", "customer__display_name"]
    raw_id_fields = ["customer", "created_by"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer"]

    def has_add_permission(self, request: object) -> bool:
        return False
