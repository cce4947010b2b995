"""Text normalisation and page-furniture removal: pure functions, no heavy imports.

Scraped releases carry the site's widgets along with the text: a "print version" link, a PDF
icon, share buttons, "add a comment", breadcrumbs. They are removed here by general rules,
never by matching one site's strings:

1. A phrase repeated at once with no space between ("PDFPDF", "Print versionPrint version")
   is an icon's alt text glued to its label: a scraped widget.
2. Short lines at the head or tail of a document (before the first and after the last line of
   prose) made only of words from a multilingual (en/ru/kk) vocabulary of interface labels
   are furniture; so are such labels hanging off a head/tail line's end ("30 November 2016
   | Print | Share" keeps its date).
3. Anywhere, a line made only of two or more interface labels ("Tweet Share", "Print | Email")
   is a toolbar.

Everything else is kept verbatim: answers quote the stored text, so cleaning may drop lines and
widget fragments but never rewrites a sentence.

:func:`text_damage` tells text that is garbage from a broken font mapping (a PDF in a legacy
Sinhala font) from real text in any script, by the rules of the script, with no dictionary.

>>> clean_text("Title\\n\\n1 May 2020 PrintPrintPDFPDF\\n\\nThe body, a sentence of prose here.\\n\\nShare")
'Title\\n\\n1 May 2020\\n\\nThe body, a sentence of prose here.'
"""

from __future__ import annotations

import bisect
import contextlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from .dates import date_candidates

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


# --------------------------------------------------------------------------- furniture

UI_VOCABULARY: frozenset[str] = frozenset({
    # English: print/share/comment widgets, file links, navigation, accounts, lists
    "print", "print version", "printable version", "printer-friendly version",
    "printer friendly version", "printer friendly", "print this page", "print this article",
    "print page", "version for print", "version for printing", "share", "share this",
    "share this page", "share this article", "shares", "comment", "comments", "add comment",
    "add a comment", "add new comment", "leave a comment", "leave a reply", "post a comment",
    "post comment", "no comments", "reply", "email", "e-mail", "email this", "email this page",
    "send", "send to a friend", "tweet", "like", "pin it", "facebook", "twitter", "telegram",
    "whatsapp", "vk", "vkontakte", "linkedin", "instagram", "youtube", "reddit", "pinterest",
    "odnoklassniki", "pdf", "doc", "docx", "rtf", "download", "download pdf", "save",
    "save as pdf", "back", "go back", "back to top", "to top", "top", "back to list",
    "back to news", "home", "homepage", "home page", "main page", "menu", "main menu", "search",
    "login", "log in", "log out", "logout", "sign in", "sign up", "register", "subscribe",
    "unsubscribe", "rss", "newsletter", "related", "related news", "related articles",
    "related posts", "read more", "read also", "more", "see also", "see more", "tags", "tag",
    "keywords", "next", "previous", "prev", "next article", "previous article", "older posts",
    "newer posts", "skip to content", "skip to main content", "skip navigation", "close",
    "views", "view", "copy link", "permalink", "bookmark", "font size",
    "version for the visually impaired", "news", "all news", "press releases", "press centre",
    "press center", "sitemap", "site map",
    # Russian
    "версия для печати", "печатная версия", "печать", "распечатать", "распечатать страницу",
    "напечатать", "поделиться", "комментарий", "комментарии", "комментировать",
    "добавить комментарий", "оставить комментарий", "написать комментарий", "отправить",
    "отправить другу", "отправить по почте", "скачать", "сохранить", "назад", "вернуться",
    "вернуться назад", "вернуться к списку", "главная", "на главную", "главная страница",
    "меню", "поиск", "войти", "вход", "регистрация", "выход", "подписаться", "подписка",
    "теги", "метки", "ключевые слова", "похожие новости", "похожие материалы",
    "читайте также", "читать далее", "подробнее", "далее", "ещё", "еще", "предыдущая",
    "следующая", "новости", "все новости", "просмотров", "просмотры", "нравится", "твитнуть",
    "вконтакте", "одноклассники", "телеграм", "версия для слабовидящих", "наверх",
    "закрыть", "ссылка", "копировать ссылку", "пресс-релизы", "пресс-центр",
    # Kazakh
    "басып шығару", "басып шығаруға арналған нұсқа", "басуға арналған нұсқа", "бөлісу",
    "пікір", "пікірлер", "пікір қосу", "пікір қалдыру", "жүктеу", "жүктеп алу", "сақтау",
    "артқа", "кері қайту", "басты бет", "басты бетке", "мәзір", "іздеу", "кіру", "тіркелу",
    "шығу", "жазылу", "тегтер", "ұқсас жаңалықтар", "толығырақ", "әрі қарай", "келесі",
    "алдыңғы", "жаңалықтар", "барлық жаңалықтар", "қаралым", "қаралды", "жабу", "сілтеме",
    "нашар көретіндерге арналған нұсқа",
})
"""Interface labels of news sites (lower case). Generic UI words only: a phrase belongs here
because sites print it on buttons and menus, not because one page had it."""

