from pathlib import Path

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
