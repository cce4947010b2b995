"""What a probe of the server tried through the web page and across HTTP, each as an attack
that now fails, against the app ``serve`` runs (:func:`assistant.web.build_server`: the JSON
API with the Gradio chat mounted on it, behind :mod:`assistant.guard`), served by uvicorn on
127.0.0.1 over a small index built with the fake embedder:

* a Gradio upload event naming a file of the server's (copied into the archive, then served);
* cross-origin POSTs (CSRF) and a DNS-rebinding Host header;
* request bodies past their limits, streamed (chunked) or declared;
* a page without framing and content-security headers;
* password guessing at full speed, on the API's HTTP Basic and on Gradio's /login;
* a release's own "[1] [2]" shown as live citation links;
* a 50,000-character question, and odd requests answered 500.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Answer, Assistant, Citation, ConfigError
from assistant.errors import QueryError
from assistant.guard import BodyLimit, HostPolicy, LoginThrottle
from assistant.uploads import MAX_REQUEST_BYTES, UPLOADS, Uploader
from assistant.web import (
    allowed_hosts,
    build_server,
    format_answer,
    host_policy,
    reply,
    uploaded_file,
)
from tests.helpers import SANYA, AssistantFactory

SECRET = "The vault combination is 31-41-59, never to be published."
UPLOADED = "Aktau ferry terminal reopened\n\n3 March 2021\n\nFerries to Baku leave twice a day.\n"
PUBLIC_NAME = "press.example.org"
CREDENTIALS = ("editor", "s3cret")
LOGIN_DELAY = 0.5
LONG_QUESTION = "Who attended the meeting? " * 2000  # 52,000 characters


@dataclass
class Served:
    url: str
    port: int
    bot: Assistant
    uploader: Uploader
    secret: Path
    cache: Path

    @property
    def uploads(self) -> Path:
        return self.uploader.folder

    def saved(self) -> set[str]:
        return {p.name for p in self.uploads.iterdir()} if self.uploads.is_dir() else set()


@contextmanager
def _running(app: Any) -> Iterator[int]:
    """``app`` served by uvicorn in a thread on a free port of 127.0.0.1."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def world(make_module_assistant: AssistantFactory) -> Iterator[dict[str, Any]]:
    """An index of one release, a corpus folder for uploads, a file of the server's that must
    never be read (``secret.md``, a suffix the indexer takes), and Gradio's upload folder."""
    root = make_module_assistant.root
    with pytest.MonkeyPatch.context() as patch:
        # Gradio reads its upload folder when the app is built and at every check.
        patch.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        secret = root / "secret.md"
        secret.write_text(f"# Vault\n\n{SECRET}\n", encoding="utf-8")
        bot = make_module_assistant({"sanya.txt": SANYA})  # root / "corpus", root / "index"
        uploader = Uploader(bot, root / "corpus")
        try:
            yield {"bot": bot, "uploader": uploader, "secret": secret, "cache": root / "gradio"}
        finally:
            uploader.wait(timeout=60)


@pytest.fixture(scope="module")
def served(world: dict[str, Any]) -> Iterator[Served]:
    app = build_server(world["bot"], uploader=world["uploader"], extra_hosts=[PUBLIC_NAME])
    with _running(app) as port:
        yield Served(url=f"http://127.0.0.1:{port}", port=port, **world)


@pytest.fixture(scope="module")
def guarded(world: dict[str, Any]) -> Iterator[str]:
    """The same, behind credentials (PRESS_ASSISTANT_AUTH): the API's Basic auth and
    Gradio's /login."""
    app = build_server(world["bot"], auth=CREDENTIALS, login_delay=LOGIN_DELAY)
    with _running(app) as port:
        yield f"http://127.0.0.1:{port}"


# -- talking to the page the way its browser code does ----------------------------------------


