"""What a probe of the server tried through the JSON API, uploads and ``/source``, each as an
attack that now fails: files served or deleted because a record named them, uploads past
every limit, requests that answered 500, and the API's description served to anyone with a
docs page loading scripts from a CDN.

Over small indexes built with the fake embedder; limits are made small to keep tests light.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import Assistant, QuotaExceeded
from assistant.api import build_api
from assistant.uploads import MAX_NAME_BYTES, UPLOADS, Uploader, safe_name, save_upload
from tests.helpers import HARBOUR, AssistantFactory

SECRET = "OPENAI_API_KEY=sk-do-not-leak-0123456789"
FERRY = "Aktau ferry terminal reopened\n\n3 March 2021\n\nFerries to Baku leave twice a day.\n"
CREDENTIALS = ("editor", "s3cret")


@dataclass
class Server:
    client: TestClient
    uploader: Uploader
    bot: Assistant
    corpus: Path

    @property
    def uploads(self) -> Path:
        return self.uploader.folder

    def on_disk(self) -> set[str]:
        """Every name under the uploads folder, hidden ones included."""
        return {p.name for p in self.uploads.rglob("*")} if self.uploads.exists() else set()


def _record(doc_id: str, title: str, url: str) -> str:
    return json.dumps({"id": doc_id, "title": title, "date": "2021-03-04", "url": url,
                       "text": f"{title}. The terminal handled ferries to Baku and Turkmenbashi."})


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           make_assistant: AssistantFactory) -> Iterator[Server]:
    """A corpus folder with a secret the indexer never reads (``.env``, hidden), a release,
    an uploaded release (``victim.txt``) and an uploaded export whose records name, as
    relative paths from the server's working folder, the secret and the other upload."""
    monkeypatch.chdir(tmp_path)  # "corpus/.env" below is relative, as in the probe
    corpus = tmp_path / "corpus"
    bot = make_assistant({
        ".env": SECRET + "\n",
        "harbour.txt": HARBOUR,
        f"{UPLOADS}/victim.txt": FERRY,
        f"{UPLOADS}/export.jsonl": _record("leak", "Leak", "corpus/.env") + "\n"
        + _record("grab", "Grab", f"corpus/{UPLOADS}/victim.txt") + "\n",
    }, corpus=corpus)
    assert {"leak", "grab", "harbour.txt", "uploads/victim.txt"} <= set(bot.documents())
    uploader = Uploader(bot, corpus)
    client = TestClient(build_api(bot, uploader=uploader), raise_server_exceptions=False)
    yield Server(client, uploader, bot, corpus)
    uploader.wait(timeout=60)


def _chunked_upload(client: TestClient, files: list[tuple[str, bytes]]) -> httpx.Response:
    """POST /api/documents as a streamed (chunked) body: no Content-Length for a gate to
    read, so only counting the bytes can stop it."""
    request = httpx.Request("POST", "http://testserver/api/documents",
                            files=[("files", (name, data, "text/plain")) for name, data in files])
    body = request.read()
    return client.post("/api/documents", content=iter([body[i:i + 4096]
                                                       for i in range(0, len(body), 4096)]),
                       headers={"content-type": request.headers["content-type"]})


# --------------------------------------------------------------------------- /source


def test_a_record_naming_a_hidden_file_cannot_serve_it(server: Server) -> None:
    leak = server.client.get("/source/leak")
    assert leak.status_code == 404, leak.text
    assert "sk-do-not-leak" not in leak.text
    assert "/api/documents/leak" in leak.json()["error"]  # where its text is instead
    # A file the indexer read one document from is still served, with the safe headers.
    served = server.client.get("/source/harbour.txt")
    assert served.status_code == 200 and "harbour crane lifts forty tonnes" in served.text
    assert served.headers["content-security-policy"] == "sandbox"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-type"].startswith("text/plain")


def test_an_export_is_not_served_as_one_of_its_records(server: Server) -> None:
    reply = server.client.get("/source/grab")
    assert reply.status_code == 404 and "Leak" not in reply.text


def test_a_link_swapped_in_for_an_indexed_file_is_not_followed(server: Server) -> None:
    harbour = server.corpus / "harbour.txt"
    harbour.unlink()
    harbour.symlink_to(server.corpus / ".env")
    reply = server.client.get("/source/harbour.txt")
    assert reply.status_code == 404 and "sk-do-not-leak" not in reply.text


