"""Purchases recorded before quantities existed got one unit each (0002's default). A
refund's quantity has the sign of its amount: the refunds recorded so far get -1, one
unit back, as a refund recorded now without a quantity does."""

from typing import Any

from django.db import migrations


def refunds_return_one_unit(apps: Any, schema_editor: Any) -> None:
    Purchase = apps.get_model("contracts", "Purchase")
    Purchase.objects.filter(amount__lt=0, quantity=1).update(quantity=-1)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0002_purchase_product_quantity")]

    operations = [
        # Going back, 0002 drops the column: nothing to undo here.
        migrations.RunPython(refunds_return_one_unit, migrations.RunPython.noop),
    ]