# Labels that introduce a list of links ("Tags: budget, taxes"); the whole line is furniture.
_LIST_LABELS = frozenset({
    "tags", "tag", "keywords", "related", "see also", "read also", "share", "теги", "метки",
    "ключевые слова", "читайте также", "поделиться", "тегтер", "бөлісу",
})


def _phrase_pattern(phrases: frozenset[str]) -> re.Pattern[str]:
    if any(not phrase[:1].isalpha() for phrase in phrases):
        raise ValueError("an interface label must start with a letter")
    # Longest first so "add new comment" wins over "comment"; flexible inner whitespace.
    alternatives = [
        # Possessive: every word of a phrase starts with a letter, never with a space.
        r"[\s\-]++".join(re.escape(word) for word in re.split(r"[\s-]+", phrase))
        for phrase in sorted(phrases, key=len, reverse=True)
    ]
    # Every label starts with a letter: the lookahead turns away the other positions (a long
    # run of spaces) at once instead of trying each of the hundreds of alternatives there.
    return re.compile(r"(?<!\w)(?=[^\W\d_])(?:" + "|".join(alternatives) + r")(?!\w)",
                      re.IGNORECASE)


_VOCAB_RE = _phrase_pattern(UI_VOCABULARY)
_DOUBLED_RE = re.compile(r"(?P<unit>[^\W\d_][^\n]{1,59}?)(?P=unit)")
_TOKEN_RE = re.compile(r"\d+|[^\W\d_]+|\S")
# Separators that sites put between menu items or breadcrumb levels.
_STRONG_SEPARATORS = frozenset("|¦•·/›»>‹«<→←")
# Punctuation that belongs to the word it touches ("Office." / "(Sanya").
_CLOSING = frozenset(".,;:!?…)]}\"'”’»")
_OPENING = frozenset("([{\"'“‘«")
_MAX_FURNITURE_WORDS = 25
_FULL_STOP = re.compile(r"(?<![.…])[.!?][\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[.!?…。][\"'”’»)\]]*$")


