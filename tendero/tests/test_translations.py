import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

SPANISH = Path(__file__).resolve().parents[1] / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_reviewed_spanish_translation():
    with SPANISH.open("rb") as po:
        catalog = read_po(po)
    untranslated = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id)
    assert untranslated == []


def test_every_message_in_the_code_is_in_the_catalogue(tmp_path):
    """makemessages, run on a copy of the code, finds no message the catalogue lacks."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext is missing: make system-packages installs gettext")
    copy = tmp_path / "tendero"
    shutil.copytree(SPANISH.parents[3], copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    environment = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tendero.settings",
        "TENDERO_ENV": "test",
    }
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--locale", "es", "--no-obsolete"],
        cwd=copy,
        env=environment,
        check=True,
        capture_output=True,
    )
    with SPANISH.open("rb") as po:
        catalog = read_po(po)
    with (copy / SPANISH.relative_to(SPANISH.parents[3])).open("rb") as po:
        extracted = read_po(po)
    missing = [m.id for m in extracted if m.id and catalog.get(m.id, m.context) is None]
    assert missing == []
