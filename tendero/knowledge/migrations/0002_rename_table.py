from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('knowledge', '0001_initial'),
        ('customers', '0015_personalfact_moved_to_knowledge'),
    ]

    operations = [
        migrations.AlterModelTable(name='personalfact', table=None),
    ]
