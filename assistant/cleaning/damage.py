"""Damaged-text detection: :func:`text_damage` tells text that is garbage from a broken font
mapping (a PDF in a legacy Sinhala font) from real text in any script, by the rules of the
script, with no dictionary. Pure functions, no heavy imports.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

__all__ = ["TextDamage", "text_damage"]

# --------------------------------------------------------------------------- garbled text

# A PDF whose font maps its glyphs to the wrong characters (legacy Indic fonts, fonts with a
# broken ToUnicode table) extracts as real Unicode characters in an order no writing system
# allows: vowel signs standing alone or stacked, conjunct joiners with nothing to join. Such
# sequences are found by the rules of the script, not by a dictionary, so real text in any
# language passes and text in any script can be judged.

_BRAHMIC_FIRST, _BRAHMIC_LAST = 0x0900, 0x0DFF  # Devanagari ... Sinhala (ISCII layout)


def _brahmic_classes() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    vowel_signs, viramas, vowels = set(), set(), set()
    for code in range(_BRAHMIC_FIRST, _BRAHMIC_LAST + 1):
        ch = chr(code)
        name = unicodedata.name(ch, "")
        if "VOWEL SIGN" in name:
            vowel_signs.add(ch)
        elif name.endswith(("SIGN VIRAMA", "SIGN AL-LAKUNA")):
            viramas.add(ch)
        # Independent vowels: offsets 0x04-0x14 and 0x60-0x61 of each ISCII-derived block;
        # Sinhala has its own layout (U+0D85-U+0D96).
        if code < 0x0D80:
            if name and (0x04 <= code & 0x7F <= 0x14 or code & 0x7F in (0x60, 0x61)):
                vowels.add(ch)
        elif 0x0D85 <= code <= 0x0D96:
            vowels.add(ch)
    return frozenset(vowel_signs), frozenset(viramas), frozenset(vowels)


_VOWEL_SIGNS, _VIRAMAS, _INDEPENDENT_VOWELS = _brahmic_classes()
_ZWJ = "\u200d"
_TAMIL_AU = "\u0bcc"
# Vowel signs written to the left of their consonant. A font that maps glyphs in visual order
# turns them into other letters; real text of these scripts is never without them.
_PRE_BASE_SIGNS: dict[str, frozenset[str]] = {
    "DEVANAGARI": frozenset("\u093f\u094e"),
    "BENGALI": frozenset("\u09bf\u09c7\u09c8\u09cb\u09cc"),
    "GURMUKHI": frozenset("\u0a3f"),
    "GUJARATI": frozenset("\u0abf"),
    "ORIYA": frozenset("\u0b47\u0b48\u0b4b\u0b4c"),
    "TAMIL": frozenset("\u0bc6\u0bc7\u0bc8\u0bca\u0bcb\u0bcc"),
    "MALAYALAM": frozenset("\u0d46\u0d47\u0d48\u0d4a\u0d4b\u0d4c"),
    "SINHALA": frozenset("\u0dd9\u0dda\u0ddb\u0ddc\u0ddd\u0dde"),
}
# ASCII symbols that legacy fonts (Sinhala FM*, Tamil Bamini, ...) use for letters ("m%cd"),
# and that real words do not hold between two letters. Brackets, quotes, commas and dashes
# are left out: real text glues words with them ("countries(as", "Ukraine—as", "Colombo,Sri").
_LETTER_CODES = frozenset("%\\|`~^=+<>#$*§¨{}¤")

BROKEN_MIN_SHARE = 0.03
"""Share of words that break their script's rules from which a text is unreadable. Real text:
at most 0.7% (the archive's Sinhala and Tamil releases), 0 in Russian, Kazakh, English."""
CODED_MIN_SHARE = 0.10
"""Share of words with private-use characters, symbols standing for letters or Latin-1
mojibake (with the broken ones) from which a text is unreadable. Real text: at most 5% (a
Reuters wire with control-code leftovers; a Kazakh text with Symbol-font degree signs)."""
GARBLED_MIN_WORDS = 5
PRE_BASE_MIN_SHARE = 0.008
"""Least share of pre-base vowel signs among the characters of a script that has them. Real
text: 2.4% or more in the archive's Sinhala releases, 1.8% or more in its Tamil ones."""
PRE_BASE_MIN_CHARS = 300


_WORD_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Co"})
# A word of letters with ordinary punctuation around and inside it: nothing to check.
# Possessive throughout: each part ends where the next cannot start (a run of letters ends a
# word, and the closing marks hold no letter), so no part ever gives anything back. Only for
# fullmatch (one start): searched, a long run of opening quotes would be read from each.
_PLAIN_WORD = re.compile(
    r"[(\[{«\"“‘'„]*+[^\W\d_]++(?:[-‐'’.·/&][^\W\d_]++)*+[)\]}»\"”’'.,;:!?…]*+")
_LATIN1 = re.compile("[\u00c0-\u00ff]")
_BRAHMIC = re.compile("[\u0900-\u0dff]")
_LETTERS = re.compile(r"[^\W\d_]|[\u0900-\u0dff]")  # letters, and Indic marks
_BRAHMIC_BLOCKS = ("DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU",
                   "KANNADA", "MALAYALAM", "SINHALA")


def _wordlike(ch: str) -> bool:
    """A character that makes a token a word: a letter, a mark, or a font's private code."""
    return ch.isalpha() or ch == "\ufffd" or unicodedata.category(ch) in _WORD_CATEGORIES


def _script_of(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def _garbled(word: str) -> str | None:
    """Why ``word`` (no spaces) cannot be real text: "broken" (it breaks its script's rules),
    "coded" (characters that stand for a font's own letters), or None."""
    prev = ""
    letters = latin1 = 0
    for i, ch in enumerate(word):
        category = unicodedata.category(ch)
        if category == "Co" or ch == "\ufffd":
            return "coded"  # private use: a font's own code, no meaning in Unicode
        if category[0] == "M":
            # A vowel sign or accent with no letter to sit on (after a symbol or digit it is
            # an emoji's variation selector or a keycap: fine).
            if not prev or (unicodedata.category(prev)[0] in "PZC" and prev not in "\u200c\u200d"):
                return "broken"
            if ch in _VOWEL_SIGNS:
                if prev in "\u200c\u200d" or prev in _VIRAMAS:
                    return "broken"  # a vowel on a joiner or on a killed consonant
                # Two vowel signs on one letter. Tamil AU + sign is a common converter slip
                # for "ெள" + sign that people read without trouble.
                if prev in _VOWEL_SIGNS and prev != _TAMIL_AU:
                    return "broken"
        elif prev == _ZWJ and i >= 2 and word[i - 2] in _VIRAMAS and (
                not ch.isalpha() or ch in _INDEPENDENT_VOWELS):
            return "broken"  # a conjunct (virama + joiner) that joins no consonant
        elif ch.isalpha():
            letters += 1
            latin1 += 0xC0 <= ord(ch) <= 0xFF
        elif ch in _LETTER_CODES and prev.isalpha() and word[i + 1:i + 2].isalpha():
            return "coded"  # "m%cd": a symbol standing for a letter (an ASCII-coded font)
        prev = ch
    if prev == _ZWJ and len(word) >= 2 and word[-2] in _VIRAMAS:
        return "broken"  # a conjunct left open at the end of the word
    # Cyrillic or Greek in a single-byte code page read as Latin-1: "Ðîññèÿ".
    return "coded" if letters >= 4 and latin1 == letters else None


@dataclass(frozen=True, slots=True)
class TextDamage:
    """How much of a text is garbage from a broken font mapping; see :func:`text_damage`."""

    words: int
    """Words: tokens with a letter, a mark or a private-use character."""
    broken: int = 0
    """Words that break the rules of their script (a vowel sign with no letter ...)."""
    coded: int = 0
    """Words with characters that stand for a font's own letters (private use, symbols)."""
    script: str = ""
    """The script of most garbled words ("Sinhala"), or of the missing vowel signs."""
    missing_pre_base: bool = False
    """A script's vowel signs written before their letter are (almost) absent."""

    @property
    def share(self) -> float:
        """The share of garbled words."""
        return (self.broken + self.coded) / self.words if self.words else 0.0

    @property
    def unreadable(self) -> bool:
        if self.missing_pre_base:
            return True
        garbled = self.broken + self.coded
        return garbled >= GARBLED_MIN_WORDS and (
            self.broken >= BROKEN_MIN_SHARE * self.words or self.share >= CODED_MIN_SHARE)

    def symptom(self) -> str:
        """What is wrong, in words."""
        if self.missing_pre_base and self.share < BROKEN_MIN_SHARE:
            return f"the {self.script} vowel signs written before a letter are missing"
        percent = max(1, round(100 * self.share))
        if self.coded > self.broken:
            return f"{percent}% of its words are in a font's own codes, not Unicode letters"
        return f"{percent}% of its words are impossible letter sequences"


def text_damage(text: str) -> TextDamage:
    """Measure how much of ``text`` is garbage from a font that maps characters to the wrong
    glyphs; ``.unreadable`` says it is not fit to index.

    No dictionary: a word is garbled when it holds what no real text does:

    - broken: a combining mark (vowel sign, accent) at the start of a word or after
      punctuation; in Indic scripts and Sinhala a vowel sign after another vowel sign, a
      virama or a joiner, or a virama + ZWJ conjunct followed by a vowel letter or nothing;
    - coded: a private-use character (a font's own code) or U+FFFD; an ASCII symbol between
      two letters ("m%cd;dka": an ASCII-coded legacy font); a word of four or more letters
      all from Latin-1 ("Ðîññèÿ": a Cyrillic code page read as Latin-1).

    A text is unreadable when 5 or more of its words are garbled and they are 3% of its
    words if broken (real text: at most 0.7%) or 10% counting coded ones (real text: at most
    5%, where a font's symbols or control codes came along); or when a script that writes
    vowel signs before their letter (Sinhala, Tamil, Devanagari ...) makes most of the text,
    300+ characters, but almost none of those signs: the font turned them into other letters,
    making valid-looking but wrong words ("පපාලිස්" for "පොලිස්").

    >>> text_damage("The ministry signed an agreement.").unreadable
    False
    >>> text_damage("ප ොලිස් ෙොතතො වූ ෙැදගත් පතොරතුරු ප ොලිස් ෙසම ප ොලිස්").unreadable
    True
    """
    words = 0
    kinds = {"broken": 0, "coded": 0}
    by_script: dict[str, int] = {}
    for word in text.split():
        if _PLAIN_WORD.fullmatch(word) and not _LATIN1.search(word):
            words += 1  # letters and ordinary punctuation only: the common case, fast
            continue
        if not any(_wordlike(ch) for ch in word):
            continue
        words += 1
        if (kind := _garbled(word)) is not None:
            kinds[kind] += 1
            script = next((_script_of(ch) for ch in word if ch.isalpha()), "")
            by_script[script] = by_script.get(script, 0) + 1
    chars: dict[str, int] = {}
    pre_base: dict[str, int] = {}
    for ch, n in Counter(_BRAHMIC.findall(text)).items():
        script = _BRAHMIC_BLOCKS[(ord(ch) - _BRAHMIC_FIRST) // 0x80]
        chars[script] = chars.get(script, 0) + n
        if ch in _PRE_BASE_SIGNS.get(script, ()):
            pre_base[script] = pre_base.get(script, 0) + n
    # Judged only where the script is most of the text: a broken letterhead in another
    # script does not condemn an English release.
    letters = sum(chars.values()) and len(_LETTERS.findall(text))
    missing = [script for script, n in chars.items()
               if script in _PRE_BASE_SIGNS and n >= PRE_BASE_MIN_CHARS and 2 * n >= letters
               and pre_base.get(script, 0) < PRE_BASE_MIN_SHARE * n]
    script = max(by_script, key=lambda s: by_script[s]) if by_script else "".join(missing[:1])
    return TextDamage(words=words, broken=kinds["broken"], coded=kinds["coded"],
                      script=script.title(), missing_pre_base=bool(missing))
