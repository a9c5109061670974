"""The one rule for text: which characters one-line and multi-line fields refuse."""

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tendero.core.text import (
    REFUSED_CATEGORIES,
    REFUSED_RANGES,
    clean_line,
    clean_multiline,
    first_refused,
)


def is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


REFUSED_IN_NAMES = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069",
    "\x1b[31m",  # an ESC sequence
    "\x07",  # BEL
    "\x00", "\r", "\n", "\t", "\x0b", "\x0c",
    "\x85", "\x9b",  # C1 controls
    "\u200b", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u061c",
    "\u2028", "\u2029",
    "\ufdd0", "\uffff", "\ufffe", "\U0010ffff",
    "\ue000", "\U000f0000",  # private use
    "\ud800",  # a lone surrogate
    "\U000e0041",  # a tag character outside a flag
]  # fmt: skip


def test_the_table_of_refused_ranges_is_unicodes() -> None:
    ranges = iter(REFUSED_RANGES)
    low, high = next(ranges)
    for code in range(0x110000):
        if code > high:
            low, high = next(ranges, (0x110000, 0x110000))
        char = chr(code)
        expected = unicodedata.category(char) in REFUSED_CATEGORIES or is_noncharacter(char)
        assert (low <= code <= high) == expected, hex(code)


@pytest.mark.parametrize("char", REFUSED_IN_NAMES)
def test_a_name_refuses_control_and_invisible_characters(char: str) -> None:
    with pytest.raises(ValidationError) as error:
        clean_line(f"Ana{char}Ruiz")
    assert error.value.code == "refused_character"


def test_the_message_names_the_character_or_the_line_break() -> None:
    with pytest.raises(ValidationError) as error:
        clean_line("txt.\u202eexe")
    assert "U+202E" in error.value.messages[0]
    with pytest.raises(ValidationError) as error:
        clean_line("Ana\nRuiz")
    assert "line break" in error.value.messages[0]


@pytest.mark.parametrize(
    "name",
    [
        "José Pérez Núñez",
        "Zoë O\u2019Brien-Smith",
        "👩\u200d💻 Lucía",  # ZWJ inside an emoji sequence
        "👨\u200d👩\u200d👧",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # ZWNJ in Persian
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f fans",
        "北京市 · Москва · עברית · العربية",
        '=HYPERLINK("x")',  # a spreadsheet's business, not the database's
    ],
)
def test_a_name_accepts_what_people_write(name: str) -> None:
    assert clean_line(name) == name


@pytest.mark.parametrize("text", ["\u200dAna", "Ana\u200d", "Ana \u200c Ruiz", "a\u200d\u200db"])
def test_a_joiner_joins_two_visible_characters_or_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        clean_line(text)


def test_a_line_is_stripped_and_its_length_counted_after() -> None:
    assert clean_line("  Ana  ", 3) == "Ana"
    with pytest.raises(ValidationError) as error:
        clean_line("Anabel", 3)
    assert error.value.code == "max_length"
    assert clean_line(None) == ""
    with pytest.raises(ValidationError):
        clean_line(12)


def test_notes_accept_line_feeds_and_tabs_but_not_the_rest() -> None:
    assert clean_multiline("Called.\r\n\tShe will\rthink\n") == "Called.\n\tShe will\nthink"
    for char in ("\x1b", "\x07", "\u202e", "\u2028", "\x00", "\x0b", "\uffff"):
        with pytest.raises(ValidationError):
            clean_multiline(f"Called{char}back")


lines = st.text(st.characters(codec="utf-8"), max_size=40)


@given(lines)
def test_a_cleaned_line_holds_no_refused_character(text: str) -> None:
    try:
        cleaned = clean_line(text)
    except ValidationError:
        assert first_refused(text.strip()) is not None
        return
    assert cleaned == text.strip()
    for index, char in enumerate(cleaned):
        category = unicodedata.category(char)
        if char in "\u200c\u200d":
            assert 0 < index < len(cleaned) - 1
        elif 0xE0020 <= ord(char) <= 0xE007F:
            assert "\U0001f3f4" in cleaned
        else:
            assert category not in REFUSED_CATEGORIES and not is_noncharacter(char)


@given(lines)
def test_cleaning_twice_is_cleaning_once(text: str) -> None:
    try:
        once = clean_line(text)
    except ValidationError:
        return
    assert clean_line(once) == once


@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cf", "Zl", "Zp", "Co"])))
def test_text_without_refused_categories_is_accepted(text: str) -> None:
    if any(is_noncharacter(c) for c in text):
        return
    assert clean_line(text) == text.strip()
    assert clean_multiline(text) == text.strip()


@given(lines, lines)
def test_a_multiline_field_accepts_every_line_a_line_field_accepts(first: str, second: str) -> None:
    try:
        first, second = clean_line(first), clean_line(second)
    except ValidationError:
        return
    assert clean_multiline(f"{first}\n\t{second}") == f"{first}\n\t{second}".strip()
