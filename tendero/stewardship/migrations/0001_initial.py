# Duplicates and merges moved here from customers: their tables are taken over as they
# are (state only), then renamed (0002). A database migrated before the move keeps them.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from tendero.core.model_moves import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0015_personalfact_moved_to_knowledge'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='CustomerMerge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('merged_customer_id', models.BigIntegerField()),
                ('merged_display_name', models.CharField(max_length=200)),
                ('snapshot', models.JSONField(default=dict)),
                ('merged_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('merged_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('survivor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='merges', to='customers.customer')),
            ],
            options={
                'ordering': ['-merged_at', '-id'],
                'db_table': 'customers_customermerge',
            },
        ),
        migrations.CreateModel(
            name='DuplicatePair',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reasons', models.JSONField(default=list)),
                ('score', models.PositiveSmallIntegerField(default=0)),
                ('detected_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('dismissed_at', models.DateTimeField(blank=True, null=True)),
                ('dismissed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('first', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.customer')),
                ('second', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.customer')),
            ],
            options={
                'ordering': ['-score', '-detected_at', 'id'],
                'db_table': 'customers_duplicatepair',
                'indexes': [models.Index(fields=['second'], name='duplicate_pair_second_idx')],
                'constraints': [models.UniqueConstraint(fields=('first', 'second'), name='duplicate_pair_unique'), models.CheckConstraint(condition=models.Q(('first__lt', models.F('second'))), name='duplicate_pair_ordered')],
            },
        )]),
        # Grants on duplicates (stewardship.view_duplicatepair...) and audit entries follow.
        move_content_types('customermerge', 'duplicatepair', source='customers', target='stewardship'),
    ]
