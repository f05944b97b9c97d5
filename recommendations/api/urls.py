"""Recommendations API routes, mounted at /api/ (namespace ``recommendations-api``).

A SimpleRouter (no API root view), so it cannot hide crm's root. The basket
route comes first: the suggestion detail route only matches numeric ids.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from recommendations.api import views

app_name = "recommendations-api"

router = SimpleRouter()
router.register("suggestions", views.SuggestionViewSet, basename="suggestion")
router.register(
    "suggestion-runs", views.RecommendationRunViewSet, basename="suggestion-run"
)

urlpatterns = [
    path(
        "suggestions/basket/",
        views.BasketSuggestionsView.as_view(),
        name="suggestion-basket",
    ),
    path(
        "customers/<int:customer_id>/suggestions/",
        views.CustomerSuggestionsView.as_view(),
        name="customer-suggestions",
    ),
    path("", include(router.urls)),
]
