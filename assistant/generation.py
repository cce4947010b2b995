"""The generator stage: a language model behind any OpenAI-compatible chat API (Ollama,
llama.cpp's server, vLLM, LM Studio, a hosted API) writes an answer from numbered passages.

Nothing it writes is shown unchecked: :mod:`assistant.composing` runs every sentence through
:mod:`assistant.checking` and falls back to the extractive answer when this stage raises
:class:`~assistant.errors.GenerationFailed` (refused connection, HTTP error, timeout, a reply
that is not a chat completion, an empty reply, a reply over the length limit, all of the
generator's request slots busy). The reason is short, in words, and never holds the API key or
the URL's password or query string; the full detail goes to this module's logger as a warning,
for operators.

::

    gen = OpenAIGenerator.from_settings(settings)        # llm_url, llm_model, llm_key, llm_timeout
    for delta in gen.stream(question, passages, history=[(q, a)], language="de"):
        print(delta, end="")
    text = generate(gen, question, passages)              # the same, joined

The ``openai`` client library is imported on first use, so ``import assistant`` stays fast.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Literal, Protocol, cast, runtime_checkable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from . import prompts
from .errors import ConfigError, GenerationFailed

if TYPE_CHECKING:
    import openai
    from openai._models import FinalRequestOptions
    from openai.types.chat import ChatCompletionMessageParam

    from .config import Settings
    from .documents import Passage

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_BUSY_WAIT",
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_TOKENS",
    "Generator",
    "OpenAIGenerator",
    "build_messages",
    "generate",
    "is_no_answer",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 400
"""The cap on a written answer's length in tokens: the prompt asks for one to four sentences
(about 150 tokens); the cap only stops a model that rambles or loops from using up the
timeout."""

DEFAULT_MAX_RETRIES = 1
"""Retries of a request the server refused or failed before the answer began (connection
error, HTTP 408/429/5xx), by the openai client with its back-off. One rides out a server
restart or a busy moment; more would spend the timeout the reader is waiting through."""

DEFAULT_MAX_CONCURRENT = 4
"""Requests one :class:`OpenAIGenerator` runs at once, across all threads of the process. A
model server answers one or a few requests at a time anyway; without a limit, slow requests
pile up and each holds a thread of the web server's pool while it waits."""

DEFAULT_BUSY_WAIT = 2.0
"""Seconds a request waits for a free slot (of ``max_concurrent``) before it fails with "the
language model is busy" and the reader gets the extractive answer instead."""

CHARS_PER_TOKEN = 8
"""The length limit of a reply in characters is ``max_tokens`` times this: a generous bound
(a token is about four characters of English) that only stops a server ignoring
``max_tokens``, which could otherwise stream for the whole timeout."""


@runtime_checkable
class Generator(Protocol):
    """Writes an answer from numbered passages, as a stream of text pieces."""

    @property
    def name(self) -> str:
        """The model's name, for ``Answer.generator`` and reports."""
        ...

    def stream(self, question: str, passages: Sequence[Passage], *,
               history: Sequence[tuple[str, str]] = (),
               language: str | None = None) -> Iterator[str]:
        """The answer's text as it is written, piece by piece (joined, the whole answer).

        ``history``: earlier (question, answer) exchanges, oldest first. ``language``: the
        question's ISO 639-1 code when known. Raises :class:`GenerationFailed`, whose message
        says why in words, when no usable answer comes; pieces already yielded may then be an
        unfinished answer, which the caller discards."""
        ...


