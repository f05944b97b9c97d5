"""Ladder API routes (namespace ``ladder-api``), mounted at /api/.

A SimpleRouter, so no API root view shadows the one of ``crm.api.urls``.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from ladder.api import views

app_name = "ladder-api"

router = SimpleRouter()
router.register("ladders", views.LadderViewSet, basename="ladder")
router.register("ladder-steps", views.StepViewSet, basename="step")
router.register("ladder-offers", views.StepOfferViewSet, basename="offer")
router.register(
    "ladder-positions", views.CustomerLadderPositionViewSet, basename="position"
)

urlpatterns = [path("", include(router.urls))]