def _is_prose(line: str) -> bool:
    """A line of running text: it ends a sentence and is not a short label, or it is a
    paragraph long (titles run to twenty words without a full stop, paragraphs do not)."""
    words = len(line.split())
    return (words >= 5 and bool(_SENTENCE_END.search(line))) or words >= 40


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "ui" (label or widget), "count" (a label's counter), "text", "sep"; "number"
    # only until _tokenize decides whether it is a counter or text
    start: int
    end: int
    doubled: bool = False


def _doubled_spans(line: str) -> Iterator[tuple[int, int]]:
    """Phrases repeated back to back with no space: "PDFPDF", "Print versionPrint version".

    The unit must start at a word start (or right after another widget, or at a lower- to
    upper-case seam where two widgets were glued) and start with a capital letter or be a
    known label, which keeps words like "couscous" or "Mississippi" out.
    """
    pos = 0
    last_end = -1
    while (m := _DOUBLED_RE.search(line, pos)) is not None:
        unit, start, end = m.group("unit"), m.start(), m.end()
        before = line[start - 1] if start else ""
        after = line[end] if end < len(line) else ""
        left_ok = (not before or not before.isalnum() or start == last_end
                   or (before.islower() and unit[0].isupper()))
        # Glued to a following widget only if that one starts a Capitalised word or is
        # doubled too: "PDFPDFPrint", "PrintPrintPDFPDF"; in "COCONUT", "ALFALFA" caps run on.
        next_word = line[end:end + 2]
        right_ok = (not after or not after.isalnum()
                    or (after.isupper() and len(next_word) == 2 and next_word[1].islower())
                    or (after.isupper() and _DOUBLED_RE.match(line, end) is not None))
        known = unit[0].isupper() or unit.strip().casefold() in UI_VOCABULARY
        letters = sum(ch.isalpha() for ch in unit)
        if left_ok and right_ok and known and letters >= 2 and unit == unit.strip():
            yield start, end
            last_end = pos = end
        else:
            pos = start + 1


def _tokenize(line: str) -> list[_Token]:
    spans: list[tuple[int, int, bool]] = [(s, e, True) for s, e in _doubled_spans(line)]
    doubled_starts = [s for s, _, _ in spans]  # sorted and disjoint, as found

    def free(start: int, end: int) -> bool:
        # Bisection, not a scan of every doubled span per label (quadratic on a long line).
        before = bisect.bisect_left(doubled_starts, end)
        return not before or spans[before - 1][1] <= start

    spans += [(m.start(), m.end(), False) for m in _VOCAB_RE.finditer(line)
              if free(m.start(), m.end())]
    spans.sort()

    tokens: list[_Token] = []
    pos = 0

    def plain(upto: int) -> None:
        for m in _TOKEN_RE.finditer(line, pos, upto):
            piece = m.group(0)
            kind = "text" if piece[0].isalnum() else "sep"
            if kind == "text" and piece.isdigit():
                kind = "number"
            tokens.append(_Token(kind, m.start(), m.end()))

    for start, end, doubled in spans:
        plain(start)
        tokens.append(_Token("ui", start, end, doubled))
        pos = end
    plain(len(line))

    # One number right after a label is its counter ("Comments (3)", "Views: 120"); more
    # numbers are content ("WhatsApp: 071 640 2654" is a phone number, not a widget).
    out: list[_Token] = []
    after_label = False
    for tok in tokens:
        if tok.kind == "number":
            if after_label:
                tok = _Token("count", tok.start, tok.end)
            elif out and out[-1].kind == "count":
                out[-1] = _Token("text", out[-1].start, out[-1].end)
                tok = _Token("text", tok.start, tok.end)
            else:
                tok = _Token("text", tok.start, tok.end)
            after_label = False
        elif tok.kind == "ui":
            after_label = True
        elif tok.kind == "text":
            after_label = False
        out.append(tok)
    return out


def _is_date_only(text: str) -> bool:
    """``text`` holds a date and no letters outside its dates."""
    candidates = date_candidates(text)
    # The gaps between the dates, each looked at once (cutting the dates out of the string one
    # by one copied it once per date).
    gaps = zip([0] + [c.end for c in candidates], [c.start for c in candidates] + [len(text)],
               strict=True)
    return bool(candidates) and not any(ch.isalpha() for a, b in gaps for ch in text[a:b])


def is_furniture_line(line: str, *, at_edge: bool = True) -> bool:
    """True when ``line`` holds interface labels and nothing else.

    At the head or tail of a document (``at_edge``) one label is enough ("Add a comment");
    inside the body it takes two ("Tweet Share"), because a lone word may be a heading.

    >>> is_furniture_line("Print | Share | Email", at_edge=False)
    True
    >>> is_furniture_line("Press Service of the Prosecutor's Office")
    False
    """
    tokens = _tokenize(line)
    labels = [t for t in tokens if t.kind == "ui"]
    if not labels or any(t.kind == "text" for t in tokens):
        return _is_list_line(line, tokens) if at_edge and labels else False
    return at_edge or len(labels) >= 2 or any(t.doubled for t in labels)


def _is_list_line(line: str, tokens: list[_Token]) -> bool:
    """"Tags: budget, taxes" / "Share: Facebook, Telegram": a label, a colon, a short list."""
    first = tokens[0]
    if first.kind != "ui" or line[first.start:first.end].casefold() not in _LIST_LABELS:
        return False
    rest = line[first.end:].lstrip()
    return rest.startswith(":") and len(line.split()) <= 12 and not _SENTENCE_END.search(line)


def _strip_edge_labels(line: str) -> str:
    """Cut widget labels off the start and end of a head/tail line that also holds content."""
    tokens = _tokenize(line)
    content = [i for i, t in enumerate(tokens) if t.kind == "text"]
    if not content:
        return line
    first, last = content[0], content[-1]
    start, end = tokens[first].start, tokens[last].end
    # Keep punctuation glued to the content ("Office." / "(Sanya").
    while start > 0 and line[start - 1] in _OPENING:
        start -= 1
    while end < len(line) and line[end] in _CLOSING:
        end += 1

    lead, trail = tokens[:first], tokens[last + 1:]
    lead_labels = [t for t in lead if t.kind == "ui"]
    trail_labels = [t for t in trail if t.kind == "ui"]
    keep_from, keep_to = 0, len(line)
    date_like = _is_date_only(line[start:end])
    ends_with_date = any(c.end >= end - 1 for c in date_candidates(line[:end]))

    def strong(gap: str) -> bool:
        # A menu separator stands between spaces ("Home › News", "2016 | Print"); glued it
        # is part of the text ("<BP.L> shares", "km/h").
        return (len(gap) >= 3 and gap[0].isspace() and gap[-1].isspace()
                and any(ch in _STRONG_SEPARATORS for ch in gap))

    def apart(gap: str, doubled: bool) -> bool:
        # Labels glued to a word are part of it ("report.pdf", "DLRS/SHARE"), except an
        # icon+label pair, which the scraper glues to whatever precedes it.
        return doubled or (gap != "" and (gap[0].isspace() or gap[-1].isspace()))

    if lead_labels:
        gap = line[lead_labels[-1].end:start]
        doubled = any(t.doubled for t in lead_labels)
        # A leading label may start a real title ("Search continues for ..."), so only a
        # doubled one or one split off by a separator is cut (breadcrumbs: "Home › Title").
        if apart(gap, doubled) and (doubled or strong(gap) or date_like):
            keep_from = start
    if trail_labels:
        gap = line[end:trail_labels[0].start]
        doubled = any(t.doubled for t in trail_labels)
        # Trailing labels: a widget after a date, after a separator, or a toolbar of 3+.
        if apart(gap, doubled) and (
                doubled or strong(gap) or date_like or ends_with_date or len(trail_labels) >= 3):
            keep_to = end
    return line[keep_from:keep_to].strip()


def _continues(previous: str, line: str) -> bool:
    """``line`` carries on the sentence of ``previous`` (hard-wrapped text, as in newswire
    archives): the previous line is a long one that does not end a sentence."""
    previous, line = previous.strip(), line.strip()
    if not previous or not line or previous[-1] in ".!?…:;\"'”’»":
        return False
    return len(previous.split()) >= 6 or line[:1].islower()


def remove_furniture(text: str) -> str:
    """Drop widget and navigation lines, and widget labels glued to head/tail lines.

    ``text`` should be normalised (one ``\\n`` per line break); the result may hold blank-line
    runs where lines went, :func:`clean_text` collapses them.
    """
    lines = text.split("\n")
    # The first line is the title or a menu, never the body's start, even when long.
    first_line = next((i for i, line in enumerate(lines) if line.strip()), 0)
    prose = [i for i, line in enumerate(lines) if i > first_line and _is_prose(line)]
    first_prose = prose[0] if prose else len(lines)
    last_prose = prose[-1] if prose else -1
    out: list[str] = []
    for i, line in enumerate(lines):
        if (not line.strip() or (i > 0 and _continues(lines[i - 1], line))
                or (i + 1 < len(lines) and _continues(line, lines[i + 1]))):
            out.append(line)
            continue
        at_edge = i < first_prose or i > last_prose
        words = len(line.split())
        # Furniture is short: long lines are never tokenised (that also keeps this fast),
        # and in the body only a short non-sentence line can be a toolbar.
        if words > _MAX_FURNITURE_WORDS or (not at_edge and (words > 12 or _is_prose(line))):
            out.append(line)
            continue
        # "shares." closes a sentence; interface labels carry no full stop.
        if _FULL_STOP.search(line) and not any(True for _ in _doubled_spans(line)):
            out.append(line)
            continue
        if is_furniture_line(line, at_edge=at_edge):
            continue
        if at_edge:
            line = _strip_edge_labels(line)
            if not line:
                continue
        out.append(line)
    return "\n".join(out)


def clean_text(text: str) -> str:
    """Normalise ``text`` and remove page furniture; the text a Document keeps.

    >>> clean_text("Minister met envoys\\n\\nTweet Share\\n\\nThey discussed trade and transit.")
    'Minister met envoys\\n\\nThey discussed trade and transit.'
    """
    text = remove_furniture(normalize_text(text))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


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