# --------------------------------------------------------------------------- deleting


def test_removing_a_record_naming_another_upload_deletes_no_file(server: Server) -> None:
    reply = server.client.delete("/api/documents/grab")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["removed"] == "grab" and body["file_deleted"] is False
    assert "no file was deleted" in body["note"]
    assert server.bot.document("grab") is None
    # Neither the upload the record named nor the export holding it is touched.
    assert (server.uploads / "victim.txt").read_text(encoding="utf-8") == FERRY
    assert (server.uploads / "export.jsonl").is_file()

    # An upload holding one document goes with it.
    reply = server.client.delete("/api/documents/uploads/victim.txt")
    assert reply.status_code == 200 and reply.json()["file_deleted"] is True
    assert not (server.uploads / "victim.txt").exists()
    assert server.on_disk() == {"export.jsonl"}


def test_a_record_taking_another_uploads_id_gets_no_file_served_or_deleted(server: Server) -> None:
    # A one-record export read before victim.txt, claiming victim.txt's id: two files now
    # name that document, and which one it was read from is not the server's to guess.
    (server.uploads / "a.jsonl").write_text(
        _record("uploads/victim.txt", "Claim", "corpus/.env") + "\n", encoding="utf-8")
    server.bot.index([server.corpus])
    assert server.bot.document("uploads/victim.txt").title == "Claim"  # type: ignore[union-attr]
    reply = server.client.get("/source/uploads/victim.txt")
    assert reply.status_code == 404 and "sk-do-not-leak" not in reply.text
    reply = server.client.delete("/api/documents/uploads/victim.txt")
    assert reply.status_code == 200 and reply.json()["file_deleted"] is False
    assert {"a.jsonl", "victim.txt"} <= server.on_disk()


# --------------------------------------------------------------------------- limits


