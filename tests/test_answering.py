"""Extractive answers: verbatim quotes, citations, abstention; the public API's shape."""

from __future__ import annotations

import subprocess
import sys

import pytest

import assistant
from assistant import Answer, Assistant, Citation, Hit, QueryError
from assistant.answering import is_verbatim
from tests.helpers import ROOT, AssistantFactory


@pytest.fixture
def seed_bot(make_assistant: AssistantFactory) -> Assistant:
    return make_assistant([ROOT / "corpus"])


def test_every_quote_is_verbatim_text_of_its_release(seed_bot: Assistant) -> None:
    answer = seed_bot.ask("Who attended the Sanya meeting?")
    assert not answer.abstained and answer.citations
    for citation in answer.citations:
        document = seed_bot.document(citation.doc_id)
        assert document is not None
        assert document.text[citation.start:citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.text
        assert citation.date is not None and citation.date.isoformat() == "2016-11-30"


def test_is_verbatim_rejects_altered_quotes(seed_bot: Assistant) -> None:
    document = seed_bot.document("000_f2eabe2890162440.txt")
    assert document is not None
    start = document.text.index("The event was attended")
    end = start + 40
    assert is_verbatim(document, document.text[start:end], start, end)
    assert not is_verbatim(document, document.text[start:end].upper(), start, end)
    assert not is_verbatim(document, document.text[start:end], start + 1, end + 1)
    assert not is_verbatim(document, "", 0, 0)


def test_off_topic_question_abstains(seed_bot: Assistant) -> None:
    answer = seed_bot.ask("What was the score of yesterday's football final?")
    assert answer.abstained
    assert answer.text == "The archive has no release that answers this."
    assert answer.citations == ()


def test_empty_question_is_a_typed_error(seed_bot: Assistant) -> None:
    with pytest.raises(QueryError):
        seed_bot.ask("   ")


def test_public_api_is_small_and_pinned() -> None:
    assert set(assistant.__all__) >= {"Assistant", "Answer", "Citation", "Hit", "Document",
                                      "Settings", "IndexReport", "AssistantError"}
    for cls in (Answer, Citation, Hit):
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_import_is_light() -> None:
    code = ("import sys, assistant; heavy = {'torch', 'faiss', 'gradio', 'pypdf', "
            "'sentence_transformers', 'trafilatura'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
