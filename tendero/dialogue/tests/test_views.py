"""The dialogue pages: the htmx log form, editing and removing, the voice page and the
going-quiet list, with their permission crossings and query bounds."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tendero.conftest import login
from tendero.customers import services as customer_services
from tendero.customers.models import Customer
from tendero.dialogue import services
from tendero.dialogue.models import Interaction
from tendero.organization.models import Department

HTMX = {"HX-Request": "true"}
CALL = {"channel": "phone", "direction": "inbound", "subject": "Asked about delivery"}


@pytest.fixture
def customer(make_customer, sales):
    return make_customer(display_name="Ana Ruiz", account_executive=sales)


@pytest.fixture
def theirs(make_customer, other_sales):
    return make_customer(display_name="Carlos Vega", account_executive=other_sales)


def log_url(customer) -> str:
    return reverse("dialogue:log", args=[customer.pk])


# Logging


def test_pages_need_login(customer):
    for url in (log_url(customer), reverse("dialogue:voice"), reverse("dialogue:going_quiet")):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_log_form_is_a_fragment_for_htmx_and_a_page_otherwise(client, sales, customer):
    login(client, sales)
    fragment = client.get(log_url(customer), headers=HTMX)
    assert fragment.status_code == 200
    assert b"<html" not in fragment.content
    assert b'hx-post="' in fragment.content
    assert b'name="csrfmiddlewaretoken"' in fragment.content
    page = client.get(log_url(customer))
    assert b"<html" in page.content
    assert "Ana Ruiz" in page.content.decode()


def test_logging_with_htmx_answers_a_fresh_form_and_tells_the_timeline(client, sales, customer):
    login(client, sales)
    response = client.post(log_url(customer), {**CALL, "notes": "Friday"}, headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"timeline-changed": True}
    assert b"<html" not in response.content
    body = response.content.decode()
    assert "Logged" in body
    assert 'value="Asked about delivery"' not in body  # a fresh, empty form
    assert "autofocus" in body
    interaction = Interaction.objects.get()
    assert interaction.customer == customer
    assert interaction.notes == "Friday"
    customer.refresh_from_db()
    assert customer.last_interaction_at == interaction.occurred_at


def test_logging_without_htmx_redirects_to_the_customer(client, sales, customer):
    login(client, sales)
    response = client.post(log_url(customer), CALL)
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()


def test_errors_are_shown_at_the_field_and_input_is_kept(client, sales, customer):
    login(client, sales)
    data = {**CALL, "direction": "outbound", "voice": "complaint", "notes": "Keep me"}
    response = client.post(log_url(customer), data, headers=HTMX)
    assert response.status_code == 200  # htmx swaps 2xx only
    assert "HX-Trigger" not in response
    body = response.content.decode()
    assert "outbound interaction has none" in body
    assert "Keep me" in body
    assert 'value="Asked about delivery"' in body
    assert " open" in body  # the <details> with the voice stays open
    assert not Interaction.objects.exists()
    page = client.post(log_url(customer), {**data, "subject": ""})
    assert page.status_code == 400


def test_a_future_moment_is_an_error_at_the_field(client, sales, customer):
    login(client, sales)
    later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(log_url(customer), {**CALL, "occurred_at": later}, headers=HTMX)
    assert "cannot be in the future" in response.content.decode()
    assert not Interaction.objects.exists()


def test_names_and_input_are_escaped(client, sales, make_customer):
    evil = make_customer(display_name="<script>alert(1)</script>", account_executive=sales)
    login(client, sales)
    page = client.get(log_url(evil)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    response = client.post(
        log_url(evil), {**CALL, "subject": "<script>x()</script>", "channel": "?"}, headers=HTMX
    )
    assert "<script>x()</script>" not in response.content.decode()


def test_reader_cannot_log(client, reader, customer):
    login(client, reader)
    assert client.get(log_url(customer)).status_code == 403
    assert client.post(log_url(customer), CALL).status_code == 403
    assert not Interaction.objects.exists()


def test_another_reps_customer_is_not_found(client, sales, theirs):
    login(client, sales)
    assert client.get(log_url(theirs)).status_code == 404
    assert client.post(log_url(theirs), CALL, headers=HTMX).status_code == 404


def test_contacts_and_departments_are_offered(client, manager, sales, make_customer):
    org = make_customer(kind="organisation", display_name="Bodegas", account_executive=sales)
    customer_services.create_contact(manager, org, {"first_name": "Eva", "last_name": "Sol"})
    Department.objects.create(code="care", name="Customer care")
    Department.objects.create(code="old", name="Closed desk", is_active=False)
    login(client, sales)
    body = client.get(log_url(org), headers=HTMX).content.decode()
    assert "Eva Sol" in body
    assert "Customer care" in body
    assert "Closed desk" not in body


# Editing, deleting, following up


@pytest.fixture
def interaction(sales, customer):
    return services.record_interaction(
        sales, customer, {**CALL, "follow_up_on": timezone.localdate()}
    )


def edit_data(interaction, **changes):
    return {
        "channel": interaction.channel,
        "direction": interaction.direction,
        "subject": interaction.subject,
        "version": interaction.version,
        **changes,
    }


def test_editing_with_htmx(client, sales, interaction):
    login(client, sales)
    url = reverse("dialogue:edit", args=[interaction.pk])
    form = client.get(url, headers=HTMX)
    assert b"<html" not in form.content
    assert b'name="version"' in form.content
    response = client.post(url, edit_data(interaction, subject="Delivery moved"), headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"timeline-changed": True}
    interaction.refresh_from_db()
    assert interaction.subject == "Delivery moved"


def test_a_stale_edit_keeps_the_input_and_says_so(client, sales, interaction):
    login(client, sales)
    url = reverse("dialogue:edit", args=[interaction.pk])
    services.update_interaction(sales, interaction, {"subject": "Meanwhile"}, 1)
    response = client.post(url, edit_data(interaction, subject="Mine", version=1))
    assert response.status_code == 409
    assert "Someone else changed" in response.content.decode()
    assert 'value="Mine"' in response.content.decode()
    interaction.refresh_from_db()
    assert interaction.subject == "Meanwhile"


def test_deleting_needs_the_right(client, sales, manager, interaction):
    url = reverse("dialogue:delete", args=[interaction.pk])
    login(client, sales)
    assert client.post(url).status_code == 403
    login(client, manager)
    assert client.get(url).status_code == 200
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"timeline-changed": True}
    assert not Interaction.objects.exists()


def test_completing_a_follow_up(client, sales, other_sales, interaction):
    url = reverse("dialogue:complete_follow_up", args=[interaction.pk])
    login(client, other_sales)
    assert client.post(url).status_code == 404
    login(client, sales)
    assert client.get(url).status_code == 405
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert "HX-Trigger" in response
    interaction.refresh_from_db()
    assert interaction.follow_up_done_at is not None


# The customer's voice


def voice(by, customer, kind, **extra):
    return services.record_interaction(
        by, customer, {**CALL, "voice": kind, "subject": f"{kind} from {customer}", **extra}
    )


def test_voice_page_shows_only_visible_voice(client, sales, other_sales, customer, theirs):
    voice(sales, customer, "complaint")
    voice(other_sales, theirs, "idea")
    services.record_interaction(sales, customer, {**CALL, "subject": "Plain call"})
    login(client, sales)
    body = client.get(reverse("dialogue:voice")).content.decode()
    assert "complaint from Ana Ruiz" in body
    assert "Carlos Vega" not in body
    assert "Plain call" not in body
    assert reverse("customers:detail", args=[customer.pk]) in body


def test_voice_filters(client, manager, sales, customer, theirs, other_sales):
    care = Department.objects.create(code="care", name="Care")
    voice(sales, customer, "complaint", sentiment="negative", department_id=care.pk)
    voice(other_sales, theirs, "idea", channel="email")
    login(client, manager)
    url = reverse("dialogue:voice")

    def subjects(**params):
        return client.get(url, params, headers=HTMX).content.decode()

    assert "complaint from" in subjects(voice="complaint")
    assert "idea from" not in subjects(voice="complaint")
    assert "idea from" in subjects(channel="email")
    assert "complaint from" in subjects(department=care.pk)
    assert "idea from" not in subjects(sentiment="negative")
    today = timezone.localdate()
    assert "complaint from" in subjects(since=today.isoformat(), until=today.isoformat())
    assert "No feedback" in subjects(until=(today - timedelta(days=1)).isoformat())
    assert client.get(url, {"voice": "bogus", "page": "x"}).status_code == 200


def test_voice_page_empty_state_says_what_it_is_for(client, reader):
    login(client, reader)
    assert "No customer voice yet" in client.get(reverse("dialogue:voice")).content.decode()


def test_voice_page_queries_are_bounded(
    client, manager, make_customer, django_assert_max_num_queries
):
    for number in range(30):
        customer = make_customer(display_name=f"Customer {number}")
        voice(manager, customer, "feedback")
    login(client, manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("dialogue:voice"))
    assert response.status_code == 200
    assert "Next" in response.content.decode()


# Going quiet


def overdue(customer, days, rhythm=30, level=1):
    Customer.objects.filter(pk=customer.pk).update(
        contact_rhythm_days=rhythm,
        contact_rhythm_learned=True,
        relationship_level=level,
        next_contact_due=timezone.localdate() - timedelta(days=days),
    )


def test_going_quiet_shows_the_reps_portfolio(client, sales, customer, theirs):
    overdue(customer, 5)
    overdue(theirs, 9)
    login(client, sales)
    body = client.get(reverse("dialogue:going_quiet")).content.decode()
    assert "Ana Ruiz" in body
    assert "Carlos Vega" not in body
    assert 'name="account_executive"' not in body
    assert 'name="days"' in body  # the rhythm can be set right there


def test_managers_pick_an_account_executive(client, manager, other_sales, customer, theirs):
    overdue(customer, 5)
    overdue(theirs, 9)
    login(client, manager)
    url = reverse("dialogue:going_quiet")
    everyone = client.get(url).content.decode()
    assert "Ana Ruiz" in everyone and "Carlos Vega" in everyone
    olgas = client.get(url, {"account_executive": other_sales.pk}, headers=HTMX)
    assert "Carlos Vega" in olgas.content.decode()
    assert "Ana Ruiz" not in olgas.content.decode()


def test_going_quiet_empty_state(client, sales):
    login(client, sales)
    assert "Nobody is going quiet" in client.get(reverse("dialogue:going_quiet")).content.decode()


def test_going_quiet_queries_are_bounded(
    client, manager, make_customer, django_assert_max_num_queries
):
    for number in range(30):
        overdue(make_customer(display_name=f"Quiet {number}", account_executive=manager), number)
    login(client, manager)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("dialogue:going_quiet"))
    assert response.status_code == 200


# Rhythm


def test_setting_the_rhythm_with_htmx(client, sales, customer):
    login(client, sales)
    url = reverse("dialogue:rhythm", args=[customer.pk])
    response = client.post(url, {"days": "21", "version": customer.version}, headers=HTMX)
    assert response.status_code == 200
    assert "Contact rhythm saved" in response.content.decode()
    customer.refresh_from_db()
    assert customer.contact_rhythm_days == 21
    assert customer.contact_rhythm_learned is False


def test_rhythm_errors_and_conflicts(client, sales, customer):
    login(client, sales)
    url = reverse("dialogue:rhythm", args=[customer.pk])
    response = client.post(url, {"days": "0", "version": customer.version})
    assert response.status_code == 400
    stale = client.post(url, {"days": "10", "version": customer.version + 5})
    assert stale.status_code == 409
    assert "Someone else changed" in stale.content.decode()


def test_rhythm_needs_the_right(client, reader, other_sales, customer):
    url = reverse("dialogue:rhythm", args=[customer.pk])
    login(client, reader)
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="days"' not in page.content
    assert client.post(url, {"days": "10", "version": 1}).status_code == 403
    login(client, other_sales)
    assert client.get(url).status_code == 404


def test_edit_and_delete_pages_without_htmx(client, manager, interaction):
    login(client, manager)
    edit = client.get(reverse("dialogue:edit", args=[interaction.pk]))
    assert edit.status_code == 200
    assert b"<html" in edit.content
    assert 'value="Asked about delivery"' in edit.content.decode()
    saved = client.post(
        reverse("dialogue:edit", args=[interaction.pk]), edit_data(interaction, subject="New")
    )
    assert saved.status_code == 302
    removed = client.post(reverse("dialogue:delete", args=[interaction.pk]))
    assert removed.status_code == 302
    assert removed["Location"] == interaction.customer.get_absolute_url()


def test_voice_page_escapes_what_customers_said(client, sales, customer):
    voice(sales, customer, "complaint", notes="<script>alert(2)</script>")
    login(client, sales)
    body = client.get(reverse("dialogue:voice")).content.decode()
    assert "<script>alert(2)</script>" not in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body


def test_outsider_sees_neither_list(client, outsider):
    login(client, outsider)
    assert client.get(reverse("dialogue:voice")).status_code == 403
    assert client.get(reverse("dialogue:going_quiet")).status_code == 403


def test_pages_render_in_spanish(client, sales, customer):
    overdue(customer, 3)
    voice(sales, customer, "idea")
    login(client, sales)
    client.cookies["tendero_language"] = "es"
    for url in (reverse("dialogue:voice"), reverse("dialogue:going_quiet"), log_url(customer)):
        response = client.get(url)
        assert response.status_code == 200
        assert 'lang="es"' in response.content.decode()
