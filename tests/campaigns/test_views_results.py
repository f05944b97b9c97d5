"""Results page: per variant and control, uplift in words, chart with table, CSV."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import AudienceMember, Campaign, CampaignResult
from campaigns.views.results import describe_profit, describe_uplift
from crm.services.customers import set_consent
from tests.campaigns.factories import CampaignFactory, SegmentFactory, VariantFactory
from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def launched(db):
    """An A/B drive-to-store campaign of 60 customers, launched 10 days ago.

    Every messaged customer of variant A buys a 100 € product; nobody in
    variant B or the control group buys, so A wins clearly.
    """
    store = StoreFactory(code="MI", name="Milano Centro")
    for index in range(60):
        customer = CustomerFactory(first_name=f"C{index}", home_store=store)
        set_consent(customer=customer, channel="email", granted=True, source="store")
    campaign = CampaignFactory(
        name='=HYPERLINK("http://evil","x")',
        segment=SegmentFactory(name="All", definition={"match": "all", "rules": []}),
        control_share=Decimal("0.300"),
        discount_percent=Decimal("10"),
    )
    VariantFactory(campaign=campaign, label="A")
    VariantFactory(campaign=campaign, label="B")
    launched_at = timezone.now() - dt.timedelta(days=10)
    services.launch_campaign(campaign=campaign, now=launched_at)
    product = ProductFactory(price=Decimal("100.00"), unit_cost=Decimal("40.00"))
    for member in AudienceMember.objects.filter(
        campaign=campaign, variant__label="A"
    ).select_related("customer"):
        order = OrderFactory(
            customer=member.customer,
            store=store,
            placed_at=launched_at + dt.timedelta(days=2),
        )
        OrderLineFactory(order=order, product=product, quantity=1)
    services.refresh_campaign_results(campaign_id=campaign.pk)
    return campaign


def test_the_results_page_reads_variants_control_and_uplift(manager_client, launched):
    response = manager_client.get(
        reverse("campaigns:campaign_results", args=[launched.pk])
    )
    assert response.status_code == 200
    context = response.context
    keys = [group["key"] for group in context["groups"]]
    assert keys == ["A", "B", "control"]
    a = context["groups"][0]
    assert a["conversions"] == a["customers"] > 0
    assert context["groups"][2]["conversions"] == 0
    assert context["overall"]["rate_diff"] > 0
    body = response.content.decode()
    assert "We can be very sure" in body
    assert "Control (sent nothing)" in body
    assert "95% CI" in body
    # The incremental profit is said in words, net of the discount.
    assert "After the discount, the campaign earned" in body


def test_the_chart_is_an_svg_with_a_table_beside_it(manager_client, launched):
    response = manager_client.get(
        reverse("campaigns:campaign_results", args=[launched.pk])
    )
    body = response.content.decode()
    assert (
        '<svg class="chart"' in body and 'aria-labelledby="conversions-title"' in body
    )
    assert "<polyline" in body
    daily = response.context["daily"]
    assert len(daily) >= 10
    assert daily[-1]["date"] in body  # each day is also a table row


def test_breakdowns_by_store_and_step(manager_client, launched):
    response = manager_client.get(
        reverse("campaigns:campaign_results", args=[launched.pk])
    )
    stores = response.context["by_store"]
    assert [row["name"] for row in stores] == ["Milano Centro"]
    assert stores[0]["treated"]["customers"] + stores[0]["control"]["customers"] == 60
    assert "Not on the ladder" in response.content.decode()


def test_a_campaign_without_results_says_so(manager_client):
    campaign = CampaignFactory()
    response = manager_client.get(
        reverse("campaigns:campaign_results", args=[campaign.pk])
    )
    assert response.status_code == 200
    assert "has not been launched" in response.content.decode()


def test_refresh_now_recomputes_for_managers(manager_client, launched):
    CampaignResult.objects.filter(campaign=launched).delete()
    response = manager_client.post(
        reverse("campaigns:campaign_results", args=[launched.pk])
    )
    assert response.status_code == 302
    assert CampaignResult.objects.filter(campaign=launched).exists()


def test_the_csv_download_is_an_escaped_attachment(manager_client, launched):
    response = manager_client.get(
        reverse("campaigns:campaign_results_csv", args=[launched.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="campaign-')
    assert disposition.endswith('.csv"')
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["campaign", "section", "key"]
    # The campaign's formula-like name is disarmed (SEC-14).
    assert all(row[0] == "'" + launched.name for row in rows[1:])
    assert {"group", "uplift", "store", "day"} <= {row[1] for row in rows[1:]}


def test_the_results_page_links_the_csv(manager_client, launched):
    response = manager_client.get(
        reverse("campaigns:campaign_results", args=[launched.pk])
    )
    assert (
        reverse("campaigns:campaign_results_csv", args=[launched.pk])
        in response.content.decode()
    )


@pytest.mark.parametrize(
    ("p_value", "diff", "expected", "tone"),
    [
        (0.001, 0.05, "We can be very sure", "good"),
        (0.03, 0.05, "We can be fairly sure", "good"),
        (0.03, -0.05, "fewer customers bought", "bad"),
        (0.1, 0.05, "There is a hint", ""),
        (0.6, 0.01, "We cannot tell this apart from chance", ""),
    ],
)
def test_uplift_in_words(p_value, diff, expected, tone):
    sentence, colour = describe_uplift(
        {
            "rate_diff": diff,
            "rate_p_value": p_value,
            "rate_ci_low": diff - 0.02,
            "rate_ci_high": diff + 0.02,
        }
    )
    assert expected in sentence
    assert colour == tone


def test_profit_in_words():
    assert "earned" in describe_profit(120.0)
    assert "lost" in describe_profit(-80.0)
    assert "cannot be measured" in describe_profit(None)
    assert "no control group" in describe_uplift({"rate_diff": None})[0]


def test_a_campaign_that_lost_money_reads_as_a_loss(manager_client, launched):
    result = CampaignResult.objects.get(campaign=launched)
    payload = dict(result.payload, incremental_profit=-250.0)
    CampaignResult.objects.filter(pk=result.pk).update(payload=payload)
    response = manager_client.get(
        reverse("campaigns:campaign_results", args=[launched.pk])
    )
    assert "the campaign lost" in response.content.decode()
    assert Campaign.objects.filter(pk=launched.pk).exists()


def test_the_line_chart_escapes_labels_and_draws_single_points():
    from crm.charts import Series, line_chart

    day = dt.date(2026, 3, 1)
    svg = line_chart(
        [
            Series(
                "<script>alert(1)</script>", [(day, 1.0), (day + dt.timedelta(1), 3)]
            ),
            Series("Lonely", [(day, 2.0)]),
        ],
        title="<b>Title</b>",
        chart_id="c",
        unit="%",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<b>" not in svg
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 1
    assert ">5%</text>" in svg  # the axis top is rounded up from 3 to 5
    assert "<svg" in line_chart([], title="Empty", chart_id="e")
