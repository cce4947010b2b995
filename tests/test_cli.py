"""The CLI: --json shapes scripts rely on, readable errors, and the end-to-end seed question
with the real model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from tests.fakes import FakeEmbedder
from tests.helpers import ROOT

CITATION_KEYS = {"n", "doc_id", "title", "date", "url", "quote", "start", "end", "score"}
HIT_KEYS = {"doc_id", "title", "date", "url", "text", "start", "end", "score"}


class _FakeST(FakeEmbedder):
    def __init__(self, name: str = "", *, batch_size: int = 32) -> None:
        super().__init__()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run the CLI in-process with the fake embedder and an index in tmp_path."""
    monkeypatch.setattr("assistant.embedders.factory.load_embedder", lambda name, **_: _FakeST(name))
    monkeypatch.setenv("PRESS_ASSISTANT_INDEX", str(tmp_path / "index"))
    monkeypatch.delenv("PRESS_ASSISTANT_MODEL", raising=False)
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_index_then_ask_and_search_json(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("index", str(ROOT / "corpus"))
    assert result.exit_code == 0, result.output
    assert "1 added, 0 updated, 0 unchanged, 0 removed, 0 skipped" in result.output
    again = cli("index", str(ROOT / "corpus"))
    assert "0 added, 0 updated, 1 unchanged" in again.output
    assert "0 chunks embedded" in again.output

    ask = cli("ask", "Who attended the Sanya meeting?", "--json")
    assert ask.exit_code == 0
    data = json.loads(ask.stdout)
    assert set(data) == {"question", "answer", "abstained", "searched", "count", "citations",
                         "answer_spans", "unanswered_parts", "confidence", "reason",
                         "generator", "fallback", "dropped"}
    # No language model configured: the extractive answer, and nothing says otherwise.
    assert (data["generator"], data["fallback"], data["dropped"]) == (None, None, [])
    assert data["searched"] is None  # no period named, no filter: the whole archive
    assert data["unanswered_parts"] == []
    # "Who attended": the best sentence names countries, not a person: nothing is marked.
    assert data["answer_spans"] == [] and data["confidence"] is not None

    # The name that answers is marked, inside its quote.
    named = json.loads(cli("ask", "With which Chinese prosecutor did Zhakip Assanov hold "
                           "negotiations?", "--json").stdout)
    quotes = {c["n"]: c for c in named["citations"]}
    assert [s["text"] for s in named["answer_spans"]] == ["Cao Jianming"]
    for span in named["answer_spans"]:
        cited = quotes[span["n"]]
        assert cited["start"] <= span["start"] < span["end"] <= cited["end"]
        assert cited["quote"][span["start"] - cited["start"]:span["end"] - cited["start"]] == span["text"]
    assert data["abstained"] is False and data["citations"]
    for citation in data["citations"]:
        assert set(citation) >= CITATION_KEYS
        assert citation["doc_id"] == "000_f2eabe2890162440.txt"

    search = cli("search", "Sanya prosecutors", "--json", "-k", "2")
    data = json.loads(search.stdout)
    assert set(data) == {"query", "hits"} and 1 <= len(data["hits"]) <= 2
    assert set(data["hits"][0]) >= HIT_KEYS

    info = cli("info", "--json")
    assert json.loads(info.stdout)["documents"] == 1


def test_collection_and_language_options(cli) -> None:  # type: ignore[no-untyped-def]
    cli("index", str(ROOT / "corpus"))
    kept = json.loads(cli("ask", "Who attended the Sanya meeting?", "--json",
                          "--collection", "corpus", "--lang", "en").stdout)
    assert kept["citations"] and kept["searched"] == "all releases in corpus in language en"
    other = cli("ask", "Who attended the Sanya meeting?", "--lang", "ru")
    assert other.exit_code == 1 and "no language 'ru' in the index: choose among en" in other.output
    hits = json.loads(cli("search", "Sanya", "--json", "--collection", "corpus").stdout)["hits"]
    assert hits and all(h["collection"] == "corpus" for h in hits)
    assert "languages:   en" in cli("info").output


def test_human_output_lists_sources(cli) -> None:  # type: ignore[no-untyped-def]
    cli("index", str(ROOT / "corpus"))
    out = cli("ask", "Who attended the Sanya meeting?").output
    assert "Sources:" in out and "[1]" in out and "2016-11-30" in out


def test_a_conversation_file_carries_follow_ups(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("index", str(ROOT / "corpus"))
    talk = tmp_path / "talk.jsonl"
    first = cli("ask", "Who attended the Sanya meeting?", "--history", str(talk), "--json")
    assert first.exit_code == 0 and len(talk.read_text().splitlines()) == 1
    second = cli("ask", "What did they sign?", "--history", str(talk), "--json")
    assert second.exit_code == 0, second.output
    turns = [json.loads(line) for line in talk.read_text().splitlines()]
    assert [t["question"] for t in turns] == ["Who attended the Sanya meeting?", "What did they sign?"]
    talk.write_text("not json\n")
    broken = cli("ask", "What did they sign?", "--history", str(talk))
    assert broken.exit_code == 1 and "talk.jsonl:1" in broken.stderr


def test_chat_keeps_the_conversation(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("index", str(ROOT / "corpus"))
    runner = CliRunner()
    result = runner.invoke(main, ["chat"], input="Who attended the Sanya meeting?\n   \n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Sources:") == 1 and "2016-11-30" in result.output


def test_errors_are_one_line_without_traceback(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (["ask", "anything"], ["search", "anything"], ["info"]):
        result = cli(*args)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: no index at")
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    missing = cli("index", str(tmp_path / "does-not-exist"))
    assert missing.exit_code == 1 and "no such file or folder" in missing.stderr
    bad_field = cli("index", str(ROOT / "corpus"), "--field", "body")
    assert bad_field.exit_code == 1 and "OURS=THEIRS" in bad_field.stderr
    cli("index", str(ROOT / "corpus"))
    empty = cli("ask", "  ")
    assert empty.exit_code == 1 and "empty" in empty.stderr


def test_other_model_is_refused_in_words(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cli("index", str(ROOT / "corpus"))

    class Other(_FakeST):
        name = "other-model"

    monkeypatch.setattr("assistant.embedders.factory.load_embedder", lambda name, **_: Other(name))
    result = cli("ask", "Who attended?", "--model", "other-model")
    assert result.exit_code == 1 and "was built with the embedding model" in result.stderr


@pytest.mark.real_model
def test_sanya_end_to_end_with_the_real_model(tmp_path: Path) -> None:
    """What `make run` promises, through the installed command line."""
    index = tmp_path / "index"
    cmd = [sys.executable, "-m", "assistant"]
    built = subprocess.run([*cmd, "index", "corpus", "--index", str(index)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    again = subprocess.run([*cmd, "index", "corpus", "--index", str(index)], cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert "0 chunks embedded" in again.stdout

    out = subprocess.run([*cmd, "ask", "Who attended the Sanya meeting?", "--json", "--index",
                          str(index)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert not data["abstained"]
    quotes = " ".join(c["quote"] for c in data["citations"])
    assert "The event was attended by" in quotes
    for country in ("China", "Kyrgyzstan", "Russia", "Tajikistan", "Uzbekistan", "Belarus", "Iran",
                    "Mongolia", "Pakistan"):
        assert country in data["answer"]
    text = (ROOT / "corpus" / "000_f2eabe2890162440.txt").read_text(encoding="utf-8")
    for c in data["citations"]:
        assert c["doc_id"] == "000_f2eabe2890162440.txt" and c["date"] == "2016-11-30"
        assert c["quote"] in text

    off = subprocess.run([*cmd, "ask", "What did the central bank decide on interest rates?",
                          "--json", "--index", str(index)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert json.loads(off.stdout)["abstained"] is True


def test_ask_says_why_it_declined(cli) -> None:  # type: ignore[no-untyped-def]
    cli("index", str(ROOT / "corpus"))
    out = cli("ask", "How much did Zorblatt Industries pay the prosecutors in Sanya?")
    assert out.exit_code == 0
    assert "no release that answers" in out.output
    assert "(why: the archive never mentions “Zorblatt”)" in out.output
