# Duplicates and merges moved to the stewardship app, which took their tables over
# (state only).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0015_personalfact_moved_to_knowledge'),
        ('stewardship', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='CustomerMerge'),
                migrations.DeleteModel(name='DuplicatePair'),
            ],
        ),
    ]
