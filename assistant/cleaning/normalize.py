"""Text normalisation: one kind of newline, no invisible or control characters, mojibake
undone, NFC, trimmed lines; and :func:`safe_label` for ids and titles. Words and sentences
are never rewritten. Pure functions, no heavy imports.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata

__all__ = ["fix_mojibake", "normalize_text", "safe_label"]

# --------------------------------------------------------------------------- normalisation

# Every line separator Unicode and old files know, so that "a line" means one thing below.
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Invisible characters that only break search and quoting: zero-width space, word joiner,
# BOM, Mongolian vowel separator, soft hyphen, invisible math operators.
_INVISIBLE = re.compile("[\u200b\u2060\ufeff\u180e\u00ad\u2061-\u2064]")
# ZWNJ/ZWJ change how Indic, Arabic and Persian letters join (Sinhala text in the archive
# depends on them) and build emoji sequences; after Latin, Cyrillic or a space they are junk.
_JOINERS = re.compile("(^|.)([\u200c\u200d]+)", re.MULTILINE)
# C0 controls except tab/newline, DEL, and C1 controls (never text; mojibake leftovers).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f\x80-\x9f]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_NORMALIZE_ROUNDS = 8


def _build_mojibake_pattern() -> tuple[re.Pattern[str], dict[str, int]]:
    """UTF-8 bytes that were decoded as Latin-1 or cp1252 and re-encoded ("â€™" for "’").

    Maps each character such a decoding can produce for a continuation byte back to the
    byte, so a run can be re-decoded as UTF-8.
    """
    to_byte: dict[str, int] = {}
    for byte in range(0x80, 0xC0):
        to_byte[chr(byte)] = byte  # Latin-1 view
        with contextlib.suppress(UnicodeDecodeError):  # 5 bytes are undefined in cp1252
            to_byte[bytes([byte]).decode("cp1252")] = byte  # cp1252 view: € ‚ ƒ „ … ’ ™
    cont = "[" + "".join(re.escape(c) for c in to_byte) + "]"
    pattern = re.compile(
        f"[\u00c2-\u00df]{cont}|[\u00e0-\u00ef]{cont}{{2}}|[\u00f0-\u00f4]{cont}{{3}}"
    )
    return pattern, to_byte


_MOJIBAKE, _MOJIBAKE_BYTES = _build_mojibake_pattern()
_MOJIBAKE_LEAD = re.compile("[\u00c2-\u00f4]")


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as Latin-1/cp1252 somewhere upstream.

    Only runs that form one complete, valid UTF-8 character are replaced, so real accented
    Latin-1 text ("café", "São") is left alone.

    >>> fix_mojibake("Ellison\\u00e2\\u0080\\u0099s office, caf\\u00c3\\u00a9")
    'Ellison’s office, café'
    """

    def repair(match: re.Match[str]) -> str:
        raw = bytes([ord(match.group(0)[0])] + [_MOJIBAKE_BYTES[c] for c in match.group(0)[1:]])
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return match.group(0)

    if not _MOJIBAKE_LEAD.search(text):  # the common case, and much faster than sub()
        return text
    return _MOJIBAKE.sub(repair, text)


def _drop_stray_joiners(text: str) -> str:
    if "\u200c" not in text and "\u200d" not in text:
        return text
    def keep_if_joining(match: re.Match[str]) -> str:
        before = match.group(1)
        joins = bool(before) and not before.isspace() and ord(before) >= 0x0590
        return before + (match.group(2) if joins else "")

    return _JOINERS.sub(keep_if_joining, text)


def normalize_text(text: str) -> str:
    """Unify newlines, drop invisible and control characters, NFC, trim each line, and
    collapse runs of blank lines to one; words and sentences are not touched.

    >>> normalize_text("  a\\u200b b  \\r\\n\\r\\n\\r\\n\\r\\nc\\t")
    'a b\\n\\nc'
    """
    # Each step can bring together what an earlier one repairs: a control character
    # between the two halves of a mojibake pair, text encoded twice. Repeat until nothing
    # changes (a few rounds bound the cost on adversarial input), so that normalising a
    # normalised text changes nothing.
    for _ in range(_NORMALIZE_ROUNDS):
        before = text
        text = _NEWLINES.sub("\n", text)
        text = fix_mojibake(text)
        text = _INVISIBLE.sub("", text)
        text = _drop_stray_joiners(text)
        text = _CONTROLS.sub("", text)
        text = unicodedata.normalize("NFC", text)
        if text == before:
            break
    # Leading indentation carries no meaning in a press release (PDF and Word extraction
    # pad lines with spaces and tabs), trailing spaces never do.
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


# Characters an id or a title must not hold. Control characters (NUL, escapes, C1) end or
# garble strings in files, logs and terminals; the bidirectional controls reorder what is
# shown after them ("report\u202eFDP.exe" shows as "reportexe.PDF"), and the directional
# marks (LRM, RLM, ALM) are invisible: a name with them looks like another name. ZWJ and ZWNJ
# stay: Sinhala, Tamil and Persian words are spelt with them.
_LABEL_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029]+")
_LABEL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_label(text: str) -> str:
    """``text`` fit to be a document's id or title: line and tab breaks become one space;
    control characters and bidirectional controls and marks go; everything else (letters of
    any script, ZWJ/ZWNJ, spacing) is kept as it is.

    >>> safe_label("report\\u202egpj.exe\\x00")
    'reportgpj.exe'
    >>> safe_label("ශ්\\u200dරී\\tලංකා") == "ශ්\\u200dරී ලංකා"
    True
    """
    return _LABEL_UNSAFE.sub("", _LABEL_BREAKS.sub(" ", text))
