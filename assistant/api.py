"""The HTTP JSON API served beside the chat: ``/api/ask``, ``/api/search``, ``/api/documents``
and ``/api/health``, described at ``/api/openapi.json`` (behind the same credentials; no
browsable docs page, which would load Swagger UI's scripts from a CDN: open the JSON in any
OpenAPI viewer). ``/source/{id}`` serves the file a document was read from, when it has one.

Answers have the shape ``press-assistant ask --json`` prints. Every error is JSON,
``{"error": "what to do"}``, with a 4xx status for a bad request (a missing question, an
unknown field, a malformed date, a body over the size limit) and 503 while the index cannot
be read; a bug answers 500 with no traceback (the server log keeps it). With credentials set,
every endpoint asks for them (HTTP Basic), as the chat does. No request, however odd its
values, answers 500.

This module imports FastAPI and pydantic at once: it is loaded only to serve.
"""

import datetime as dt
import itertools
import json
import logging
import secrets
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from . import __version__
from .config import MAX_QUESTION_CHARS
from .documents import Answer, Turn
from .errors import (
    AssistantError,
    IndexFolderError,
    QueryError,
    QuotaExceeded,
    UnsupportedFormat,
    UploadTooLarge,
)
from .guard import JSON_LIMIT, MULTIPART_SLACK, BodyLimit
from .service import Assistant
from .uploads import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES, REMOVED_NOTE, Uploader, checked_name, remove

log = logging.getLogger(__name__)

MAX_BODY = JSON_LIMIT
"""Bytes a JSON request may have: a question with its conversation needs far less."""
MAX_QUESTION = MAX_QUESTION_CHARS
MAX_OFFSET = 10**9
"""The largest ``offset`` of /api/documents: far past any archive, well inside SQLite's
integers (a larger one was a 500)."""
_COPY_CHUNK = 1024 * 1024


class _Strict(BaseModel):
    # An unknown field is an error, not silently ignored: a misspelt filter ("snce") would
    # otherwise search the whole archive while the caller believes it filtered.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        # JSON may escape a lone surrogate ("\ud800"), which no UTF-8 text holds: refused
        # here as a bad value, or SQLite refuses it deep in a search as a 500.
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("not valid text (a lone UTF-16 surrogate)") from None
        return value


class FiltersIn(_Strict):
    since: dt.date | None = Field(None, description="Published on or after (YYYY-MM-DD).")
    until: dt.date | None = Field(None, description="Published on or before (YYYY-MM-DD).")
    collections: list[str] = Field(default_factory=list, max_length=100,
                                   description="Only documents of these collections (the "
                                               "folder or export file they came from).")
    languages: list[str] = Field(default_factory=list, max_length=20,
                                 description="Only documents in these languages (en, ru, ...).")


class TurnIn(_Strict):
    question: str = Field(max_length=MAX_QUESTION)
    cited: list[str] = Field(default_factory=list, max_length=50,
                             description="Ids of the releases the answer cited, first first.")
    answer: str = Field("", max_length=20_000,
                        description="The answer's text (a language model writing the next "
                                    "answer reads the conversation).")


class AskIn(_Strict):
    question: str = Field(min_length=1, max_length=MAX_QUESTION)
    filters: FiltersIn = Field(default_factory=FiltersIn)
    history: list[TurnIn] = Field(
        default_factory=list, max_length=20,
        description="The conversation so far, oldest first: each earlier question, the "
                    "releases its answer cited (`question` and the citations' `doc_id`s) and, "
                    "optionally, the answer's text (`answer`, read by a language model).")
    k: int | None = Field(None, ge=1, le=50, description="Passages to read (default: settings).")


class SearchIn(_Strict):
    query: str = Field(min_length=1, max_length=MAX_QUESTION)
    filters: FiltersIn = Field(default_factory=FiltersIn)
    k: int = Field(10, ge=1, le=100)


class VersionOut(BaseModel):
    doc_id: str
    lang: str | None
    title: str
    url: str | None
    date: str | None


