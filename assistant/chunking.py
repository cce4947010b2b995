"""Sentence splitting and chunking: pure functions from a document to passages.

A chunk is a run of whole sentences whose word pieces, with the document's title carried in
front as context, fit the embedder's window: nothing is cut silently. A sentence longer than
the window is split between words. Consecutive chunks overlap by their trailing sentences.

>>> spans = split_sentences("It rained. Mr. Li left.\\n\\nNext day")
>>> [t for t in ("It rained. Mr. Li left.\\n\\nNext day"[a:b] for a, b in spans)]
['It rained.', 'Mr. Li left.', 'Next day']
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

from .dates import dateline_at
from .documents import Chunk, Document
from .errors import ConfigError
from .lexical import SCRIPT_OF_LANGUAGE, script_of


class Segmenter(Protocol):
    """What finds sentences in a stretch of text: pysbd's ``Segmenter``, or sentencex."""

    def segment(self, text: str) -> list[str]: ...


TokenCounter = Callable[[Sequence[str]], list[int]]

_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*[-•*–]\s)")
# pysbd ends a sentence after a lone initial ("Zh. Assanov"): a fragment that ends in one or
# two letters and a dot, with a capitalised name following, is joined to the next one.
_INITIAL_END = re.compile(r"(?:^|\s)[A-ZА-ЯЁ][a-zа-яё]?\.$")
_PYSBD_LANGS = frozenset(
    {"en", "hi", "mr", "zh", "es", "am", "ar", "hy", "bg", "ur", "ru", "pl", "fa", "nl", "da",
     "fr", "my", "el", "it", "ja", "de", "kk", "sk"}
)


# The language a text in a script is taken to be in when its document has none: the first
# that SCRIPT_OF_LANGUAGE lists for it ("si" for Sinhala, "ta" for Tamil, "hi" for Devanagari).
_LANGUAGE_OF_SCRIPT = {script: lang for lang, script in reversed(SCRIPT_OF_LANGUAGE.items())}


