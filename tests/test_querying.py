"""Dates and periods named in questions: parsing, and their effect on answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import QueryError
from assistant.querying import read_dates, resolve
from tests.helpers import AssistantFactory

D = dt.date
NEWEST = D(2022, 6, 15)


@pytest.mark.parametrize(("question", "since", "until"), [
    ("What happened on 24 February 2022?", D(2022, 2, 24), D(2022, 2, 24)),
    ("What did the FOMC say on January 28, 2004?", D(2004, 1, 28), D(2004, 1, 28)),
    ("What happened on 2022-02-24?", D(2022, 2, 24), D(2022, 2, 24)),
    ("Who met the president in March 2022?", D(2022, 3, 1), D(2022, 3, 31)),
    ("Which lawsuits were filed in 2019?", D(2019, 1, 1), D(2019, 12, 31)),
    ("Which settlements between 2019 and 2021?", D(2019, 1, 1), D(2021, 12, 31)),
    ("Rate decisions 2008-2010", D(2008, 1, 1), D(2010, 12, 31)),
    ("What happened after March 2022?", D(2022, 4, 1), None),
    ("What was decided since 1 March 2022?", D(2022, 3, 1), None),
    ("Who was sued before 2020?", None, D(2019, 12, 31)),
    ("What was announced last year?", D(2021, 1, 1), D(2021, 12, 31)),
    ("What was announced this month?", D(2022, 6, 1), D(2022, 6, 30)),
    ("Что произошло 24 февраля 2022 года?", D(2022, 2, 24), D(2022, 2, 24)),
    ("Кто встречался с президентом в марте 2022?", D(2022, 3, 1), D(2022, 3, 31)),
    ("Какие решения приняли в 2019 году?", D(2019, 1, 1), D(2019, 12, 31)),
    ("Что было в прошлом году?", D(2021, 1, 1), D(2021, 12, 31)),
    ("Какие встречи были с 2019 по 2021 год?", D(2019, 1, 1), D(2021, 12, 31)),
])
def test_periods_in_english_and_russian(question: str, since: D | None, until: D | None) -> None:
    period = read_dates(question, newest=NEWEST).period
    assert period is not None
    assert (period.since, period.until) == (since, until)


@pytest.mark.parametrize(("question", "since", "until"), [
    ("2016 жылы қарашада Астанада не болды?", D(2016, 11, 1), D(2016, 11, 30)),
    ("2016 жылғы 30 қараша не болды?", D(2016, 11, 30), D(2016, 11, 30)),
    ("Что было в ақпан 2020?", D(2020, 2, 1), D(2020, 2, 29)),
])
def test_periods_in_kazakh(question: str, since: D | None, until: D | None) -> None:
    period = read_dates(question, newest=NEWEST).period
    assert period is not None
    assert (period.since, period.until) == (since, until)


def test_questions_without_dates_and_the_latest() -> None:
    assert read_dates("Who attended the Sanya meeting?", newest=NEWEST).period is None
    # A year that names the subject, not the publication date, is no filter.
    subject_year = "What did the office win in the 2019 data breach settlement?"
    assert read_dates(subject_year, newest=NEWEST).period is None
    assert read_dates("How big was Budget 2016?", newest=NEWEST).period is None
    assert read_dates("Who chaired the May meeting?", newest=NEWEST).period is None
    latest = read_dates("What is the latest statement on interest rates?", newest=NEWEST)
    assert latest.latest and latest.period is None
    assert read_dates("Какое последнее заявление?", newest=NEWEST).latest


def test_a_month_names_the_events_a_list_asks_about() -> None:
    question = "List the releases covering the President's June 2025 official visit to Germany."
    # In an ordinary question "June 2025" may name the subject; a list of releases about an
    # event wants the releases published when it happened.
    assert read_dates(question, newest=NEWEST).period is None
    period = read_dates(question, newest=NEWEST, events=True).period
    assert period is not None and (period.since, period.until) == (D(2025, 6, 1), D(2025, 6, 30))
    assert read_dates("Which releases mention the 2019 data breach?", newest=NEWEST,
                      events=True).period is None


@pytest.mark.parametrize("question", [
    "Who voted against it, and on what grounds?",
    "Which other central banks announced steps alongside?",
    "What did the Board do with the discount rate at the same time?",
    "Which member of the government also took part in that call?",
    "Which projects did the two leaders launch together that same day?",
    "And what about Tavion James?",
])
def test_a_question_that_points_back_is_a_follow_up(question: str) -> None:
    from assistant import Turn

    earlier = Turn("How large was the rate cut of 22 January 2008?", cited=("fomc-2008-01-22",))
    # Names the conversation already used, or common in the archive, are no new subject.
    resolved = resolve(question, [earlier], new_names=["tavion"] if "Tavion" in question else [])
    assert resolved.follow_up and resolved.prefer == ("fomc-2008-01-22",)
    assert earlier.question in resolved.query
    assert not resolve(question, []).follow_up


def test_a_question_with_a_new_subject_stands_alone() -> None:
    from assistant import Turn

    earlier = Turn("How large was the rate cut of 22 January 2008?", cited=("fomc-2008-01-22",))
    # "its" points back, but a rare name the conversation never used says the subject changed.
    question = "How much did Posh Bridal Couture pay after its gowns came late?"
    assert not resolve(question, [earlier], new_names=["posh", "bridal"]).follow_up
    assert resolve(question, [earlier], new_names=["posh", "bridal"]).query == question
    # No words pointing back and words of its own: a new question.
    assert not resolve("Which judge sentenced the ring's leader for billing fraud?", [earlier],
                       new_names=[]).follow_up


@pytest.fixture(scope="module")
def fomc(make_module_assistant: AssistantFactory) -> Assistant:
    from tests.helpers import SHARED_DATA

    source = SHARED_DATA / "fomc_statements" / "fomc_statements.jsonl"
    if not source.exists():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests run where ../shared/data exists (CI)")
    return make_module_assistant([source], index="fomc")


@pytest.mark.shared_data
def test_a_named_period_filters_what_is_cited(fomc: Assistant) -> None:
    answer = fomc.ask("What did the Committee decide about the federal funds rate in March 2009?")
    assert not answer.abstained
    assert answer.searched == "releases from 2009-03-01 to 2009-03-31"
    assert all(c.date and D(2009, 3, 1) <= c.date <= D(2009, 3, 31) for c in answer.citations)
    hits = fomc.search("federal funds rate target in 2001", k=10)
    assert hits and all(h.date and h.date.year == 2001 for h in hits)


@pytest.mark.shared_data
def test_explicit_filters_combine_with_the_question(fomc: Assistant) -> None:
    answer = fomc.ask("What did the Committee decide in 2008?", since=D(2008, 10, 1))
    assert answer.searched == "releases from 2008-10-01 to 2008-12-31"
    assert all(c.date and c.date >= D(2008, 10, 1) for c in answer.citations)
    with pytest.raises(QueryError, match="outside the date filter"):
        fomc.ask("What did the Committee decide in 2003?", since=D(2008, 1, 1))


@pytest.fixture(scope="module")
def fomc_real(tmp_path_factory: pytest.TempPathFactory, real_embedder: object) -> Assistant:
    from tests.helpers import SHARED_DATA

    source = SHARED_DATA / "fomc_statements" / "fomc_statements.jsonl"
    if not source.exists():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests run where ../shared/data exists (CI)")
    bot = Assistant.open(tmp_path_factory.mktemp("fomc-real") / "index", create=True,
                         embedder=real_embedder)  # type: ignore[arg-type]
    bot.index([source])
    return bot


@pytest.mark.shared_data
@pytest.mark.real_model
def test_the_latest_cites_the_newest_relevant_release(fomc_real: Assistant) -> None:
    everything = fomc_real.search("federal funds rate target range", k=20)
    newest_relevant = max(h.date for h in everything[:5] if h.date)
    answer = fomc_real.ask("What is the latest decision on the target range for the federal funds rate?")
    assert not answer.abstained
    assert answer.citations[0].date is not None
    assert answer.citations[0].date >= newest_relevant


@pytest.mark.shared_data
def test_last_year_counts_from_the_newest_release(fomc: Assistant, tmp_path: Path) -> None:
    answer = fomc.ask("What did the Committee say about inflation last year?")
    # The archive ends in 2016: "last year" is 2015, whatever today's date.
    assert answer.searched == "releases from 2015-01-01 to 2015-12-31"
    assert all(c.date and c.date.year == 2015 for c in answer.citations)


@pytest.mark.parametrize("question", [
    "List every release about the prosecution in the McKeever case.",
    "In which 2010 statements did Thomas Hoenig dissent?",
    "On which dates did Putin talk by phone with Xavier Bettel?",
    "Which releases report the President's visit to Vietnam?",
    "How many statements in 2008 lowered the target?",
    "Every time the President went abroad, who was acting minister? List those announcements.",
    "Перечислите все встречи президента с губернаторами.",
    "Which companies has the office sued over insulin prices?",
    "When did Putin meet Erdogan?",
])
def test_list_questions_are_recognised(question: str) -> None:
    from assistant.planning import intent_of

    assert intent_of(question) != "fact"


@pytest.mark.parametrize("question", [
    "Who attended the Sanya meeting?",
    "Which company sold contaminated eye drops?",
    "How many people were charged?",
    "What sentence did the court hand down?",
    "When did the ferry terminal reopen?",
    "Which Reserve Banks asked for the discount-rate cut?",
])
def test_ordinary_questions_are_not_lists(question: str) -> None:
    from assistant.planning import intent_of

    assert intent_of(question) == "fact"


@pytest.mark.shared_data
def test_list_questions_answer_over_the_whole_archive(fomc: Assistant) -> None:
    import json

    from tests.helpers import ROOT

    questions = [json.loads(line) for line in
                 (ROOT / "benchmarks" / "questions" / "press_qa.jsonl").read_text().splitlines()
                 if '"fomc"' in line and '"list"' in line]
    assert len(questions) >= 5
    recalls = []
    for q in questions:
        answer = fomc.ask(q["question"])
        assert not answer.abstained and answer.count == len(answer.citations)
        assert answer.text.count("\n- ") == answer.count  # one row per release, each cited
        first, last = (D.fromisoformat(d) for d in q["period"])
        assert all(c.date and first <= c.date <= last for c in answer.citations)
        cited = {c.doc_id for c in answer.citations}
        recalls.append(len(cited & set(q["gold_doc_ids"])) / len(q["gold_doc_ids"]))
    assert sum(recalls) / len(recalls) >= 0.8, recalls


@pytest.mark.shared_data
def test_how_many_counts_the_releases(fomc: Assistant) -> None:
    answer = fomc.ask("How many statements in 2008 mention the federal funds rate target?")
    assert answer.count is not None and answer.count >= 5
    assert answer.text.startswith(f"{answer.count} releases match")
    assert answer.searched == "releases from 2008-01-01 to 2008-12-31"


def test_a_period_read_from_the_question_keeps_undated_releases(
        make_assistant: AssistantFactory) -> None:
    # A plain-text file with no date line: its publication date is unknown.
    bot = make_assistant({"crane.txt": "Harbour crane\n\nThe new harbour crane lifts forty tonnes "
                                       "and was built by Nordkran.\n"}, corpus="docs")
    assert bot.documents() == ["crane.txt"] and bot.document("crane.txt").date is None  # type: ignore[union-attr]
    asked = bot.ask("Which company built the harbour crane in 2020?")
    assert not asked.abstained and asked.searched == "releases from 2020-01-01 to 2020-12-31"
    # An explicit filter is the user's own: it leaves undated releases out.
    assert not bot.search("harbour crane", since=D(2020, 1, 1))


@pytest.mark.shared_data
def test_the_catalog_agrees_with_the_store(fomc: Assistant) -> None:
    """Lists and filters read chunks' documents and dates from an in-memory catalog; it must
    say what a join over the store's own tables says, with and without a period."""
    from assistant.documents import Filters
    from assistant.index_store.database import fts_term

    store = fomc._reader()
    period = Filters(since=D(2008, 1, 1), until=D(2009, 12, 31))
    holders: dict[str, set[str]] = {}
    for stem in ("fund", "inflat", "dissent", "nosuchword"):
        joined = {r[0] for r in store.database.query(
            "SELECT DISTINCT c.doc_id FROM chunks_fts f JOIN chunks c ON c.id = f.rowid "
            "WHERE chunks_fts MATCH ?", (fts_term(stem),))}
        holders[stem] = joined
        assert set(store.documents_weighed({stem: 1.0})) == joined
        assert store.document_frequency(stem) == len(joined)
        in_period = {d for d in joined if D(2008, 1, 1) <= fomc.document(d).date <= D(2009, 12, 31)}  # type: ignore[union-attr,operator]
        assert set(store.documents_weighed({stem: 1.0}, filters=period)) == in_period
    assert holders["fund"] and holders["dissent"]
    # Weights add up over the words a document holds; the thresholds cut absolute and relative.
    weights = {"fund": 0.25, "dissent": 0.75}
    expected = {d: sum(w for t, w in weights.items() if d in holders[t])
                for d in holders["fund"] | holders["dissent"]}
    assert store.documents_weighed(weights) == pytest.approx(expected)
    assert set(store.documents_weighed(weights, at_least=0.5)) == holders["dissent"]
    assert set(store.documents_weighed(weights, relative=0.9)) == holders["fund"] & holders["dissent"]
    some = [*sorted(holders["fund"])[:20], "no such release"]
    dates = store.document_dates(some)
    assert dates == {d: (doc.date if (doc := fomc.document(d)) else None) for d in some}


