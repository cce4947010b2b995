"""Answers written by a language model (issue 18), end to end through the Assistant, the CLI
and the HTTP API: against a scripted OpenAI-compatible server that misbehaves on purpose,
and against the real one (SmolLM2 on xllamacpp, tests/llm_servers.py)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from assistant import Answer, Assistant, Settings
from assistant.api import build_api
from assistant.cli import main
from assistant.composing import DECLINED_FALLBACK, LIST_FALLBACK
from tests.fakes import FakeEmbedder
from tests.helpers import HARBOUR, ROOT, AssistantFactory
from tests.llm_servers import RealLLM, Reply, ScriptedLLM, refused_url

QUESTION = "Who attended the Sanya meeting?"


def _bot(make_assistant: AssistantFactory, url: str, **settings: object) -> Assistant:
    # The scripted model's replies cite the passages the seed release was cut into when they
    # were written (chunks of 200 with an overlap of 40, the plan before issue 20): the
    # check is what these tests are about, not the chunk plan.
    base = Settings(llm_url=url, llm_model=settings.pop("llm_model", None),  # type: ignore[arg-type]
                    llm_timeout=settings.pop("llm_timeout", 20.0),  # type: ignore[arg-type]
                    chunk_tokens=200, overlap_tokens=40)
    return make_assistant([ROOT / "corpus", *_harbour(make_assistant)],
                          settings=base.with_(**settings))  # type: ignore[arg-type]


def _extractive(bot: Assistant) -> Answer:
    """What the same index answers without a language model."""
    plain = Assistant.open(bot.settings.index_dir, settings=bot.settings.with_(llm_url=None),
                           embedder=bot.embedder)
    try:
        return plain.ask(QUESTION)
    finally:
        plain.close()


def _harbour(make_assistant: AssistantFactory) -> list[Path]:
    """A second release beside the seed: material for a sentence "from another release"."""
    folder = make_assistant.root / "other"
    folder.mkdir(exist_ok=True)
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    return [folder]


def _passage_of(request_prompt: str, words: str) -> int:
    """The number the prompt gave the passage holding ``words``."""
    number = None
    for line in request_prompt.splitlines():
        if line.startswith("[") and "]" in line[:5]:
            number = int(line[1:line.index("]")])
        if words in line and number is not None:
            return number
    raise AssertionError(f"{words!r} is in no passage of the prompt")


def _assert_checked(answer: Answer, bot: Assistant) -> None:
    """What every written answer must be: each [n] a citation, each quote verbatim."""
    assert answer.generator and not answer.abstained and answer.fallback is None
    for citation in answer.citations:
        doc = bot.document(citation.doc_id)
        assert doc is not None and doc.text[citation.start:citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.text


# -- the scripted server ---------------------------------------------------------------------


def test_a_supported_answer_is_shown_with_verbatim_quotes(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.script(Reply("Zhakip Assanov participated in the 14th session of general "
                              "prosecutors in Sanya [1]. He held negotiations with Cao Jianming [1]."))
    bot = _bot(make_assistant, scripted_llm.url)
    answer = bot.ask(QUESTION)
    _assert_checked(answer, bot)
    assert answer.generator == "scripted-model" and answer.dropped == ()
    assert "Cao Jianming" in answer.text and "[1]" in answer.text
    assert any("Cao Jianming" in c.quote for c in answer.citations)
    prompt = scripted_llm.chat_requests[0].prompt
    assert QUESTION in prompt and "[1]" in prompt and "Sanya" in prompt
    assert json.loads(json.dumps(answer.to_json()))["generator"] == "scripted-model"


def test_the_draft_streams_before_the_checked_answer(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.script(Reply("Zhakip Assanov held negotiations with Cao Jianming [1]."))
    bot = _bot(make_assistant, scripted_llm.url)
    events = list(bot.ask_stream(QUESTION))
    drafts = [e for e in events if isinstance(e, str)]
    assert len(drafts) > 3 and "".join(drafts).startswith("Zhakip Assanov held")
    assert isinstance(events[-1], Answer) and events[-1].generator == "scripted-model"
    assert all(isinstance(e, str) for e in events[:-1])


def test_an_invented_number_is_dropped_and_the_rest_kept(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.script(Reply("The meeting was the 15th session of general prosecutors [1]. "
                              "Zhakip Assanov held negotiations with Cao Jianming [1]."))
    bot = _bot(make_assistant, scripted_llm.url)
    answer = bot.ask(QUESTION)
    _assert_checked(answer, bot)
    assert "15th" not in answer.text and "Cao Jianming" in answer.text
    assert [d.sentence for d in answer.dropped] == [
        "The meeting was the 15th session of general prosecutors [1]."]
    assert "15" in answer.dropped[0].reason


def test_a_citation_out_of_range_is_dropped(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.script(Reply("Zhakip Assanov held negotiations with Cao Jianming [9]. "
                              "The prosecutors signed a Protocol [1]."))
    bot = _bot(make_assistant, scripted_llm.url)
    answer = bot.ask(QUESTION)
    _assert_checked(answer, bot)
    assert "Protocol" in answer.text and "Cao Jianming" not in answer.text
    assert len(answer.dropped) == 1 and "[9]" in answer.dropped[0].reason


def test_no_citation_at_all_falls_back_to_the_quotes(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.script(Reply("Heads of the SCO supervisory authorities attended. "
                              "They discussed terrorism."))
    bot = _bot(make_assistant, scripted_llm.url)
    extractive = _extractive(bot)
    answer = bot.ask(QUESTION)
    assert answer.generator is None and answer.text == extractive.text
    assert answer.fallback == "none of the model's 2 sentences passed the check"
    assert len(answer.dropped) == 2 and all("citation" in d.reason for d in answer.dropped)


def test_a_sentence_from_another_release_is_dropped(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    bot = _bot(make_assistant, scripted_llm.url)

    def reply(request: object) -> Reply:
        prompt = request.prompt  # type: ignore[attr-defined]
        sanya = _passage_of(prompt, "Cao Jianming")
        return Reply(f"The new harbour crane lifts forty tonnes [{sanya}]. "
                     f"Zhakip Assanov held negotiations with Cao Jianming [{sanya}].")

    scripted_llm.script(reply)
    answer = bot.ask(QUESTION)
    _assert_checked(answer, bot)
    assert "crane" not in answer.text
    assert [d.sentence.split(" [")[0] for d in answer.dropped] == [
        "The new harbour crane lifts forty tonnes"]


@pytest.mark.parametrize(("reply", "reason"), [
    (Reply.error(500), "500"),
    (Reply.malformed(), "malformed"),
    (Reply(""), "empty"),
    (Reply("The passages do not answer this question."), "found no answer"),
], ids=["http-500", "malformed-json", "empty", "says-no-answer"])
def test_a_failing_server_gives_the_extractive_answer_with_the_reason(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM, reply: Reply,
        reason: str) -> None:
    scripted_llm.script(reply, reply, reply)  # retries get the same
    bot = _bot(make_assistant, scripted_llm.url)
    answer = bot.ask(QUESTION)
    assert answer.generator is None and not answer.abstained and answer.citations
    assert answer.fallback is not None and reason in answer.fallback.lower(), answer.fallback
    assert answer.text == _extractive(bot).text


def test_a_server_that_stalls_past_the_timeout_falls_back_in_time(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    scripted_llm.script(*[Reply.stalled(30, after=2)] * 3)
    bot = _bot(make_assistant, scripted_llm.url, llm_timeout=2.0)
    _extractive(bot)  # warm: the timing is the model's alone
    started = time.monotonic()
    answer = bot.ask(QUESTION)
    assert time.monotonic() - started < 8
    assert answer.generator is None and answer.fallback and "time" in answer.fallback


def test_a_refused_connection_falls_back(make_assistant: AssistantFactory) -> None:
    url = refused_url()
    answer = _bot(make_assistant, url, llm_model="any").ask(QUESTION)
    assert answer.generator is None and answer.citations
    assert answer.fallback and "127.0.0.1" in answer.fallback


def test_the_key_goes_to_the_server_and_nowhere_else(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM,
        caplog: pytest.LogCaptureFixture) -> None:
    from assistant.web.formatting import format_answer

    caplog.set_level(logging.DEBUG)  # the openai and httpx loggers included
    key = "sk-test-very-secret-4711"
    scripted_llm.script(Reply.error(500), Reply.error(500), Reply.error(500),
                        Reply("Zhakip Assanov held negotiations with Cao Jianming [1]."))
    bot = _bot(make_assistant, scripted_llm.url, llm_key=key)
    failed, written = bot.ask(QUESTION), bot.ask(QUESTION)
    assert written.generator == "scripted-model" and failed.fallback
    assert {r.authorization for r in scripted_llm.chat_requests} == {f"Bearer {key}"}
    for answer in (failed, written):
        assert key not in json.dumps(answer.to_json()) and key not in format_answer(answer)
    assert key not in repr(bot.settings) and key not in caplog.text
    assert caplog.records  # the failure was logged (without the key)


def test_follow_ups_pass_the_conversation(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    from assistant import Turn

    scripted_llm.script(Reply("Zhakip Assanov took part in the session in Sanya [1]."),
                        Reply("He held negotiations with Cao Jianming [1]."))
    bot = _bot(make_assistant, scripted_llm.url)
    first = bot.ask(QUESTION)
    second = bot.ask("With whom did he hold negotiations?", history=[Turn.of(first)])
    messages = scripted_llm.chat_requests[1].messages
    assert any(m["role"] == "user" and QUESTION in m["content"] for m in messages[:-1])
    assert any(m["role"] == "assistant" and "Sanya" in m["content"] for m in messages[:-1])
    assert second.generator == "scripted-model" and "Cao Jianming" in second.text


def test_lists_and_declines_never_ask_the_model(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    bot = _bot(make_assistant, scripted_llm.url)
    listed = bot.ask("List all releases about the harbour crane.")
    declined = bot.ask("What did the Mars rover find under the ice of Europa?")
    assert listed.fallback == LIST_FALLBACK and listed.count is not None
    assert declined.abstained and declined.fallback == DECLINED_FALLBACK
    assert scripted_llm.chat_requests == []


def test_the_cli_and_the_http_api_carry_what_the_answer_says_of_itself(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM,
        monkeypatch: pytest.MonkeyPatch) -> None:
    scripted_llm.script(Reply("The meeting was the 15th session [1]. "
                              "Zhakip Assanov held negotiations with Cao Jianming [1]."),
                        Reply("Zhakip Assanov held negotiations with Cao Jianming [1]."))
    bot = _bot(make_assistant, scripted_llm.url)
    client = TestClient(build_api(bot), raise_server_exceptions=False)
    data = client.post("/api/ask", json={"question": QUESTION}).json()
    assert data["generator"] == "scripted-model" and data["fallback"] is None
    assert data["dropped"][0]["sentence"].startswith("The meeting was the 15th")
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        body = "".join(reply.iter_text())
    events = [block.split("\n", 1) for block in body.strip().split("\n\n")]
    kinds = [kind.removeprefix("event: ") for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"delta"} and len(kinds) > 3
    final = json.loads(events[-1][1].removeprefix("data: "))
    assert final["generator"] == "scripted-model" and "Cao Jianming" in final["answer"]
    bad = client.post("/api/ask/stream", json={"question": " "})
    assert bad.status_code == 400 and "error" in bad.json()


def test_model_text_reaches_the_page_as_text(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM) -> None:
    """A model can be made to write markup (a release that says "write <script>…"): the draft
    and the checked answer are shown as text, links and tags included."""
    from assistant.web.formatting import format_answer, format_draft

    hostile = ('Zhakip Assanov held negotiations with Cao Jianming <img src=x onerror=alert(1)> '
               '[click](javascript:alert(1)) **loud** [1].')
    draft = format_draft(hostile)
    assert "<img" not in draft and "](javascript" not in draft and "**loud**" not in draft
    scripted_llm.script(Reply(hostile))
    bot = _bot(make_assistant, scripted_llm.url)
    answer = bot.ask(QUESTION)
    shown = format_answer(answer, turn=2)
    assert "<img" not in shown and "](javascript" not in shown and "**loud**" not in shown
    if answer.generator:  # kept: its own marker is the one link
        assert "[**\\[1\\]**](#src-2-1)" in shown


def test_an_error_mid_stream_ends_the_events_with_an_error(
        make_assistant: AssistantFactory, scripted_llm: ScriptedLLM,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import AssistantError

    bot = _bot(make_assistant, scripted_llm.url)

    def breaking(*_: object, **__: object) -> object:
        yield "A first piece"
        raise AssistantError("the index went away: open it again")

    def buggy(*_: object, **__: object) -> object:
        yield "A first piece"
        raise RuntimeError("secret internals")

    client = TestClient(build_api(bot), raise_server_exceptions=False)
    for stream, said in ((breaking, "the index went away"), (buggy, "something went wrong")):
        monkeypatch.setattr(bot, "ask_stream", stream)
        body = client.post("/api/ask/stream", json={"question": QUESTION}).text
        blocks = body.strip().split("\n\n")
        assert blocks[0].startswith("event: delta") and blocks[-1].startswith("event: error")
        assert said in blocks[-1] and "secret internals" not in body


# -- the real server (SmolLM2-135M-Instruct on xllamacpp) -------------------------------------
# A 135M model is no judge of wisdom: these check the protocol and the check, not the answer.


@pytest.fixture(scope="module")
def real_bot(make_module_assistant: AssistantFactory, real_llm: RealLLM) -> Assistant:
    return make_module_assistant([ROOT / "corpus"], settings=Settings(
        llm_url=real_llm.url, llm_model=real_llm.model, llm_timeout=120.0))


CHECK_REASONS = ("no citation", "cites [", "is not in [", "does not support",
                 "a list of sources", "no words", "cannot check a sentence")


def _written_or_fallback(answer: Answer, bot: Assistant) -> None:
    """A real model's answer: checked sentences, or the quotes with the reason — and when the
    reason is the check, every sentence it wrote is listed as dropped by the check."""
    if answer.generator is not None:
        _assert_checked(answer, bot)
        return
    assert answer.fallback and answer.citations, answer  # the quotes, and why
    if answer.fallback.startswith("none of the model's"):
        assert answer.dropped and all(any(r in d.reason for r in CHECK_REASONS)
                                      for d in answer.dropped), answer.dropped
    else:
        assert answer.fallback == "the language model found no answer in the passages", answer


def test_the_python_api_streams_from_the_real_model(real_bot: Assistant) -> None:
    events = list(real_bot.ask_stream(QUESTION))
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert len([e for e in events if isinstance(e, str)]) > 1  # tokens arrived one by one
    _written_or_fallback(answer, real_bot)


def test_the_cli_asks_the_real_model(real_bot: Assistant, real_llm: RealLLM,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.embedders.factory.load_embedder",
                        lambda name, **_: FakeEmbedder())
    result = CliRunner().invoke(main, [
        "ask", QUESTION, "--json", "--index", str(real_bot.settings.index_dir),
        "--llm", real_llm.url, "--llm-model", real_llm.model], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["generator"] == real_llm.model or (
        data["fallback"] and "failed" not in data["fallback"]), data


def test_the_http_api_streams_from_the_real_model(real_bot: Assistant) -> None:
    client = TestClient(build_api(real_bot), raise_server_exceptions=False)
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as reply:
        body = "".join(reply.iter_text())
    kinds = [block.split("\n", 1)[0] for block in body.strip().split("\n\n")]
    assert kinds.count("event: delta") > 1 and kinds[-1] == "event: answer"
