"""Datelines and hard-wrapped lines (issue 17): a place-and-date line is a sentence span of
its own, never glued to the sentence after it, and a line break that only wraps a sentence
does not end it. Invented examples first, then checks over the real archives."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.chunking import split_sentences
from assistant.dates import Dateline, dateline_at, find_date, is_dateline
from assistant.documents import Document

D = dt.date


def sentences(text: str, lang: str | None = None) -> list[str]:
    spans = split_sentences(text, lang)
    return [text[a:b] for a, b in spans]


# --------------------------------------------------------------------------- the recogniser

@pytest.mark.parametrize(("text", "dateline", "date"), [
    ("Astana. November 6, 2017 The Prosecutor General met the envoys.", "Astana. November 6, 2017",
     D(2017, 11, 6)),
    ("27 November 2017\nThe board approved the plan.", "27 November 2017", D(2017, 11, 27)),
    ("November 21, 2017 A meeting of the council was held.", "November 21, 2017", D(2017, 11, 21)),
    ("Нур-Султан, 5 января 2020 г. В столице открылся новый центр.", "Нур-Султан, 5 января 2020 г.",
     D(2020, 1, 5)),
    ("Астана, 6 қараша 2017 ж. Бас прокурор кездесу өткізді.", "Астана, 6 қараша 2017 ж.",
     D(2017, 11, 6)),
    ("Астана, 2016 жылғы 30 қараша", "Астана, 2016 жылғы 30 қараша", D(2016, 11, 30)),
    ("March 3, 2021 (RIVERTON) — The governor signed the bill.", "March 3, 2021 (RIVERTON) —",
     D(2021, 3, 3)),
    ("March 3, 2021, 10:15 AM [RIVERTON] – The office sued.", "March 3, 2021, 10:15 AM [RIVERTON] –",
     D(2021, 3, 3)),
    ("(Lakeside, 4 February 2022) The two leaders agreed.", "(Lakeside, 4 February 2022)",
     D(2022, 2, 4)),
    ("Wednesday, April 7, 2021", "Wednesday, April 7, 2021", D(2021, 4, 7)),
    ("Port Town 12.05.2019", "Port Town 12.05.2019", D(2019, 5, 12)),
    ("02nd March, 2025", "02nd March, 2025", D(2025, 3, 2)),
    ("4th – 6th May, 2025", "4th – 6th May, 2025", D(2025, 5, 6)),
    ("  \n 2019-08-01: The council met.", "2019-08-01:", D(2019, 8, 1)),
])
def test_each_dateline_form_is_recognised(text: str, dateline: str, date: D) -> None:
    found = dateline_at(text)
    assert isinstance(found, Dateline)
    assert text[found.start:found.end] == dateline
    assert found.date == date
    assert is_dateline(dateline)
    assert is_dateline(text) == (text.strip() == dateline)


@pytest.mark.parametrize("text", [
    "On December 14, 2018, the judge ruled against the plan.",  # a sentence about a date
    "Today, 9 June 2025, marks the start of the festival.",
    "As announced on May 7, 2018, the deputy will serve.",
    "2025-01-01 දින හෝ ඊට පසු",  # a date then text without capitals: cannot be told apart
    "The plan, dated 5 May 2020, was approved.",
    "Budget 2016 was adopted.",
    "31 February 2016 The board met.",  # no such day
    "30 November 1066 The board met.",  # not a plausible date of a release
    "The long place name that goes on and on and on for many words, 5 May 2020 The end",
])
def test_sentences_that_mention_a_date_are_no_datelines(text: str) -> None:
    assert dateline_at(text) is None
    assert not is_dateline(text)


def test_a_dateline_is_looked_for_where_asked() -> None:
    text = "Some title\n27 November 2017\nBody."
    found = dateline_at(text, text.index("27"))
    assert found is not None and text[found.start:found.end] == "27 November 2017"
    assert dateline_at(text) is None


def test_find_date_header_only_takes_the_dateline_not_a_date_in_a_sentence() -> None:
    # The same recogniser dates a release: a date inside an opening sentence is no dateline.
    assert find_date("On January 31, 2022, the ministers met.", header_only=True) is None
    assert find_date("On January 31, 2022, the ministers met.") == D(2022, 1, 31)
    head = "Joins a coalition of states\n\nMay 6, 2020 (RIVERTON) — The office joined."
    assert find_date(head, header_only=True) == D(2020, 5, 6)


# --------------------------------------------------------------------------- sentence spans

@pytest.mark.parametrize(("text", "expected"), [
    ("Astana. November 6, 2017 The Prosecutor General met the envoys. They spoke.",
     ["Astana. November 6, 2017", "The Prosecutor General met the envoys.", "They spoke."]),
    ("27 November 2017\nThe board approved the plan.",
     ["27 November 2017", "The board approved the plan."]),
    ("November 21, 2017 A meeting of the council was held.",
     ["November 21, 2017", "A meeting of the council was held."]),
    ("Нур-Султан, 5 января 2020 г. В столице открылся новый центр.",
     ["Нур-Султан, 5 января 2020 г.", "В столице открылся новый центр."]),
    ("Астана, 6 қараша 2017 ж. Бас прокурор кездесу өткізді.",
     ["Астана, 6 қараша 2017 ж.", "Бас прокурор кездесу өткізді."]),
    ("A headline of the release\n\nMarch 3, 2021 (RIVERTON) — The governor signed the bill.",
     ["A headline of the release", "March 3, 2021 (RIVERTON) —", "The governor signed the bill."]),
    ("A headline of the release\nMarch 3, 2021 The governor signed the bill.",
     ["A headline of the release", "March 3, 2021", "The governor signed the bill."]),
])
def test_a_dateline_is_a_span_of_its_own(text: str, expected: list[str]) -> None:
    found = sentences(text)
    assert found == expected
    assert [is_dateline(s) for s in found] == [is_dateline(s) for s in expected]
    assert sum(is_dateline(s) for s in found) == 1


def test_a_date_inside_the_first_sentence_stays_in_it() -> None:
    text = "On December 14, 2018, the judge ruled. The city appealed."
    assert sentences(text) == ["On December 14, 2018, the judge ruled.", "The city appealed."]


WRAPPED = (
    "The board decided today to keep its target for the lending rate at 2\n"
    "percent. Recent figures suggest that growth in spending has slowed in\n"
    "June, while conditions in the markets for credit can reasonably be\n"
    "expected to improve over the coming quarters. The board will act as\n"
    "needed to support the recovery, and it judges that the risks to growth\n"
    "have eased somewhat since its last meeting in the spring.\n"
    "\n"
    "Voting for the action were Ann B. Carter, Chair; Tom C. Dale; Mary Eve\n"
    "F. Grant; and Hal I. Jones.\n"
)


def test_hard_wrapped_lines_are_joined_with_offsets_into_the_stored_text() -> None:
    spans = split_sentences(WRAPPED)
    found = [WRAPPED[a:b] for a, b in spans]
    assert found[0] == "The board decided today to keep its target for the lending rate at 2\npercent."
    assert found[2] == ("The board will act as\nneeded to support the recovery, and it judges that "
                        "the risks to growth\nhave eased somewhat since its last meeting in the spring.")
    # A wrap before a capitalised word ("June", an initial "F.") is a wrap all the same.
    assert "slowed in\nJune, while" in found[1]
    assert found[-1].endswith("Mary Eve\nF. Grant; and Hal I. Jones.")
    assert all(s.rstrip()[-1] in ".!?" for s in found)


def test_a_lower_case_line_goes_on_the_sentence_in_any_text() -> None:
    text = "The minister spoke about the\nfuture of the port. Then she left."
    assert sentences(text) == ["The minister spoke about the\nfuture of the port.", "Then she left."]


@pytest.mark.parametrize(("text", "expected"), [
    # A heading, a short title line, a signature: not wrapped text.
    ("A heading\nNext line.", ["A heading", "Next line."]),
    ("Jane Doe\nMinister of Ports", ["Jane Doe", "Minister of Ports"]),
    ("Dear members of both delegations,\nDear guests,\nGood evening",
     ["Dear members of both delegations,", "Dear guests,", "Good evening"]),
    # A line ending a sentence, then a capitalised one, in text that is not wrapped.
    ("The harbour reopened on Monday after the storm.\nShips queued at the gates all day.",
     ["The harbour reopened on Monday after the storm.", "Ships queued at the gates all day."]),
    # List items.
    ("The plan has three parts:\n1. new roads\n2. new schools\n- more clinics",
     ["The plan has three parts:", "1. new roads", "2. new schools", "- more clinics"]),
    ("The options are\na) to wait\nb) to act", ["The options are", "a) to wait", "b) to act"]),
    # A dateline line between lines, lower case after it or not.
    ("Release title\n27 November 2017\nthe text starts here.",
     ["Release title", "27 November 2017", "the text starts here."]),
])
def test_lines_that_are_separate_stay_separate(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_headings_and_lists_in_wrapped_text_stay_separate() -> None:
    text = (WRAPPED + "\nRelated Actions\nThe statements of other banks can be found at the\n"
            "addresses below, which the board lists here for the convenience of all.\n"
            "* [First Bank](http://example.org/first-bank-statement-of-the-day.html)\n"
            "* [Second Bank](http://example.org/second-bank-statement-of-the-day.html)\n")
    found = sentences(text)
    assert "Related Actions" in found
    assert "* [First Bank](http://example.org/first-bank-statement-of-the-day.html)" in found


def test_a_wrapped_line_that_starts_with_a_date_is_no_dateline() -> None:
    text = ("The board voted today to cut the rate by one quarter of a point to 3\n"
            "percent, effective from the first business day of the next month, on\n"
            "March 4, 2021 The rate had been unchanged for more than two years since\n"
            "the last cut, and the board said it will keep watching the data closely.\n")
    # "on\nMarch 4, 2021 The" would pass for a dateline were the line not a wrap.
    assert not any(is_dateline(s) for s in sentences(text))


def test_spans_stay_exact_on_odd_text() -> None:
    for text in ("\n\n27 November 2017", "27 November 2017 ", "x\n27 November 2017\n\n\ny",
                 "2019 " * 50 + "\n" + "May 1 2019\n" * 30, "(Kyiv,\n2 February 2022) The end."):
        for a, b in split_sentences(text):
            assert text[a:b] == text[a:b].strip() and text[a:b]


def test_many_dated_lines_split_in_linear_time() -> None:
    def cost(n: int) -> float:
        text = "Riverton, 5 May 2020 The council met.\n" * n
        start = time.process_time()
        spans = split_sentences(text)
        assert len(spans) == 2 * n
        return time.process_time() - start

    cost(50)  # warm pysbd up
    small, large = cost(200), cost(2000)
    assert large <= 20 * max(small, 0.01)


# --------------------------------------------------------------------------- real archives

def _export(path: Path) -> Iterator[Document]:
    from assistant.readers import read_path

    for item in read_path(path):
        if isinstance(item, Document):
            yield item


_TERMINAL = re.compile(r"[.!?…:;][\"'”’»)\]]*$")


@pytest.mark.shared_data
def test_no_fomc_sentence_ends_at_a_wrap(shared_data: Path) -> None:
    """FOMC statements are wrapped at about 70-80 characters. No sentence may end at a line
    break inside a paragraph where the next line goes on in lower case, and almost every
    sentence ends in punctuation (65% did not when lines were split at their ends; what
    is left are headings and link lists)."""
    documents = list(_export(shared_data / "fomc_statements" / "fomc_statements.jsonl"))
    assert len(documents) > 150
    at_wrap, unended, total = [], 0, 0
    for document in documents:
        text = document.text
        for a, b in split_sentences(text, document.lang):
            total += 1
            unended += not _TERMINAL.search(text[a:b])
            if text[b:b + 1] == "\n" and text[b + 1:b + 2] != "\n" and text[b + 1:].lstrip()[:1].islower():
                at_wrap.append(f"{document.id}: {text[max(a, b - 40):b]!r}")
    assert at_wrap == []
    assert unended / total < 0.05, (unended, total)


@pytest.mark.shared_data
def test_no_release_sentence_starts_with_a_dateline_and_goes_on(shared_data: Path) -> None:
    """Minnesota AG releases open a paragraph with "Month D, YYYY (SAINT PAUL) — ...", some
    Kremlin/Zelenskyy ones with "(Kyiv, D Month YYYY) ...": the dateline is a span of its
    own, and neither the first sentence of a release nor any other of its head starts with
    one. The head (its first 1,000 characters or so) is where datelines stand,
    and splitting whole Kremlin transcripts would take most of a minute."""
    paths = [shared_data / "mn_ag_press_releases" / "press_releases.jsonl",
             *sorted((shared_data / "kremlin_ukraine_press_releases_en").glob("*.jsonl"))]
    glued, alone, documents = [], 0, 0
    for path in paths:
        for document in _export(path):
            documents += 1
            # Cut at a paragraph's end, else at a sentence's (transcripts of one paragraph).
            cut = document.text.find("\n", 1000)
            cut = document.text.find(". ", 1000) + 1 if cut < 0 else cut
            text = document.text[:cut] if cut > 0 else document.text
            for a, b in split_sentences(text, document.lang):
                sentence = text[a:b]
                found = dateline_at(sentence)
                if found is not None and sentence[found.end:].strip():
                    glued.append(f"{document.id}: {sentence[:60]!r}")
                alone += is_dateline(sentence)
    assert documents > 2000
    assert glued == []
    assert alone > 700  # the Minnesota datelines, each found and kept apart


@pytest.mark.shared_data
def test_sri_lankan_lines_are_not_joined(shared_data: Path) -> None:
    """The Sri Lankan releases end many lines without a blank line (headings, lists of
    names, a paragraph per line), and Sinhala and Tamil have no capitals to tell a wrap by:
    no line break of theirs is read as a wrap; in English ones only a line that goes on in
    lower case after no sentence end is."""
    export = shared_data / "srilanka_pmd_press_releases" / "press_releases.jsonl"
    joined: dict[str, int] = {}
    for document in _export(export):
        text = document.text
        if not re.search(r"\S\n[ \t]*+\S", text):
            continue  # no line break inside a paragraph: nothing to join (and it saves time)
        for a, b in split_sentences(text, document.lang):
            for newline in (m.start() for m in re.finditer("\n", text[a:b])):
                joined[document.lang or "?"] = joined.get(document.lang or "?", 0) + 1
                after = text[a + newline + 1:b].lstrip()
                assert after[:1].islower(), (document.id, text[a:b][:80])
    assert joined.get("si", 0) == 0 and joined.get("ta", 0) == 0