def test_many_files_in_one_request_are_counted_and_refused_whole(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scaled down from the probe's five 45 MB files: each under the file limit, together
    # over the request's, sent without a Content-Length.
    monkeypatch.setattr("assistant.api.MAX_UPLOAD_BYTES", 1_000)
    server.uploader.request_bytes = 4_000
    before = server.on_disk()
    files = [(f"part{n}.txt", (HARBOUR * 8)[:900].encode()) for n in range(5)]
    reply = _chunked_upload(server.client, files)
    assert reply.status_code == 413, reply.text
    assert "limit a request" in reply.json()["error"]
    assert server.on_disk() == before

    one_too_big = _chunked_upload(server.client, [("big.txt", b"x" * 1_500)])
    assert one_too_big.status_code == 413 and "limit a file" in one_too_big.json()["error"]
    assert server.on_disk() == before


def test_the_uploads_quota_refuses_with_what_to_do(server: Server) -> None:
    before = server.on_disk()
    server.uploader.quota_files = len(before) + 1
    reply = server.client.post("/api/documents", files=[
        ("files", ("a.txt", HARBOUR.encode(), "text/plain")),
        ("files", ("b.txt", FERRY.encode(), "text/plain"))])
    assert reply.status_code == 507, reply.text
    error = reply.json()["error"]
    assert "uploads folder is full" in error and "Remove uploaded documents" in error
    assert server.on_disk() == before

    server.uploader.quota_files = 10_000
    server.uploader.quota_bytes = sum(p.stat().st_size for p in server.uploads.iterdir()) + 10
    reply = server.client.post("/api/documents",
                               files=[("files", ("a.txt", HARBOUR.encode(), "text/plain"))])
    assert reply.status_code == 507 and server.on_disk() == before


def test_save_upload_keeps_the_quota_too(tmp_path: Path) -> None:
    source = tmp_path / "incoming.tmp"
    source.write_text(FERRY, encoding="utf-8")
    folder = tmp_path / UPLOADS
    save_upload(source, "one.txt", folder, quota_files=1)
    with pytest.raises(QuotaExceeded, match="uploads folder is full"):
        save_upload(source, "two.txt", folder, quota_files=1)
    with pytest.raises(QuotaExceeded, match="uploads folder is full"):
        save_upload(source, "two.txt", folder, quota_bytes=len(FERRY) + 10)
    assert {p.name for p in folder.iterdir()} == {"one.txt"}


def test_a_refused_type_leaves_the_other_files_of_the_request_unsaved(server: Server) -> None:
    before = server.on_disk()
    reply = server.client.post("/api/documents", files=[
        ("files", ("fine.txt", HARBOUR.encode(), "text/plain")),
        ("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))])
    assert reply.status_code == 415 and "tool.exe" in reply.json()["error"]
    assert server.on_disk() == before and "fine.txt" not in server.on_disk()


# --------------------------------------------------------------------------- no 500


def test_a_huge_offset_is_a_bad_request(server: Server) -> None:
    for offset in ("99999999999999999999", str(2**63), str(10**9 + 1)):
        reply = server.client.get(f"/api/documents?offset={offset}")
        assert reply.status_code == 422 and "offset" in reply.json()["error"]
    assert server.client.get(f"/api/documents?offset={10**9}").json()["documents"] == []


def test_a_long_non_latin_name_is_saved_within_255_bytes(server: Server) -> None:
    name = "新闻稿" * 33 + "新.txt"  # 100 CJK characters: 300 bytes of UTF-8
    saved = []
    for _ in range(2):  # the second gets a numbered name, which must fit too
        reply = server.client.post("/api/documents",
                                   files=[("files", (name, HARBOUR.encode(), "text/plain"))])
        assert reply.status_code == 202, reply.text
        saved += reply.json()["saved"]
    assert saved[1] != saved[0] and saved[1].endswith("-2.txt")
    for kept in saved:
        assert kept.endswith(".txt") and kept.startswith("新闻稿")
        assert len(kept.encode("utf-8")) <= MAX_NAME_BYTES <= 255
        assert (server.uploads / kept).is_file()


@pytest.mark.parametrize("name", ["新" * 300 + ".pdf", "é" * 200 + "." + "x" * 400,
                                  "a" * 300, "\U0001f4a5" * 100 + ".md"])
def test_safe_names_fit_a_file_system(name: str) -> None:
    kept = safe_name(name)
    assert 0 < len(kept.encode("utf-8")) <= MAX_NAME_BYTES
    kept.encode("utf-8").decode("utf-8")  # cut at a character boundary
    if name.endswith((".pdf", ".md")):
        assert kept.endswith(name[name.rindex("."):])


ODD = ["\x00", "a\x00b", "\u202egnp.exe", "\U0001f4a5" * 50, "x" * 5_000, "../../etc/passwd",
       "%00", "' OR 1=1 --", "\\\\server\\share", "-1", "99999999999999999999"]
# A lone surrogate cannot be sent as UTF-8: only as a JSON escape, in the raw bodies below.
SURROGATE = b'"\\ud800"'
ODD_IDS = ["%00", "a%00b", "%E2%80%AE", "%ff%fe", "%ED%A0%80", "x" * 4_000,
           "..%2F..%2F.env", "%2e%2e/%2e%2e/.env", "uploads/%00.txt", "%F0%9F%92%A5" * 30]
ODD_NUMBERS = [0, -1, 2**63, -(2**63), 10**30, 1.5, "1e999", "NaN", "", "x", None, True]


def _requests() -> Iterator[tuple[str, str, dict[str, object]]]:
    """(method, path, httpx keyword arguments): odd values for every route."""
    for value in ODD + [str(n) for n in ODD_NUMBERS]:
        for key in ("contains", "collection", "limit", "offset", "unknown"):
            yield "GET", "/api/documents", {"params": {key: value}}
    for doc_id in ODD_IDS:
        for method, prefix in (("GET", "/api/documents/"), ("DELETE", "/api/documents/"),
                               ("GET", "/source/")):
            yield method, prefix + doc_id, {}
    for route, field in (("/api/ask", "question"), ("/api/search", "query")):
        start = b'{"' + field.encode() + b'": '
        for raw in (b"", b"{", b"[]", b'"x"', b"null", b"1e999", b"\xff\xfe", start + b"NaN}",
                    start + SURROGATE + b"}", start + b'"a\\u0000b"}',
                    start + b'"crane", "filters": {"collections": [' + SURROGATE + b"]}}",
                    start + b'"crane", "filters": {"languages": [' + SURROGATE + b"]}}",
                    start + b'"crane", "history": [{"question": ' + SURROGATE + b"}]}",
                    start + b'"crane", "history": [{"question": "x", "cited": [' + SURROGATE
                    + b"]}]}"):
            yield "POST", route, {"content": raw, "headers": {"content-type": "application/json"}}
        yield "POST", route, {"content": b"question=x",
                              "headers": {"content-type": "application/x-www-form-urlencoded"}}
        for value in [*ODD, *ODD_NUMBERS, ["x"], {"x": 1}]:
            yield "POST", route, {"json": {field: value}}
        for number in ODD_NUMBERS:
            yield "POST", route, {"json": {field: "crane", "k": number}}
        for filters in ({"since": "99999-01-01"}, {"since": "0000-00-00"},
                        {"until": "2020-02-30"}, {"since": 10**30}, {"collections": ODD},
                        {"languages": ODD}, {"collections": "harbour"}, {"languages": [None]},
                        {"since": "2020-01-01", "until": "1990-01-01"}, [], "x"):
            yield "POST", route, {"json": {field: "crane", "filters": filters}}
    for history in ([{"question": q, "cited": ODD} for q in ODD[:8]], [{"question": None}],
                    "x", [[]], [{"question": "x", "cited": "x"}]):
        yield "POST", "/api/ask", {"json": {"question": "what else?", "history": history}}
    multipart = {"content-type": "multipart/form-data; boundary=xyz"}
    for raw in (b"", b"--xyz--\r\n", b"--xyz\r\n\r\n--xyz--\r\n", b"garbage",
                b'--xyz\r\nContent-Disposition: form-data; name="files"\r\n\r\ntext\r\n--xyz--\r\n',
                b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="\xed\xa0\x80.txt"'
                b"\r\n\r\ntext\r\n--xyz--\r\n",
                b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"; '
                b"filename*=utf-8''%ED%A0%80%00.txt\r\n\r\ntext\r\n--xyz--\r\n"):
        yield "POST", "/api/documents", {"content": raw, "headers": multipart}
    yield "POST", "/api/documents", {"content": b"x", "headers": {"content-type": "multipart/form-data"}}
    for name in [*ODD, "", ".", "..", "/", ".txt", "a." + "b" * 300]:
        yield "POST", "/api/documents", {"files": [("files", (name, b"release text", "text/plain"))]}
    for path in ("/api/uploads", "/api/health", "/api/openapi.json", "/api/docs", "/api/%00",
                 "/source/", "/api/documents/"):
        for method in ("GET", "DELETE", "POST", "PUT"):
            yield method, path, {}


def test_no_request_answers_500(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    failures = []
    for method, path, kwargs in _requests():
        reply = server.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        if reply.status_code >= 500:
            failures.append((method, path[:80], str(kwargs)[:160], reply.status_code, reply.text[:200]))
        elif reply.status_code >= 400:
            assert "error" in reply.json(), (method, path, reply.text)
    assert not failures, "\n".join(map(str, failures))
    assert server.on_disk() >= {"export.jsonl"}  # nothing odd deleted the uploads


def _paths(routes: list[object], prefix: str = "") -> Iterator[str]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            yield from _paths(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        else:
            yield prefix + route.path  # type: ignore[attr-defined]


def test_the_routes_fuzzed_are_every_route(server: Server) -> None:
    """A new route must be added to the fuzz above."""
    routes = set(_paths(server.client.app.routes))  # type: ignore[attr-defined]
    fuzzed = {"/api/documents", "/api/documents/{doc_id:path}", "/source/{doc_id:path}",
              "/api/ask", "/api/search", "/api/uploads", "/api/health", "/api/openapi.json"}
    assert routes == fuzzed


# --------------------------------------------------------------------------- the description


def test_the_api_description_needs_credentials_and_no_docs_page_is_served(server: Server) -> None:
    client = TestClient(build_api(server.bot, auth=CREDENTIALS, uploader=server.uploader),
                        raise_server_exceptions=False)
    refused = client.get("/api/openapi.json")
    assert refused.status_code == 401 and "paths" not in refused.text
    described = client.get("/api/openapi.json", auth=CREDENTIALS)
    assert described.status_code == 200
    paths = described.json()["paths"]
    assert {"/api/ask", "/api/search", "/api/documents", "/api/health"} <= set(paths)
    assert "/api/openapi.json" not in paths
    for page in ("/api/docs", "/api/redoc", "/docs", "/redoc"):
        reply = client.get(page, auth=CREDENTIALS)
        assert reply.status_code == 404 and "swagger" not in reply.text.lower(), page
    assert client.get("/source/harbour.txt").status_code == 401
    assert client.get("/source/harbour.txt", auth=CREDENTIALS).status_code == 200
