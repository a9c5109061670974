"""The admin is a back office for administrators; people use the Tendero pages."""

from django.contrib import admin

from tendero.customers.models import Contact, Customer, Tag


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("display_name", "kind", "lifecycle_stage", "relationship_level", "country")
    list_filter = ("kind", "lifecycle_stage", "relationship_level")
    list_select_related = ("account_executive",)
    search_fields = ("display_name", "tax_id", "external_id")
    raw_id_fields = ("account_executive",)
    # Changes go through the services (audit, versions, one-step levels): read-only here.
    readonly_fields = [f.name for f in Customer._meta.concrete_fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("full_name", "customer", "role", "email")
    raw_id_fields = ("customer",)
    search_fields = ("first_name", "last_name", "email")
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
