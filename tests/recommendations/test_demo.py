"""The demo hook: ``manage.py demo`` computes suggestions after the ladders."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps

from recommendations.demo import build_demo_suggestions
from recommendations.models import RecommendationRun, Suggestion

pytestmark = pytest.mark.django_db


def test_app_names_its_demo_builder():
    config = apps.get_app_config("recommendations")
    assert config.demo_build == "recommendations.demo.build_demo_suggestions"


def test_demo_builder_leaves_every_buyer_with_reasoned_offers(shop):
    out = StringIO()
    build_demo_suggestions(stdout=out)
    run = RecommendationRun.objects.get()
    assert run.trigger == "demo" and run.is_current
    assert "Suggestions:" in out.getvalue()
    single = shop.singles_a[0]
    offers = Suggestion.objects.filter(customer=single, run=run)
    assert offers.exists() and all(offer.reason for offer in offers)


def test_make_demo_gives_demo_customers_offers_with_reasons():
    from django.core.management import call_command

    from crm.models import Customer

    out = StringIO()
    call_command("demo", "--customers", "80", stdout=out)
    assert "Suggestions:" in out.getvalue()
    run = RecommendationRun.objects.get(is_current=True)
    buyers = Customer.objects.filter(orders__isnull=False).distinct()
    with_offers = buyers.filter(suggestions__run=run).distinct().count()
    assert with_offers >= 0.8 * buyers.count()
    assert not Suggestion.objects.filter(run=run, reason="").exists()
