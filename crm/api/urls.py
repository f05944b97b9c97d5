"""REST API routes, mounted at /api/ by crm.urls (namespace ``crm-api``).

Besides the viewsets: the OpenAPI schema and its Swagger UI and ReDoc pages
(assets from drf-spectacular-sidecar: no CDN, no inline script), all behind
login like the rest of the API; and the token endpoint, the one route open to
anonymous callers.
"""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from crm.api import views

app_name = "crm-api"

router = DefaultRouter()
router.register("stores", views.StoreViewSet, basename="store")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("products", views.ProductViewSet, basename="product")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("consents", views.ChannelConsentViewSet, basename="consent")
router.register("consent-events", views.ConsentEventViewSet, basename="consent-event")
router.register("orders", views.OrderViewSet, basename="order")
router.register("returns", views.ReturnViewSet, basename="return")
router.register("interactions", views.InteractionViewSet, basename="interaction")

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path(
        "docs/",
        views.SwaggerDocsView.as_view(url_name="crm-api:schema"),
        name="docs",
    ),
    path(
        "redoc/",
        views.RedocDocsView.as_view(url_name="crm-api:schema"),
        name="redoc",
    ),
    # Open to anonymous callers by design (it is how they log in); DRF's view
    # still runs the default authenticators, so a session-authenticated POST
    # without a CSRF token is refused.
    # The lockout (SEC-05) counts attempts here as on the login form.
    path("auth/token/", views.LockoutObtainAuthToken.as_view(), name="token"),
]
