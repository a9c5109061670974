# The audit trail moved here from privacy: its table is taken over as it is (state
# only), then renamed (0002). A database migrated before the move keeps every entry.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, source="privacy", target="audit"):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label=target, model="auditentry").exists():
        content_types.objects.filter(app_label=source, model="auditentry").update(
            app_label=target
        )


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, source="audit", target="privacy")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('privacy', '0002_audit_fewer_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_repr', models.TextField(verbose_name='object representation')),
                ('serialized_data', models.JSONField(null=True)),
                ('changes_text', models.TextField(blank=True, verbose_name='change message')),
                ('changes', models.JSONField(null=True, verbose_name='change message')),
                ('remote_addr', models.GenericIPAddressField(blank=True, null=True, verbose_name='remote address')),
                ('remote_port', models.PositiveIntegerField(blank=True, null=True, verbose_name='remote port')),
                ('timestamp', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='timestamp')),
                ('additional_data', models.JSONField(blank=True, null=True, verbose_name='additional data')),
                ('actor_email', models.CharField(blank=True, max_length=254, null=True, verbose_name='actor email')),
                ('customer_id', models.BigIntegerField(blank=True, null=True)),
                ('object_pk', models.CharField(max_length=255, verbose_name='object pk')),
                ('object_id', models.BigIntegerField(blank=True, null=True, verbose_name='object id')),
                ('action', models.PositiveSmallIntegerField(choices=[(0, 'create'), (1, 'update'), (2, 'delete'), (3, 'access')], verbose_name='action')),
                ('cid', models.CharField(blank=True, max_length=255, null=True, verbose_name='Correlation ID')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('content_type', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype', verbose_name='content type')),
            ],
            options={
                'verbose_name': 'log entry',
                'verbose_name_plural': 'log entries',
                'ordering': ['-timestamp'],
                'get_latest_by': 'timestamp',
                'abstract': False,
                'db_table': 'privacy_auditentry',
                'indexes': [models.Index(fields=['customer_id', '-timestamp'], name='audit_customer_idx'), models.Index(fields=['content_type', 'object_id'], name='audit_object_idx'), models.Index(fields=['cid'], name='audit_cid_idx')],
            },
        )]),
        # Permissions granted on the entries (audit.view_auditentry) keep their rows.
        migrations.RunPython(move_content_type, move_content_type_back, elidable=True),
    ]
