"""Releases in a language the embedding model cannot read (Sinhala for an English model) are
not embedded: their chunks get zero vectors, no dense search ranks them, keywords still find
them, and the model's time goes to the releases it reads (issue 20)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assistant.index_store import Store
from assistant.indexing import model_reads
from tests.conftest import FakeEmbedder
from tests.helpers import AssistantFactory

ENGLISH = "Budget talks\n\nThe minister met the budget committee on Monday to discuss roads."
# Sinhala words written for this test (not from any archive): "the budget committee met".
SINHALA = "අයවැය කමිටුව\n\nඅයවැය කමිටුව සඳුදා රැස් විය. අයවැය සාකච්ඡා කෙරිණි."


class EnglishOnly(FakeEmbedder):
    """The fake model, declared English-only, remembering what it was given."""

    languages = frozenset({"en"})

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


def test_which_languages_a_model_reads() -> None:
    english = frozenset({"en"})
    assert model_reads(english, "en")
    assert model_reads(english, "es")  # Latin script: shares pieces and names with English
    assert not model_reads(english, "si")
    assert not model_reads(english, "ru")
    assert model_reads(None, "si") and model_reads(english, None)
    # A language whose script is not known here is judged by the text's letters.
    assert model_reads(english, "pcm", "Politics: the leaders met in the capital.")
    assert not model_reads(english, "xx", "අයවැය කමිටුව සඳුදා රැස් විය.")


def test_unread_releases_are_not_embedded_and_found_by_keywords(
        make_assistant: AssistantFactory) -> None:
    embedder = EnglishOnly()
    bot = make_assistant({"en.txt": ENGLISH, "si.txt": SINHALA}, embedder=embedder)
    assert embedder.texts and not any("අයවැය" in t for t in embedder.texts)
    bot.close()
    store = Store.open(bot.settings.index_dir)
    try:
        ids = store.document_hashes()
        english_id = next(d for d in ids if d.endswith("en.txt"))
        sinhala_id = next(d for d in ids if d.endswith("si.txt"))
        # The dense side ranks the English release alone, whatever the question.
        ranked = store.dense_search(EnglishOnly().embed(["budget committee"])[0], limit=10)
        kept = [i for i, score in ranked if score > 0.01]
        assert {c.doc_id for c in store.chunks(kept).values()} == {english_id}
        assert all(score <= 0.01 for i, score in ranked if i not in kept)
    finally:
        store.close()
    # Keywords find the Sinhala release.
    reopened = make_assistant(index=bot.settings.index_dir, embedder=EnglishOnly())
    assert [h.doc_id for h in reopened.search("අයවැය කමිටුව", k=3)][:1] == [sinhala_id]
    # Asked in Sinhala, the English model's cosine says nothing (the releases have no vectors):
    # the judge weighs the share of the question's words a sentence holds in its place, as the
    # sentence scores do, not a similarity of zero that declines every such question.
    answer = reopened.ask("අයවැය කමිටුව රැස් වූයේ කවදාද?")
    assert answer.evidence is not None and answer.evidence.dense == 0.0
    assert answer.evidence.similarity == pytest.approx(answer.evidence.words)
    assert answer.evidence.similarity > 0 and answer.evidence.top_similarity > 0
