"""Campaign results: the statistics on known inputs, and a hand-counted campaign."""

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from campaigns import services
from campaigns.results import diff_in_proportions, welch_difference
from campaigns.tasks import refresh_results_task
from tests.campaigns.factories import (
    AudienceMemberFactory,
    CampaignFactory,
    OfferCodeFactory,
    VariantFactory,
)
from tests.crm.factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
)

# --- statistics against closed forms -------------------------------------------


def normal_two_sided_p(z):
    return math.erfc(abs(z) / math.sqrt(2))


def test_difference_in_proportions_matches_the_closed_form():
    result = diff_in_proportions(60, 200, 40, 200)
    # By hand: p_t = .3, p_c = .2; unpooled SE = sqrt(.3*.7/200 + .2*.8/200).
    se = math.sqrt(0.3 * 0.7 / 200 + 0.2 * 0.8 / 200)
    assert result["diff"] == pytest.approx(0.1)
    assert result["low"] == pytest.approx(0.1 - 1.959964 * se, abs=1e-6)
    assert result["high"] == pytest.approx(0.1 + 1.959964 * se, abs=1e-6)
    # Pooled z-test: p = .25, SE0 = sqrt(.25 * .75 * (2/200)), z = .1 / SE0.
    z = 0.1 / math.sqrt(0.25 * 0.75 * 0.01)
    assert result["p_value"] == pytest.approx(normal_two_sided_p(z), rel=1e-9)
    assert result["p_value"] == pytest.approx(0.0209, abs=1e-4)
    assert result["relative"] == pytest.approx(0.5)


def test_no_difference_gives_p_one_and_empty_group_gives_none():
    assert diff_in_proportions(0, 10, 0, 10)["p_value"] == 1.0
    assert diff_in_proportions(1, 0, 1, 10)["diff"] is None


def test_welch_interval_and_p_value():
    treated = np.array([0.0, 0.0, 10.0, 20.0, 30.0, 0.0])
    control = np.array([0.0, 5.0, 0.0, 0.0, 0.0])
    result = welch_difference(treated, control)
    # By hand: means 10 and 1; variances 160 and 5 (n - 1 in the denominator).
    var_t, var_c = 160 / 6, 5 / 5
    se = math.sqrt(var_t + var_c)
    df = (var_t + var_c) ** 2 / (var_t**2 / 5 + var_c**2 / 4)
    assert result["diff"] == pytest.approx(9.0)
    half = stats.t.ppf(0.975, df) * se
    assert result["low"] == pytest.approx(9.0 - half)
    assert result["high"] == pytest.approx(9.0 + half)
    reference = stats.ttest_ind(treated, control, equal_var=False)
    assert result["p_value"] == pytest.approx(reference.pvalue)


# --- a campaign counted by hand --------------------------------------------------

LAUNCH = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(days):
    return LAUNCH + dt.timedelta(days=days, hours=3)


def order(customer, *lines, days, store=None):
    placed = OrderFactory(
        customer=customer, placed_at=at(days), store=store or customer.home_store
    )
    for number, (product, quantity, returned) in enumerate(lines, start=1):
        OrderLineFactory(
            order=placed,
            line_no=number,
            product=product,
            quantity=quantity,
            unit_price=product.price,
            returned_quantity=returned,
        )
    return placed


@pytest.fixture
def counted_campaign(db, settings):
    """Upsell of P (price 100, cost 60), 10 % off, 14 days; A, B and control of 4.

    What each member did (return handling costs 5 per unit):
      A1 buys P on day 2                  → converts, revenue 100, margin 40
      A2 buys 2 P on day 5, returns 1     → converts, revenue 100, margin 35
      A3 buys Q (30, cost 18) on day 3 with the campaign code → converts, 30, 12
      A4 buys P on day 20 (after window)  → no
      B1 buys P on day 1, returns it      → no, revenue 0, margin -5
      B2 bought P the day before launch   → no
      B3, B4 nothing                      → no
      C1 (control) buys P on day 3        → converts, 100, 40
      C2..C4 nothing
    Plus a stranger quotes the partner code on day 4 for 2 Q: 60, margin 24.
    """
    settings.CAMPAIGN_RETURN_COST_PER_UNIT = 5
    north = StoreFactory(code="N", name="North")
    south = StoreFactory(code="S", name="South")
    p = ProductFactory(price=Decimal("100.00"), unit_cost=Decimal("60.00"))
    q = ProductFactory(price=Decimal("30.00"), unit_cost=Decimal("18.00"))
    campaign = CampaignFactory(
        goal="upsell",
        offer_product=p,
        discount_percent=Decimal("10"),
        attribution_window_days=14,
        control_share=Decimal("0.3"),
        status="sending",
        launched_at=LAUNCH,
    )
    a = VariantFactory(campaign=campaign, label="A")
    b = VariantFactory(campaign=campaign, label="B")
    members = {}
    for group, variant in (("A", a), ("B", b), ("C", None)):
        for i in range(1, 5):
            store = north if group == "A" else south
            customer = CustomerFactory(home_store=store, first_name=f"{group}{i}")
            AudienceMemberFactory(
                campaign=campaign,
                customer=customer,
                variant=variant,
                assigned_at=LAUNCH,
            )
            members[f"{group}{i}"] = customer
    order(members["A1"], (p, 1, 0), days=2)
    order(members["A2"], (p, 2, 1), days=5)
    coded = order(members["A3"], (q, 1, 0), days=3)
    order(members["A4"], (p, 1, 0), days=20)
    order(members["B1"], (p, 1, 1), days=1)
    order(members["B2"], (p, 1, 0), days=-1)
    order(members["C1"], (p, 1, 0), days=3)
    OfferCodeFactory(campaign=campaign, code="CAMP10")
    partner = services.create_partner_code(
        campaign=campaign, partner_name="Influencer Ann", code="ANN10"
    )
    services.redeem_offer_code(order=coded, code="CAMP10")
    stranger = CustomerFactory(home_store=north)
    services.redeem_offer_code(
        order=order(stranger, (q, 2, 0), days=4), code=partner.code
    )
    return campaign


