"""Site pages: login, home figures, health, error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from crm.auth_forms import LockoutAuthenticationForm
from crm.figures import get_home_figures
from crm.roles import role_of


class LoginView(auth_views.LoginView):
    """Django's login with the per-username and per-IP lockout (SEC-05)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = LockoutAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked_out:
            response.status_code = 429
        return response


class HomeView(TemplateView):
    """The landing page: headline figures for the user's scope."""

    template_name = "crm/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["figures"] = get_home_figures(user=self.request.user)
        context["role"] = role_of(self.request.user)
        context["currency"] = settings.CURRENCY
        return context


@login_not_required
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers and the database too."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500 page that names nothing internal (SEC-17)."""
    template = loader.get_template("500.html")
    body = template.render({"message": _("Something went wrong on our side.")})
    return HttpResponse(body, status=500)
