"""SEC-05: login brute force is limited per username and per IP, and audited."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from crm.models import LoginAttempt

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"


def login(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_ten_wrong_passwords_lock_the_account_even_for_the_right_one(manager):
    client = Client()
    for _ in range(10):
        assert login(client, "manager", "wrong").status_code == 200
    response = login(client, "manager", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed attempts" in page
    outcomes = list(
        LoginAttempt.objects.filter(username="manager")
        .order_by("id")
        .values_list("outcome", flat=True)
    )
    assert outcomes == ["failure"] * 10 + ["locked"]


def test_the_lock_message_is_in_italian_for_italian_browsers(manager):
    client = Client(headers={"Accept-Language": "it"})
    for _ in range(11):
        response = login(client, "manager", "wrong")
    assert response.status_code == 429
    assert "Troppi tentativi" in response.content.decode()


def test_the_same_address_cannot_guess_across_many_usernames(manager, sales):
    client = Client()
    for number in range(10):
        login(client, f"nobody{number}", "wrong", ip="10.0.0.9")
    # a valid account, never guessed, but from the address that guessed ten times
    assert login(client, "sales", PASSWORD, ip="10.0.0.9").status_code == 429
    assert login(client, "sales", PASSWORD, ip="10.0.0.10").status_code == 302


def test_a_success_clears_the_username_counter_and_is_audited(manager):
    client = Client()
    for _ in range(9):
        login(client, "manager", "wrong")
    assert login(client, "manager", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(9):
        login(client, "manager", "wrong", ip="10.0.0.2")
    assert login(client, "manager", PASSWORD, ip="10.0.0.2").status_code == 302
    success = LoginAttempt.objects.filter(outcome="success")
    assert success.count() == 2
    assert success.first().ip_address == "10.0.0.2"


def test_the_username_is_counted_whatever_its_case(manager):
    client = Client()
    for number in range(10):
        login(
            client,
            "MANAGER" if number % 2 else "manager",
            "wrong",
            ip=f"10.1.0.{number}",
        )
    assert login(client, "Manager", PASSWORD, ip="10.2.0.1").status_code == 429


def test_the_api_token_endpoint_shares_the_lockout(manager):
    client = APIClient()
    for _ in range(5):
        login(Client(), "manager", "wrong")
    for _ in range(5):
        response = client.post(
            "/api/auth/token/", {"username": "manager", "password": "wrong"}
        )
        assert response.status_code == 400
    response = client.post(
        "/api/auth/token/", {"username": "manager", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "token" not in response.json()
    assert LoginAttempt.objects.filter(via="api", outcome="locked").count() == 1


def test_the_api_token_endpoint_audits_a_success(manager):
    response = APIClient().post(
        "/api/auth/token/", {"username": "manager", "password": PASSWORD}
    )
    assert response.status_code == 200 and response.json()["token"]
    assert LoginAttempt.objects.get().outcome == "success"


def test_the_window_expires(manager, settings):
    from datetime import timedelta

    from crm.models import LoginThrottle

    client = Client()
    for _ in range(10):
        login(client, "manager", "wrong")
    assert login(client, "manager", PASSWORD).status_code == 429
    LoginThrottle.objects.update(
        window_started_at=LoginThrottle.objects.first().window_started_at
        - timedelta(minutes=settings.LOGIN_LOCKOUT_WINDOW_MINUTES)
    )
    assert login(client, "manager", PASSWORD).status_code == 302


def test_thirty_parallel_guesses_check_at_most_ten_passwords(postgres_db, manager):
    """The counter is atomic: parallel requests cannot all read "under the limit"."""

    def guess(number: int) -> int:
        try:
            return login(
                Client(), "manager", f"wrong-{number}", ip="10.3.0.1"
            ).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, range(30)))
    counts = Counter(statuses)
    # The username and the IP are counted one after the other, so two racing
    # requests can each be the 11th on one of the counters: fewer than ten
    # passwords may be checked, never more.
    assert 1 <= counts[200] <= 10, counts  # password checked, wrong
    assert counts[200] + counts[429] == 30, counts  # the rest refused unchecked
    assert LoginAttempt.objects.filter(outcome="failure").count() == counts[200]
    assert LoginAttempt.objects.filter(outcome="locked").count() == counts[429]
    assert login(Client(), "manager", PASSWORD, ip="10.4.0.1").status_code == 429
