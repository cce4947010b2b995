"""Page-furniture removal: pure functions, no heavy imports.

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
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..dates import date_candidates

__all__ = ["UI_VOCABULARY", "is_furniture_line", "remove_furniture"]

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
