"""Authentication with Django's ModelBackend, permissions read in one query.

Every page asks about permissions; ModelBackend reads a user's own permissions
and their groups' in two queries. Here both come in one (a UNION), cached on
the user object for the request exactly as ModelBackend caches them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class PermissionsInOneQueryBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            columns = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*columns)
            else:
                # Unordered: SQLite refuses ORDER BY (Permission's default) in a UNION.
                unordered = Permission.objects.order_by()
                own = unordered.filter(user=user_obj).values_list(*columns)
                from_groups = unordered.filter(group__user=user_obj).values_list(*columns)
                rows = own.union(from_groups)
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