class _Sentencex:
    """sentencex (rules for some 300 languages, in Rust) behind pysbd's ``segment``: for the
    languages pysbd has no rules for, and for all with ``PRESS_ASSISTANT_SENTENCES=sentencex``.
    Its sentences carry their trailing white space, which :func:`_paragraph_sentences` strips
    before finding each in the text."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def segment(self, text: str) -> list[str]:
        import sentencex

        # A line break left in the text ends a sentence, as it does for pysbd: wrapping ones
        # were made spaces before (_unwrap), and Sinhala and Tamil releases end headings,
        # names and list items with a bare line break that sentencex would read through.
        sentences: list[str] = []
        for line in text.split("\n"):
            carried = ""  # the start of this sentence, cut from the end of the one before
            for found in sentencex.segment(self.lang, line):
                sentence, carried = carried + found, ""
                if _LIST_ITEM.fullmatch(sentence.rstrip() + " "):
                    carried = sentence  # a list item's mark alone ("1. ", "b) ")
                    continue
                cut = _sentencex_overrun(sentence)
                sentences.append(sentence[:cut])
                carried = sentence[cut:]
            if carried:
                sentences.append(carried)
        return sentences


# sentencex gives the start of the next sentence to the one before where pysbd does not: an
# opening quote it could not pair ('... he said. "' + 'We won ...', a third of its
# disagreements with pysbd on English releases), and a list item's number ('as follows: 1.' +
# 'Apples 2.' + 'Pears ...'). A sentence's own final number ("It rose 5.")
# stays: a number moves only when it opens a list (1 after a colon) or goes on one.
_OPENING_QUOTE_END = re.compile(r"(?<=\s)[\"“«„]$")
_NUMBER_END = re.compile(r"(?<!\S)(\d{1,3})\.$")


def _sentencex_overrun(sentence: str) -> int:
    """Where ``sentence`` (one of sentencex's) ends: before an opening quote or a list item's
    number that begins the next one, else at its own end."""
    body = sentence.rstrip()
    if quote := _OPENING_QUOTE_END.search(body):
        return quote.start()
    if number := _NUMBER_END.search(body):
        item = int(number.group(1))
        head = body[:number.start()].rstrip()
        if (item == 1 and (not head or head.endswith(":"))) or \
                re.match(rf"\s*{item - 1}\.\s", sentence):
            return number.start()
    return len(sentence)


# Which splitter reads English: "sentencex" (the default since issue 20), or "pysbd", which the
# project used before; sentencex is some 50-100 times faster (pysbd took a fifth of an
# indexing run's time; 99.4% the same sentence ends on the English archives, and
# where they differ sentencex was right 25 times of 30, pysbd 3; docs/quality/sentence-splitters.md).
# The other languages pysbd has rules for keep it: on Russian sentencex was right 3 times of
# the 11 it differs at, on Kazakh 8 of 30 (it never ends a sentence before a number there,
# "... болды. 1954 ж. ..."), and the rest were not measured.
SENTENCE_SPLITTERS = ("pysbd", "sentencex")
_SENTENCEX_LANGS = frozenset({"en"})


def _splitter_choice() -> str:
    # Read at each call, not once: a process (a test, a benchmark) may choose per run.
    choice = os.environ.get("PRESS_ASSISTANT_SENTENCES", "sentencex")
    if choice not in SENTENCE_SPLITTERS:
        raise ConfigError(f"PRESS_ASSISTANT_SENTENCES={choice!r}: use one of "
                          f"{', '.join(SENTENCE_SPLITTERS)}")
    return choice


def _segmenter(lang: str) -> Segmenter:
    """The segmenter of ``lang`` with the splitter chosen now (``PRESS_ASSISTANT_SENTENCES``)."""
    return _cached_segmenter(lang, _splitter_choice())


@lru_cache(maxsize=8)
def _cached_segmenter(lang: str, splitter: str) -> Segmenter:
    """pysbd for the languages it has rules for (English and Russian among them, as before:
    the tests and the quality sets were tuned on it), sentencex for the others (Sinhala and
    Tamil, which pysbd read with its English rules: in a Tamil release those cut a name's two
    initials into sentences of their own, sentencex did not; docs/quality/multilingual-embedders.md)."""
    if lang in _PYSBD_LANGS and (splitter == "pysbd" or lang not in _SENTENCEX_LANGS):
        import pysbd

        segmenter: Segmenter = pysbd.Segmenter(language=lang, clean=False)
        return segmenter
    return _Sentencex(lang)


def sentence_language(text: str, lang: str | None) -> str:
    """The language whose sentence rules split ``text``: the document's own, else the one its
    script is written in (Sinhala, Tamil, ...); Latin and Cyrillic text with no language keeps
    pysbd's English rules, as before. Read from the first 5,000 characters."""
    if lang:
        return lang
    script = script_of(text[:5000])
    if script in (None, "LATIN", "CYRILLIC"):
        return "en"
    return _LANGUAGE_OF_SCRIPT.get(script, "en")


def split_sentences(text: str, lang: str | None = None) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, outer white space excluded.

    Paragraphs (blank-line separated) never share a sentence; within one, pysbd finds the
    boundaries. A dateline ("Astana, 30 November 2016", "May 6, 2020 (SAINT PAUL) —") that
    opens a paragraph or a line is a span of its own, never glued to the sentence after it.
    Line breaks that only wrap a sentence (hard-wrapped text) are read as spaces, so a
    sentence is not cut at a line's end. Offsets are found by searching the text itself, so
    ``text[a:b]`` is always exactly the sentence (a wrapped one keeps its line breaks).
    """
    spans: list[tuple[int, int]] = []
    segmenter = _segmenter(sentence_language(text, lang))
    paragraphs: list[tuple[int, int]] = []
    start = 0
    for match in [*_PARAGRAPH.finditer(text), None]:
        paragraphs.append((start, match.start() if match else len(text)))
        if match:
            start = match.end()
    width = _wrap_width(text, paragraphs)
    for start, end in paragraphs:
        # The wrapping line breaks become spaces in the copy pysbd reads: the copy has the
        # same length, so every offset found in it is an offset of ``text``.
        paragraph = _unwrap(text[start:end], width)
        for piece_start, piece_end, is_dateline in _dateline_pieces(paragraph):
            if is_dateline:
                spans.append((start + piece_start, start + piece_end))
                continue
            piece = paragraph[piece_start:piece_end]
            for offset, block in _blocks(piece, start + piece_start, segmenter):
                if block.strip():
                    spans.extend(_paragraph_sentences(block, offset, segmenter))
    return spans


# Hard-wrapped text (the FOMC statements wrap at 64-80 characters) has its lines, but the
# last of each paragraph, of about one length, and at almost every such line's end the next
# word would not have fit (at least 87% of the breaks of every FOMC statement). The lines
# of other texts that end without a blank line (the Sri Lankan releases: headings, names
# under a speech, a paragraph per line, lists of names) vary from 10 to 1,200 characters,
# and the few of those that look wrapped by length have the next word fit at 17-75% of
# their breaks, or lines under 55 characters (a salutation of four lines).
_WRAP_WIDTHS = (55, 100)
_WRAP_NEAR = 0.6
_WRAP_NO_FIT = 0.8
# A line that starts a list item ("- ", "3. ", "b) ", "(iv) "). A capital and a full stop is
# not one: it is an initial that a wrap put first ("Donald\nL. Kohn").
_LIST_ITEM = re.compile(
    r"(?:[-•*–—·▪►]|\(?(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)]|\((?:[A-Z]|[IVX]{1,4})\))\s")
_SENTENCE_END = frozenset(".!?:;")
# A line's first word; bounded, since a "word" longer than any width counts the same.
_FIRST_WORD = re.compile(r"[ \t]{0,20}(\S{1,101})")


def _wrap_width(text: str, paragraphs: list[tuple[int, int]]) -> int | None:
    """The width ``text`` is hard-wrapped at, or None when it is not wrapped.

    Measured on the lines followed by another line of their paragraph: in a wrapped text
    the longest is ``_WRAP_WIDTHS`` long, most are within 70% of it, and the next line's
    first word would not have fit on nearly every one."""
    breaks: list[tuple[int, int]] = []  # (the line's length, the next line's first word's)
    for start, end in paragraphs:
        line_start = start
        while (newline := text.find("\n", line_start, end)) >= 0:
            # A break with no line after it (white space ending the paragraph) wraps nothing.
            if word := _FIRST_WORD.match(text, newline + 1, end):
                breaks.append((len(text[line_start:newline].rstrip()), len(word.group(1))))
            line_start = newline + 1
    if len(breaks) < 3:
        return None
    width = max(length for length, _ in breaks)
    if not _WRAP_WIDTHS[0] <= width <= _WRAP_WIDTHS[1]:
        return None
    near = sum(length >= 0.7 * width for length, _ in breaks)
    no_fit = sum(length + 1 + word > width for length, word in breaks)
    if near < 3 or near < _WRAP_NEAR * len(breaks) or no_fit < _WRAP_NO_FIT * len(breaks):
        return None
    return width


def _unwrap(paragraph: str, width: int | None) -> str:
    """``paragraph`` with each line break that wraps a sentence replaced by a space.

    A break wraps when the next line goes on the sentence: in a wrapped text, when its first
    word would not have fit on the line before (so the writer did not end the line there);
    in any text, when it starts with a lower-case letter after a line that has no sentence
    end. A break before a list item or a dateline, or after a dateline, always stays."""
    if "\n" not in paragraph:
        return paragraph
    chars = list(paragraph)
    line_start = 0
    while (newline := paragraph.find("\n", line_start)) >= 0:
        line = paragraph[line_start:newline].rstrip()
        following = newline + 1
        after = following
        while after < len(paragraph) and paragraph[after] in " \t":
            after += 1
        if line and after < len(paragraph) and _wraps(paragraph, line, after, width) \
                and not _whole_dateline(paragraph, line_start, line_start + len(line)):
            chars[newline] = " "
        line_start = following
    return "".join(chars)


def _whole_dateline(paragraph: str, start: int, end: int) -> bool:
    """Whether ``paragraph[start:end]`` (a line) is a dateline and nothing else."""
    found = dateline_at(paragraph, start)
    return found is not None and found.end >= end


def _wraps(paragraph: str, line: str, after: int, width: int | None) -> bool:
    """Whether the line break ending ``line`` wraps into the line starting at ``after``."""
    first = paragraph[after]
    if _LIST_ITEM.match(paragraph, after):
        return False
    word = _FIRST_WORD.match(paragraph, after)
    if first.islower() and line[-1] not in _SENTENCE_END:
        return True  # a dateline never starts in lower case
    if width is None or word is None or len(line) + 1 + len(word.group(1)) <= width:
        return False
    # The next word would not have fit: a wrap, even before a date ("... effective on\nMarch
    # 4, 2021 the rate ..."), unless a sentence ended and a dateline follows.
    return line[-1] not in _SENTENCE_END or dateline_at(paragraph, after) is None


def _dateline_pieces(paragraph: str) -> list[tuple[int, int, bool]]:
    """``paragraph`` cut around the datelines that open it or one of its lines (a line of
    its own, not one that goes on a wrapped sentence): ``(start, end, is_dateline)``."""
    pieces: list[tuple[int, int, bool]] = []
    start = 0
    line_start = 0
    while line_start < len(paragraph):
        found = dateline_at(paragraph, line_start)
        if found is not None:
            if found.start > start:
                pieces.append((start, found.start, False))
            pieces.append((found.start, found.end, True))
            start = found.end
        # Only breaks left as line breaks start a line (wrapped ones are spaces now).
        newline = paragraph.find("\n", max(line_start, start))
        if newline < 0:
            break
        line_start = newline + 1
    if start < len(paragraph):
        pieces.append((start, len(paragraph), False))
    return pieces


_BLOCK_CHARS = 800
# A sure sentence end: a word of three or more lower-case letters (not an abbreviation like
# "Mr." or an initial), a full stop, question or exclamation mark, space, then a capital.
_SURE_END = re.compile(r"(?<=[a-z]{3}[.!?])\s+(?=[\"“A-ZА-ЯЁ])")


def _blocks(paragraph: str, offset: int, segmenter: Segmenter | None = None
            ) -> list[tuple[int, str]]:
    """A paragraph cut at sure sentence ends into blocks of about ``_BLOCK_CHARS``.

    pysbd's time grows much faster than the text: a 176,000-character Kremlin transcript with
    no paragraph break took 40 s in one piece, which made indexing and every question that
    touched it slow. Cut into blocks the sentences are the same (the cuts are where a sentence
    ends anyway): on a 78,000-character one, 11.6 s in one piece, 2.1 s in blocks of 2,000,
    1.3 s in blocks of 800 (same run, machine busy).

    No block is longer than twice ``_BLOCK_CHARS``: pysbd's time is quadratic in a block ("a. "
    x 10,000 took 34 s in one piece), so that bound is what keeps a paragraph's time linear in
    its length. Where that much text has no sure end (Sinhala, Tamil or Russian sentences, a
    table, junk), pysbd itself splits the stretch, and the block ends where its last
    sentence there starts: the sentences before it are the ones pysbd finds in the whole
    paragraph, and the last is read again, whole, in the next block. With no sentence end
    either, the block ends between words, else between characters."""
    if len(paragraph) <= _BLOCK_CHARS:
        return [(offset, paragraph)]
    blocks = []
    start = 0
    while len(paragraph) - start > _BLOCK_CHARS:
        low, high = start + _BLOCK_CHARS // 2, start + 2 * _BLOCK_CHARS
        # Each search ends at the block's bound, so no stretch of text is searched twice.
        sure = _SURE_END.search(paragraph, low, high)
        if sure is not None:
            blocks.append((offset + start, paragraph[start:sure.start()]))
            start = sure.end()
            continue
        if len(paragraph) - start <= 2 * _BLOCK_CHARS:
            break
        cut = _fallback_cut(paragraph, start, low, high, segmenter or _segmenter("en"))
        blocks.append((offset + start, paragraph[start:cut]))
        start = cut
    blocks.append((offset + start, paragraph[start:]))
    return blocks


def _fallback_cut(paragraph: str, start: int, low: int, high: int,
                  segmenter: Segmenter) -> int:
    """Where a block from ``start`` with no sure sentence end ends, between ``low`` and
    ``high``: the start of the last sentence pysbd finds there, else after the last white
    space, else at ``high``."""
    sentences = _paragraph_sentences(paragraph[start:high], start, segmenter)
    starts = [a for a, _ in sentences[1:] if a >= low]
    if starts:
        return starts[-1]
    for cut in range(high - 1, low - 1, -1):
        if paragraph[cut].isspace():
            return cut + 1
    return high


def _paragraph_sentences(
    paragraph: str, offset: int, segmenter: Segmenter
) -> list[tuple[int, int]]:
    pieces = [p.strip() for p in segmenter.segment(paragraph)] if len(paragraph) > 1 else []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        if not piece:
            continue
        found = paragraph.find(piece, cursor)
        if found < 0:  # pysbd altered the text: fall back to the rest of the paragraph
            rest = paragraph[cursor:]
            stripped = rest.strip()
            if stripped:
                found = cursor + rest.index(stripped)
                spans.append((found, found + len(stripped)))
            cursor = len(paragraph)
            break
        # The pattern looks at most four characters back: only those are copied (a run of
        # initials grows the span, and copying it whole each time was quadratic).
        if spans and _INITIAL_END.search(paragraph[max(spans[-1][0], spans[-1][1] - 4):spans[-1][1]]):
            spans[-1] = (spans[-1][0], found + len(piece))
        else:
            spans.append((found, found + len(piece)))
        cursor = found + len(piece)
    tail = paragraph[cursor:].strip()
    if tail:
        found = paragraph.index(tail, cursor)
        spans.append((found, found + len(tail)))
    return [(a + offset, b + offset) for a, b in spans]


def _split_long(
    text: str, span: tuple[int, int], budget: int, count: TokenCounter
) -> list[tuple[int, int]]:
    """Split one over-long sentence between words into pieces of at most ``budget`` tokens."""
    words = [(m.start() + span[0], m.end() + span[0])
             for m in re.finditer(r"\S+", text[span[0]:span[1]])]
    costs = count([text[a:b] for a, b in words])
    pieces: list[tuple[int, int]] = []
    piece_start, used = words[0][0], 0
    last_end = words[0][0]
    for (a, b), cost in zip(words, costs, strict=True):
        if used and used + cost > budget:
            pieces.append((piece_start, last_end))
            piece_start, used = a, 0
        if cost > budget:
            # A single "word" longer than the window (a URL, a table row without spaces):
            # cut between characters, each piece measured, so the window is respected.
            pieces.extend(_cut_word(text, a, b, budget, count))
            piece_start, used, last_end = b, 0, b
            continue
        used += cost
        last_end = b
    if used:
        pieces.append((piece_start, last_end))
    return pieces


def _cut_word(text: str, a: int, b: int, budget: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut ``text[a:b]`` (no spaces) into the longest pieces that fit ``budget``: each found
    by a binary search on its length, since tokens need not spread evenly over characters.

    The search's upper end is found by doubling a length that fits first, so a piece costs
    counts of about its own length, not of the whole rest of the word (which made a long
    word quadratic)."""
    pieces = []
    while a < b:
        low = a + 1  # text[a:low] always fits: one character is at most a few tokens
        step = 1
        while low < b:
            probe = min(b, a + 2 * step)
            if count([text[a:probe]])[0] > budget:
                break
            low, step = probe, 2 * step
        high = min(b, a + 2 * step)
        while low < high:
            mid = (low + high + 1) // 2
            if count([text[a:mid]])[0] <= budget:
                low = mid
            else:
                high = mid - 1
        pieces.append((a, low))
        a = low
    return pieces


