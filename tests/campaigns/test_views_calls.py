"""The sales call list: who sees it, one-click outcomes, htmx rows, query budget."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Send
from crm.models import Interaction
from tests.campaigns.factories import CampaignFactory, SegmentFactory
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _phone_campaign(name="Call the loyal ones", status=Campaign.Status.SENDING):
    return CampaignFactory(
        name=name,
        segment=SegmentFactory(name=f"Segment of {name}"),
        channel=Campaign.Channel.PHONE,
        status=status,
        launched_at=timezone.now(),
    )


def _call(campaign, customer, *, status=Send.Status.SENT, outcome=""):
    return Send.objects.create(
        campaign=campaign,
        customer=customer,
        channel=Campaign.Channel.PHONE,
        status=status,
        queued_at=timezone.now(),
        sent_at=timezone.now() if status == Send.Status.SENT else None,
        call_outcome=outcome,
    )


@pytest.fixture
def calls(db):
    campaign = _phone_campaign()
    anna = CustomerFactory(first_name="Anna", last_name="Rossi", phone="+390211111111")
    bruno = CustomerFactory(
        first_name="Bruno", last_name="Verdi", phone="+390222222222"
    )
    done = CustomerFactory(first_name="Carla", last_name="Done")
    skipped = CustomerFactory(first_name="Dario", last_name="Skipped")
    return {
        "campaign": campaign,
        "anna": _call(campaign, anna),
        "bruno": _call(campaign, bruno),
        "done": _call(campaign, done, outcome=Send.CallOutcome.REACHED),
        "skipped": _call(campaign, skipped, status=Send.Status.SKIPPED),
    }


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_sales_and_managers_see_the_open_calls(request, client, calls, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("campaigns:call_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Anna Rossi" in body and "Bruno Verdi" in body
    assert 'href="tel:+390211111111"' in body
    assert "Carla" not in body and "Dario" not in body
    assert reverse("campaigns:call_outcome", args=[calls["anna"].pk]) in body


def test_done_calls_show_on_request(client, sales, calls):
    client.force_login(sales)
    response = client.get(reverse("campaigns:call_list"), {"done": "1"})
    assert "Carla Done" in response.content.decode()


def test_clerks_get_403(client, clerk_a, calls):
    client.force_login(clerk_a)
    assert client.get(reverse("campaigns:call_list")).status_code == 403
    response = client.post(
        reverse("campaigns:call_outcome", args=[calls["anna"].pk]),
        {"outcome": "reached"},
    )
    assert response.status_code == 403
    calls["anna"].refresh_from_db()
    assert calls["anna"].call_outcome == ""


def test_one_click_records_the_outcome_and_logs_the_call(client, sales, calls):
    client.force_login(sales)
    send = calls["anna"]
    response = client.post(
        reverse("campaigns:call_outcome", args=[send.pk]),
        {"outcome": Send.CallOutcome.ACCEPTED},
        headers=HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith(f'<tr id="call-{send.pk}"') and "<html" not in body
    assert "Accepted the offer" in body
    send.refresh_from_db()
    assert send.call_outcome == Send.CallOutcome.ACCEPTED
    assert send.call_done_by == sales
    assert Interaction.objects.filter(
        customer=send.customer, kind=Interaction.Kind.CALL
    ).exists()


def test_a_second_outcome_for_the_same_call_is_refused(client, sales, manager, calls):
    send = calls["anna"]
    client.force_login(sales)
    client.post(
        reverse("campaigns:call_outcome", args=[send.pk]), {"outcome": "reached"}
    )
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:call_outcome", args=[send.pk]),
        {"outcome": "declined"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "already recorded" in response.content.decode()
    send.refresh_from_db()
    assert send.call_outcome == "reached"


def test_an_unknown_outcome_is_explained_not_a_500(client, sales, calls):
    client.force_login(sales)
    response = client.post(
        reverse("campaigns:call_outcome", args=[calls["anna"].pk]),
        {"outcome": "bribed"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose how the call went." in response.content.decode()
    calls["anna"].refresh_from_db()
    assert calls["anna"].call_outcome == ""


def test_a_call_not_on_the_list_says_so(client, sales, calls):
    client.force_login(sales)
    response = client.post(
        reverse("campaigns:call_outcome", args=[calls["skipped"].pk]),
        {"outcome": "reached"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "not on your list" in response.content.decode()


def test_the_list_filters_by_campaign(client, sales, calls):
    other = _phone_campaign("Other")
    _call(other, CustomerFactory(first_name="Elena", last_name="Other"))
    client.force_login(sales)
    response = client.get(
        reverse("campaigns:call_list"), {"campaign": calls["campaign"].pk}
    )
    body = response.content.decode()
    assert "Anna Rossi" in body and "Elena Other" not in body
    assert (
        client.get(reverse("campaigns:call_list"), {"campaign": "x"}).status_code == 200
    )


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("campaigns:call_list"))
    assert response.status_code == 200
    return len(queries)


def test_the_call_list_costs_the_same_for_1_and_20_calls(client, sales):
    campaign = _phone_campaign()
    _call(campaign, CustomerFactory())
    client.force_login(sales)
    one = _queries(client)
    for _ in range(19):
        _call(campaign, CustomerFactory())
    twenty = _queries(client)
    assert one == twenty
    assert twenty <= 12
