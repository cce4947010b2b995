"""Text normalisation, page-furniture removal and damaged-text detection: pure functions, no
heavy imports (and nothing from the readers).

- :mod:`.normalize`: newlines, invisible and control characters, stray joiners, mojibake,
  whitespace (:func:`normalize_text`, :func:`fix_mojibake`); :func:`safe_label` for ids and
  titles.
- :mod:`.furniture`: the scraped site's widgets, menus and breadcrumbs out of a release by
  general rules, a multilingual vocabulary of interface labels (:func:`remove_furniture`,
  :func:`is_furniture_line`). Everything else is kept verbatim: answers quote the stored
  text, so cleaning may drop lines and widget fragments but never rewrites a sentence.
- :mod:`.damage`: :func:`text_damage` tells text that is garbage from a broken font mapping
  (a PDF in a legacy Sinhala font) from real text in any script, by the rules of the script,
  with no dictionary.

>>> clean_text("Title\\n\\n1 May 2020 PrintPrintPDFPDF\\n\\nThe body, a sentence of prose here.\\n\\nShare")
'Title\\n\\n1 May 2020\\n\\nThe body, a sentence of prose here.'
"""

from __future__ import annotations

from .damage import BROKEN_MIN_SHARE as BROKEN_MIN_SHARE
from .damage import CODED_MIN_SHARE as CODED_MIN_SHARE
from .damage import GARBLED_MIN_WORDS as GARBLED_MIN_WORDS
from .damage import PRE_BASE_MIN_CHARS as PRE_BASE_MIN_CHARS
from .damage import PRE_BASE_MIN_SHARE as PRE_BASE_MIN_SHARE
from .damage import TextDamage, text_damage
from .furniture import UI_VOCABULARY, is_furniture_line, remove_furniture
from .normalize import _BLANK_RUNS, fix_mojibake, normalize_text, safe_label

__all__ = [
    "UI_VOCABULARY",
    "TextDamage",
    "clean_text",
    "fix_mojibake",
    "is_furniture_line",
    "normalize_text",
    "remove_furniture",
    "safe_label",
    "text_damage",
]


def clean_text(text: str) -> str:
    """Normalise ``text`` and remove page furniture; the text a Document keeps.

    >>> clean_text("Minister met envoys\\n\\nTweet Share\\n\\nThey discussed trade and transit.")
    'Minister met envoys\\n\\nThey discussed trade and transit.'
    """
    text = remove_furniture(normalize_text(text))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")
