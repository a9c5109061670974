# Personal knowledge moved here from customers: its table is taken over as it is
# (state only), then renamed (0002). A database migrated before the move keeps every fact.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from tendero.core.model_moves import move_content_types


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0014_import_job_runner_process'),
        ('dialogue', '0001_interactions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='PersonalFact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('interest', 'Interest'), ('preference', 'Preference'), ('dislike', 'Dislike'), ('family_member', 'Family member'), ('relation', 'Relation'), ('important_date', 'Important date'), ('professional_goal', 'Professional goal'), ('note', 'Note')], max_length=20, verbose_name='kind')),
                ('text', models.CharField(blank=True, max_length=500, verbose_name='what we know')),
                ('relation', models.CharField(blank=True, choices=[('spouse', 'Spouse'), ('partner', 'Partner'), ('child', 'Child'), ('parent', 'Parent'), ('sibling', 'Sibling'), ('grandchild', 'Grandchild'), ('grandparent', 'Grandparent'), ('other_family', 'Other family'), ('assistant', 'Assistant'), ('manager', 'Manager'), ('colleague', 'Colleague'), ('direct_report', 'Direct report'), ('friend', 'Friend'), ('other', 'Other')], max_length=20, verbose_name='relation')),
                ('related_name', models.CharField(blank=True, max_length=200, verbose_name='their name')),
                ('date', models.DateField(blank=True, null=True, verbose_name='date')),
                ('recurs_yearly', models.BooleanField(default=False, help_text='Birthdays and anniversaries.', verbose_name='every year')),
                ('month_day', models.PositiveSmallIntegerField(blank=True, editable=False, null=True)),
                ('learned_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='learned')),
                ('retired_at', models.DateTimeField(blank=True, null=True, verbose_name='retired')),
                ('retired_reason', models.CharField(blank=True, max_length=200, verbose_name='why it was retired')),
                ('version', models.PositiveIntegerField(default=1)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='facts', to='customers.contact', verbose_name='about')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='facts', to='customers.customer')),
                ('learned_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='learned by')),
                ('related_contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='customers.contact', verbose_name='who is also the contact')),
                ('retired_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('source_interaction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='facts_learned', to='dialogue.interaction', verbose_name='learned in')),
            ],
            options={
                'ordering': ['-learned_at', '-id'],
                'db_table': 'customers_personalfact',
                'indexes': [models.Index(fields=['customer', '-learned_at', '-id'], name='fact_customer_idx'), models.Index(condition=models.Q(('recurs_yearly', True), ('retired_at__isnull', True)), fields=['customer', 'month_day'], name='fact_yearly_date_idx')],
            },
        )]),
        # Grants on facts (knowledge.view_personalfact...) and audit entries about them follow.
        move_content_types('personalfact', source='customers', target='knowledge'),
    ]