def build_messages(question: str, passages: Sequence[Passage], *,
                   history: Sequence[tuple[str, str]] = (),
                   language: str | None = None) -> list[ChatCompletionMessageParam]:
    """The chat messages of one request: the system prompt, the earlier exchanges as plain
    user/assistant messages, then the numbered passages and the question
    (:mod:`assistant.prompts`)."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": prompts.SYSTEM_PROMPT},
        {"role": "user", "content": prompts.USER_TEMPLATE.format(
            passages=prompts.EXAMPLE_PASSAGES, question=prompts.EXAMPLE_QUESTION)},
        {"role": "assistant", "content": prompts.EXAMPLE_ANSWER}]
    for asked, answered in history:
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": answered})
    blocks = [
        prompts.PASSAGE_TEMPLATE.format(
            n=p.n, title=p.title.strip() or p.doc_id,
            dated=prompts.DATE_TEMPLATE.format(date=p.date.isoformat()) if p.date else "",
            # Hard-wrapped lines joined: a small model copies a line break into its sentence.
            text=" ".join(p.text.split()))
        for p in passages]
    content = prompts.USER_TEMPLATE.format(
        passages=prompts.PASSAGE_SEPARATOR.join(blocks), question=question.strip())
    if language:
        content += prompts.LANGUAGE_TEMPLATE.format(
            language=prompts.LANGUAGE_NAMES.get(language.lower(), language))
    messages.append({"role": "user", "content": content})
    return messages


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


_NO_ANSWER = _normalised(prompts.NO_ANSWER_REPLY)


def is_no_answer(text: str) -> bool:
    """Whether a written answer is the model saying the passages do not answer
    (:data:`assistant.prompts.NO_ANSWER_REPLY`), allowing for case, punctuation, quotes and
    a stray citation around it."""
    return _normalised(re.sub(r"\[\d+\]", " ", text)) == _NO_ANSWER


def generate(generator: Generator, question: str, passages: Sequence[Passage], *,
             history: Sequence[tuple[str, str]] = (), language: str | None = None) -> str:
    """The whole written answer at once (the non-streaming path); raises
    :class:`GenerationFailed` like :meth:`Generator.stream`."""
    return "".join(generator.stream(question, passages, history=history, language=language))


def _safe_url(url: str) -> str:
    """The URL for messages and logs: without user or password (``http://user:secret@host``),
    query string (``?api-key=...``, as Azure takes a key) or fragment, any of which may hold
    a key."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that :func:`_safe_url` leaves out and that may be a key, for
    :meth:`OpenAIGenerator._redact` (short values like ``1`` are left: replacing them would
    garble the text, and they are no secret)."""
    parts = urlsplit(url)
    found = [parts.netloc.rpartition("@")[0], parts.password or "", parts.query,
             parts.fragment]
    found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


class _Closable(Protocol):
    def close(self) -> None: ...


class _ResponseHolder:
    """The streaming response of one request, held so that the reader's thread can close it:
    closing is the only way to stop a worker blocked in a read (a server sending keep-alive
    comments never lets a read time out, and the worker sees no piece to stop at)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._response: _Closable | None = None
        self._closed = False

    def hold(self, response: _Closable) -> bool:
        """Keeps ``response``; False (and it is closed) when :meth:`close` came first."""
        with self._lock:
            if not self._closed:
                self._response = response
                return True
        _close_quietly(response)
        return False

    def close(self) -> None:
        """Closes the response held, if any, and any handed over later."""
        with self._lock:
            self._closed = True
            response, self._response = self._response, None
        if response is not None:
            _close_quietly(response)


def _close_quietly(response: _Closable) -> None:
    try:
        response.close()
    except Exception:  # closing a connection another thread is reading: whatever it says
        log.debug("closing a model response failed", exc_info=True)


_request_deadline = threading.local()
"""``value``: the monotonic deadline of the request the current (worker) thread makes."""


class _DeadlinePassed(Exception):
    """The deadline passed before the client could start (or retry) a request."""


@cache
def _client_class() -> type[openai.OpenAI]:
    """``openai.OpenAI`` whose every attempt of a request, retries included, gets the time
    left before the calling thread's deadline as its timeout, and is not made once none is
    left: the library would otherwise retry a timed-out request with a whole new timeout,
    keeping a worker thread and its connection for twice the time the reader waits."""
    import openai

    class DeadlineClient(openai.OpenAI):
        def _prepare_options(self, options: FinalRequestOptions) -> FinalRequestOptions:
            options = super()._prepare_options(options)
            deadline: float | None = getattr(_request_deadline, "value", None)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _DeadlinePassed("the deadline passed before the request was sent")
                options.timeout = remaining
            return options

    return DeadlineClient


def _environment_header_names() -> list[str]:
    """The header names the openai library would take from ``OPENAI_CUSTOM_HEADERS``."""
    names = []
    for line in os.environ.get("OPENAI_CUSTOM_HEADERS", "").split("\n"):
        name, colon, _ = line.partition(":")
        if colon and name.strip():
            names.append(name.strip())
    return names


_Event = tuple[Literal["delta"], str] | tuple[Literal["done"], None] \
    | tuple[Literal["error"], GenerationFailed]


def _next_event(events: queue.Queue[_Event], deadline: float) -> _Event:
    """The worker's next event, waiting until ``deadline`` at most; raises queue.Empty when
    none came by then. Past the deadline what is already queued is still taken: a reader that
    comes back late (a slow client) keeps an answer that was finished in time."""
    remaining = deadline - time.monotonic()
    if remaining > 0:
        return events.get(timeout=remaining)
    return events.get_nowait()


class OpenAIGenerator:
    """A :class:`Generator` over an OpenAI-compatible chat completions API, through the
    ``openai`` client library: streamed, temperature 0, at most ``max_tokens`` tokens, and
    the whole answer within ``timeout`` seconds — enforced between streamed pieces too, so a
    server that stalls mid-answer fails in time.

    ``model=None`` asks the server's ``/models`` for its first model (a llama.cpp server or
    a one-model Ollama needs no name). ``key`` is sent as a Bearer token to ``url`` and
    nowhere else, and appears in no message, ``repr`` or log line. Nothing else from the
    environment is sent: not ``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``,
    ``OPENAI_CUSTOM_HEADERS`` or ``OPENAI_API_KEY``, which the library would otherwise add.

    ``max_concurrent`` (default :data:`DEFAULT_MAX_CONCURRENT`) limits the requests this
    generator runs at once, across all threads; a request that finds no free slot within
    ``busy_wait`` seconds (default :data:`DEFAULT_BUSY_WAIT`) fails with "the language model
    is busy". A reply longer than ``max_tokens`` × :data:`CHARS_PER_TOKEN` characters fails
    with "the reply was too long". Invalid settings raise :class:`ConfigError`."""

    def __init__(self, url: str, *, model: str | None = None, key: str | None = None,
                 timeout: float = 60.0, max_tokens: int = DEFAULT_MAX_TOKENS,
                 max_retries: int = DEFAULT_MAX_RETRIES,
                 max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                 busy_wait: float = DEFAULT_BUSY_WAIT) -> None:
        if not timeout > 0:  # written so, NaN fails too
            raise ConfigError(f"the language model timeout must be a positive number of "
                              f"seconds, not {timeout!r}")
        if max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, not {max_tokens!r}")
        if max_concurrent < 1:
            raise ConfigError(f"max_concurrent must be at least 1, not {max_concurrent!r}")
        if not busy_wait >= 0:
            raise ConfigError(f"busy_wait must be zero or more seconds, not {busy_wait!r}")
        self._url = url.rstrip("/")
        self._shown_url = _safe_url(self._url)
        self._secrets = _url_secrets(self._url)
        self._model = model or None
        self._key = key or None
        self._timeout = float(timeout)
        self._max_tokens = max_tokens
        self._max_retries = max_retries
        self._max_chars = max_tokens * CHARS_PER_TOKEN
        self._max_concurrent = max_concurrent
        self._busy_wait = float(busy_wait)
        # Taken by the reader before a request starts, given back by the worker thread when
        # the request has ended (its connection closed), not when the reader leaves.
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIGenerator:
        """The generator ``settings`` describe (``llm_url`` must be set)."""
        if not settings.llm_url:
            raise ValueError("Settings.llm_url is not set: no language model is configured")
        return cls(settings.llm_url, model=settings.llm_model, key=settings.llm_key,
                   timeout=settings.llm_timeout)

    def __repr__(self) -> str:
        # Written out so the key can never reach a log through a repr.
        return (f"OpenAIGenerator(url={self._shown_url!r}, model={self._model!r}, "
                f"timeout={self._timeout:g}, key={'set' if self._key else 'none'})")

    @property
    def url(self) -> str:
        """The server's base URL as given, without user or password."""
        return self._shown_url

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def max_concurrent(self) -> int:
        """Requests this generator runs at once at most."""
        return self._max_concurrent

    @property
    def name(self) -> str:
        """The model's name: the one configured, else the server's first model (asked once,
        a few seconds at most: this is for reports); a description instead of raising when the
        server cannot be asked."""
        if self._model:
            return self._model
        try:
            return self.resolve_model(timeout=min(self._timeout, 5.0))
        except GenerationFailed:
            return f"the first model at {self._shown_url}"

    def resolve_model(self, *, timeout: float | None = None) -> str:
        """The model the requests name: the configured one, or the first one the server's
        ``/models`` lists (asked once, then remembered). Raises :class:`GenerationFailed`."""
        if self._model:
            return self._model
        failure: GenerationFailed | None = None
        ids: list[str] = []
        try:
            page = self._openai().models.list(timeout=timeout or self._timeout)
            ids = [m.id for m in page.data if getattr(m, "id", None)]
        except Exception as exc:  # every failure becomes a reason in words
            failure = self._failure(exc, "listing its models")
        if failure is not None:
            # Raised outside the except block: the openai error, whose request holds the
            # Authorization header and whose text may echo it, is not even its __context__.
            raise failure
        if not ids:
            raise self._fail(
                f"the server at {self._shown_url} lists no models; name one with --llm-model")
        with self._lock:
            self._model = self._model or ids[0]
        return self._model

    def stream(self, question: str, passages: Sequence[Passage], *,
               history: Sequence[tuple[str, str]] = (),
               language: str | None = None) -> Iterator[str]:
        messages = build_messages(question, passages, history=history, language=language)
        started = time.monotonic()
        deadline = started + self._timeout
        wait = min(self._busy_wait, self._timeout)
        if not self._slots.acquire(timeout=wait):
            raise self._fail(
                f"the language model is busy: {self._max_concurrent} requests to "
                f"{self._shown_url} are running already", f"no free slot within {wait:g} s")
        # The request runs in a worker thread and hands its pieces over a queue: the wait
        # for each piece is then bounded by the time left. A read timeout alone would restart
        # with every piece, and a server that stalls after its first token would hold the
        # reader for a second full timeout.
        events: queue.Queue[_Event] = queue.Queue()
        stop = threading.Event()
        holder = _ResponseHolder()
        worker = threading.Thread(target=self._produce,
                                  args=(messages, deadline, events, stop, holder),
                                  name="llm-stream", daemon=True)
        try:
            worker.start()
        except BaseException:
            self._slots.release()
            raise
        pieces = 0
        chars = 0
        try:
            while True:
                try:
                    event = _next_event(events, deadline)
                except queue.Empty:
                    where = (f"after {pieces} streamed pieces" if pieces
                             else "before the first word")
                    raise self._fail(
                        f"timed out after {self._timeout:g} s waiting for {self._shown_url} "
                        f"({where})") from None
                if event[0] == "delta":
                    chars += len(event[1])
                    if chars > self._max_chars:
                        raise self._fail(
                            f"the reply was too long: over {self._max_chars} characters from "
                            f"the model server at {self._shown_url}",
                            f"max_tokens={self._max_tokens} was not kept to")
                    pieces += 1
                    yield event[1]
                elif event[0] == "done":
                    break
                else:
                    raise event[1]
        finally:
            # The reader left, failed or timed out: the worker stops at its next piece, and
            # closing the response ends a read it is blocked in (a stalled server or one that
            # only sends keep-alive comments), so the thread and its connection end now.
            stop.set()
            holder.close()
        if not pieces:
            raise self._fail(f"the model at {self._shown_url} sent an empty reply")
        log.debug("%s wrote %d pieces in %.2f s", self._model, pieces,
                  time.monotonic() - started)

    # -- internals ------------------------------------------------------------------------

    def _openai(self) -> openai.OpenAI:
        """The client, made once; its connection pool is shared by all requests and threads."""
        with self._lock:
            if self._client is None:
                import openai

                # An explicit key even when none is configured: given None, the library would
                # send OPENAI_API_KEY from the environment to whatever server llm_url names.
                key = self._key or "not-needed"
                # Headers OPENAI_CUSTOM_HEADERS would add are omitted, and the Authorization
                # header is ours (the library lets that variable replace it otherwise).
                headers: dict[str, str | openai.Omit] = {
                    name: openai.Omit() for name in _environment_header_names()}
                headers["Authorization"] = f"Bearer {key}"
                client = _client_class()(
                    base_url=self._url, api_key=key, organization=None, project=None,
                    timeout=self._timeout, max_retries=self._max_retries,
                    default_headers=cast("dict[str, str]", headers))
                # Given None, the library still reads OPENAI_ORG_ID and OPENAI_PROJECT_ID and
                # sends them as headers: cleared, so nothing of the environment's goes out.
                client.organization = None
                client.project = None
                self._client = client
            return self._client

    def _produce(self, messages: list[ChatCompletionMessageParam], deadline: float,
                 events: queue.Queue[_Event], stop: threading.Event,
                 holder: _ResponseHolder) -> None:
        """The worker: one streamed request, its pieces put on ``events``, then "done" or the
        failure. Returns quietly once the reader has gone (``stop``, or its response closed
        through ``holder``); gives back its request slot when it returns."""
        _request_deadline.value = deadline
        try:
            self._request(messages, deadline, events, stop, holder)
        finally:
            _request_deadline.value = None
            self._slots.release()

    def _request(self, messages: list[ChatCompletionMessageParam], deadline: float,
                 events: queue.Queue[_Event], stop: threading.Event,
                 holder: _ResponseHolder) -> None:
        try:
            model = self.resolve_model(timeout=max(deadline - time.monotonic(), 0.001))
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set():
                return  # the reader reports the timeout
            response = self._openai().chat.completions.create(
                model=model, messages=messages, stream=True, temperature=0,
                max_tokens=self._max_tokens, timeout=remaining)
            if not holder.hold(response):
                return  # the reader left while the request was made; now closed
            with response:
                for chunk in response:
                    if stop.is_set():
                        return
                    for choice in chunk.choices or ():
                        # n=1: one choice; a server that sends others is not read twice
                        delta = choice.delta if choice.index == 0 else None
                        content = delta.content if delta is not None else None
                        if content is not None and not isinstance(content, str):
                            raise TypeError(f"delta content is {type(content).__name__}")
                        if content:
                            events.put(("delta", content))
            events.put(("done", None))
        except Exception as exc:
            if not stop.is_set():
                events.put(("error", self._failure(exc, "writing the answer")))

    def _redact(self, text: str, limit: int = 200) -> str:
        """``text`` without the key or the URL's password and query string (a server may
        echo a request's headers in an error body), cut to ``limit`` characters."""
        if self._key:
            text = text.replace(self._key, "[key]")
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = re.sub(r"(?i)\bbearer\s+\S+", "Bearer [key]", text)
        text = " ".join(text.split())
        return text if len(text) <= limit else text[:limit - 1] + "…"

    def _fail(self, message: str, detail: str = "") -> GenerationFailed:
        """A :class:`GenerationFailed` with ``message`` (short, for the reader), logged as a
        warning with ``detail`` (for operators). Neither may hold the key: ``message`` is
        made of the safe URL and fixed words, ``detail`` is redacted by the caller."""
        log.warning("language model request failed: %s%s", message,
                    f" [{detail}]" if detail else "")
        return GenerationFailed(message)

    def _failure(self, exc: Exception, doing: str) -> GenerationFailed:
        """``exc`` as a :class:`GenerationFailed` whose message says briefly what went wrong,
        without the key; the detail is logged. The original is never chained to it: its
        request carries the Authorization header."""
        import openai

        url = self._shown_url
        if isinstance(exc, GenerationFailed):
            return exc
        detail = f"while {doing}: {type(exc).__name__}: {self._redact(str(exc), 500)}"
        if isinstance(exc, openai.APITimeoutError | _DeadlinePassed):
            return self._fail(
                f"timed out after {self._timeout:g} s waiting for {url} ({doing})", detail)
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = self._redact(str(cause), 500) if cause is not None and str(cause) else ""
            detail += f" ({reason})" if reason else ""
            if "refused" in reason.lower():
                return self._fail(f"connection refused at {url}: is the model server "
                                  "running there?", detail)
            return self._fail(f"could not connect to the model server at {url}", detail)
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            said = self._status_detail(exc)
            hint = ""
            if status in (401, 403):
                hint = " (the API key was refused: check PRESS_ASSISTANT_LLM_KEY)"
            elif status == 404:
                hint = (" (is the model name right, and does the URL end where the API starts, "
                        "e.g. /v1?)")
            return self._fail(f"HTTP {status} from the model server at {url}{hint}",
                              f"while {doing}" + (f": the server said: {said}" if said else ""))
        if isinstance(exc, openai.APIResponseValidationError):
            return self._fail(f"malformed reply from the model server at {url}: "
                              "not the shape of a chat completion", detail)
        if isinstance(exc, openai.APIError):
            # An error event inside the stream, e.g. the server ran out of context: its own
            # words are what the reader needs.
            return self._fail(f"the model server at {url} reported an error: "
                              f"{self._redact(exc.message, 120)}", detail)
        if isinstance(exc, ValueError | KeyError | TypeError | AttributeError | IndexError):
            # json.JSONDecodeError is a ValueError: a data line that is not JSON.
            return self._fail(f"malformed reply from the model server at {url}", detail)
        # httpx errors mid-stream (the connection closed half-way) and anything else.
        return self._fail(f"the reply from the model server at {url} broke off", detail)

    def _status_detail(self, exc: openai.APIStatusError) -> str:
        """The server's own words from an error reply, if it gave any."""
        body = exc.body
        if isinstance(body, dict):
            error = body.get("error", body)
            if isinstance(error, dict):
                message = error.get("message")
                if isinstance(message, str):
                    return self._redact(message)
            elif isinstance(error, str):
                return self._redact(error)
        if isinstance(body, str):
            return self._redact(body)
        try:
            return self._redact(exc.response.text)
        except Exception:  # a streamed response whose body was not read
            return ""
