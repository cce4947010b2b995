"""HTTP protections around everything the server answers (the JSON API and the Gradio page
alike): pure ASGI middleware, standard library only, wrapped around the whole app by
:func:`assistant.web.serve` through :func:`protect`.

From the outside in:

* :class:`SecurityHeaders`: ``X-Frame-Options``, ``X-Content-Type-Options``,
  ``Referrer-Policy`` and a ``Content-Security-Policy`` on every response (the page's with a
  fresh nonce for Gradio's own inline scripts), and no CORS headers: nothing here is meant to
  be read by another site's scripts.
* :class:`HostCheck`: the server answers only for the host names it serves, so a DNS-rebinding
  domain that points at 127.0.0.1 gets a 400 instead of the archive.
* :class:`OriginCheck`: a state-changing request (POST, PUT, PATCH, DELETE) from a page of
  another origin gets a 403 (cross-site request forgery); programs that send no browser header
  at all pass.
* :class:`BodyLimit`: request bodies are counted as they stream in, chunked or not; over the
  limit the request gets a 413 and the rest is never read.
* :class:`LoginThrottle`: after a failed login from an address, its next attempts wait, longer
  after each failure, and a second attempt while one waits gets a 429.

Every refusal is ``{"error": "what is wrong"}`` as JSON, like the API's own errors.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import re
import secrets
import socket
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ANY_HOST = "*"
"""An allowed host that turns the host check off (a proxy in front checks names itself)."""
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
"""Always served: the machine's own names for itself."""
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
JSON_LIMIT = 1_000_000
"""Bytes of an ordinary request body: a question with its conversation needs far less."""
EVENT_LIMIT = 16 * 2**20
"""Bytes of a body sent to Gradio's event routes: the page sends the whole conversation shown
so far (answers with their source cards) with every question, which can grow past a megabyte."""
EVENT_PREFIX = "/gradio_api/"
UPLOAD_PATHS = frozenset({"/api/documents", "/gradio_api/upload"})
"""POSTed files: their limit is the upload limit, a few files of the largest size accepted."""
MULTIPART_SLACK = 2**20
"""Bytes of an upload request's body besides its files' (part headers, boundaries)."""
PAGE_PATHS = frozenset({"/", "/gradio_api/runs", "/gradio_api/runs/"})
"""Where Gradio serves its page (with inline scripts that get the CSP nonce)."""
LOGIN_PATHS = frozenset({"/login", "/login/"})
"""Gradio's login form (with PRESS_ASSISTANT_AUTH); it answers 400 to wrong credentials."""

_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})$")
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])(?![^>]*\snonce=)", re.IGNORECASE)


