"""Moving a model from one app to another without touching its rows.

The new app takes the table over in its state only (SeparateDatabaseAndState), the
old app forgets it the same way, and the content type changes its app label so
that permissions granted on the model and audit entries about its rows follow it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def move_content_types(*models: str, source: str, target: str) -> migrations.RunPython:
    """A reversible RunPython giving the content types of `models` (lower-case model
    names) the app label `target`; a database that already has them there is left as
    it is."""

    def relabel(apps: Any, old: str, new: str) -> None:
        content_types = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not content_types.objects.filter(app_label=new, model=model).exists():
                content_types.objects.filter(app_label=old, model=model).update(app_label=new)

    def forwards(apps: Any, schema_editor: Any) -> None:
        relabel(apps, source, target)

    def backwards(apps: Any, schema_editor: Any) -> None:
        relabel(apps, target, source)

    return migrations.RunPython(forwards, backwards, elidable=True)
