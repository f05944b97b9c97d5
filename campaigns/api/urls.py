"""Campaigns API routes (namespace ``campaigns-api``), mounted at /api/.

A SimpleRouter, so no API root view shadows the one of ``crm.api.urls``.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from campaigns.api import views

app_name = "campaigns-api"

router = SimpleRouter()
router.register("segments", views.SegmentViewSet, basename="segment")
router.register("campaigns", views.CampaignViewSet, basename="campaign")
router.register("campaign-variants", views.VariantViewSet, basename="variant")
router.register("offer-codes", views.OfferCodeViewSet, basename="offer-code")

urlpatterns = [path("", include(router.urls))]