def chunk_document(
    document: Document,
    *,
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap_tokens: int = 0,
    title_tokens: int = 48,
    sentences: Sequence[tuple[int, int]] | None = None,
) -> list[Chunk]:
    """Cut ``document`` into chunks whose ``embedding_text`` has at most ``max_tokens``
    word pieces (special tokens excluded).

    ``title_tokens`` caps how much of a long title is carried into each chunk, so a title
    cannot crowd the passage out of the window; 0 carries none. ``sentences``: the text's sentence spans
    when the caller has them already (the indexer keeps them for answering).
    """
    text = document.text
    title = _fit_title(document.title, title_tokens, count_tokens)
    # +1 for the newline between title and passage; a word-piece tokenizer gives it none,
    # other tokenizers may.
    budget = max_tokens - (count_tokens([title])[0] + 1 if title else 0)
    if budget < 16:
        raise ValueError(f"max_tokens={max_tokens} leaves no room for text after the title")

    if sentences is None:
        sentences = split_sentences(text, document.lang)
    costs = count_tokens([text[a:b] for a, b in sentences]) if sentences else []
    units: list[tuple[int, int, int]] = []
    for span, cost in zip(sentences, costs, strict=True):
        if cost <= budget:
            units.append((*span, cost))
        else:
            pieces = _split_long(text, span, budget, count_tokens)
            units.extend((a, b, c) for (a, b), c in
                         zip(pieces, count_tokens([text[a:b] for a, b in pieces]), strict=True))

    chunks: list[Chunk] = []
    current: list[tuple[int, int, int]] = []
    used = 0

    def flush() -> None:
        start, end = current[0][0], current[-1][1]
        chunks.append(Chunk(doc_id=document.id, ordinal=len(chunks), start=start, end=end,
                            text=text[start:end], title=title, page=document.page_at(start)))

    for unit in units:
        # Pieces of one cut word touch without a space, and a tokenizer may read two touching
        # pieces as more tokens than the two apart: they never share a chunk.
        touching = bool(current) and current[-1][1] == unit[0]
        if current and (touching or used + unit[2] > budget):
            flush()
            # Carry trailing sentences into the next chunk, never all of them (progress).
            carried: list[tuple[int, int, int]] = []
            carried_cost = 0
            for prev in reversed(current[1:] if not touching else []):
                if carried_cost + prev[2] > overlap_tokens or carried_cost + prev[2] + unit[2] > budget:
                    break
                carried.insert(0, prev)
                carried_cost += prev[2]
            current, used = carried, carried_cost
        current.append(unit)
        used += unit[2]
    if current:
        flush()
    return chunks


def _fit_title(title: str, limit: int, count_tokens: TokenCounter) -> str:
    title = " ".join(title.split())
    if limit <= 0:
        return ""
    if not title or count_tokens([title])[0] <= limit:
        return title
    words = title.split()
    while words and count_tokens([" ".join(words) + " …"])[0] > limit:
        words = words[: max(1, len(words) * 3 // 4)] if len(words) > 4 else words[:-1]
    return " ".join(words) + " …"
