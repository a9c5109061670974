from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('stewardship', '0001_initial'),
        ('customers', '0016_duplicates_and_merges_moved_to_stewardship'),
    ]

    operations = [
        migrations.AlterModelTable(name='customermerge', table=None),
        migrations.AlterModelTable(name='duplicatepair', table=None),
    ]
