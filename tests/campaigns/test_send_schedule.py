"""No long ETA/countdown on the Redis broker (CEL-02): a static scan."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from campaigns import tasks

ROOT = Path(__file__).resolve().parents[2] / "campaigns"
DELAY_KEYWORDS = {"countdown", "eta", "retry_backoff_max"}


def delay_keywords():
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg in DELAY_KEYWORDS:
                        yield path, keyword


def test_every_broker_delay_is_far_below_the_visibility_timeout():
    limit = settings.CELERY_VISIBILITY_TIMEOUT / 2
    found = list(delay_keywords())
    assert found, "the scan found nothing: it would pass on anything"
    for path, keyword in found:
        value = keyword.value
        if isinstance(value, ast.Constant):
            assert value.value <= limit, f"{path}: {keyword.arg}={value.value}"
        else:
            # the only computed delay is the send retry's capped backoff
            assert isinstance(value, ast.Call) and value.func.id == "_backoff", path
    assert max(tasks._backoff(retries) for retries in range(50)) <= limit
