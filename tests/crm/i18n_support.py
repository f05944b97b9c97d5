"""Compile the translation catalogues for tests that render Italian."""

import shutil

import pytest
from django.core.management import call_command
from django.utils import translation


def compile_catalogues() -> None:
    """Compile every .po beside the code into .mo and drop Django's cached catalogues."""
    if shutil.which("msgfmt") is None:
        pytest.fail("gettext's msgfmt is missing: apt-get install gettext")
    call_command("compilemessages", ignore_patterns=[".venv"], verbosity=0)
    translation.trans_real._translations = {}
    translation.trans_real._default = None
    translation.deactivate()
