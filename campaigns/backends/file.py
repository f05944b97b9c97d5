"""The default SMS backend: one JSON line per message in a file under var/."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from . import BaseSmsBackend, SmsMessage


class FileSmsBackend(BaseSmsBackend):
    """Appends each message to ``<CAMPAIGNS_SMS_FILE_DIR>/sms-YYYY-MM-DD.jsonl``.

    For development and demos: nothing leaves the machine. One ``write`` of a
    whole line on a file opened in append mode keeps lines from concurrent
    workers intact.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory or settings.CAMPAIGNS_SMS_FILE_DIR)

    def path_for_today(self) -> Path:
        return self.directory / f"sms-{timezone.now():%Y-%m-%d}.jsonl"

    def send(self, message: SmsMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "id": f"file-{message.send_id}",
                "send_id": message.send_id,
                "to": message.to,
                "from": message.sender,
                "body": message.body,
                "at": timezone.now().isoformat(),
            },
            ensure_ascii=False,
        )
        fd = os.open(self.path_for_today(), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        return f"file-{message.send_id}"
