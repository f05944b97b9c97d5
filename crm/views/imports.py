"""Import job pages: the list, one job's summary and its error report."""

from __future__ import annotations

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View
from django.views.generic import DetailView, ListView

from crm.models import ImportJob


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
