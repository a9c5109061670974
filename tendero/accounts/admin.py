from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from tendero.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (*(DjangoUserAdmin.fieldsets or ()), ("Tendero", {"fields": ("language",)}))
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "hint",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    readonly_fields = ("key_hash", "hint", "created_at", "last_used_at")
    search_fields = ("name", "user__username")