def payload_of(campaign):
    result = services.refresh_campaign_results(campaign_id=campaign.pk, now=at(40))
    return result.payload


def by_key(rows):
    return {row["key"]: row for row in rows}


def test_groups_match_the_hand_count(counted_campaign):
    groups = by_key(payload_of(counted_campaign)["groups"])
    assert (groups["A"]["customers"], groups["A"]["conversions"]) == (4, 3)
    assert groups["A"]["revenue"] == 230.0
    assert groups["A"]["margin"] == 87.0
    assert (
        groups["B"]["conversions"],
        groups["B"]["revenue"],
        groups["B"]["margin"],
    ) == (
        0,
        0.0,
        -5.0,
    )
    assert groups["B"]["returned_value"] == 100.0
    assert (groups["treated"]["customers"], groups["treated"]["conversions"]) == (8, 3)
    assert groups["treated"]["margin"] == 82.0
    assert (groups["control"]["customers"], groups["control"]["conversions"]) == (4, 1)
    assert groups["control"]["revenue"] == 100.0
    assert groups["control"]["conversion_rate"] == 0.25


def test_uplift_and_incremental_profit_match_the_hand_count(counted_campaign):
    payload = payload_of(counted_campaign)
    treated = by_key(payload["uplift"])["treated"]
    assert treated["rate_diff"] == pytest.approx(3 / 8 - 1 / 4)
    # Margin per customer 82/8 vs 40/4: +0.25 x 8 treated = 2; discount 10 % of 230.
    assert treated["incremental_margin"] == pytest.approx(2.0)
    assert treated["discount_cost"] == pytest.approx(23.0)
    assert treated["incremental_profit"] == pytest.approx(-21.0)
    assert payload["incremental_profit"] == pytest.approx(-21.0)
    assert payload["significant"] is False
    expected = diff_in_proportions(3, 8, 1, 4)
    assert treated["rate_p_value"] == pytest.approx(expected["p_value"], abs=1e-6)


def test_breakdowns_daily_series_and_codes(counted_campaign):
    payload = payload_of(counted_campaign)
    stores = {(row["name"], row["group"]): row for row in payload["by_store"]}
    assert stores[("North", "treated")]["customers"] == 4
    assert stores[("North", "treated")]["conversions"] == 3
    assert stores[("South", "treated")]["customers"] == 4
    assert stores[("South", "control")]["conversions"] == 1
    daily = payload["daily"]
    assert len(daily) == 15  # launch day + 14 days (window closed)
    assert sum(day["treated"] for day in daily) == 3
    assert daily[-1]["control_cumulative_rate"] == 0.25
    codes = {row["code"]: row for row in payload["codes"]}
    assert codes["CAMP10"]["orders"] == 1 and codes["CAMP10"]["revenue"] == 30.0
    assert codes["ANN10"]["outside_audience_orders"] == 1
    assert payload["partners"] == [
        {
            "partner_name": "Influencer Ann",
            "orders": 1,
            "customers": 1,
            "revenue": 60.0,
            "margin": 24.0,
        }
    ]


def test_results_before_the_window_closes_count_what_happened_so_far(counted_campaign):
    result = services.refresh_campaign_results(
        campaign_id=counted_campaign.pk, now=at(3) + dt.timedelta(minutes=1)
    )
    groups = by_key(result.payload["groups"])
    # By day 3 + 3 h: A1 (day 2) and A3 (day 3); A2 buys on day 5.
    assert groups["A"]["conversions"] == 2
    assert result.payload["window_closed"] is False


def test_refresh_task_is_idempotent(counted_campaign):
    refresh_results_task(counted_campaign.pk)
    refresh_results_task(counted_campaign.pk)
    assert (
        counted_campaign.__class__.objects.get(pk=counted_campaign.pk).result.payload[
            "audience"
        ]
        == 12
    )


def test_draft_campaign_has_no_results(db):
    assert services.refresh_campaign_results(campaign_id=CampaignFactory().pk) is None


def test_results_query_count_does_not_grow_with_the_audience(
    counted_campaign, django_assert_max_num_queries
):
    # Eight reads (campaign, members, sends, lines, code lines, variants,
    # stores), the upsert and its savepoints: nothing per member or per line.
    with django_assert_max_num_queries(16):
        payload_of(counted_campaign)
