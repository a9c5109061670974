# Personal knowledge moved to the knowledge app, which took its table over (state only).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0014_import_job_runner_process'),
        ('knowledge', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='PersonalFact')],
        ),
    ]
