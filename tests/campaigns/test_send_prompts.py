"""In-store prompts and checkout offers reach the counter and the basket API."""

from __future__ import annotations

import pytest
from django.db import transaction

from campaigns.prompts import checkout_offers, in_store_prompts
from campaigns.sending import services
from recommendations import extensions
from tests.campaigns import sending_support
from tests.campaigns.sending_support import make_campaign, make_customers
from tests.crm.factories import StoreFactory

# Fixtures shared by the sending tests.
no_quiet_hours = sending_support.no_quiet_hours

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_quiet_hours")]


def launch(campaign, capture):
    with capture(execute=True), transaction.atomic():
        services.queue_sends(campaign)


def test_in_store_prompt_shows_in_its_store_only(django_capture_on_commit_callbacks):
    here, elsewhere = StoreFactory(), StoreFactory()
    customer, outsider = make_customers(2, channel="", store=here)
    campaign = make_campaign([customer], channel="in_store", store=here)
    launch(campaign, django_capture_on_commit_callbacks)
    prompts = in_store_prompts(customer.pk, here.pk)
    assert [p["campaign_id"] for p in prompts] == [campaign.pk]
    assert prompts[0]["body"].startswith(f"Dear {customer.first_name},")
    assert in_store_prompts(customer.pk, elsewhere.pk) == []
    assert in_store_prompts(outsider.pk, here.pk) == []
    # through the registry the counter view uses
    assert extensions.counter_prompts(customer, here) == prompts


def test_checkout_offer_in_the_basket_api(
    django_capture_on_commit_callbacks, api_client_for, sales
):
    customer = make_customers(1, channel="")[0]
    campaign = make_campaign([customer], channel="checkout")
    launch(campaign, django_capture_on_commit_callbacks)
    assert [o["campaign_id"] for o in checkout_offers(customer.pk, ["X"])] == [
        campaign.pk
    ]
    response = api_client_for(sales).post(
        "/api/suggestions/basket/",
        {"skus": ["NOPE"], "customer": customer.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [o["campaign_id"] for o in response.json()["offers"]] == [campaign.pk]
    anonymous = api_client_for(sales).post(
        "/api/suggestions/basket/", {"skus": ["NOPE"]}, format="json"
    )
    assert anonymous.json()["offers"] == []


def test_a_finished_campaign_prompts_no_more(django_capture_on_commit_callbacks):
    from campaigns.models import Campaign

    store = StoreFactory()
    customer = make_customers(1, channel="", store=store)[0]
    campaign = make_campaign([customer], channel="in_store")
    launch(campaign, django_capture_on_commit_callbacks)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    assert in_store_prompts(customer.pk, store.pk) == []


def test_call_list_entry_is_closed_once_with_an_interaction(
    django_capture_on_commit_callbacks, sales
):
    from django.core.exceptions import ValidationError

    from campaigns.sending.calls import list_call_tasks, record_call_outcome
    from crm.models import Interaction

    customers = make_customers(2, channel="phone")
    campaign = make_campaign(customers, channel="phone")
    launch(campaign, django_capture_on_commit_callbacks)
    tasks = list(list_call_tasks(user=sales, campaign_id=campaign.pk))
    assert [t.customer_id for t in tasks] == [c.pk for c in customers]
    record_call_outcome(send_id=tasks[0].pk, outcome="accepted", user=sales)
    with pytest.raises(ValidationError):
        record_call_outcome(send_id=tasks[0].pk, outcome="declined", user=sales)
    assert len(list_call_tasks(user=sales, campaign_id=campaign.pk)) == 1
    interaction = Interaction.objects.get(customer=customers[0])
    assert (interaction.kind, interaction.outcome) == ("call", "interested")
