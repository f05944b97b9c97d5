"""Core pages: login, home figures, import jobs, health, error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, TemplateView

from crm.figures import get_home_figures
from crm.models import ImportJob
from crm.roles import role_of


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class HomeView(TemplateView):
    """The landing page: headline figures for the user's scope."""

    template_name = "crm/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["figures"] = get_home_figures(user=self.request.user)
        context["role"] = role_of(self.request.user)
        context["currency"] = settings.CURRENCY
        return context


class ImportJobListView(PermissionRequiredMixin, ListView):
    permission_required = "crm.view_importjob"
    model = ImportJob
    paginate_by = 25
    template_name = "crm/importjob_list.html"
    queryset = ImportJob.objects.select_related("created_by").defer("error_report")


class ImportJobDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "crm.view_importjob"
    model = ImportJob
    template_name = "crm/importjob_detail.html"
    queryset = ImportJob.objects.defer("error_report")


class ImportJobErrorReportView(PermissionRequiredMixin, View):
    """Download a job's row-level error report as CSV."""

    permission_required = "crm.view_importjob"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = ImportJob.objects.filter(pk=pk).only("id", "error_report").first()
        if job is None or not job.error_report:
            return render(request, "404.html", status=404)
        response = HttpResponse(
            job.error_report, content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="import-{job.pk}-errors.csv"'
        )
        return response


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