def _event(url: str, button: str) -> tuple[int, int]:
    """The fn_index of the event a click on the component ``button`` (its elem_id) runs, and
    that component's id, from the page's /config."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    for dependency in config["dependencies"]:
        if [ids[button], "click"] in dependency["targets"]:
            return int(dependency["id"]), ids[button]
    raise AssertionError(f"no click event on {button}")


def _run_event(url: str, button: str, data: list[Any]) -> dict[str, Any]:
    """Join Gradio's queue with ``data`` for the event of ``button`` and read its event stream
    to the end: the final message (``success`` and ``output``)."""
    fn_index, trigger = _event(url, button)
    session = secrets.token_hex(8)
    joined = httpx.post(f"{url}/gradio_api/queue/join", timeout=30, json={
        "fn_index": fn_index, "trigger_id": trigger, "session_hash": session, "data": data})
    assert joined.status_code == 200, joined.text
    with httpx.stream("GET", f"{url}/gradio_api/queue/data",
                      params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return dict(message)
    raise AssertionError("the event stream ended without process_completed")


def _file_data(path: Path | str, name: str = "release.md") -> dict[str, Any]:
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _exchange(port: int, pieces: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``pieces`` on one connection until they run out or an answer arrives, reading
    meanwhile (a server that answers early closes with the rest unread, and its reset could
    otherwise discard the answer); the answer and the bytes sent."""
    answer = bytearray()
    sent = 0

    def read(sock: socket.socket) -> None:
        try:
            while data := sock.recv(65536):
                answer.extend(data)
        except OSError:
            pass

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = threading.Thread(target=read, args=(sock,), daemon=True)
        reader.start()
        try:
            for piece in pieces:
                if answer:
                    break
                sock.sendall(piece)
                sent += len(piece)
        except OSError:
            pass  # closed after answering
        reader.join(timeout=30)
    return bytes(answer), sent


