"""The import page (issue 6 item 8, SEC-15): limits before queueing, preview, progress."""

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm.models import Customer, ImportJob
from crm.services.imports import delete_expired_import_uploads

pytestmark = pytest.mark.django_db

CUSTOMERS_CSV = (
    "external_id,first_name,last_name,email,favourite_colour\n"
    "C1,Anna,Rossi,anna@example.com,blue\n"
    "C2,Luca,Bianchi,luca@example.com,red\n"
)


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "imports"
    return settings.IMPORT_UPLOAD_DIR


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


def upload(client, content: bytes, *, name="customers.csv", kind="customers", **extra):
    return client.post(
        "/crm/imports/new/",
        {"kind": kind, "file": SimpleUploadedFile(name, content), **extra},
    )


def test_a_25_mb_file_is_refused_before_any_job_exists(manager_client, upload_dir):
    line = b"C1,Anna,Rossi,anna@example.com\n"
    body = b"external_id,first_name,last_name,email\n" + line * (
        25 * 1024 * 1024 // len(line)
    )
    response = upload(manager_client, body)
    assert response.status_code == 400
    assert "the limit is 20" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_a_spreadsheet_renamed_to_csv_is_refused(manager_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    response = upload(manager_client, buffer.getvalue(), name="customers.csv")
    assert response.status_code == 400
    assert "not a CSV text file" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_more_than_200_000_rows_is_refused(manager_client):
    body = b"external_id\n" + b"".join(b"C%d\n" % n for n in range(200_001))
    response = upload(manager_client, body)
    assert response.status_code == 400
    assert "more than 200,000 rows" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_exactly_200_000_rows_is_accepted(manager_client):
    body = b"external_id\n" + b"".join(b"C%d\n" % n for n in range(200_000))
    assert upload(manager_client, body).status_code == 302


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("customers.xlsx", CUSTOMERS_CSV.encode(), "Only .csv files"),
        ("customers.csv", b"", "empty"),
        ("customers.csv", b"external_id\n", "no rows"),
        ("customers.csv", b'a,"b\n', "not valid CSV"),
        ("customers.csv", b"first_name\nAnna\n", "lacks the column(s) external_id"),
        ("customers.csv", b"%PDF-1.4 binary", "not a CSV text file"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(
    manager_client, name, content, message
):
    response = upload(manager_client, content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_crafted_file_name_never_reaches_the_file_system(manager_client, upload_dir):
    response = upload(manager_client, CUSTOMERS_CSV.encode(), name="../../etc/x.csv")
    assert response.status_code == 302
    manager_client.post("/crm/imports/new/preview/", {"upload": token_of(response)})
    job = ImportJob.objects.get()
    stored = Path(job.file_path)
    assert stored.parent == upload_dir
    assert len(stored.stem) == 32 and stored.suffix == ".csv"
    assert ".." not in job.file_path
    assert job.file_name == "x.csv"
    assert oct(stored.stat().st_mode & 0o777) == oct(0o600)


def token_of(response) -> str:
    return response["Location"].split("upload=", 1)[1]


def test_upload_preview_start_and_finish(
    manager_client, manager, django_capture_on_commit_callbacks
):
    # given an upload
    response = upload(manager_client, CUSTOMERS_CSV.encode())
    assert response.status_code == 302
    assert not ImportJob.objects.exists()  # nothing queued before "Start"

    # when previewed
    preview = manager_client.get(response["Location"])
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Anna" in page and "Luca" in page
    assert "favourite_colour" in page and "ignored" in page
    assert "required field" in page

    # and started (queued on commit; the task runs inline in tests)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        started = manager_client.post(
            "/crm/imports/new/preview/", {"upload": token_of(response)}
        )
    assert len(callbacks) == 1

    # then the job ran to the end and the customers exist
    job = ImportJob.objects.get()
    assert started["Location"] == f"/crm/imports/{job.pk}/"
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.progress == 100 and job.created_by == manager
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"C1", "C2"}
    detail = manager_client.get(started["Location"]).content.decode()
    assert "Download the error report" in detail
    assert 'hx-trigger="every 2s"' not in detail  # a finished job stops polling


def test_a_rejected_import_offers_its_error_report(
    manager_client, django_capture_on_commit_callbacks
):
    body = b"external_id,email\nC1,not-an-address\n"
    response = upload(manager_client, body)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post("/crm/imports/new/preview/", {"upload": token_of(response)})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    report = manager_client.get(f"/crm/imports/{job.pk}/errors.csv")
    assert report.status_code == 200
    assert b"email" in report.content
    assert not Customer.objects.exists()


def test_the_progress_fragment_polls_until_the_job_finishes(manager_client, manager):
    job = ImportJob.objects.create(
        kind="customers", file_path="/x.csv", file_name="x.csv",
        status=ImportJob.Status.RUNNING, progress=40, created_by=manager,
    )  # fmt: skip
    page = manager_client.get(f"/crm/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "htmx-2.min.js" in page
    fragment = manager_client.get(
        f"/crm/imports/{job.pk}/", headers={"HX-Request": "true"}
    )
    text = fragment.content.decode()
    assert '<progress class="import-progress" max="100" value="40">' in text
    assert "<html" not in text
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)
    done = manager_client.get(f"/crm/imports/{job.pk}/", headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_a_preview_token_is_bound_to_the_uploader(manager_client, db):
    from tests.crm.factories import UserFactory

    response = upload(manager_client, CUSTOMERS_CSV.encode())
    other = Client()
    other.force_login(UserFactory(username="manager2", role="manager"))
    stolen = other.post("/crm/imports/new/preview/", {"upload": token_of(response)})
    assert stolen.status_code == 302 and stolen["Location"] == "/crm/imports/new/"
    forged = manager_client.post("/crm/imports/new/preview/", {"upload": "x:y:z"})
    assert forged["Location"] == "/crm/imports/new/"
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("role", ["sales", "clerk_a"])
def test_only_managers_may_upload(request, role):
    client = Client()
    client.force_login(request.getfixturevalue(role))
    assert client.get("/crm/imports/new/").status_code == 403
    assert upload(client, CUSTOMERS_CSV.encode()).status_code == 403
    assert client.post("/crm/imports/new/preview/", {"upload": "x"}).status_code == 403
    assert not ImportJob.objects.exists()


def test_anonymous_users_are_sent_to_log_in(db):
    response = Client().get("/crm/imports/new/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_expired_uploads_are_deleted_but_running_ones_kept(upload_dir, manager):
    upload_dir.mkdir(parents=True)
    old, fresh, running = (upload_dir / f"{c * 32}.csv" for c in "abc")
    for path in (old, fresh, running):
        path.write_text("external_id\nC1\n")
    month_ago = time.time() - 31 * 86400
    for path in (old, running):
        os.utime(path, (month_ago, month_ago))
    ImportJob.objects.create(
        kind="customers", file_path=str(running), status=ImportJob.Status.RUNNING
    )
    assert delete_expired_import_uploads() == 1
    assert not old.exists() and fresh.exists() and running.exists()


def test_the_cleanup_runs_every_day(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["crm-cleanup-import-uploads"]
    assert schedule["task"] == "crm.cleanup_import_uploads"
    from crm.celery import app

    assert "crm.cleanup_import_uploads" in app.tasks