class CitationOut(BaseModel):
    n: int
    doc_id: str
    title: str
    date: str | None
    url: str | None
    quote: str = Field(description="Verbatim text of the release: text[start:end].")
    start: int
    end: int
    score: float
    page: int | None
    ocr: bool = Field(False, description="The quote's page was read by OCR from a scan: its "
                                         "words are what OCR read.")
    versions: list[VersionOut] = Field(
        default_factory=list, description="The same release in other languages, or its other "
                                          "postings: offer them beside the citation.")


class AnswerSpanOut(BaseModel):
    n: int = Field(description="The citation whose quote holds the span.")
    start: int = Field(description="Offset in the release's stored text.")
    end: int
    text: str = Field(description="The words that answer: text[start:end] of the release.")
    part: int = Field(description="Which part of the question it answers, from 0.")
    answer_type: str = Field(description="number, amount, date, person, organisation or place.")


class DroppedOut(BaseModel):
    sentence: str
    reason: str


class AnswerOut(BaseModel):
    question: str
    answer: str = Field(description="Quoted sentences, each followed by its [n] marker.")
    abstained: bool
    searched: str | None = Field(description="The publication dates searched, when not all.")
    count: int | None = Field(description="For a list question: how many releases match.")
    citations: list[CitationOut]
    answer_spans: list[AnswerSpanOut] = Field(
        description="The words of the quotes that answer the question's parts.")
    unanswered_parts: list[str] = Field(
        description="Parts of the question that no quoted sentence answers.")
    confidence: float | None = Field(
        description="The judge's confidence that the archive answers the question.")
    reason: str | None = Field(description="Why the assistant declined, when it did.")
    generator: str | None = Field(
        description="The language model that wrote the answer (each sentence checked against "
                    "the passage it cites), or null for the extractive answer.")
    fallback: str | None = Field(
        description="Why the extractive answer is shown although a language model is "
                    "configured (it failed, timed out, or no sentence passed the check).")
    dropped: list[DroppedOut] = Field(
        description="Generated sentences the check removed, each with its reason.")


class HitOut(BaseModel):
    doc_id: str
    title: str
    date: str | None
    url: str | None
    text: str
    start: int
    end: int
    score: float
    page: int | None
    collection: str
    ocr: bool = Field(False, description="The passage's page was read by OCR from a scan.")
    lang: str | None = Field(None, description="The release's language (ISO 639-1).")
    versions: list[VersionOut] = Field(
        default_factory=list, description="The same release in other languages, or its other "
                                          "postings, left out of the hits in favour of this one.")


class SearchOut(BaseModel):
    query: str
    hits: list[HitOut]


class DocumentOut(BaseModel):
    id: str
    title: str
    date: str | None
    url: str | None
    collection: str
    lang: str | None
    chars: int


class DocumentsOut(BaseModel):
    total: int
    documents: list[DocumentOut]


class DocumentTextOut(DocumentOut):
    text: str
    ocr_pages: list[int] = Field(default_factory=list,
                                 description="Pages (from 1) whose text OCR read from a scan.")


class UploadOut(BaseModel):
    saved: list[str] = Field(description="File names as saved in the uploads folder.")
    indexing: bool


class SkippedOut(BaseModel):
    path: str
    reason: str


class UploadStatusOut(BaseModel):
    running: bool
    stage: str
    done: int
    total: int
    message: str
    skipped: list[SkippedOut]


class RemovedOut(BaseModel):
    removed: str
    file_deleted: bool
    note: str = Field(description="What became of the document's file, and whether the "
                                  "document comes back when its folder is indexed again.")


class HealthOut(BaseModel):
    status: str
    version: str
    documents: int
    chunks: int
    model: str
    updated_at: str | None
    collections: list[str] = Field(description="Values for the collections filter.")
    languages: list[str] = Field(description="Values for the languages filter.")


class ErrorOut(BaseModel):
    error: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 413, 422, 503)}


