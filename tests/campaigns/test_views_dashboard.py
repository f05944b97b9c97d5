"""Manager dashboard: at a glance, best and worst, acceptance, ineligible reach."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignResult, Send
from recommendations.models import CustomerScore, RecommendationRun, Suggestion
from tests.campaigns.factories import CampaignFactory, SegmentFactory
from tests.crm.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _result(campaign, *, profit, conversions):
    CampaignResult.objects.create(
        campaign=campaign,
        computed_at=timezone.now(),
        payload={
            "incremental_profit": profit,
            "significant": False,
            "window_closed": True,
            "groups": [
                {
                    "key": "treated",
                    "kind": "treated",
                    "customers": 10,
                    "conversions": conversions,
                },
                {"key": "control", "kind": "control", "customers": 2, "conversions": 0},
            ],
        },
    )


def _launched(name, *, profit=None, conversions=0):
    campaign = CampaignFactory(
        name=name,
        segment=SegmentFactory(name=f"Segment of {name}"),
        status=Campaign.Status.DONE,
        launched_at=timezone.now(),
    )
    if profit is not None:
        _result(campaign, profit=profit, conversions=conversions)
    return campaign


def _send(campaign, customer, status=Send.Status.SENT):
    return Send.objects.create(
        campaign=campaign,
        customer=customer,
        channel=campaign.channel,
        status=status,
        queued_at=timezone.now(),
        sent_at=timezone.now() if status == Send.Status.SENT else None,
    )


@pytest.fixture
def current_run(db):
    return RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED, is_current=True
    )


def test_the_dashboard_shows_campaigns_best_worst_and_acceptance(
    manager_client, current_run
):
    _launched("Winter upsell", profit=1200.0, conversions=7)
    _launched("Returners blast", profit=-340.0, conversions=2)
    _launched("Fresh one")
    customer = CustomerFactory()
    Suggestion.objects.create(
        run=current_run,
        customer=customer,
        product=ProductFactory(),
        kind=Suggestion.Kind.CROSS_SELL,
        channel=Suggestion.Channel.EMAIL,
        status=Suggestion.Status.ACCEPTED,
        rank=1,
    )
    response = manager_client.get(reverse("campaigns:dashboard"))
    assert response.status_code == 200
    context = response.context
    assert context["best"].name == "Winter upsell"
    assert context["worst"].name == "Returners blast"
    assert [row["campaign"].name for row in context["rows"]] == [
        "Fresh one",
        "Returners blast",
        "Winter upsell",
    ]
    assert context["rows"][2]["summary"].conversions == 7
    assert context["rows"][0]["summary"] is None
    performance = context["performance"]
    assert performance[0]["accepted"] == 1
    body = response.content.decode()
    assert "Suggestion acceptance by kind and channel" in body
    assert "Winter upsell" in body and "Returners blast" in body


def test_a_campaign_that_reached_excluded_customers_is_flagged(
    manager_client, current_run
):
    campaign = _launched("Returners blast", profit=-340.0, conversions=2)
    clean = _launched("Clean", profit=10.0, conversions=1)
    heavy_returners = [CustomerFactory() for _ in range(3)]
    fine = CustomerFactory()
    for customer in heavy_returners:
        CustomerScore.objects.create(
            run=current_run,
            customer=customer,
            eligibility=CustomerScore.Eligibility.EXCLUDED,
            return_rate=0.6,
        )
        _send(campaign, customer)
    CustomerScore.objects.create(
        run=current_run, customer=fine, eligibility=CustomerScore.Eligibility.ELIGIBLE
    )
    _send(campaign, fine)
    _send(clean, fine)
    # A skipped send to an excluded customer reached nobody: not counted.
    _send(clean, heavy_returners[0], status=Send.Status.SKIPPED)
    response = manager_client.get(reverse("campaigns:dashboard"))
    flagged = response.context["ineligible"]
    assert [(c.name, c.ineligible_sent) for c in flagged] == [("Returners blast", 3)]
    body = response.content.decode()
    assert 'class="warning"' in body
    assert "reached 3 customers whom the eligibility score excludes" in body


def test_scores_of_an_old_run_do_not_flag_anything(manager_client, current_run):
    old = RecommendationRun.objects.create(
        status=RecommendationRun.Status.COMPLETED, is_current=False
    )
    campaign = _launched("Old news", profit=5.0)
    customer = CustomerFactory()
    CustomerScore.objects.create(
        run=old, customer=customer, eligibility=CustomerScore.Eligibility.EXCLUDED
    )
    _send(campaign, customer)
    response = manager_client.get(reverse("campaigns:dashboard"))
    assert response.context["ineligible"] == []


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("campaigns:dashboard"))
    assert response.status_code == 200
    return len(queries)


def test_the_dashboard_stays_within_budget_for_1_and_20_campaigns(
    manager_client, current_run
):
    customers = [CustomerFactory() for _ in range(3)]
    first = _launched("First", profit=1.0, conversions=1)
    for customer in customers:
        _send(first, customer)
    one = _dashboard_queries(manager_client)
    for index in range(19):
        campaign = _launched(
            f"Campaign {index:02d}", profit=float(index), conversions=1
        )
        for customer in customers:
            _send(campaign, customer)
    twenty = _dashboard_queries(manager_client)
    assert one == twenty
    assert twenty <= 20
