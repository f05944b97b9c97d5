"""Import pages: upload and preview, the job list, progress, summary and error report.

Upload → the form checks size, rows and CSV-ness (SEC-15) and the file is
stored under a generated name → the preview shows the first rows and how each
column will be used → "Start" creates the ImportJob and queues the Celery task
on commit → the job page polls its progress fragment until the job finishes.
Between upload and start the stored file is named by a signed token in the
URL, so no job row exists for an upload nobody starts.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView
from django_htmx.http import HttpResponseClientRefresh

from crm.import_forms import ImportUploadForm, map_columns, read_csv_preview
from crm.models import ImportJob
from crm.services.imports import (
    FINISHED,
    start_uploaded_import,
    store_import_upload,
    uploaded_import_path,
)

UPLOAD_TOKEN_SALT = "crm.import-upload"
UPLOAD_TOKEN_MAX_AGE = 24 * 3600


class ImportJobListView(PermissionRequiredMixin, ListView):
    permission_required = "crm.view_importjob"
    model = ImportJob
    paginate_by = 25
    template_name = "crm/importjob_list.html"
    queryset = ImportJob.objects.select_related("created_by").defer("error_report")


class ImportJobDetailView(PermissionRequiredMixin, DetailView):
    """One job; with HX-Request, only its progress fragment (polled by htmx)."""

    permission_required = "crm.view_importjob"
    model = ImportJob
    template_name = "crm/importjob_detail.html"
    queryset = ImportJob.objects.defer("error_report")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["finished"] = self.object.status in FINISHED
        return context

    def get(self, request, *args, **kwargs):
        if request.htmx:
            self.object = self.get_object()
            if self.object.status in FINISHED:
                # The summary and report links need the whole page.
                return HttpResponseClientRefresh()
            return render(
                request, "crm/importjob_progress.html", {"object": self.object}
            )
        return super().get(request, *args, **kwargs)


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


class ImportUploadView(PermissionRequiredMixin, View):
    """Step 1: choose the format and the file; refused at once when over a limit."""

    permission_required = "crm.add_importjob"
    template_name = "crm/import_upload.html"

    def _render(self, request: HttpRequest, form, *, status: int = 200):
        context = {
            "form": form,
            "max_size": settings.LADDER_IMPORT_UPLOAD_MAX_BYTES,
            "max_rows": settings.LADDER_IMPORT_UPLOAD_MAX_ROWS,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, ImportUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form, status=400)
        upload = form.cleaned_data["file"]
        stored = store_import_upload(chunks=upload.chunks())
        token = signing.dumps(
            {
                "stored": stored.name,
                "name": Path(upload.name).name[:255],
                "kind": form.cleaned_data["kind"],
                "skip_invalid": form.cleaned_data["skip_invalid"],
                "user": request.user.pk,
            },
            salt=UPLOAD_TOKEN_SALT,
        )
        return redirect(f"{reverse('crm:import_preview')}?upload={token}")


class ImportPreviewView(PermissionRequiredMixin, View):
    """Step 2: the first rows and the column mapping; "Start" queues the job."""

    permission_required = "crm.add_importjob"
    template_name = "crm/import_preview.html"

    def _upload(self, request: HttpRequest, token: str):
        try:
            data = signing.loads(
                token, salt=UPLOAD_TOKEN_SALT, max_age=UPLOAD_TOKEN_MAX_AGE
            )
        except signing.BadSignature:
            return None, None
        if data.get("user") != request.user.pk:
            return None, None
        return data, uploaded_import_path(data.get("stored", ""))

    def _expired(self, request: HttpRequest) -> HttpResponse:
        messages.error(
            request, _("That upload has expired or is unknown; upload the file again.")
        )
        return redirect("crm:import_new")

    def get(self, request: HttpRequest) -> HttpResponse:
        token = request.GET.get("upload", "")
        data, path = self._upload(request, token)
        if path is None:
            return self._expired(request)
        with path.open("rb") as handle:
            preview = read_csv_preview(handle, max_rows=10**9, file_name=data["name"])
        preview.mapping, preview.missing = map_columns(data["kind"], preview.header)
        context = {
            "upload": data,
            "token": token,
            "preview": preview,
            "kind_label": ImportJob.Kind(data["kind"]).label,
        }
        return render(request, self.template_name, context)

    def post(self, request: HttpRequest) -> HttpResponse:
        data, path = self._upload(request, request.POST.get("upload", ""))
        if path is None:
            return self._expired(request)
        job = start_uploaded_import(
            kind=data["kind"],
            stored_path=path,
            file_name=data["name"],
            skip_invalid=data["skip_invalid"],
            created_by=request.user,
        )
        messages.success(request, _("Import started."))
        return redirect("crm:import_detail", pk=job.pk)