def _copy_counted(source: IO[bytes], target: IO[bytes], name: str, *, file_limit: int,
                  left: int, request_limit: int) -> int:
    """Copy an uploaded file, counting: stops with a 413 as soon as it passes
    ``file_limit`` or the ``left`` bytes of the request's ``request_limit``, whatever size it
    was declared with. Returns the bytes copied."""
    copied = 0
    while chunk := source.read(_COPY_CHUNK):
        copied += len(chunk)
        if copied > file_limit:
            raise HTTPException(413, f"{name}: over the {_size(file_limit)} limit a file")
        if copied > left:
            raise HTTPException(413, f"the files of this request are over the "
                                     f"{_size(request_limit)} limit a request: send them a "
                                     "few at a time")
        target.write(chunk)
    return copied


def _turns(body: AskIn) -> list[Turn]:
    return [Turn(question=t.question, cited=tuple(t.cited), answer=t.answer)
            for t in body.history]


def _sse(events: Iterator[str | Answer]) -> Iterator[str]:
    """Server-sent events of :meth:`Assistant.ask_stream`; JSON data is one line (json.dumps
    escapes newlines), so no event can break the framing."""
    try:
        for event in events:
            if isinstance(event, str):
                yield f"event: delta\ndata: {json.dumps({'text': event}, ensure_ascii=False)}\n\n"
            else:
                yield f"event: answer\ndata: {json.dumps(event.to_json(), ensure_ascii=False)}\n\n"
    except AssistantError as exc:  # after the response started: said in the stream
        yield f"event: error\ndata: {json.dumps({'error': str(exc)}, ensure_ascii=False)}\n\n"
    except Exception:  # a bug: the stream still ends with an event, the log has the details
        log.exception("streaming an answer failed")
        yield ('event: error\ndata: {"error": "something went wrong on the server; the '
               'details are in its log"}\n\n')


