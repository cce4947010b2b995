"""The chunker: token limits, offsets, overlap, long sentences, pages."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chunking import chunk_document, split_sentences
from assistant.documents import Document
from tests.fakes import FakeEmbedder

COUNT = FakeEmbedder().count_tokens


def doc(text: str, title: str = "A title", pages: tuple[int, ...] = ()) -> Document:
    return Document(id="d", title=title, text=text, pages=pages)


def test_sentences_are_exact_spans_and_keep_initials_together() -> None:
    text = "During the meeting Zh. Assanov spoke. Mr. Li paid $1.5 million.\n\nA heading\nNext line."
    spans = split_sentences(text)
    sentences = [text[a:b] for a, b in spans]
    assert sentences == ["During the meeting Zh. Assanov spoke.", "Mr. Li paid $1.5 million.",
                         "A heading", "Next line."]


def test_every_chunk_fits_the_window_and_quotes_the_document() -> None:
    sentences = [f"Sentence number {i} talks about topic {i % 7} at some length here." for i in range(200)]
    document = doc(" ".join(sentences), title="The title of a long release")
    chunks = chunk_document(document, count_tokens=COUNT, max_tokens=60, overlap_tokens=15)
    assert len(chunks) > 10
    for chunk in chunks:
        assert document.text[chunk.start:chunk.end] == chunk.text
        assert COUNT([chunk.embedding_text])[0] <= 60 + 1  # +1: the title/passage newline
        assert chunk.title == "The title of a long release"
    # Every sentence is in some chunk, and consecutive chunks overlap.
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(document.text) if not ch.isspace())
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_a_sentence_longer_than_the_window_is_split_not_cut() -> None:
    words = " ".join(f"word{i}" for i in range(500))
    document = doc(words + ". Short one.")
    chunks = chunk_document(document, count_tokens=COUNT, max_tokens=50, overlap_tokens=0)
    assert all(COUNT([c.embedding_text])[0] <= 51 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(f"word{i}" in joined for i in range(500))


def test_pages_are_carried() -> None:
    text = ("First page sentence number one. First page sentence number two. "
            "First page sentence number three.\n\nSecond page sentence.")
    second = text.index("Second")
    chunks = chunk_document(doc(text, title="", pages=(0, second)), count_tokens=COUNT,
                            max_tokens=20, overlap_tokens=0)
    assert chunks[0].page == 1
    assert chunks[-1].page == 2


def test_a_huge_title_cannot_crowd_out_the_text() -> None:
    document = doc("Body sentence here.", title=" ".join(["Long"] * 300))
    chunks = chunk_document(document, count_tokens=COUNT, max_tokens=100, title_tokens=20)
    assert COUNT([chunks[0].title])[0] <= 21
    assert chunks[0].text == "Body sentence here."


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=2000))
def test_any_text_chunks_into_exact_spans(text: str) -> None:
    document = doc(text)
    for chunk in chunk_document(document, count_tokens=COUNT, max_tokens=40, overlap_tokens=10):
        assert document.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text.strip()


@pytest.mark.real_model
def test_real_tokenizer_never_exceeds_the_model_window(real_embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.readers import read_file
    from tests.helpers import ROOT

    document = read_file(ROOT / "corpus" / "000_f2eabe2890162440.txt")[0]
    long_doc = Document(id="x", title=document.title, text=(document.text + "\n\n") * 8)
    chunks = chunk_document(long_doc, count_tokens=real_embedder.count_tokens,
                            max_tokens=real_embedder.max_tokens, overlap_tokens=40)
    lengths = real_embedder.count_tokens([c.embedding_text for c in chunks])
    assert max(lengths) + 2 <= 256  # [CLS] and [SEP] included
    assert all(re.search(r"\w", c.text) for c in chunks)


def test_a_long_paragraph_is_split_in_blocks_with_the_same_sentences() -> None:
    import assistant.chunking as chunking

    sentence = ("Mr. Putin said the talks in St. Petersburg went well. Dr. Ivanova agreed with the "
                "U.S. delegation on 3.5 percent. What was the answer? Nobody knew it exactly! ")
    text = sentence * 120  # about 20,000 characters with no paragraph break
    blocks = chunking._blocks(text, 0)
    assert len(blocks) > 10 and all(text[o:o + len(b)] == b for o, b in blocks)
    whole = chunking._BLOCK_CHARS
    try:
        chunking._BLOCK_CHARS = 10**9
        reference = split_sentences(text)
    finally:
        chunking._BLOCK_CHARS = whole
    assert split_sentences(text) == reference
