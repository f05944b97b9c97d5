"""Root URL configuration: pages, the admin, the REST API and its schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from crm import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("crm/", include("crm.web_urls")),
    path(
        "accounts/login/",
        views.LoginView.as_view(),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("health/", views.health, name="health"),
    # Public opt-out pages and the SMS STOP webhook: no login (token-authenticated).
    path("u/", include("campaigns.public_urls")),
    path("admin/", admin.site.urls),
    path("ladders/", include("ladder.urls")),
    path("suggestions/", include("recommendations.urls")),
    # The clerk's counter lives with the suggestions; /counter/ is easy to type.
    path(
        "counter/",
        RedirectView.as_view(pattern_name="recommendations:counter", query_string=True),
    ),
    path("campaigns/", include("campaigns.urls")),
    # The ladder API uses a SimpleRouter (no root view), so it cannot hide crm's.
    path("api/", include("ladder.api.urls")),
    path("api/", include("recommendations.api.urls")),
    path("api/", include("campaigns.api.urls")),
    path("api/", include("crm.api.urls")),
]

handler500 = "crm.views.server_error"
