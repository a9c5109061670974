"""Signing in and out, passwords, language and API tokens from the browser."""

from datetime import timedelta

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tendero.accounts.models import ApiToken, User, hash_token
from tendero.accounts.services import authenticate_api_token, create_api_token
from tendero.conftest import PASSWORD, login


def test_login_page_renders_a_labelled_form(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert '<label for="id_username">' in response.text
    assert '<label for="id_password">' in response.text
    assert "csrfmiddlewaretoken" in response.text


def test_user_signs_in_and_lands_on_customers(client: Client, sales: User) -> None:
    response = client.post(reverse("accounts:login"), {"username": "sergio", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")


def test_wrong_password_is_refused_with_a_message(client: Client, sales: User) -> None:
    response = client.post(reverse("accounts:login"), {"username": "sergio", "password": "nope"})
    assert response.status_code == 200
    assert "alert" in response.text
    assert "_auth_user_id" not in client.session


def test_five_failed_logins_lock_the_account_for_a_while(client: Client, sales: User) -> None:
    for _attempt in range(5):
        client.post(reverse("accounts:login"), {"username": "sergio", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "sergio", "password": PASSWORD})
    assert response.status_code == 429
    assert "try again later" in response.text
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post_and_signs_out(client: Client, sales: User) -> None:
    login(client, sales)
    html = client.get(reverse("customers:list")).text
    assert f'action="{reverse("accounts:logout")}"' in html
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 302


def test_user_changes_their_password(client: Client, sales: User) -> None:
    login(client, sales)
    assert client.get(reverse("accounts:password_change")).status_code == 200
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-77",
            "new_password2": "a-much-longer-passphrase-77",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    sales.refresh_from_db()
    assert sales.check_password("a-much-longer-passphrase-77")


def test_password_change_requires_login(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_preferences_require_login(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:preferences"))
    assert response.status_code == 302


def test_user_saves_spanish_and_gets_the_cookie(client: Client, sales: User) -> None:
    login(client, sales)
    response = client.post(reverse("accounts:preferences"), {"language": "es"})
    assert response.status_code == 302
    sales.refresh_from_db()
    assert sales.language == "es"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "Clientes" in client.get(reverse("customers:list")).text


def test_follow_the_browser_clears_the_preference(client: Client, sales: User) -> None:
    sales.language = "es"
    sales.save()
    login(client, sales)
    response = client.post(reverse("accounts:preferences"), {"language": ""})
    assert response.status_code == 302
    sales.refresh_from_db()
    assert sales.language == ""
    html = client.get(reverse("customers:list"), headers={"accept-language": "en"}).text
    assert '<html lang="en">' in html


def test_unknown_language_is_refused(client: Client, sales: User) -> None:
    login(client, sales)
    response = client.post(reverse("accounts:preferences"), {"language": "xx"})
    assert response.status_code == 400
    sales.refresh_from_db()
    assert sales.language == ""
    assert client.post(reverse("accounts:set_language"), {"language": "xx"}).status_code == 400


def test_anonymous_visitor_switches_the_login_page_to_spanish(client: Client, db: None) -> None:
    response = client.post(
        reverse("accounts:set_language"), {"language": "es", "next": reverse("accounts:login")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    html = client.get(reverse("accounts:login")).text
    assert '<html lang="es">' in html
    assert "Entrar" in html


def test_language_switch_does_not_redirect_off_site(client: Client, db: None) -> None:
    response = client.post(
        reverse("accounts:set_language"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signed_in_language_switch_is_remembered(client: Client, sales: User) -> None:
    login(client, sales)
    client.post(reverse("accounts:set_language"), {"language": "es"})
    sales.refresh_from_db()
    assert sales.language == "es"


def test_new_api_token_is_shown_once(client: Client, sales: User) -> None:
    login(client, sales)
    response = client.post(reverse("accounts:create_token"), {"name": "Accounting sync"})
    assert response.status_code == 201
    raw = response.context["new_token"]
    assert raw.startswith("tdr_")
    assert raw in response.text
    token = ApiToken.objects.get(user=sales)
    assert token.key_hash == hash_token(raw)
    assert authenticate_api_token(raw) == sales
    page = client.get(reverse("accounts:preferences")).text
    assert "Accounting sync" in page
    assert raw not in page


def test_api_token_with_expiry_date(client: Client, sales: User) -> None:
    login(client, sales)
    tomorrow = (timezone.now() + timedelta(days=2)).date().isoformat()
    response = client.post(
        reverse("accounts:create_token"), {"name": "Temp", "expires_at": tomorrow}
    )
    assert response.status_code == 201
    assert ApiToken.objects.get().expires_at is not None


def test_bad_token_input_is_refused(client: Client, sales: User) -> None:
    login(client, sales)
    for data in (
        {"name": ""},
        {"name": "x" * 101},
        {"name": "Old", "expires_at": "2000-01-01"},
        {"name": "Bad", "expires_at": "not-a-date"},
    ):
        assert client.post(reverse("accounts:create_token"), data).status_code == 400
    assert not ApiToken.objects.exists()


def test_user_revokes_their_token(client: Client, sales: User) -> None:
    issued = create_api_token(sales, "Old script")
    login(client, sales)
    response = client.post(reverse("accounts:revoke_token", args=[issued.token.pk]))
    assert response.status_code == 302
    assert authenticate_api_token(issued.raw) is None
    assert "Old script" not in client.get(reverse("accounts:preferences")).text


def test_user_cannot_revoke_someone_elses_token(
    client: Client, sales: User, other_sales: User
) -> None:
    issued = create_api_token(other_sales, "Olga's")
    login(client, sales)
    client.post(reverse("accounts:revoke_token", args=[issued.token.pk]))
    assert authenticate_api_token(issued.raw) == other_sales


def test_token_list_shows_only_my_tokens(client: Client, sales: User, other_sales: User) -> None:
    create_api_token(other_sales, "Olga's secret script")
    create_api_token(sales, "My script")
    html = login(client, sales).get(reverse("accounts:preferences")).text
    assert "My script" in html
    assert "Olga&#x27;s secret script" not in html
    assert "Olga's secret script" not in html


def test_layout_is_accessible_by_structure(client: Client, sales: User) -> None:
    html = login(client, sales).get(reverse("customers:list")).text
    assert '<html lang="en">' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert "<nav" in html
    assert 'for="global-search"' in html
