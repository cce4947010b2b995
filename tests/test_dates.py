"""assistant.dates: the month table, dates in text, a user's date, a question's period."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from assistant.dates import (
    MONTH,
    MONTH_NAMES,
    date_candidates,
    date_in_name,
    find_date,
    month_number,
    parse_filter_date,
    parse_metadata_date,
    read_period,
)
from assistant.errors import QueryError

D = dt.date
NEWEST = D(2022, 6, 30)

KAZAKH = ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз",
          "қыркүйек", "қазан", "қараша", "желтоқсан")


def test_the_table_has_twelve_months_in_each_language() -> None:
    assert set(MONTH_NAMES) == {"en", "ru", "kk"}
    for months in MONTH_NAMES.values():
        assert len(months) == 12 and all(forms for forms in months)


@pytest.mark.parametrize("names", [
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"),
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
     "октябрь", "ноябрь", "декабрь"),
    ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
     "октября", "ноября", "декабря"),
    ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре",
     "октябре", "ноябре", "декабре"),
    KAZAKH,
    ("қаңтарда", "ақпанда", "наурызда", "сәуірде", "мамырда", "маусымда", "шілдеде",
     "тамызда", "қыркүйекте", "қазанда", "қарашада", "желтоқсанда"),
])
def test_every_form_names_its_month(names: tuple[str, ...]) -> None:
    pattern = re.compile(MONTH, re.IGNORECASE)
    for number, name in enumerate(names, start=1):
        assert month_number(name) == number
        assert month_number(name.upper() + ".") == number
        assert pattern.fullmatch(name.capitalize())


def test_month_number_refuses_other_words() -> None:
    assert month_number("monday") is None
    assert month_number("") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("Astana, 2016 жылғы 30 қараша", D(2016, 11, 30)),
    ("30 қараша 2016 ж.", D(2016, 11, 30)),
    ("Астана, 2019 жылы 5 желтоқсан", D(2019, 12, 5)),
    ("2020 ж. 1 қаңтар", D(2020, 1, 1)),
    ("12 сәуір 2021 жылы", D(2021, 4, 12)),
    ("Tuesday, October 16, 2018", D(2018, 10, 16)),
    ("30 ноября 2016 г.", D(2016, 11, 30)),
    ("3rd of March 2019", D(2019, 3, 3)),
    ("16-Oct-2018", D(2018, 10, 16)),
    ("Sept. 4, 2017", D(2017, 9, 4)),
    ("30.11.2016", D(2016, 11, 30)),
    ("10/16/2018", D(2018, 10, 16)),
    ("2016-11-30", D(2016, 11, 30)),
    ("31 February 2016", None),
    ("30 қараша 1066", None),
])
def test_find_date(text: str, expected: D | None) -> None:
    assert find_date(text) == expected


def test_kazakh_dates_are_candidates() -> None:
    found = date_candidates("Астана, 2016 жылғы 30 қараша. Келесі кездесу 30 қараша 2017 ж.")
    assert [(c.kind, c.day, c.month, c.year) for c in found] == [
        ("ydm", "30", "қараша.", "2016"), ("dmy", "30", "қараша", "2017")]  # "." may abbreviate


def test_a_date_in_a_name() -> None:
    assert date_in_name("2018-11-22-abc.pdf") == D(2018, 11, 22)
    assert date_in_name("2018_13_22.pdf") is None
    assert date_in_name("report.pdf") is None


def test_parse_filter_date_is_strict() -> None:
    assert parse_filter_date("2021-03-01", "since") == D(2021, 3, 1)
    assert parse_filter_date("  ", "since") is None
    assert parse_filter_date(None, "since") is None
    with pytest.raises(QueryError, match=re.escape("since: '30.11.2016' is not a date like 2021-03-01")):
        parse_filter_date("30.11.2016", "since")
    with pytest.raises(QueryError, match="until: expected a date"):
        parse_filter_date(20210301, "until")


@pytest.mark.parametrize(("value", "expected"), [
    ("2022-06-24T17:30:00Z", D(2022, 6, 24)),
    ("16 Oct 2018", D(2018, 10, 16)),
    ("30 қараша 2016", D(2016, 11, 30)),
    ("2016 жылғы 30 қараша", D(2016, 11, 30)),
    ("2022-02-30", None),
    ("not a date", None),
    ("", None),
    (None, None),
])
def test_parse_metadata_date_is_lenient(value: str | None, expected: D | None) -> None:
    assert parse_metadata_date(value) == expected


@pytest.mark.parametrize(("question", "since", "until"), [
    ("What happened in March 2022?", D(2022, 3, 1), D(2022, 3, 31)),
    ("Что было в марте 2022?", D(2022, 3, 1), D(2022, 3, 31)),
    ("Какие решения приняли в 2019 году?", D(2019, 1, 1), D(2019, 12, 31)),
    ("2016 жылы қарашада не болды?", D(2016, 11, 1), D(2016, 11, 30)),
    ("2016 жылғы 30 қараша не болды?", D(2016, 11, 30), D(2016, 11, 30)),
    ("30 қараша 2016 не болды?", D(2016, 11, 30), D(2016, 11, 30)),
    ("2019 жылы не болды?", D(2019, 1, 1), D(2019, 12, 31)),
    ("Что было после 2016 жылғы қараша?", D(2016, 12, 1), None),
    ("last year", D(2021, 1, 1), D(2021, 12, 31)),
])
def test_read_period(question: str, since: D | None, until: D | None) -> None:
    period = read_period(question, NEWEST)
    assert period is not None
    assert (period.since, period.until) == (since, until)


def test_a_year_or_month_alone_is_a_topic_not_a_period() -> None:
    assert read_period("Budget 2016", NEWEST) is None
    assert read_period("Қараша 2016 бюджеті", NEWEST) is None
    period = read_period("Қараша 2016 бюджеті", NEWEST, events=True)
    assert period is not None and period.since == D(2016, 11, 1)


@pytest.mark.parametrize("text", [
    "2019 жылы " * 5_000, "2019 жылғы 1 " * 5_000, "қарашада " * 5_000,
    "2019" + " " * 20_000 + "жылғы", "30 " + " " * 20_000 + "қараша",
])
def test_kazakh_patterns_stay_linear(text: str) -> None:
    start = time.perf_counter()
    date_candidates(text)
    read_period(text, NEWEST, events=True)
    assert time.perf_counter() - start < 2.0
