"""The generator stage: a language model behind any OpenAI-compatible chat API (Ollama,
llama.cpp's server, vLLM, LM Studio, a hosted API) writes an answer from numbered passages.

Nothing it writes is shown unchecked: :mod:`assistant.composing` runs every sentence through
:mod:`assistant.checking` and falls back to the extractive answer when this stage raises
:class:`~assistant.errors.GenerationFailed` (refused connection, HTTP error, timeout, a reply
that is not a chat completion, an empty reply). The reason is in words and never holds the API
key.

::

    gen = OpenAIGenerator.from_settings(settings)        # llm_url, llm_model, llm_key, llm_timeout
    for delta in gen.stream(question, passages, history=[(q, a)], language="de"):
        print(delta, end="")
    text = generate(gen, question, passages)              # the same, joined

The ``openai`` client library is imported on first use, so ``import assistant`` stays fast.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from . import prompts
from .errors import GenerationFailed

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

    from .config import Settings
    from .documents import Passage

__all__ = [
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
    """The URL without user or password (``http://user:secret@host`` is a way to pass a key),
    for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


_Event = tuple[Literal["delta"], str] | tuple[Literal["done"], None] \
    | tuple[Literal["error"], GenerationFailed]


class OpenAIGenerator:
    """A :class:`Generator` over an OpenAI-compatible chat completions API, through the
    ``openai`` client library: streamed, temperature 0, at most ``max_tokens`` tokens, and
    the whole answer within ``timeout`` seconds — enforced between streamed pieces too, so a
    server that stalls mid-answer fails in time.

    ``model=None`` asks the server's ``/models`` for its first model (a llama.cpp server or
    a one-model Ollama needs no name). ``key`` is sent as a Bearer token to ``url`` and
    nowhere else, and appears in no message, ``repr`` or log line."""

    def __init__(self, url: str, *, model: str | None = None, key: str | None = None,
                 timeout: float = 60.0, max_tokens: int = DEFAULT_MAX_TOKENS,
                 max_retries: int = DEFAULT_MAX_RETRIES) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        self._url = url.rstrip("/")
        self._shown_url = _safe_url(self._url)
        self._model = model or None
        self._key = key or None
        self._timeout = float(timeout)
        self._max_tokens = max_tokens
        self._max_retries = max_retries
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
            raise GenerationFailed(
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
        # The request runs in a worker thread and hands its pieces over a queue: the wait
        # for each piece is then bounded by the time left. A read timeout alone would restart
        # with every piece, and a server that stalls after its first token would hold the
        # reader for a second full timeout.
        events: queue.Queue[_Event] = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(target=self._produce, args=(messages, deadline, events, stop),
                                  name="llm-stream", daemon=True)
        worker.start()
        pieces = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise queue.Empty
                    event = events.get(timeout=remaining)
                except queue.Empty:
                    where = (f"after {pieces} streamed pieces" if pieces
                             else "before the first word")
                    raise GenerationFailed(
                        f"timed out after {self._timeout:g} s waiting for {self._shown_url} "
                        f"({where})") from None
                if event[0] == "delta":
                    pieces += 1
                    yield event[1]
                elif event[0] == "done":
                    break
                else:
                    raise event[1]
        finally:
            # Stops the worker at its next piece (the reader left, failed or timed out); a
            # worker blocked on a stalled server ends at its own read timeout, the time left.
            stop.set()
        if not pieces:
            raise GenerationFailed(f"the model at {self._shown_url} sent an empty reply")
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
                self._client = openai.OpenAI(
                    base_url=self._url, api_key=self._key or "not-needed",
                    timeout=self._timeout, max_retries=self._max_retries)
            return self._client

    def _produce(self, messages: list[ChatCompletionMessageParam], deadline: float,
                 events: queue.Queue[_Event], stop: threading.Event) -> None:
        """The worker: one streamed request, its pieces put on ``events``, then "done" or the
        failure. Returns quietly once the reader has gone (``stop``)."""
        try:
            model = self.resolve_model(timeout=max(deadline - time.monotonic(), 0.001))
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop.is_set():
                return  # the reader reports the timeout
            response = self._openai().chat.completions.create(
                model=model, messages=messages, stream=True, temperature=0,
                max_tokens=self._max_tokens, timeout=remaining)
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

    def _redact(self, text: str) -> str:
        """``text`` without the key (a server may echo a request's headers in an error
        body), cut to a readable length."""
        if self._key:
            text = text.replace(self._key, "[key]")
        text = re.sub(r"(?i)\bbearer\s+\S+", "Bearer [key]", text)
        text = " ".join(text.split())
        return text if len(text) <= 200 else text[:199] + "…"

    def _failure(self, exc: Exception, doing: str) -> GenerationFailed:
        """``exc`` as a :class:`GenerationFailed` whose message says what went wrong, in
        words and without the key. The original is never chained to it: its request carries
        the Authorization header."""
        import openai

        url = self._shown_url
        if isinstance(exc, GenerationFailed):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return GenerationFailed(
                f"timed out after {self._timeout:g} s waiting for {url} ({doing})")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = self._redact(str(cause)) if cause is not None and str(cause) else ""
            if "refused" in detail.lower():
                return GenerationFailed(f"connection refused at {url}: is the model server "
                                        "running there?")
            return GenerationFailed(
                f"could not connect to {url}" + (f": {detail}" if detail else ""))
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            detail = self._status_detail(exc)
            hint = ""
            if status in (401, 403):
                hint = " (the API key was refused: check PRESS_ASSISTANT_LLM_KEY)"
            elif status == 404:
                hint = (" (is the model name right, and does the URL end where the API starts, "
                        "e.g. /v1?)")
            return GenerationFailed(f"{url} answered HTTP {status} while {doing}{hint}"
                                    + (f": {detail}" if detail else ""))
        if isinstance(exc, openai.APIResponseValidationError):
            return GenerationFailed(f"malformed reply from {url} while {doing}: "
                                    "not the shape of a chat completion")
        if isinstance(exc, openai.APIError):
            # An error event inside the stream, e.g. the server ran out of context.
            return GenerationFailed(f"{url} reported an error while {doing}: "
                                    f"{self._redact(exc.message)}")
        if isinstance(exc, ValueError | KeyError | TypeError | AttributeError | IndexError):
            # json.JSONDecodeError is a ValueError: a data line that is not JSON.
            return GenerationFailed(f"malformed reply from {url} while {doing}: "
                                    f"{type(exc).__name__}: {self._redact(str(exc))}")
        # httpx errors mid-stream (the connection closed half-way) and anything else.
        return GenerationFailed(f"the reply from {url} broke off while {doing}: "
                                f"{type(exc).__name__}: {self._redact(str(exc))}")

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