def _size(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def _no_document(doc_id: str) -> HTTPException:
    return HTTPException(404, f"no document {doc_id!r} in the index")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _basic_auth(credentials: tuple[str, str]) -> Callable[..., None]:
    user, password = (c.encode() for c in credentials)
    scheme = HTTPBasic(auto_error=False)

    def check(given: Annotated[HTTPBasicCredentials | None, Depends(scheme)]) -> None:
        # Both compared in constant time, and both always compared: no timing hint of which
        # half was wrong.
        ok = given is not None and all([
            secrets.compare_digest(given.username.encode(), user),
            secrets.compare_digest(given.password.encode(), password)])
        if not ok:
            raise HTTPException(401, "credentials required: HTTP Basic with the user and "
                                     "password the server was started with",
                                headers={"WWW-Authenticate": 'Basic realm="press-assistant"'})
    return check


def build_api(assistant: Assistant, *, auth: tuple[str, str] | None = None,
              uploader: Uploader | None = None) -> FastAPI:
    """The FastAPI app with the JSON endpoints under ``/api``; the chat is mounted on it by
    :func:`assistant.web.serve`. With ``uploader``, files can be added and uploads removed."""
    # No docs page: Swagger UI and ReDoc load their scripts from a CDN, and FastAPI's own
    # /openapi.json route would skip the credentials; the schema is served by the router
    # below, behind them.
    app = FastAPI(title="Press archive assistant", version=__version__,
                  openapi_url=None, docs_url=None, redoc_url=None,
                  description="Ask an archive of press releases; every answer quotes the "
                              "releases word for word and cites them.")
    router = APIRouter(prefix="/api", responses=_ERRORS,
                       dependencies=[Depends(_basic_auth(auth))] if auth else [])

    @router.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @router.post("/ask", response_model=AnswerOut)
    def ask(body: AskIn) -> dict[str, object]:
        """An extractive answer with numbered, verbatim citations, or an abstention."""
        f = body.filters
        answer = assistant.ask(body.question, k=body.k, since=f.since, until=f.until,
                               collections=f.collections, languages=f.languages,
                               history=_turns(body))
        return answer.to_json()

    @router.post("/ask/stream", response_class=StreamingResponse, responses={200: {
        "content": {"text/event-stream": {}},
        "description": "Server-sent events: `delta` ({\"text\"}: the language model's "
                       "unchecked draft as it is written), then one `answer` (the checked "
                       "answer, as /api/ask returns it) or one `error` ({\"error\"})."}})
    def ask_stream(body: AskIn) -> StreamingResponse:
        """/api/ask as it happens, as server-sent events; without a language model
        configured, the one `answer` event."""
        f = body.filters
        events = assistant.ask_stream(body.question, k=body.k, since=f.since, until=f.until,
                                      collections=f.collections, languages=f.languages,
                                      history=_turns(body))
        # The first event is taken here, before the response starts: a bad question or a
        # missing index is still an HTTP error with its status, not a broken stream.
        first = next(events)
        return StreamingResponse(_sse(itertools.chain([first], events)),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @router.post("/search", response_model=SearchOut)
    def search(body: SearchIn) -> dict[str, object]:
        """The best-matching passages, best first."""
        f = body.filters
        hits = assistant.search(body.query, k=body.k, since=f.since, until=f.until,
                                collections=f.collections, languages=f.languages)
        return {"query": body.query, "hits": [h.to_json() for h in hits]}

    @router.get("/documents", response_model=DocumentsOut)
    def documents(
        contains: Annotated[str, Query(max_length=200, description="In the title or id.")] = "",
        collection: Annotated[str | None, Query(max_length=500)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, object]:
        """The stored documents without their text, newest first."""
        return assistant.list_documents(contains=contains, collection=collection, limit=limit,
                                        offset=offset).to_json()

    @router.get("/documents/{doc_id:path}", response_model=DocumentTextOut)
    def document(doc_id: str) -> dict[str, object]:
        """One document with its whole text."""
        doc = assistant.document(doc_id)
        if doc is None:
            raise _no_document(doc_id)
        return {"id": doc.id, "title": doc.title, "date": doc.date.isoformat() if doc.date else None,
                "url": doc.url, "collection": doc.collection, "lang": doc.lang,
                "chars": len(doc.text), "text": doc.text, "ocr_pages": list(doc.ocr_pages)}

    @router.post("/documents", status_code=202, response_model=UploadOut,
                 responses={403: {"model": ErrorOut}, 415: {"model": ErrorOut},
                            507: {"model": ErrorOut}})
    def add_documents(files: list[UploadFile]) -> dict[str, object]:
        """Save release files (the formats the indexer reads, each within the size limit,
        all together within the request's and the uploads folder's limits) under the corpus
        folder and index it again in the background (see /api/uploads). All or none: a
        refused request saves no file."""
        if uploader is None:
            raise HTTPException(403, "uploads are off on this server (serve --no-uploads)")
        names = [item.filename or "upload" for item in files]
        # Every file is checked before any is saved, cheapest first: types, sizes as sent,
        # then sizes as counted while copying, then the folder's quota.
        for name in names:
            try:
                checked_name(name)
            except UnsupportedFormat as exc:
                raise HTTPException(415, str(exc)) from exc
        per_file, per_request = MAX_UPLOAD_BYTES, uploader.request_bytes
        for item, name in zip(files, names, strict=True):
            if item.size is not None and item.size > per_file:
                raise HTTPException(413, f"{name}: {_size(item.size)} is over the "
                                         f"{_size(per_file)} limit a file")
        with tempfile.TemporaryDirectory(prefix="press-upload-") as scratch:
            copies: list[tuple[Path, str]] = []
            sent = 0
            for number, (item, name) in enumerate(zip(files, names, strict=True)):
                copy = Path(scratch) / str(number)
                with copy.open("wb") as out:
                    sent += _copy_counted(item.file, out, name, file_limit=per_file,
                                          left=per_request - sent, request_limit=per_request)
                copies.append((copy, name))
            try:
                saved = uploader.save(copies, max_bytes=per_file)
            except UnsupportedFormat as exc:
                raise HTTPException(415, str(exc)) from exc
            except QuotaExceeded as exc:
                raise HTTPException(507, str(exc)) from exc
            except UploadTooLarge as exc:
                raise HTTPException(413, str(exc)) from exc
        uploader.start()
        return {"saved": [path.name for path in saved], "indexing": True}

    @router.get("/uploads", response_model=UploadStatusOut)
    def upload_status() -> dict[str, object]:
        """The background indexing of uploads: running or how the last run ended."""
        status = uploader.status if uploader is not None else None
        if status is None:
            return {"running": False, "stage": "", "done": 0, "total": 0, "message": "",
                    "skipped": []}
        skipped = [{"path": s.path, "reason": s.reason}
                   for s in (status.report.skipped if status.report else ())]
        return {"running": status.running, "stage": status.stage, "done": status.done,
                "total": status.total, "message": status.message, "skipped": skipped}

    @router.delete("/documents/{doc_id:path}", response_model=RemovedOut)
    def remove_document(doc_id: str) -> dict[str, object]:
        """Take a document out of the index; when it was read from an upload holding it alone,
        that file is deleted too. No other file is ever touched: a record of an uploaded export
        leaves the export, and comes back when the folder is indexed again."""
        if assistant.document(doc_id) is None:
            raise _no_document(doc_id)
        doc, deleted = remove(assistant, doc_id, uploader.folder if uploader is not None else None)
        return {"removed": doc.id, "file_deleted": deleted, "note": REMOVED_NOTE[deleted]}

    @router.get("/health", response_model=HealthOut)
    def health() -> dict[str, object]:
        """Whether the index can be read, and what it holds."""
        info = assistant.info()
        return {"status": "ok", "version": __version__, "documents": info.documents,
                "chunks": info.chunks, "model": info.model, "updated_at": info.updated_at,
                "collections": list(info.collections), "languages": list(info.languages)}

    app.include_router(router)
    app.add_api_route("/source/{doc_id:path}", _source_file(assistant), methods=["GET"],
                      include_in_schema=False,
                      dependencies=[Depends(_basic_auth(auth))] if auth else [])
    _handle_errors(app)
    # Bodies bounded however they are sent (Content-Length or chunked), so the API is safe
    # on its own too; `serve` puts the whole server behind the same limit once more, outside
    # the checks that read Gradio's bodies (web.build_server).
    app.add_middleware(BodyLimit, default=MAX_BODY, upload=MAX_REQUEST_BYTES + MULTIPART_SLACK)
    return app


def _source_file(assistant: Assistant) -> Callable[[str], FileResponse]:
    def source(doc_id: str) -> FileResponse:
        """The file a document was read from, when it holds that one document: the file the
        indexer recorded reading, never a path the document names (an export's record may
        name any file, hidden ones included)."""
        if assistant.document(doc_id) is None:
            raise _no_document(doc_id)
        path = assistant.source_file(doc_id)
        if path is None:
            where = urllib.parse.quote(doc_id, safe="/")
            raise HTTPException(404, "this document has no file of its own to open (it is a "
                                     "record of an export, or its file changed since it was "
                                     f"indexed): its text is at /api/documents/{where}")
        suffix = path.suffix.lower()
        # A release's own HTML must never run in this site's origin: pages come as plain
        # text, and the sandbox policy forbids scripts in whatever the browser shows.
        media = {".pdf": "application/pdf"}.get(suffix, "text/plain; charset=utf-8")
        inline = suffix in {".pdf", ".txt", ".md", ".markdown", ".html", ".htm", ".csv", ".jsonl"}
        return FileResponse(path, media_type=media, filename=path.name,
                            content_disposition_type="inline" if inline else "attachment",
                            headers={"X-Content-Type-Options": "nosniff",
                                     "Content-Security-Policy": "sandbox"})
    return source


def _handle_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        return _error(422, "invalid request: " + "; ".join(problems))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(QueryError)
    async def bad_question(_: Request, exc: QueryError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(IndexFolderError)
    async def unavailable(_: Request, exc: IndexFolderError) -> JSONResponse:
        return _error(503, str(exc))

    @app.exception_handler(AssistantError)
    async def refused(_: Request, exc: AssistantError) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _error(500, "internal error: the server log has the details")
