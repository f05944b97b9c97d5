"""CEL-01: the Celery configuration the reliability standard requires."""

from crm.celery import app


def test_late_ack_with_redelivery_on_worker_loss_and_a_poison_guard():
    from django.conf import settings

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert settings.CELERY_MAX_DELIVERIES == 3
    assert app.conf.worker_prefetch_multiplier == 1


def test_visibility_timeouts_agree_and_exceed_time_limits():
    broker = app.conf.broker_transport_options["visibility_timeout"]
    backend = app.conf.result_backend_transport_options["visibility_timeout"]
    from django.conf import settings

    assert broker == backend == settings.CELERY_VISIBILITY_TIMEOUT
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < broker


def test_json_only_and_separate_queues_for_import_and_send():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    routes = app.conf.task_routes
    assert routes["crm.import_*"]["queue"] == "import"
    assert routes["campaigns.send_*"]["queue"] == "send"


def test_tasks_are_django_tasks_with_delay_on_commit():
    from celery.contrib.django.task import DjangoTask

    assert issubclass(app.Task, DjangoTask)