def _raw(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` as they
    are; the status and body of the answer."""
    answer, _ = _exchange(port, iter([head.encode("latin-1") + b"Connection: close\r\n\r\n"
                                      + body]))
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


# -- 1. a path named in the upload event ------------------------------------------------------


def test_a_server_file_named_in_the_upload_event_is_neither_copied_nor_indexed(
        served: Served) -> None:
    # The probe's request: FileData naming a file of the server, as the upload event's data.
    done = _run_event(served.url, "add", [[_file_data(served.secret)]])
    assert not done["success"] or "Saved" not in json.dumps(done["output"])
    # A file planted inside Gradio's upload folder that its upload route never received, and
    # a link there to the secret, are refused too.
    planted = served.cache / "planted" / "notes.md"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(f"# Planted\n\n{SECRET}\n", encoding="utf-8")
    (planted.parent / "link.md").symlink_to(served.secret)
    for path in (planted, planted.parent / "link.md"):
        done = _run_event(served.url, "add", [[_file_data(path)]])
        assert "Saved" not in json.dumps(done["output"]), done
    served.uploader.wait(timeout=60)
    for name in ("secret.md", "notes.md", "link.md"):
        assert name not in served.saved()
        assert httpx.get(f"{served.url}/api/documents/{UPLOADS}/{name}").status_code == 404
    assert all(SECRET not in hit.text for hit in served.bot.search("vault combination"))


def test_a_file_uploaded_through_the_page_is_saved_and_indexed(served: Served) -> None:
    stored = httpx.post(f"{served.url}/gradio_api/upload", timeout=30,
                        files={"files": ("aktau ferry.txt", UPLOADED.encode())})
    assert stored.status_code == 200, stored.text
    done = _run_event(served.url, "add", [[_file_data(stored.json()[0], "aktau ferry.txt")]])
    assert done["success"] and "Saved aktau_ferry.txt" in json.dumps(done["output"])
    served.uploader.wait(timeout=60)
    assert "aktau_ferry.txt" in served.saved()
    assert served.bot.document(f"{UPLOADS}/aktau_ferry.txt") is not None


def test_uploads_through_the_page_keep_to_the_quota_all_or_none(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    # The page saves through the same Uploader as the API: past the quota nothing is saved.
    monkeypatch.setattr(served.uploader, "quota_files", len(served.saved()) + 1)
    stored = [httpx.post(f"{served.url}/gradio_api/upload", timeout=30,
                         files={"files": (name, UPLOADED.encode())}).json()[0]
              for name in ("one.txt", "two.txt")]
    before = served.saved()
    done = _run_event(served.url, "add", [[_file_data(p, Path(p).name) for p in stored]])
    assert done["success"] and "the uploads folder is full" in json.dumps(done["output"])
    assert served.saved() == before


def test_the_upload_handler_takes_only_what_the_upload_route_stored(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "abc").mkdir(parents=True)
    uploaded = cache / "abc" / "release.txt"
    uploaded.write_text("release", encoding="utf-8")
    outside = tmp_path / "secret.md"
    outside.write_text(SECRET, encoding="utf-8")
    stranger = cache / "abc" / "stranger.txt"
    stranger.write_text("put here by someone else", encoding="utf-8")
    link = cache / "abc" / "link.md"
    link.symlink_to(outside)
    linked_dir = cache / "dir"
    linked_dir.symlink_to(tmp_path, target_is_directory=True)
    received = {str(uploaded), str(link), str(linked_dir / "secret.md")}

    assert uploaded_file(str(uploaded), cache, received) == uploaded
    for path in (outside, stranger, link, linked_dir / "secret.md", cache / "abc" / ".." / ".." /
                 "secret.md", cache, cache / "abc" / "missing.txt"):
        with pytest.raises(QueryError, match="not a file uploaded to this page"):
            uploaded_file(str(path), cache, received)


# -- 2. cross-origin requests and DNS rebinding ----------------------------------------------


CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},  # another port of the same machine: another origin
    {"Sec-Fetch-Site": "cross-site"},
    {"Referer": "http://evil.example/page.html"},
]


@pytest.mark.parametrize("headers", CROSS_SITE,
                         ids=["origin", "null-origin", "other-port", "sec-fetch-site", "referer"])
def test_a_cross_origin_upload_to_the_api_is_refused(served: Served, headers: dict[str, str]) -> None:
    before = served.saved()
    refused = httpx.post(f"{served.url}/api/documents", headers=headers, timeout=30,
                         files={"files": ("forged.txt", b"Forged\n\n1 May 2020\n\nForged text.\n")})
    assert refused.status_code == 403 and "refused" in refused.json()["error"]
    assert served.saved() == before


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/upload", "/login",
                                  "/api/ask", "/gradio_api/call/ask"])
def test_cross_origin_posts_to_the_page_are_refused(served: Served, path: str) -> None:
    fn_index, trigger = _event(served.url, "ask")
    for headers in CROSS_SITE:
        refused = httpx.post(f"{served.url}{path}", headers=headers, timeout=30, json={
            "fn_index": fn_index, "trigger_id": trigger, "session_hash": "forged",
            "data": ["Who attended?", [], None, "", "", [], []]})
        assert refused.status_code == 403, (headers, refused.text)


def test_same_origin_and_programs_may_post(served: Served) -> None:
    question = {"question": "Who attended the Sanya meeting?"}
    for headers in ({"Origin": served.url}, {"Origin": f"http://localhost:{served.port}"},
                    {"Sec-Fetch-Site": "same-origin", "Referer": f"{served.url}/"},
                    {"Referer": f"{served.url}/?tab=chat"},
                    {"Origin": f"https://{PUBLIC_NAME}"},  # the public name, behind a proxy
                    {}):  # no browser header at all: a program
        if "localhost" in headers.get("Origin", ""):
            headers = {**headers, "Host": f"localhost:{served.port}"}
        answered = httpx.post(f"{served.url}/api/ask", json=question, headers=headers, timeout=30)
        assert answered.status_code == 200, (headers, answered.text)
    joined = httpx.post(f"{served.url}/gradio_api/call/ask", headers={"Origin": served.url},
                        json={"data": ["Who attended the Sanya meeting?", "", ""]}, timeout=30)
    assert joined.status_code == 200 and "event_id" in joined.json()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io",
                                  "a b", "", "[::1", "127.0.0.1:99999", "localhost@evil.example"])
def test_a_host_this_server_does_not_serve_is_refused(served: Served, host: str) -> None:
    status, body = _raw(served.port, f"GET /api/health HTTP/1.1\r\nHost: {host.format(port=served.port)}\r\n")
    assert status == 400 and b"host" in body.lower(), body
    refused = httpx.get(f"{served.url}/", headers={"Host": "rebound.example"})
    assert refused.status_code == 400 and "--allowed-host" in refused.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.:{port}",
                                  "[::1]:{port}", PUBLIC_NAME, f"{PUBLIC_NAME}:443"])
def test_the_served_hosts_are_answered(served: Served, host: str) -> None:
    answered = httpx.get(f"{served.url}/api/health", headers={"Host": host.format(port=served.port)})
    assert answered.status_code == 200, answered.text


def test_allowed_hosts_come_from_the_option_and_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESS_ASSISTANT_ALLOWED_HOSTS", "a.example, b.example c.example")
    assert allowed_hosts(["cli.example"]) == ["cli.example", "a.example", "b.example", "c.example"]
    policy = host_policy("127.0.0.1", allowed_hosts())
    assert policy.allows("b.example") and policy.allows("localhost") and policy.allows("::1")
    assert not policy.allows("evil.example") and not policy.allows("10.0.0.1")
    # Bound to every interface: any address (an address cannot be rebound), names by list.
    everywhere = HostPolicy.serving("0.0.0.0")
    assert everywhere.allows("10.0.0.1") and everywhere.allows("fe80::1")
    assert not everywhere.allows("evil.example")
    assert HostPolicy.serving("127.0.0.1", ["*"]).allows("anything.example")
    with pytest.raises(ConfigError, match="not a host name"):
        host_policy("127.0.0.1", ["https://press.example.org/"])


def test_same_origin_means_the_host_and_port_the_request_was_sent_to() -> None:
    policy = HostPolicy.serving("127.0.0.1", [PUBLIC_NAME, "localhost"])
    assert policy.same_origin("http://127.0.0.1:7860", "127.0.0.1:7860")
    assert policy.same_origin("http://[0::1]:7860", "[::1]:7860")
    assert policy.same_origin("https://press.example.org", "127.0.0.1:7860")  # via a proxy
    assert policy.same_origin("https://archive.lan", "archive.lan:443")
    # (No scheme compared: one port serves one of http and https, and a TLS proxy in front
    # hands the server plain http.)
    for origin in ("http://127.0.0.1:8080", "http://localhost:7860",
                   "http://127.0.0.1:7860@evil.example", "ftp://127.0.0.1:7860", "null",
                   "http://[::1", "http://127.0.0.1:7860.evil.example",
                   "http://localhost:3000"):  # localhost is never a public name
        assert not policy.same_origin(origin, "127.0.0.1:7860"), origin


# -- 3. body limits -----------------------------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(served: Served) -> None:
    # 100 MB offered in 64 KB chunks, no Content-Length: the answer comes after about the
    # limit (1 MB, plus what the sockets buffer), and the rest is never sent.
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    head = (f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    answer, sent = _exchange(served.port, iter([head, *[chunk] * 1600]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"limit" in answer and sent < 40 * 2**20, sent


async def _count_chunks(limit_app: Any, path: str, total: int, chunk: int) -> tuple[int, int]:
    """Run ``limit_app`` over a body of ``total`` bytes handed out ``chunk`` bytes at a time;
    the status answered and the bytes the app was handed."""
    handed = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal handed
        size = min(chunk, total - handed)
        handed += size
        return {"type": "http.request", "body": b"\0" * size, "more_body": handed < total}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": path, "headers": [
        (b"content-type", b"multipart/form-data; boundary=x"), (b"transfer-encoding", b"chunked")]}
    await limit_app(scope, receive, send)
    return status, handed


async def _read_everything(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_five_files_of_45_mb_streamed_in_one_upload_are_refused() -> None:
    # The per-request upload limit of the served app (a few files of the largest size), fed
    # a 225 MB body in 1 MB chunks with no Content-Length: 413 once past it, and not a chunk
    # more is asked for.
    limit = MAX_REQUEST_BYTES + 2**20
    app = BodyLimit(_read_everything, upload=limit)
    for path in ("/gradio_api/upload", "/api/documents"):
        status, handed = asyncio.run(_count_chunks(app, path, 225_000_000, 2**20))
        assert status == 413 and handed <= limit + 2**20
    # Under the limit, a body goes through whole.
    assert asyncio.run(_count_chunks(app, "/api/documents", 10 * 2**20, 2**20)) == (200, 10 * 2**20)
    # Every other route has the small limit.
    status, handed = asyncio.run(_count_chunks(app, "/api/ask", 50 * 2**20, 65536))
    assert status == 413 and handed <= 1_000_000 + 65536


@pytest.mark.parametrize("path", ["/gradio_api/upload", "/api/documents"])
def test_five_files_of_45_mb_declared_in_one_upload_are_refused_unread(
        served: Served, path: str) -> None:
    status, body = _raw(served.port, f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
                                     "Content-Type: multipart/form-data; boundary=x\r\n"
                                     "Content-Length: 225000000\r\n")
    assert status == 413 and b"225,000,000" in body


# -- 4. security headers ------------------------------------------------------------------------


def _policy(response: httpx.Response) -> dict[str, str]:
    return {d.split()[0]: d.strip() for d in response.headers["content-security-policy"].split(";")
            if d.strip()}


def test_the_page_forbids_framing_sniffing_and_foreign_scripts(served: Served) -> None:
    page = httpx.get(f"{served.url}/", timeout=30)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    policy = _policy(page)
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'", "default-src 'self'", "connect-src 'self'"):
        assert directive in policy.values(), policy
    # Gradio's own inline scripts run by a nonce; no other inline script or handler would.
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"])
    assert nonce and "'unsafe-inline'" not in policy["script-src"]
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all(f'nonce="{nonce.group(1)}"' in tag for tag in scripts)
    assert httpx.get(f"{served.url}/", timeout=30).headers["content-security-policy"] != \
        page.headers["content-security-policy"]  # a fresh nonce each time
    # Every other answer, refusals included, keeps out of frames too.
    for response in (httpx.get(f"{served.url}/api/health"), httpx.get(f"{served.url}/config"),
                     httpx.get(f"{served.url}/", headers={"Host": "evil.example"})):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_no_other_site_may_read_the_page_with_a_visitors_cookies(served: Served) -> None:
    # Gradio's CORS answer lets any origin read a server whose Host is not localhost (a
    # public name): none is given, whatever the Host.
    for host in (PUBLIC_NAME, f"127.0.0.1:{served.port}"):
        read = httpx.get(f"{served.url}/config",
                         headers={"Host": host, "Origin": "http://evil.example"})
        assert read.status_code == 200
        assert not any(k.lower().startswith("access-control-") for k in read.headers), read.headers


# -- 5. login throttling ------------------------------------------------------------------------


def _timed(call: Any) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_failed_logins_are_slowed_down_on_the_api_and_the_login_form(guarded: str) -> None:
    def basic(password: str) -> tuple[httpx.Response, float]:
        return _timed(lambda: httpx.get(f"{guarded}/api/health", timeout=30,
                                        auth=(CREDENTIALS[0], password)))

    def form(password: str) -> tuple[httpx.Response, float]:
        return _timed(lambda: httpx.post(f"{guarded}/login", timeout=30, data={
            "username": CREDENTIALS[0], "password": password}))

    for attempt, refused in ((basic, 401), (form, 400)):
        first, _ = attempt("wrong-1")
        assert first.status_code == refused
        second, waited = attempt("wrong-2")
        assert second.status_code in {refused, 429}
        assert second.status_code == 429 or waited >= LOGIN_DELAY * 0.9, waited
        # The right password still gets in, after the delay two failures earned.
        right, waited = attempt(CREDENTIALS[1])
        assert right.status_code == 200 and waited >= LOGIN_DELAY * 0.9, (right.text, waited)
        # ... and a success forgets the failures.
        again, waited = attempt("wrong-3")
        assert again.status_code == refused and waited < LOGIN_DELAY * 0.9
        assert attempt(CREDENTIALS[1])[0].status_code == 200


def test_parallel_guesses_get_429_while_one_waits(guarded: str) -> None:
    async def guesses() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            first = await client.get(f"{guarded}/api/health", auth=(CREDENTIALS[0], "wrong"))
            assert first.status_code == 401
            answers = await asyncio.gather(*[
                client.get(f"{guarded}/api/health", auth=(CREDENTIALS[0], f"wrong-{n}"))
                for n in range(4)])
            right = await client.get(f"{guarded}/api/health", auth=CREDENTIALS)
            assert right.status_code == 200  # and the failures are forgotten
            return sorted(a.status_code for a in answers)

    statuses = asyncio.run(guesses())
    assert statuses.count(429) >= 2 and set(statuses) <= {401, 429}, statuses


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    async def refuse_all(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def noop(message: Any) -> None:
        pass

    async def nothing() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    throttle = LoginThrottle(refuse_all, max_clients=3)
    for n in range(10):
        scope = {"type": "http", "method": "GET", "path": "/api/health", "client": (f"10.0.0.{n}", 1),
                 "headers": [(b"authorization", b"Basic eDp5")]}
        asyncio.run(throttle(scope, nothing, noop))
    assert list(throttle.failures) == ["10.0.0.7", "10.0.0.8", "10.0.0.9"]


# -- 6. citation markers ------------------------------------------------------------------------


def _citation(n: int, quote: str) -> Citation:
    return Citation(n=n, doc_id=f"d{n}.txt", title=f"Release {n}", date=None, url=None,
                    quote=quote, start=0, end=len(quote), score=0.5)


def test_a_releases_own_markers_are_text_and_only_the_answerers_are_links() -> None:
    first = _citation(1, "The report lists sources [1] [2] and\n[3] at its end.")
    second = _citation(2, "Ferries leave twice a day.")
    text = " ".join(f"{' '.join(c.quote.split())} [{c.n}]" for c in (first, second))
    message = format_answer(Answer(question="q", text=text, abstained=False,
                                   citations=(first, second)), turn=3)
    links = re.findall(r"\(#src-3-(\d)\)", message)
    assert links == ["1", "2"]  # one link each, in place
    assert "sources \\[1\\] \\[2\\] and \\[3\\] at its end\\. [**\\[1\\]**](#src-3-1)" in message
    # A list answer's rows: the marker after the row's quote only.
    row = _citation(1, "Section [2] of the law applies.")
    listing = Answer(question="q", abstained=False, citations=(row,), count=1,
                     text="1 release matches.\n- undated: Release [1] — Section [2] of the law applies. [1]")
    rendered = format_answer(listing, turn=0)
    assert re.findall(r"\(#src-0-(\d)\)", rendered) == ["1"]
    assert "Release \\[1\\] — Section \\[2\\] of the law applies\\." in rendered


# -- 7. question length ---------------------------------------------------------------------


def _without_escapes(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\\", "")


def test_a_50k_question_is_refused_clearly_everywhere(served: Served) -> None:
    said = "the limit is 2,000"
    start = time.monotonic()
    assert said in reply(served.bot, LONG_QUESTION)[0].replace("\\", "")
    chat = _run_event(served.url, "ask", [LONG_QUESTION, [], None, "", "", [], []])
    assert chat["success"] and said in _without_escapes(chat["output"])
    assert LONG_QUESTION not in _without_escapes(chat["output"])  # not echoed in full
    search = _run_event(served.url, "search", [LONG_QUESTION, "", "", [], []])
    assert search["success"] and said in _without_escapes(search["output"])
    # The endpoint for programs: queued (call/ask) and direct (run/ask).
    event = httpx.post(f"{served.url}/gradio_api/call/ask", json={"data": [LONG_QUESTION, "", ""]},
                       timeout=30).json()["event_id"]
    stream = httpx.get(f"{served.url}/gradio_api/call/ask/{event}", timeout=60).text
    assert "event: error" in stream and said in stream
    direct = httpx.post(f"{served.url}/gradio_api/run/ask", json={"data": [LONG_QUESTION, "", ""]},
                        timeout=30)
    assert direct.status_code == 400 and said in direct.json()["error"]
    assert time.monotonic() - start < 30
    # The boxes themselves stop typing at the limit.
    config = httpx.get(f"{served.url}/config", timeout=30).json()
    boxes = {c["props"].get("elem_id"): c["props"] for c in config["components"]}
    assert boxes["question"]["max_length"] == boxes["search-query"]["max_length"] == 2000


# -- 8. odd requests: 4xx, never 500 ----------------------------------------------------------


def _json(path: str, body: str) -> tuple[str, bytes]:
    return (f"POST {path} HTTP/1.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\n", body.encode())


def _multipart(body: str) -> tuple[str, bytes]:
    return (f"POST /gradio_api/upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
            f"Content-Length: {len(body.encode())}\r\n", body.encode())


ODD = {
    "no host": ("GET / HTTP/1.1\r\n", b""),
    "huge header": ("GET / HTTP/1.1\r\nX-Big: " + "a" * 200_000 + "\r\n", b""),
    "bad origin": ("POST /api/ask HTTP/1.1\r\nOrigin: http://[::1\r\nContent-Length: 2\r\n", b"{}"),
    "bad content-length": ("POST /api/ask HTTP/1.1\r\nContent-Length: ten\r\n", b""),
    "unknown event": _json("/gradio_api/queue/join", '{"fn_index": 9999, "data": [], "session_hash": "x"}'),
    "negative event": _json("/gradio_api/queue/join", '{"fn_index": -1, "data": [], "session_hash": "x"}'),
    "huge event": _json("/gradio_api/queue/join",
                        '{"fn_index": 1' + "0" * 30 + ', "data": [], "session_hash": "x"}'),
    "no event": _json("/gradio_api/queue/join", '{"data": [], "session_hash": "x"}'),
    "infinite number": _json("/gradio_api/queue/join",
                             '{"fn_index": 1e400, "data": [], "session_hash": "x"}'),
    "nan": _json("/gradio_api/reset", '{"event_id": NaN}'),
    "deep json": _json("/gradio_api/queue/join", "[" * 100_000 + "]" * 100_000),
    "lone surrogate": _json("/gradio_api/queue/join", '"\\ud800"'),
    "unknown endpoint": _json("/gradio_api/run/predict", '{"data": []}'),
    "unknown call": _json("/gradio_api/call/predict", '{"data": []}'),
    "bad keyword": _json("/gradio_api/call/v2/ask", '{"session_hash": "x"}'),
    "hidden endpoint": _json("/gradio_api/call/v2/upload", "{}"),
    "wrong types": _json("/gradio_api/run/ask", '{"data": [1, 2, 3]}'),
    "bad date": _json("/gradio_api/run/ask", '{"data": ["Sanya?", "yesterday", ""]}'),
    "upload: no boundary": ("POST /gradio_api/upload HTTP/1.1\r\nContent-Type: multipart/form-data\r\n"
                            "Content-Length: 5\r\n", b"hello"),
    "upload: garbage": _multipart("hello"),
    "upload: a field, not a file": _multipart('--XX\r\nContent-Disposition: form-data; name="files"'
                                              "\r\n\r\nabc\r\n--XX--\r\n"),
    "upload: file name ..": _multipart('--XX\r\nContent-Disposition: form-data; name="files"; '
                                       'filename=".."\r\n\r\nabc\r\n--XX--\r\n'),
    "upload: json": ("POST /gradio_api/upload HTTP/1.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\n", b"{}"),
    "login: garbage": ("POST /login HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
                       "Content-Length: 3\r\n", b"zzz"),
}


@pytest.mark.parametrize("name", list(ODD))
def test_odd_requests_are_answered_4xx(served: Served, name: str) -> None:
    head, body = ODD[name]
    if name != "no host":
        line, _, rest = head.partition("\r\n")
        head = f"{line}\r\nHost: 127.0.0.1:{served.port}\r\n{rest}"
    status, answer = _raw(served.port, head, body)
    assert 400 <= status < 500, (status, answer[:300])