# -- small helpers ----------------------------------------------------------------------------


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower case), decoded as Latin-1; None when
    absent."""
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str,
                 headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Answer ``{"error": message}`` with ``status`` (a WebSocket is closed instead: policy
    violation, which the server turns into a 403)."""
    if scope["type"] == "websocket":
        await receive()  # the websocket.connect
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def parse_host(value: str) -> tuple[str, int | None] | None:
    """``value`` (a Host header, or a name given on the command line) as its lower-case host
    name or IP address without brackets or a trailing dot, and its port; None when it is not
    one (a path, a scheme, spaces, a bad port...)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[1:end], value[end + 1:]
        if end < 0 or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
        try:
            host = str(ipaddress.IPv6Address(host))  # one spelling: [0::1] is ::1
        except ValueError:
            return None
    else:
        if value.count(":") > 1:  # a bare IPv6 address: only valid without a port
            try:
                return str(ipaddress.IPv6Address(value)), None
            except ValueError:
                return None
        host, sep, port_text = value.partition(":")
        port = port_text if sep else None
        host = host.rstrip(".")  # "localhost." is localhost
        if not host or not all(_HOST_LABEL.match(label) for label in host.split(".")):
            return None
    if port is None:
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# -- the policy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostPolicy:
    """Which ``Host`` names the server answers for, and which other origins count as its own.

    ``names``: accepted host names and addresses (lower case). ``public``: the names given
    explicitly (``--allowed-host``), the server's public names behind a reverse proxy: a page
    of theirs, on any port or scheme, is this server's own page (a proxy may hand the server
    a Host of its own, so the request's Host cannot tell). The localhost names are never
    public: another port of this machine is another program. ``any_ip``: every IP address
    is accepted (the server was bound to all interfaces, whose addresses nobody listed; an
    address, unlike a name, cannot be rebound). ``anything``: no check at all.
    """

    names: frozenset[str]
    public: frozenset[str] = frozenset()
    any_ip: bool = False
    anything: bool = False

    @classmethod
    def serving(cls, bind: str, extra: Iterable[str] = ()) -> HostPolicy:
        """The policy for a server bound to ``bind`` (``--host``) with ``extra`` names
        (``--allowed-host``; ``*`` for any). Raises ValueError for a name that is not one."""
        public = set()
        anything = False
        for item in extra:
            item = item.strip()
            if not item:
                continue
            if item == ANY_HOST:
                anything = True
                continue
            parsed = parse_host(item)
            if parsed is None:
                raise ValueError(f"{item!r} is not a host name or address (no scheme, no path)")
            public.add(parsed[0])
        public -= set(LOCAL_NAMES)
        names = set(public) | set(LOCAL_NAMES)
        bound = parse_host(bind) if bind not in _WILDCARDS else None
        if bound is not None:
            names.add(bound[0])
        wildcard = bind.strip("[]") in _WILDCARDS
        if wildcard:
            # Reached by whatever addresses the machine has, and by its own name.
            names.add(socket.gethostname().lower().rstrip("."))
        return cls(names=frozenset(names), public=frozenset(public), any_ip=wildcard,
                   anything=anything)

    def allows(self, host: str) -> bool:
        return (self.anything or host in self.names or (self.any_ip and _is_ip(host)))

    def same_origin(self, origin: str, host_header: str) -> bool:
        """Whether ``origin`` (an Origin or Referer header) is this server: the host and port
        the request itself was sent to (its Host header; a missing port is the origin's
        scheme's), or one of the public names."""
        try:
            parts = urllib.parse.urlsplit(origin.strip())
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return False
        named = parse_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname)
        if named is None:
            return False
        name = named[0]
        if name in self.public:
            return True
        target = parse_host(host_header)
        if target is None:
            return False
        default = 443 if parts.scheme == "https" else 80
        return name == target[0] and (port or default) == (target[1] or default)


# -- the middleware ---------------------------------------------------------------------------


