# The audit trail moved to the audit app, which took its table over (state only).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('privacy', '0002_audit_fewer_indexes'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AuditEntry')],
        ),
    ]
