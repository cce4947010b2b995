"""Cleaning: page furniture goes by general rules, sentences stay verbatim."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from assistant.cleaning import (
    clean_text,
    fix_mojibake,
    is_furniture_line,
    normalize_text,
    text_damage,
)
from assistant.dates import date_candidates

SEED = Path(__file__).resolve().parents[1] / "corpus" / "000_f2eabe2890162440.txt"

PARA = "The minister said the budget would be approved by parliament next week."
PARA2 = "Officials expect the programme to reach two hundred villages within four years."


def doc(*lines: str) -> str:
    return "\n\n".join(lines)


# --------------------------------------------------------------------------- the seed


@pytest.fixture(scope="module")
def seed() -> tuple[str, str]:
    raw = SEED.read_text(encoding="utf-8")
    return raw, clean_text(raw)


def test_seed_furniture_is_gone(seed: tuple[str, str]) -> None:
    _, cleaned = seed
    assert "Версия для печати" not in cleaned
    assert "PDFPDF" not in cleaned
    assert "Add new comment" not in cleaned


def test_seed_content_is_kept(seed: tuple[str, str]) -> None:
    raw, cleaned = seed
    lines = cleaned.split("\n")
    assert lines[0] == raw.split("\n")[0].strip()  # the title line
    assert lines[2] == "30 November 2016"
    assert "The event was attended by the heads of supreme supervisory authorities" in cleaned
    assert cleaned.endswith("Press Service of the General Prosecutor’s Office")


def test_seed_sentences_are_verbatim(seed: tuple[str, str]) -> None:
    raw, cleaned = seed
    # Every kept line is a line of the original, or the start of one (a widget cut off).
    raw_lines = [line.strip() for line in raw.split("\n")]
    for line in filter(None, cleaned.split("\n")):
        assert any(r == line or r.startswith(line + " ") for r in raw_lines), line
    assert "\n\n\n" not in cleaned


# --------------------------------------------------------------------------- furniture


@pytest.mark.parametrize("widget", [
    "Print | Share | Email",
    "Tweet Share",
    "Поделиться",
    "Версия для печати",
    "Пікір қалдыру",
    "Басып шығару · Бөлісу",
    "Comments (12)",
    "Tags: budget, taxes, parliament",
    "Теги: бюджет, налоги",
    "Read more...",
    "Back to top",
    "ShareShareEmailEmail",
    "Facebook Twitter Telegram WhatsApp",
    "Download PDF",
])
def test_widget_lines_at_head_and_tail_are_removed(widget: str) -> None:
    text = doc("Budget approved", widget, PARA, PARA2, widget)
    assert clean_text(text) == doc("Budget approved", PARA, PARA2)


@pytest.mark.parametrize(("line", "kept"), [
    ("12 March 2019 Print Share", "12 March 2019"),
    ("Astana, 30 November 2016 | Print", "Astana, 30 November 2016"),
    ("30 November 2016 Print versionPrint versionPDFPDF", "30 November 2016"),
    ("02.12.2020 Распечатать Поделиться", "02.12.2020"),
    ("Home › News › Budget approved", "Budget approved"),
    ("Басты бет / Жаңалықтар / Бюджет бекітілді", "Бюджет бекітілді"),
])
def test_widgets_glued_to_head_lines_are_cut_off(line: str, kept: str) -> None:
    assert clean_text(doc("Budget approved today", line, PARA, PARA2)) == doc(
        "Budget approved today", kept, PARA, PARA2)


def test_toolbar_in_the_body_is_removed_but_a_lone_word_heading_stays() -> None:
    text = doc("Title of the release", PARA, "Print Email", PARA2, "Comments", PARA)
    assert clean_text(text) == doc("Title of the release", PARA, PARA2, "Comments", PARA)


@pytest.mark.parametrize("title", [
    "Print media law adopted",
    "Search continues for missing fishermen",
    "Share of renewable energy doubles",
    "Home loans to get cheaper",
    "Печать денег прекращена",
    "WhatsApp: 071 640 2654",
    "Press Service of the General Prosecutor's Office",
])
def test_content_lines_with_interface_words_are_kept(title: str) -> None:
    text = doc(title, PARA, PARA2, title)
    assert clean_text(text) == text


def test_doubled_words_that_are_words_are_kept() -> None:
    text = doc("COCONUT OIL prices", "Couscous and bonbon exports", PARA,
               "ALFALFA HAY markets", "Baden-Baden summit ends")
    assert clean_text(text) == text


def test_hard_wrapped_text_is_not_mistaken_for_widgets() -> None:
    # Newswire text wraps inside sentences; a wrapped tail like "shares." is prose.
    text = ("The company said it would buy back up to ten million of its\n"
            "common shares over the next year, subject to approval by\n"
            "share.\n"
            "More\n")
    assert clean_text(text) == text.rstrip("\n").rsplit("\n", 1)[0]


def test_link_labels_glued_to_words_are_kept() -> None:
    text = doc(PARA, "See the statement (PDF)](https://example.org/press/2010.pdf)")
    assert clean_text(text) == text


@pytest.mark.parametrize(("line", "at_edge", "expected"), [
    ("Print | Share | Email", False, True),
    ("Share", True, True),
    ("Share", False, False),
    ("Comments (3)", True, True),
    ("The Prosecutor's Office", True, False),
    ("", True, False),
])
def test_is_furniture_line(line: str, at_edge: bool, expected: bool) -> None:
    assert is_furniture_line(line, at_edge=at_edge) is expected


def test_cleaning_is_idempotent(seed: tuple[str, str]) -> None:
    _, cleaned = seed
    assert clean_text(cleaned) == cleaned


# --------------------------------------------------------------------------- normalising


def test_normalize_newlines_spaces_and_blank_runs() -> None:
    raw = "Title  \r\n\r\n\r\n\r\nFirst line\t\rSecond\u2028Third\n\n\n\n  Indented  "
    assert normalize_text(raw) == "Title\n\nFirst line\nSecond\nThird\n\nIndented"


def test_normalize_invisible_characters_and_nfc() -> None:
    raw = "Za\u200bkon\ufeff o\u00ad nalogakh cafe\u0301 \u200dx"
    out = normalize_text(raw)
    assert out == "Zakon o nalogakh café x"
    assert unicodedata.is_normalized("NFC", out)


def test_normalize_keeps_joiners_inside_indic_words() -> None:
    sinhala = "ශ්\u200dරී ලංකා"  # the ZWJ makes the conjunct "ශ්‍රී"
    assert normalize_text(sinhala) == sinhala


def test_normalize_keeps_sentences_verbatim() -> None:
    line = "He said: “It’s done — for now…” (see p. 3)."
    assert normalize_text(line) == line


def test_fix_mojibake() -> None:
    assert fix_mojibake("Ellison\u00e2\u0080\u0099s office") == "Ellison’s office"
    assert fix_mojibake("People\u00e2\u20ac\u2122s Lawyer") == "People’s Lawyer"  # cp1252
    assert fix_mojibake("caf\u00c3\u00a9") == "café"
    for fine in ("café São Paulo", "Ça va", "Москва", "naïve déjà vu"):
        assert fix_mojibake(fine) == fine


def test_normalize_repairs_what_its_steps_expose() -> None:
    twice = "It’s café".encode().decode("cp1252").encode().decode("cp1252")
    assert twice == "ItÃ¢â‚¬â„¢s cafÃƒÂ©"  # UTF-8 read as cp1252, twice over
    assert normalize_text(twice) == "It’s café"
    # A control character between the halves of a mojibake pair: one call does all.
    assert normalize_text("caf\u00c3\x1b\u00a9") == "café"
    for raw in ("Â\x1b¡", "A\u0302¡", "Â\u200d¡", "â\x80\u200b\xa8"):
        once = normalize_text(raw)
        assert normalize_text(once) == once


def test_date_candidates() -> None:
    text = "Tuesday, October 16, 2018; 30 ноября 2016 г.; 2016 жылғы 30 қараша; 05.04.2019"
    kinds = [(c.kind, c.day, c.year) for c in date_candidates(text)]
    assert kinds == [("mdy", "16", "2018"), ("dmy", "30", "2016"), ("ydm", "30", "2016"),
                     ("num", "05", "2019")]


# --------------------------------------------------------------------------- garbled text

REAL_SINHALA = (
    "ජනාධිපති අනුර කුමාර දිසානායක මහතා අද (23) ශ්‍රී දළදා මාළිගාවට ගොස් වැඩ සිටින "
    "දන්ත ධාතූන් වහන්සේ වැඳ පුදා ගත්තේය. පොලිස් මාධ්‍ය ප්‍රකාශක කාර්යාලය මෙම "
    "තොරතුරු නිකුත් කළේය."
)
REAL_TAMIL = ("ஜனாதிபதி அநுர குமார திசாநாயக்க இன்று ஸ்ரீ தலதா மாளிகைக்குச் சென்று வழிபாடுகளில் "
              "ஈடுபட்டார். பொலிஸ் ஊடகப் பேச்சாளர் அலுவலகம் இந்தத் தகவலை வெளியிட்டது.")
# What a PDF with a legacy Sinhala font extracts as (lk_police_si): vowel signs torn off
# their letters and stacked.
BROKEN_SINHALA = ("ප ොලිස් මොධ්‍ය ප ොට්ඨොසය පෙත ෙොතතො වූ ෙැදගත් පතොරතුරු 01. මනුෂ්‍ය "
                  "ඝොතනයක් - ලුණුගම්පෙපෙර ප ොලිස් ෙසම. 2025.04.30 ෙන දින සෙස් ොලපේ")


@pytest.mark.parametrize("text", [
    PARA, REAL_SINHALA, REAL_TAMIL, "Генеральный прокурор принял участие во встрече.",
    "Бас прокурор Жоғарғы қадағалау органдары басшыларының кездесуіне қатысты.",
    "नई दिल्ली में आज विदेश मंत्री ने अपने समकक्ष से मुलाकात की।",
    "I ❤️ the 1️⃣ café at AT&T — «naïve» déjà vu, km/h, e.g. U.S. co-op",
], ids=["en", "si", "ta", "ru", "kk", "hi", "symbols"])
def test_real_text_is_not_garbled(text: str) -> None:
    damage = text_damage(text * 20)
    assert damage.broken == damage.coded == 0
    assert not damage.unreadable


def test_vowel_signs_off_their_letters_are_garbage() -> None:
    damage = text_damage(BROKEN_SINHALA)
    assert damage.unreadable and damage.script == "Sinhala"
    assert damage.broken >= 8
    assert damage.symptom().endswith("% of its words are impossible letter sequences")


def test_some_broken_words_in_real_text_are_tolerated() -> None:
    # Real releases carry a stray broken word now and then (0.7% of words at most).
    text = (REAL_SINHALA + " ") * 10 + "ෙමේ"
    assert text_damage(text).broken == 1
    assert not text_damage(text).unreadable


def test_missing_pre_base_vowel_signs_are_garbage() -> None:
    # A font that turns the kombuva into another letter: "පපාලිස්" for "පොලිස්". Every word
    # is well formed, but the script's commonest vowel sign never appears.
    without = REAL_SINHALA.replace("ො", "ා").replace("ෙ", "ප").replace("ේ", "්")
    damage = text_damage((without + " ") * 5)
    assert damage.broken == 0 and damage.missing_pre_base and damage.unreadable
    assert damage.symptom() == "the Sinhala vowel signs written before a letter are missing"
    assert not text_damage((REAL_SINHALA + " ") * 5).unreadable
    assert not text_damage(without).unreadable  # too little text to tell
    # A broken letterhead does not condemn the English release under it.
    assert not text_damage((without + " ") * 5 + (PARA + " ") * 60).unreadable


@pytest.mark.parametrize(("word", "kind"), [
    ("ොලිස්", "broken"),  # a vowel sign at the start of a word
    ("ෙැදගත්", "broken"),
    ("ලක්ූ", "broken"),  # a vowel sign on a virama
    ("අද්\u200dාල", "broken"),  # a vowel sign on a conjunct joiner
    ("අත්ද්\u200dඅඩංගුව", "broken"),  # a conjunct joining a vowel letter
    ("ලද්\u200d", "broken"),  # a conjunct left open
    ("\ue000\ue001", "coded"),  # private use
    ("m%cd;dka", "coded"),  # ASCII symbols standing for letters
    ("Ðîññèÿ", "coded"),  # cp1251 read as Latin-1
    ("ශ\u200d්\u200dරී", None),  # a touching conjunct (ZWJ before the virama)
    ("வௌியிடப்பட்டது", None),  # Tamil AU + sign: a converter slip people read fine
    ("NIRDCහි", None),  # Latin with a Sinhala suffix
])
def test_garbled_words(word: str, kind: str | None) -> None:
    damage = text_damage(word)
    assert (damage.broken, damage.coded) == (int(kind == "broken"), int(kind == "coded"))


def test_empty_text_has_no_damage() -> None:
    damage = text_damage("  \n 2019 — 42 ")
    assert damage.words == 0 and damage.share == 0.0 and not damage.unreadable


@pytest.mark.shared_data
def test_no_real_release_in_five_languages_is_garbage(shared_data: Path) -> None:
    """The detector's false positives on real text: none, in Sinhala, Tamil and English
    (Sri Lanka PMD), Russian (XQuAD), Kazakh (KazQAD) and the English archives."""
    def records(path: Path, field: str = "text") -> list[str]:
        with path.open(encoding="utf-8") as lines:
            return [json.loads(line)[field] for line in lines if line.strip()]

    squad = json.loads((shared_data / "xquad_en_ru" / "xquad.ru.json").read_text(encoding="utf-8"))
    texts = {
        "pmd (si, ta, en)": records(shared_data / "srilanka_pmd_press_releases" / "press_releases.jsonl"),
        "xquad ru": [p["context"] for article in squad["data"] for p in article["paragraphs"]],
        "kazqad kk": records(shared_data / "kazqad_kk" / "beir_from_rc_validation" / "corpus.jsonl"),
        "mn ag": records(shared_data / "mn_ag_press_releases" / "press_releases.jsonl"),
        "kremlin": records(shared_data / "kremlin_ukraine_press_releases_en" / "putin.jsonl"),
        "fomc": records(shared_data / "fomc_statements" / "fomc_statements.jsonl"),
    }
    for name, documents in texts.items():
        flagged = [text[:80] for text in documents if text_damage(normalize_text(text)).unreadable]
        assert flagged == [], name
