from django.contrib import admin

from tendero.dialogue.models import Interaction


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """Read-mostly: interactions are logged from the customer page or the API, which
    keep the customer's last interaction and next contact date in step."""

    list_display = ["subject", "customer", "channel", "direction", "voice", "occurred_at"]
    list_filter = ["channel", "direction", "voice", "sentiment", "department"]
    search_fields = ["subject", "customer__display_name"]
    raw_id_fields = ["customer", "contact", "handled_by", "created_by"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer"]

    def has_add_permission(self, request: object) -> bool:
        return False
