"""The HTTP JSON API: every endpoint, its errors (4xx with a JSON message, never a 500 for a
bad request) and its credentials, over a small index built with the fake embedder."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant import Assistant
from assistant.api import MAX_BODY, build_api
from assistant.uploads import Uploader
from tests.fakes import FakeEmbedder
from tests.helpers import HARBOUR, SANYA, AssistantFactory, write_files


@pytest.fixture(scope="module")
def bot(make_module_assistant: AssistantFactory) -> Assistant:
    return make_module_assistant({"sanya.txt": SANYA, "harbour.txt": HARBOUR}, corpus="docs")


@pytest.fixture(scope="module")
def client(bot: Assistant) -> TestClient:
    # raise_server_exceptions off: the client sees what a real one would, a 500 included.
    return TestClient(build_api(bot), raise_server_exceptions=False)


def test_ask_answers_with_verbatim_citations(client: TestClient, bot: Assistant) -> None:
    reply = client.post("/api/ask", json={"question": "Who attended the Sanya meeting?"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert not body["abstained"] and "supervisory authorities" in body["answer"]
    first = body["citations"][0]
    assert first["date"] == "2016-11-30" and "Sanya" in first["title"]
    doc = bot.document(first["doc_id"])
    assert doc is not None and doc.text[first["start"]:first["end"]] == first["quote"]


def test_ask_has_the_shape_of_the_cli_json(client: TestClient, bot: Assistant) -> None:
    question = "Who attended the Sanya meeting?"
    body = client.post("/api/ask", json={"question": question}).json()
    assert body == bot.ask(question).to_json()


def test_ask_applies_date_filters_and_says_so(client: TestClient) -> None:
    reply = client.post("/api/ask", json={"question": "Who attended the Sanya meeting?",
                                          "filters": {"since": "2019-01-01"}})
    body = reply.json()
    assert reply.status_code == 200
    assert all(c["date"] >= "2019-01-01" for c in body["citations"])
    assert body["searched"] == "releases from 2019-01-01 on"


def test_ask_takes_the_conversation(client: TestClient) -> None:
    first = client.post("/api/ask", json={"question": "Who attended the Sanya meeting?"}).json()
    cited = [c["doc_id"] for c in first["citations"]]
    reply = client.post("/api/ask", json={
        "question": "What else was discussed there?",
        "history": [{"question": first["question"], "cited": cited}]})
    assert reply.status_code == 200
    assert reply.json()["citations"][0]["doc_id"] in cited


def test_search_ranks_passages(client: TestClient) -> None:
    reply = client.post("/api/search", json={"query": "harbour crane", "k": 2})
    assert reply.status_code == 200
    hits = reply.json()["hits"]
    assert 1 <= len(hits) <= 2 and "crane" in hits[0]["text"]
    assert hits[0]["date"] == "2019-05-12" and hits[0]["score"] >= hits[-1]["score"]


def test_documents_lists_and_filters(client: TestClient) -> None:
    body = client.get("/api/documents").json()
    assert body["total"] == 2 and {d["date"] for d in body["documents"]} == {"2016-11-30", "2019-05-12"}
    assert body["documents"][0]["date"] == "2019-05-12"  # newest first
    found = client.get("/api/documents", params={"contains": "SANYA"}).json()
    assert found["total"] == 1 and "Sanya" in found["documents"][0]["title"]
    # A user's % is a character, not a wildcard.
    assert client.get("/api/documents", params={"contains": "%"}).json()["total"] == 0
    page = client.get("/api/documents", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and len(page["documents"]) == 1


def test_health_reports_the_index(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["documents"] == 2 and body["chunks"] >= 2
    assert body["model"] == FakeEmbedder.name


def test_openapi_describes_every_endpoint(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/search", "/api/documents", "/api/health"} <= set(paths)


@pytest.mark.parametrize(("method", "path", "payload", "status", "says"), [
    ("post", "/api/ask", {}, 422, "question: Field required"),
    ("post", "/api/ask", {"question": ""}, 422, "question"),
    ("post", "/api/ask", {"question": "   "}, 400, "empty"),
    ("post", "/api/ask", {"question": "x", "filters": {"colour": "red"}}, 422, "filters.colour"),
    ("post", "/api/ask", {"question": "x", "filters": {"since": "yesterday"}}, 422, "filters.since"),
    ("post", "/api/ask", {"question": "x", "k": 0}, 422, "k"),
    ("post", "/api/ask", {"question": "x", "history": [{"cited": []}]}, 422, "history.0.question"),
    ("post", "/api/search", {"query": "x", "extra": 1}, 422, "extra"),
    ("get", "/api/documents?limit=0", None, 422, "limit"),
    ("get", "/api/nowhere", None, 404, "Not Found"),
    ("get", "/api/ask", None, 405, "Method Not Allowed"),
])
def test_bad_requests_get_a_json_error(client: TestClient, method: str, path: str,
                                       payload: object, status: int, says: str) -> None:
    reply = client.request(method, path, json=payload)
    assert reply.status_code == status, reply.text
    assert says in reply.json()["error"]


def test_a_question_outside_its_own_filter_is_a_bad_request(client: TestClient) -> None:
    reply = client.post("/api/ask", json={"question": "What happened in March 2016?",
                                          "filters": {"since": "2019-01-01"}})
    assert reply.status_code == 400 and "widen or clear the filter" in reply.json()["error"]


def test_malformed_json_and_oversized_bodies_are_refused(client: TestClient) -> None:
    reply = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert reply.status_code == 422 and "error" in reply.json()
    big = b'{"question": "' + b"a" * (MAX_BODY + 1) + b'"}'
    reply = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
    assert reply.status_code == 413 and "limit" in reply.json()["error"]


def test_a_missing_index_answers_503(make_assistant: AssistantFactory) -> None:
    bot = make_assistant()  # nothing indexed: no index on disk
    client = TestClient(build_api(bot), raise_server_exceptions=False)
    reply = client.get("/api/health")
    assert reply.status_code == 503 and "press-assistant index" in reply.json()["error"]


def test_credentials_guard_every_endpoint(bot: Assistant) -> None:
    client = TestClient(build_api(bot, auth=("editor", "s3cret")), raise_server_exceptions=False)
    for method, path, payload in (("get", "/api/health", None), ("get", "/api/documents", None),
                                  ("post", "/api/ask", {"question": "Sanya?"}),
                                  ("post", "/api/search", {"query": "Sanya"})):
        refused = client.request(method, path, json=payload)
        assert refused.status_code == 401 and "credentials" in refused.json()["error"]
        assert refused.headers["www-authenticate"].startswith("Basic")
        wrong = client.request(method, path, json=payload, auth=("editor", "guess"))
        assert wrong.status_code == 401
        token = base64.b64encode(b"editor:s3cret").decode()
        ok = client.request(method, path, json=payload, headers={"Authorization": f"Basic {token}"})
        assert ok.status_code == 200, (path, ok.text)


@pytest.fixture(scope="module")
def mixed(make_module_assistant: AssistantFactory) -> TestClient:
    """The same news in two collections and two languages."""
    root = write_files(make_module_assistant.root / "mixed", {
        "harbour/crane.txt": HARBOUR,
        "port.jsonl": '{"id": "port-1", "title": "Новый кран в порту", "date": "2020-01-02", '
                      '"text": "Новый портовый кран поднимает сорок тонн. Harbour crane: forty '
                      'tonnes."}\n'})
    bot = make_module_assistant([root / "harbour", root / "port.jsonl"], index="mixed/idx")
    return TestClient(build_api(bot), raise_server_exceptions=False)


def test_collection_and_language_filters(mixed: TestClient) -> None:
    health = mixed.get("/api/health").json()
    assert health["collections"] == ["harbour", "port.jsonl"] and health["languages"] == ["en", "ru"]
    every = mixed.post("/api/search", json={"query": "harbour crane forty tonnes"}).json()["hits"]
    assert {h["collection"] for h in every} == {"harbour", "port.jsonl"}
    for filters, kept in (({"collections": ["port.jsonl"]}, {"port.jsonl"}),
                          ({"languages": ["en"]}, {"harbour"}),
                          ({"collections": ["harbour", "port.jsonl"], "languages": ["ru"]},
                           {"port.jsonl"})):
        hits = mixed.post("/api/search", json={"query": "harbour crane forty tonnes",
                                               "filters": filters}).json()["hits"]
        assert hits and {h["collection"] for h in hits} == kept, filters
        body = mixed.post("/api/ask", json={"question": "How much does the harbour crane lift?",
                                            "filters": filters}).json()
        assert {c["doc_id"] for c in body["citations"]} <= {
            "port-1" if kept == {"port.jsonl"} else "crane.txt"}
        assert body["searched"].startswith("all releases in ")


def test_an_unknown_collection_is_a_bad_request_naming_the_known_ones(mixed: TestClient) -> None:
    reply = mixed.post("/api/ask", json={"question": "crane?", "filters": {"collections": ["nope"]}})
    assert reply.status_code == 400
    assert "'nope'" in reply.json()["error"] and "harbour, port.jsonl" in reply.json()["error"]


@pytest.fixture
def with_uploads(make_assistant: AssistantFactory) -> Iterator[tuple[TestClient, Uploader]]:
    bot = make_assistant({"sanya.txt": SANYA})
    uploader = Uploader(bot, make_assistant.root / "corpus")
    yield TestClient(build_api(bot, uploader=uploader), raise_server_exceptions=False), uploader
    uploader.wait(timeout=60)


def test_upload_index_ask_and_remove(with_uploads: tuple[TestClient, Uploader]) -> None:
    client, uploader = with_uploads
    reply = client.post("/api/documents",
                        files=[("files", ("../crane release.txt", HARBOUR.encode(), "text/plain"))])
    assert reply.status_code == 202, reply.text
    assert reply.json() == {"saved": ["crane_release.txt"], "indexing": True}
    uploader.wait(timeout=60)
    status = client.get("/api/uploads").json()
    assert not status["running"] and status["stage"] == "done" and "1 added" in status["message"]
    answer = client.post("/api/ask", json={"question": "How much does the harbour crane lift?"}).json()
    assert answer["citations"][0]["doc_id"] == "uploads/crane_release.txt"

    removed = client.delete("/api/documents/uploads/crane_release.txt")
    assert removed.status_code == 200 and removed.json()["file_deleted"] is True
    assert not (uploader.folder / "crane_release.txt").exists()
    kept = client.delete("/api/documents/sanya.txt")  # not an upload: out of the index only
    assert kept.json()["removed"] == "sanya.txt" and kept.json()["file_deleted"] is False
    assert "comes back when its folder is indexed again" in kept.json()["note"]
    assert (uploader.corpus / "sanya.txt").is_file()
    assert client.delete("/api/documents/sanya.txt").status_code == 404


def test_bad_uploads_get_a_json_error(with_uploads: tuple[TestClient, Uploader],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    client, uploader = with_uploads
    refused = client.post("/api/documents", files=[("files", ("tool.exe", b"MZ", "application/x"))])
    assert refused.status_code == 415 and ".exe files cannot be indexed" in refused.json()["error"]
    monkeypatch.setattr("assistant.api.MAX_UPLOAD_BYTES", 10)
    big = client.post("/api/documents", files=[("files", ("big.txt", b"x" * 100, "text/plain"))])
    assert big.status_code == 413 and "limit" in big.json()["error"]
    none = client.post("/api/documents")
    assert none.status_code == 422 and "files" in none.json()["error"]
    assert not uploader.folder.exists() or not any(uploader.folder.iterdir())  # nothing saved


def test_uploads_can_be_off(client: TestClient) -> None:
    reply = client.post("/api/documents", files=[("files", ("a.txt", b"text", "text/plain"))])
    assert reply.status_code == 403 and "uploads are off" in reply.json()["error"]
