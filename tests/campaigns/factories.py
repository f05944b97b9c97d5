"""factory_boy factories for the campaigns app (one per model; owner: A1).

Send/suppression factories belong with the sending tests.
"""

import factory
from django.utils import timezone

from campaigns import models
from tests.crm.factories import CustomerFactory


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Segment
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Segment {n}")
    description = ""
    definition = factory.LazyFunction(lambda: {"match": "all", "rules": []})


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    goal = models.Campaign.Goal.DRIVE_TO_STORE
    segment = factory.SubFactory(SegmentFactory)
    channel = models.Campaign.Channel.EMAIL


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Variant

    campaign = factory.SubFactory(CampaignFactory)
    label = factory.Sequence(lambda n: chr(ord("A") + n % 26))
    subject = "Hello {first_name}"
    body = "Dear {first_name}, come and see us."
    weight = 1


class AudienceMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AudienceMember

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
    variant = None
    assigned_at = factory.LazyFunction(timezone.now)


class OfferCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.OfferCode

    code = factory.Sequence(lambda n: f"CODE{n:05d}")
    campaign = factory.SubFactory(CampaignFactory)
    kind = models.OfferCode.Kind.CAMPAIGN
