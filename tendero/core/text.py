"""One rule for the text people give Tendero, whatever the way in (API, pages, imports,
commands): what a one-line field and a multi-line field may hold.

A one-line field (a name, a city, a subject, a reference...) refuses every character
of the Unicode categories

- Cc, control characters: NUL, BEL, ESC (terminal escape sequences), tab, CR, LF and
  the C1 controls U+0080-U+009F;
- Cf, format characters, invisible ones: the bidirectional overrides, embeddings and
  isolates U+202A-U+202E and U+2066-U+2069 (they make "exe.txt" read "txt.exe"), the
  marks U+200E, U+200F and U+061C, zero-width space U+200B, word joiner, soft hyphen,
  the byte order mark...;
- Zl and Zp, the line and paragraph separators U+2028 and U+2029;
- Cs, surrogates (they cannot be encoded in UTF-8), and Co, private use (a glyph only
  one font shows);

and the noncharacters (U+FDD0-U+FDEF and the last two of every plane, U+FFFE and
U+FFFF...), which Unicode reserves for a program's own use and never for text.
Unassigned code points are accepted: a newer emoji than this Python knows is still a
character.

Two format characters are part of how people write, and are accepted between two
visible characters (never at either end, nor two in a row, where they show nothing):
ZERO WIDTH JOINER (U+200D), which joins emoji sequences (👩‍💻) and shapes Indic
scripts, and ZERO WIDTH NON-JOINER (U+200C), which Persian and Indic spellings need.
So are the tag characters (U+E0020-U+E007F) of an emoji subdivision flag (🏴 followed
by tags and CANCEL TAG: the flags of England, Scotland and Wales), and only there:
elsewhere they are invisible text.

A multi-line field (interaction notes, reasons, facts) accepts line feeds and tabs and
refuses the rest; the line ends a browser sends (CR LF) and lone CRs become LF.

Both strip surrounding whitespace and count the length after cleaning. Every refusal is
a django ValidationError whose message is the same whatever the entry point: the
services, the API schemas, the forms and the importer call these functions.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})
# Every code point of those categories and every noncharacter, as Unicode 14 (this
# Python's unicodedata) assigns them; tendero/core/tests/test_text.py checks the table
# against unicodedata code point by code point, so a newer Python says if it changed.
REFUSED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605),
    (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891),
    (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xF8FF), (0xFDD0, 0xFDEF),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0xFFFE, 0xFFFF), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0x1FFFE, 0x1FFFF), (0x2FFFE, 0x2FFFF), (0x3FFFE, 0x3FFFF), (0x4FFFE, 0x4FFFF),
    (0x5FFFE, 0x5FFFF), (0x6FFFE, 0x6FFFF), (0x7FFFE, 0x7FFFF), (0x8FFFE, 0x8FFFF),
    (0x9FFFE, 0x9FFFF), (0xAFFFE, 0xAFFFF), (0xBFFFE, 0xBFFFF), (0xCFFFE, 0xCFFFF),
    (0xDFFFE, 0xDFFFF), (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xEFFFE, 0x10FFFF),
)  # fmt: skip
_REFUSED = re.compile(
    "[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in REFUSED_RANGES) + "]"
)
ZERO_WIDTH_JOINER = "\u200d"
ZERO_WIDTH_NON_JOINER = "\u200c"
_JOINERS = frozenset({ZERO_WIDTH_JOINER, ZERO_WIDTH_NON_JOINER})
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_MULTILINE_ALLOWED = frozenset("\n\t")
# 🏴, then tag letters and digits, then CANCEL TAG: a subdivision flag.
_FLAG_SEQUENCE = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def is_refused(char: str) -> bool:
    """Whether `char` is of a refused category or a noncharacter (exceptions aside)."""
    return _REFUSED.match(char) is not None


def first_refused(value: str, *, multiline: bool = False) -> tuple[int, str] | None:
    """(position, character) of the first character `value` may not hold, or None."""
    flags: list[tuple[int, int]] | None = None
    for match in _REFUSED.finditer(value):
        index, char = match.start(), match.group()
        if multiline and char in _MULTILINE_ALLOWED:
            continue
        if char in _JOINERS and _joins(value, index):
            continue
        if 0xE0020 <= ord(char) <= 0xE007F:
            if flags is None:
                flags = [m.span() for m in _FLAG_SEQUENCE.finditer(value)]
            if any(start < index < end for start, end in flags):
                continue
        return index, char
    return None


def _joins(value: str, index: int) -> bool:
    """Whether the joiner at `index` stands between two visible characters."""
    if index == 0 or index == len(value) - 1:
        return False
    return all(not c.isspace() and not is_refused(c) for c in (value[index - 1], value[index + 1]))


def refused_character_message(char: str, *, multiline: bool = False) -> str:
    """What a person is told about a character a field refuses."""
    if char in LINE_BREAKS and not multiline:
        return _("This field is a single line: remove the line break.")
    return _(
        "The text contains an invisible or control character (U+%(code)04X), which is not "
        "allowed: remove it."
    ) % {"code": ord(char)}


def check_text(value: str, *, multiline: bool = False) -> str:
    """`value` unchanged; raises ValidationError (code "refused_character") if it holds a
    character its kind of field refuses (see the module's docstring)."""
    found = first_refused(value, multiline=multiline)
    if found is not None:
        raise ValidationError(
            refused_character_message(found[1], multiline=multiline), code="refused_character"
        )
    return value


def _clean(value: Any, max_length: int | None, *, multiline: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("Must be text."), code="not_text")
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = check_text(value.strip(), multiline=multiline)
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            _("At most %(n)d characters (it has %(m)d).") % {"n": max_length, "m": len(value)},
            code="max_length",
        )
    return value


def clean_line(value: Any, max_length: int | None = None) -> str:
    """A one-line field's text: stripped, checked, at most `max_length` characters.
    None is "". Raises ValidationError with the message a person reads."""
    return _clean(value, max_length, multiline=False)


def clean_multiline(value: Any, max_length: int | None = None) -> str:
    """A multi-line field's text (notes, reasons): as clean_line, but line feeds and
    tabs are accepted and CR LF or CR line ends become LF."""
    return _clean(value, max_length, multiline=True)