class HostCheck:
    """400 for a request whose Host header names a host this server does not serve."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or self.policy.anything:
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"host")
        parsed = parse_host(given) if given is not None else None
        if parsed is None:
            await refuse(scope, receive, send, 400, "the request has no valid Host header")
            return
        if not self.policy.allows(parsed[0]):
            await refuse(scope, receive, send, 400,
                         f"this server does not answer for the host {parsed[0]!r}; start it "
                         f"with --allowed-host {parsed[0]} (or PRESS_ASSISTANT_ALLOWED_HOSTS) "
                         "if that is its name")
            return
        await self.app(scope, receive, send)


class OriginCheck:
    """403 for a state-changing request sent by a page of another origin.

    The Origin header decides; without one, Sec-Fetch-Site, then the Referer. A request with
    none of them comes from a program, not a browser page (browsers send Origin with every
    POST), and passes: forgery needs a victim's browser. WebSocket handshakes are checked too.
    """

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    def verdict(self, scope: Scope) -> str | None:
        """Why the request is refused, or None."""
        host = _header(scope, b"host") or ""
        origin = _header(scope, b"origin")
        if origin is not None:
            if origin.strip() == "null" or not self.policy.same_origin(origin, host):
                return f"cross-origin request refused (Origin {origin[:100]!r})"
            return None
        site = _header(scope, b"sec-fetch-site")
        if site is not None:
            if site.strip().lower() not in {"same-origin", "none"}:
                return f"cross-site request refused (Sec-Fetch-Site {site[:40]!r})"
            return None
        referer = _header(scope, b"referer")
        if referer is not None and not self.policy.same_origin(referer, host):
            return "cross-origin request refused (Referer of another site)"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        unsafe = (scope["type"] == "websocket" or
                  (scope["type"] == "http" and scope["method"] not in SAFE_METHODS))
        reason = self.verdict(scope) if unsafe else None
        if reason is not None:
            await refuse(scope, receive, send, 403, reason)
            return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    """Raised from ``receive`` once a body passes its limit."""


class BodyLimit:
    """413 for a request body over its limit, counted as it streams in (Content-Length, when
    given, refuses it before a byte is read). Limits: ``upload`` for POSTed files
    (:data:`UPLOAD_PATHS`), ``events`` for Gradio's routes, ``default`` for everything else.

    Once over, the app's ``receive`` raises and whatever the app answers or raises is dropped
    for the 413: it never sees more of the body, so memory holds at most one limit of it.
    """

    def __init__(self, app: ASGIApp, *, default: int = JSON_LIMIT, events: int = EVENT_LIMIT,
                 upload: int = JSON_LIMIT, upload_paths: frozenset[str] = UPLOAD_PATHS) -> None:
        self.app, self.default, self.events, self.upload = app, default, events, upload
        self.upload_paths = upload_paths

    def limit(self, scope: Scope) -> int:
        path = scope.get("path", "")
        if scope["method"] == "POST" and path in self.upload_paths:
            return self.upload
        return self.events if path.startswith(EVENT_PREFIX) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await refuse(scope, receive, send, 400, "the Content-Length header is not a number")
                return
            if int(declared) > limit:
                await refuse(scope, receive, send, 413, f"the request has {int(declared):,} "
                                                        f"bytes; the limit is {limit:,}")
                return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                raise _TooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over:
                return  # the app's answer to a broken body: ours replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not started:
            await refuse(scope, receive, send, 413,
                         f"the request body is over the limit of {limit:,} bytes",
                         [(b"connection", b"close")])


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    waiting: bool = False


class LoginThrottle:
    """Slows down guessing passwords, without blocking the event loop.

    An attempt is a request with an ``Authorization`` header (the API's HTTP Basic) or a
    POST to Gradio's ``/login``; it failed when the answer is 401 (or 400 from ``/login``,
    Gradio's "Incorrect credentials"). After ``n`` failures from an address, its next attempt
    waits until ``delay * 2**(n-1)`` seconds (at most ``cap``) after the last failure, and an
    attempt arriving while another one from the address waits is answered 429 at once: one
    guess per delay, however many connections. A success forgets the address's failures, and
    so does ``forget`` seconds without one. At most ``max_clients`` addresses are remembered
    (the oldest go first), so the table cannot grow without bound.
    """

    def __init__(self, app: ASGIApp, *, delay: float = 0.5, cap: float = 8.0,
                 forget: float = 900.0, max_clients: int = 10_000,
                 login_paths: frozenset[str] = LOGIN_PATHS) -> None:
        self.app, self.delay, self.cap, self.forget = app, delay, cap, forget
        self.max_clients, self.login_paths = max_clients, login_paths
        self.failures: OrderedDict[str, _Failures] = OrderedDict()

    def wait_after(self, count: int) -> float:
        return min(self.cap, self.delay * 2 ** (count - 1)) if count else 0.0

    def _failed(self, client: str) -> None:
        record = self.failures.get(client)
        if record is None:
            record = self.failures[client] = _Failures()
            while len(self.failures) > self.max_clients:
                self.failures.popitem(last=False)  # the address that failed longest ago
        self.failures.move_to_end(client)
        record.count += 1
        record.last = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        login = scope["type"] == "http" and scope["method"] == "POST" and \
            scope.get("path") in self.login_paths
        attempt = scope["type"] == "http" and (login or _header(scope, b"authorization") is not None)
        if not attempt:
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("unknown",))[0])
        now = time.monotonic()
        record = self.failures.get(client)
        if record is not None and now - record.last > self.forget and not record.waiting:
            del self.failures[client]
            record = None
        if record is not None and record.count:
            wait = record.last + self.wait_after(record.count) - now
            if record.waiting:
                retry = max(1, math.ceil(wait))
                await refuse(scope, receive, send, 429,
                             f"too many failed logins from your address: try again in {retry} s",
                             [(b"retry-after", str(retry).encode())])
                return
            if wait > 0:
                record.waiting = True
                try:
                    await asyncio.sleep(wait)
                finally:
                    record.waiting = False
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            if status == 401 or (login and status == 400):
                self._failed(client)
            elif 200 <= status < 400:
                self.failures.pop(client, None)


class SecurityHeaders:
    """Headers that keep the page out of frames and other sites' scripts, on every response.

    Gradio's page (:data:`PAGE_PATHS`) gets :meth:`page_policy` with a fresh nonce added to its
    own inline ``<script>`` tags, so no other inline script or ``onerror=`` attribute runs even
    if one got past the escaping. Other responses get a policy without any inline script; the
    JSON API's (``/api/...``, whose interactive docs load their own scripts) only the parts
    that concern framing, plugins and forms. A response's own Content-Security-Policy (the
    source files' ``sandbox``) is kept. CORS headers are dropped: the page calls its own
    origin, and no other site's scripts should read the archive with a visitor's cookies.
    """

    FIXED = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"same-origin"))
    BASE = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @classmethod
    def page_policy(cls, nonce: str | None) -> str:
        """The page's policy. Gradio styles elements inline (style attributes, Svelte's
        ``<style>`` tags), so styles allow inline. Scripts: the page's own files and, with
        ``nonce``, the inline scripts Gradio writes into the page (its config); no other inline
        script and no event-handler attribute. 'unsafe-eval' because ``gr.HTML`` (the source
        cards' and search results' component) turns its template, ``${value}``, into a
        function with ``Function()``: the template is ours, the value only an argument."""
        scripts = f"'self' 'nonce-{nonce}' 'unsafe-eval'" if nonce else "'self' 'unsafe-eval'"
        return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; "
                f"connect-src 'self'; worker-src 'self' blob:; frame-src 'self'; {cls.BASE}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        page = scope["method"] == "GET" and path in PAGE_PATHS
        api = path == "/api" or path.startswith("/api/")
        held: Message | None = None
        chunks: list[bytes] = []

        def headers_of(start: Message, policy: str) -> list[tuple[bytes, bytes]]:
            kept = [(k, v) for k, v in start.get("headers") or ()
                    if not bytes(k).lower().startswith(b"access-control-")]
            names = {bytes(k).lower() for k, _ in kept}
            kept += [(k, v) for k, v in self.FIXED if k not in names]
            if b"content-security-policy" not in names:
                kept.append((b"content-security-policy", policy.encode()))
            return kept

        async def secured(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                start_headers = {bytes(k).lower(): bytes(v) for k, v in message.get("headers") or ()}
                html = start_headers.get(b"content-type", b"").startswith(b"text/html")
                if page and html and b"content-encoding" not in start_headers:
                    held = message  # sent with the body, once the nonce is in it
                    return
                policy = self.BASE if api else self.page_policy(None)
                await send({**message, "headers": headers_of(message, policy)})
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if message.get("more_body", False):
                return
            nonce = secrets.token_urlsafe(18)
            body = _SCRIPT_TAG.sub(f'<script nonce="{nonce}"'.encode(), b"".join(chunks))
            page_headers = [(k, v) for k, v in headers_of(held, self.page_policy(nonce))
                            if bytes(k).lower() != b"content-length"]
            page_headers.append((b"content-length", str(len(body)).encode()))
            await send({**held, "headers": page_headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, secured)


def protect(app: ASGIApp, *, policy: HostPolicy, upload_limit: int,
            json_limit: int = JSON_LIMIT, event_limit: int = EVENT_LIMIT,
            login_delay: float = 0.5, login_cap: float = 8.0) -> ASGIApp:
    """``app`` behind every protection of this module, outermost first: security headers (so
    refusals carry them too), the host check, the origin check, the body limit, the login
    throttle."""
    inner = LoginThrottle(app, delay=login_delay, cap=login_cap)
    limited = BodyLimit(inner, default=json_limit, events=event_limit, upload=upload_limit)
    return SecurityHeaders(HostCheck(OriginCheck(limited, policy), policy))
