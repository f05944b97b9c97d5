"""factory_boy factories for the ladder app (one per model)."""

import factory
from django.utils import timezone

from ladder import models
from tests.crm.factories import CustomerFactory, ProductFactory


class LadderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Ladder

    name = factory.Sequence(lambda n: f"Ladder {n}")
    description = "A test ladder."
    active = False


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Step

    ladder = factory.SubFactory(LadderFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda step: step.product.name)
    product = factory.SubFactory(ProductFactory)
    price = factory.SelfAttribute("product.price")
    cross_sell_only = False


class StepOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StepOffer

    step = factory.SubFactory(StepFactory)
    product = factory.SubFactory(ProductFactory)
    note = ""


class CustomerLadderPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CustomerLadderPosition

    customer = factory.SubFactory(CustomerFactory)
    step = factory.SubFactory(StepFactory)
    ladder = factory.SelfAttribute("step.ladder")
    reached_at = factory.LazyFunction(timezone.now)
    stalled = False
    computed_at = factory.LazyFunction(timezone.now)


class CustomerStepReachFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CustomerStepReach

    customer = factory.SubFactory(CustomerFactory)
    step = factory.SubFactory(StepFactory)
    ladder = factory.SelfAttribute("step.ladder")
    reached_at = factory.LazyFunction(timezone.now)
    revenue = 0
    computed_at = factory.LazyFunction(timezone.now)
