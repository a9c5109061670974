from tendero.audit.models import AuditEntry
from tendero.customers import services


def test_changes_read_as_before_and_after_text_including_tags(manager, make_customer):
    customer = make_customer(tags=["VIP"])
    services.update_customer(
        manager, customer, customer.version, {"preferred_name": "Pepe", "tags": ["pyme"]}
    )
    rows = {
        (field, before, after)
        for entry in AuditEntry.objects.for_customer(customer.pk)
        if entry.action == AuditEntry.Action.UPDATE
        for field, before, after in entry.field_changes
    }
    assert ("preferred_name", "", "Pepe") in rows
    assert ("tags", "VIP", "") in rows
    assert ("tags", "", "pyme") in rows
