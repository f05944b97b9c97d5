"""Segment pages: the editor's live count and sample, saving, the list's budget."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Segment
from tests.campaigns.factories import CampaignFactory, SegmentFactory
from tests.crm.factories import CustomerFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def milan_and_rome(db):
    """A store in Milan; three customers near it (ages 30, 45, 70), one in Rome."""
    today = timezone.localdate()
    store = StoreFactory(
        code="MI",
        name="Milano Centro",
        latitude=Decimal("45.4642"),
        longitude=Decimal("9.19"),
    )
    near = [
        CustomerFactory(
            first_name=name,
            last_name="Near",
            latitude=Decimal("45.47"),
            longitude=Decimal("9.20"),
            birth_date=today - dt.timedelta(days=365 * age + 30),
            gender=gender,
            home_store=store,
        )
        for name, age, gender in (
            ("Anna", 30, "F"),
            ("Bruno", 45, "M"),
            ("Carla", 70, "F"),
        )
    ]
    far = CustomerFactory(
        first_name="Dario",
        last_name="Far",
        latitude=Decimal("41.9028"),
        longitude=Decimal("12.4964"),
        birth_date=today - dt.timedelta(days=365 * 35),
        home_store=store,
    )
    return store, near, far


def preview(client, **params):
    return client.get(
        reverse("campaigns:segment_preview"), params, headers={"HX-Request": "true"}
    )


def test_the_editor_renders_with_every_filter_and_the_live_trigger(
    manager_client, milan_and_rome
):
    response = manager_client.get(reverse("campaigns:segment_create"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-trigger="input changed delay:400ms, change"' in body
    assert 'hx-params="not csrfmiddlewaretoken"' in body
    for name in (
        "distance_store",
        "age_min",
        "genders",
        "ladder_state",
        "bought_product",
        "not_bought_category",
        "recency_max_days",
        "frequency_min",
        "spend_min",
        "max_return_rate",
        "consent_channel",
        "prospects",
        "lookalike_segment",
    ):
        assert f'name="{name}"' in body, name
    # With no filter yet, the count is everybody.
    assert response.context["size"] == 4


def test_the_live_preview_counts_a_segment_by_distance_and_age(
    manager_client, milan_and_rome
):
    store, near, _far = milan_and_rome
    response = preview(
        manager_client,
        name="Near and middle-aged",
        match="all",
        distance_store=store.pk,
        distance_max_km="10",
        age_min="25",
        age_max="50",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # a fragment, never the whole page
    assert response.context["size"] == 2
    assert {c.first_name for c in response.context["sample"]} == {"Anna", "Bruno"}
    assert "Anna" in body and "Dario" not in body


def test_any_match_unites_the_filters(manager_client, milan_and_rome):
    store, _near, _far = milan_and_rome
    response = preview(
        manager_client,
        name="x",
        match="any",
        distance_store=store.pk,
        distance_max_km="10",
        genders=["M"],
    )
    assert response.context["size"] == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"age_min": "60", "age_max": "20"}, "This is below the lower bound."),
        ({"distance_max_km": "5"}, "Choose the store to measure from."),
        ({"age_min": "abc"}, "Enter a whole number."),
        ({"bought_product": "NO-SUCH-SKU"}, "No product has the SKU"),
        ({"ladder_state": "on"}, "Choose the step."),
    ],
)
def test_bad_filters_explain_themselves_in_the_fragment(
    manager_client, milan_and_rome, params, message
):
    response = preview(manager_client, name="x", match="all", **params)
    assert response.status_code == 200
    assert response.context["invalid"]
    assert message in response.content.decode()


def test_saving_a_segment_stores_its_rules_and_reopens_them(
    manager_client, milan_and_rome
):
    store, _near, _far = milan_and_rome
    response = manager_client.post(
        reverse("campaigns:segment_create"),
        {
            "name": "Milan 40s",
            "match": "all",
            "distance_store": store.pk,
            "distance_max_km": "10",
            "age_min": "40",
            "age_max": "49",
            "max_return_rate": "20",
        },
    )
    segment = Segment.objects.get(name="Milan 40s")
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:segment_edit", args=[segment.pk])
    rules = {rule["field"]: rule for rule in segment.definition["rules"]}
    assert rules["distance"]["store"] == store.pk and rules["distance"]["max_km"] == 10
    assert rules["age"] == {"field": "age", "min": 40, "max": 49}
    assert rules["return_rate"]["max"] == pytest.approx(0.2)
    # Reopened, the editor shows the same values and counts Bruno only.
    page = manager_client.get(reverse("campaigns:segment_edit", args=[segment.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["age_min"] == 40
    assert Decimal(str(form.initial["max_return_rate"])) == Decimal("20")
    assert page.context["size"] == 1


def test_an_invalid_save_keeps_nothing_and_says_why(manager_client, milan_and_rome):
    response = manager_client.post(
        reverse("campaigns:segment_create"),
        {"name": "", "match": "all", "age_min": "90", "age_max": "10"},
    )
    assert response.status_code == 400
    assert not Segment.objects.exists()
    body = response.content.decode()
    assert "This field is required." in body
    assert "This is below the lower bound." in body


def test_a_duplicate_name_is_refused_by_the_service_not_a_500(
    manager_client, milan_and_rome
):
    SegmentFactory(name="Taken")
    response = manager_client.post(
        reverse("campaigns:segment_create"), {"name": "Taken", "match": "all"}
    )
    assert response.status_code == 400
    assert Segment.objects.filter(name="Taken").count() == 1
    assert response.context["form"].errors


def test_a_segment_the_flat_editor_cannot_show_keeps_its_rules(manager_client):
    nested = {
        "match": "all",
        "rules": [{"match": "any", "rules": [{"field": "gender", "values": ["F"]}]}],
    }
    segment = SegmentFactory(name="Nested", definition=nested)
    page = manager_client.get(reverse("campaigns:segment_edit", args=[segment.pk]))
    assert page.context["readonly"]
    response = manager_client.post(
        reverse("campaigns:segment_edit", args=[segment.pk]),
        {"name": "Nested, renamed", "match": "all"},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Nested, renamed"
    assert segment.definition["rules"][0]["match"] == "any"


def test_the_count_fragment_of_the_list(manager_client, milan_and_rome):
    segment = SegmentFactory(definition={"match": "all", "rules": []})
    response = manager_client.get(
        reverse("campaigns:segment_count", args=[segment.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.content.decode().strip() == "4"


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("campaigns:segment_list"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_the_segment_list_costs_the_same_for_1_and_20_segments(request, client, role):
    client.force_login(request.getfixturevalue(role))
    CampaignFactory(segment=SegmentFactory(name="First"))
    one = _list_queries(client)
    for index in range(19):
        CampaignFactory(segment=SegmentFactory(name=f"Segment {index:02d}"))
    twenty = _list_queries(client)
    assert one == twenty
    assert twenty <= 12
