"""The import upload form: every limit is checked here, before any job exists (SEC-15).

``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not cover file content, so the size, the
row count and "is this really CSV text" are enforced by the form. The full
parse (types, keys, references) still runs later in the Celery task.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from crm.imports import project
from crm.imports.online_retail import RETAIL_COLUMNS
from crm.imports.reading import BINARY_SIGNATURES
from crm.models import ImportJob

PREVIEW_ROWS = 10


def expected_columns(kind: str) -> tuple[list[str], list[str]]:
    """(required, optional) column names of an import format."""
    return {
        ImportJob.Kind.CUSTOMERS: (
            project.CUSTOMER_REQUIRED,
            project.CUSTOMER_OPTIONAL,
        ),
        ImportJob.Kind.PRODUCTS: (project.PRODUCT_REQUIRED, project.PRODUCT_OPTIONAL),
        ImportJob.Kind.ORDERS: (project.ORDER_REQUIRED, project.ORDER_OPTIONAL),
        ImportJob.Kind.ONLINE_RETAIL: (RETAIL_COLUMNS, []),
    }[kind]


@dataclass
class ColumnMapping:
    column: str
    role: str  # "required", "optional" or "ignored"


@dataclass
class CsvPreview:
    """The header, the first rows and the data row count of an uploaded file."""

    header: list[str]
    rows: list[list[str]]
    row_count: int
    encoding: str
    mapping: list[ColumnMapping] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def map_columns(kind: str, header: list[str]) -> tuple[list[ColumnMapping], list[str]]:
    """How each column of the file will be used, and the required ones it lacks."""
    required, optional = expected_columns(kind)
    mapping = [
        ColumnMapping(
            column=name,
            role="required"
            if name in required
            else "optional"
            if name in optional
            else "ignored",
        )
        for name in header
    ]
    missing = [name for name in required if name not in header]
    return mapping, missing


def read_csv_preview(handle, *, max_rows: int, file_name: str) -> CsvPreview:
    """Check that a binary file is CSV text within ``max_rows`` data rows.

    Raises ``forms.ValidationError`` with a message for people. The file is
    read once, as a stream; counting stops at the first row over the limit.
    """
    head = handle.read(8192)
    handle.seek(0)
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise forms.ValidationError(_("The file is empty."), code="empty")
    if head.startswith(BINARY_SIGNATURES) or head.count(b"\x00") > 0:
        raise forms.ValidationError(
            _(
                "%(name)s is not a CSV text file (is it a spreadsheet renamed to "
                ".csv? Save it as CSV first)."
            ),
            code="not_csv",
            params={"name": file_name},
        )
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character is not a wrong encoding.
        if exc.start < len(head) - 4:
            encoding = "cp1252"
    text = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = [column.strip() for column in next(reader, [])]
        rows: list[list[str]] = []
        count = 0
        for row in reader:
            if not row:
                continue
            count += 1
            if count > max_rows:
                raise forms.ValidationError(
                    _("The file has more than %(limit)s rows; split it into parts."),
                    code="too_many_rows",
                    params={"limit": f"{max_rows:,}"},
                )
            if count <= PREVIEW_ROWS:
                rows.append(row)
    except csv.Error as exc:
        raise forms.ValidationError(
            _("The file is not valid CSV (%(error)s)."),
            code="not_csv",
            params={"error": exc},
        ) from exc
    finally:
        text.detach()  # leave the upload open for saving
        handle.seek(0)
    if not any(header):
        raise forms.ValidationError(_("The file has no header row."), code="no_header")
    if count == 0:
        raise forms.ValidationError(
            _("The file has a header but no rows."), code="no_rows"
        )
    return CsvPreview(
        header=header,
        rows=rows,
        row_count=count,
        encoding="utf-8" if encoding == "utf-8-sig" else encoding,
    )


class ImportUploadForm(forms.Form):
    """A CSV file and its format; valid only within the size and row limits."""

    kind = forms.ChoiceField(label=_("Format"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("CSV file"),
        allow_empty_file=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows even if some rows are invalid"),
        required=False,
    )

    preview: CsvPreview | None = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name or ""
        if not name.lower().endswith(".csv"):
            raise forms.ValidationError(
                _("Only .csv files can be imported."), code="suffix"
            )
        limit = settings.LADDER_IMPORT_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s."),
                code="too_large",
                params={
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(limit),
                },
            )
        self.preview = read_csv_preview(
            upload.file,
            max_rows=settings.LADDER_IMPORT_UPLOAD_MAX_ROWS,
            file_name=name,
        )
        return upload

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if self.preview is not None and kind:
            mapping, missing = map_columns(kind, self.preview.header)
            self.preview.mapping, self.preview.missing = mapping, missing
            if missing:
                raise forms.ValidationError(
                    _(
                        "The file lacks the column(s) %(missing)s needed for "
                        "%(kind)s; expected %(expected)s."
                    ),
                    code="missing_columns",
                    params={
                        "missing": ", ".join(missing),
                        "kind": ImportJob.Kind(kind).label,
                        "expected": ", ".join(expected_columns(kind)[0]),
                    },
                )
        return cleaned