def test_lists_and_filters_see_what_was_indexed_after_them(
        tmp_path: Path, make_assistant: AssistantFactory) -> None:
    """The catalog and the filter masks belong to one generation of the index."""
    folder = tmp_path / "docs"
    bot = make_assistant({"a.txt": "Harbour crane\n\nDate: 2020-05-01\n\nThe harbour crane "
                                   "lifts forty tonnes.\n"}, corpus=folder)
    first = bot.ask("List every release about the harbour crane")
    assert first.count == 1
    assert [h.doc_id for h in bot.search("harbour crane", since=D(2020, 1, 1))] == ["a.txt"]
    (folder / "b.txt").write_text("Second harbour crane\n\nDate: 2021-03-02\n\nA second harbour "
                                  "crane arrived.\n")
    bot.index([folder])
    assert bot.ask("List every release about the harbour crane").count == 2
    assert {h.doc_id for h in bot.search("harbour crane", since=D(2020, 1, 1))} == {"a.txt", "b.txt"}
    assert [h.doc_id for h in bot.search("harbour crane", since=D(2021, 1, 1))] == ["b.txt"]


def test_a_period_allows_the_same_chunks_by_the_catalog_as_by_sql(
        make_assistant: AssistantFactory) -> None:
    """With the catalog at hand a period's chunk mask comes from its dates, not a join."""
    from assistant.documents import Filters

    releases: dict[str, str] = {}
    for n, day in enumerate(["2019-12-31", "2020-01-01", "2020-06-01", "2021-01-01", None, None]):
        dated = f"Date: {day}\n\n" if day else ""
        releases[f"r{n}.txt"] = (f"Release {n}\n\n{dated}The harbour crane number {n} "
                                 "was delivered. " * 30 + "\n")
    bot = make_assistant(releases, corpus="docs")
    store = bot._reader()
    periods = [Filters(since=D(2020, 1, 1)), Filters(until=D(2020, 6, 1)),
               Filters(since=D(2020, 1, 1), until=D(2020, 12, 31), undated=True),
               Filters(since=D(2030, 1, 1)), Filters(until=D(2010, 1, 1), undated=True)]
    arrays = store.catalog.arrays()
    for period in periods:
        by_sql = store.catalog.allowed_by_join(period)
        by_catalog = store.catalog.allowed(period)  # the arrays are at hand: their dates decide
        assert by_sql is not None and by_catalog is not None
        assert len(by_catalog.mask) == arrays.chunk_doc.size  # the catalog's, not the join's
        assert by_catalog.ids.tolist() == by_sql.ids.tolist(), period
        assert by_catalog.mask.rstrip(b"\0") == by_sql.mask.rstrip(b"\0"), period
    assert store.catalog.allowed(periods[0]).ids.size > 0  # type: ignore[union-attr]


def test_a_long_list_shows_the_oldest_rows_in_order(make_assistant: AssistantFactory,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the rows shown are loaded; they are the oldest, titles ordering a shared date."""
    from assistant import listing

    days = ["2020-01-03", "2020-01-01", "2020-01-02", "2020-01-02", "2020-01-05", "2020-01-02"]
    bot = make_assistant({f"r{n}.txt": f"Crane release {'zyxwvu'[n]}\n\nDate: {day}\n\n"
                                       f"The harbour crane number {n} was delivered.\n"
                          for n, day in enumerate(days)}, corpus="docs")
    monkeypatch.setattr(listing, "MAX_ROWS", 3)
    answer = bot.ask("List every release about the harbour crane")
    assert answer.count == 6 and len(answer.citations) == 3
    # 2020-01-01 first, then two of the three dated 2020-01-02, by title: r5 ("u"), r3 ("w").
    assert [c.doc_id for c in answer.citations] == ["r1.txt", "r5.txt", "r3.txt"]
    assert "Showing the first 3" in answer.text
