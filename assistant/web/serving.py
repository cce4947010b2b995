"""Serving the page: the credentials, the hosts answered for, the checks in front of Gradio's
routes, the private upload folder, and the one ASGI app (JSON API + chat behind
:func:`assistant.guard.protect`) that ``serve`` runs with uvicorn.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import ConfigError
from .page import _CSS, _ensure_no_analytics, build_app

if TYPE_CHECKING:
    from ..service import Assistant
    from ..uploads import Uploader



AUTH_ENV = "PRESS_ASSISTANT_AUTH"
ALLOWED_HOSTS_ENV = "PRESS_ASSISTANT_ALLOWED_HOSTS"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def launch_auth(host: str) -> tuple[str, str] | None:
    """The credentials from ``PRESS_ASSISTANT_AUTH`` (``user:password``); required when
    ``host`` is reachable from other machines, because the chat has no other access control."""
    raw = os.environ.get(AUTH_ENV, "")
    if raw:
        user, sep, password = raw.partition(":")
        if not sep or not user or not password:
            raise ConfigError(f"{AUTH_ENV} must look like user:password")
        return user, password
    if not _is_loopback(host):
        raise ConfigError(
            f"serving on {host} makes the chat reachable from other machines: set "
            f"{AUTH_ENV}=user:password to require a login, or bind 127.0.0.1")
    return None


_EVENT_ROUTE = re.compile(
    r"^/gradio_api/(?:(?P<join>queue/join)|(?P<kind>run|api|call|call/v2)/(?P<name>[^/]+))/?$")
_UPLOAD_ROUTES = frozenset({"/gradio_api/upload", "/gradio_api/upload/"})


def _event_index(value: Any) -> int | None:
    """An event number as Gradio's request model would read it (3, 3.0, "3"), or None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == value or str(value).strip() == str(number) else None


class _NonFinite(ValueError):
    pass


def _non_finite(name: str) -> float:
    raise _NonFinite(name)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NonFinite(text)
    return value


class GradioRequestChecks:
    """Requests that Gradio's own routes would answer with a 500, answered with a 4xx: what the
    client sent is wrong, not the server (pure ASGI, inside :func:`assistant.guard.protect`,
    so bodies are already bounded). POSTs under ``/gradio_api/`` only:

    * A JSON body with a number JSON cannot write back (``1e400``, ``NaN``), or nested past
      Python's recursion limit: Gradio's answer to its validation error would fail to quote it.
    * An event call (``/gradio_api/queue/join``, ``run/``, ``api/``, ``call/<name>``) naming an
      event the page does not have (Gradio indexes its table with it: a KeyError), or none.
    * A ``gr.Error`` from an endpoint called directly (``/gradio_api/run/ask``): Gradio answers
      500 with the error's message; our errors are all the request's fault, so 400.
    * Whatever else these routes raise while taking the request apart (a TypeError for a
      keyword the endpoint has no parameter for, a KeyError for a hidden one, a
      UnicodeEncodeError for a lone surrogate quoted back, an upload part that is no file):
      400. These routes only read the request and queue it, so such an error is the
      request's; the server log keeps the traceback all the same.
    """

    CLIENT_FAULTS = (TypeError, LookupError, ValueError, RecursionError)

    def __init__(self, app: Any, blocks: Any) -> None:
        self.app, self.blocks = app, blocks

    def problem(self, route: re.Match[str] | None, body: bytes) -> tuple[int, str] | None:
        """What is wrong with a JSON request to Gradio (an event call when ``route`` says
        which), as (status, message); None to let Gradio answer (its request models refuse
        malformed JSON and wrong types with a 422 themselves)."""
        try:
            data = json.loads(body, parse_constant=_non_finite, parse_float=_finite)
        except _NonFinite:
            return 400, "the request has a number out of range (NaN, Infinity or past 1e308)"
        except RecursionError:
            return 400, "the request's JSON is nested too deeply"
        except ValueError:
            return None
        if route is None or not isinstance(data, dict):
            return None
        fns = getattr(self.blocks, "fns", {})
        given = data.get("fn_index")
        if not str(route["kind"]).startswith("call") and given is not None:
            index = _event_index(given)
            if index is None:
                return None
            if index not in fns:
                return 400, f"fn_index {index} names no event of this page"
            return None
        if route["join"]:
            return 400, "fn_index is missing: the number of one of this page's events"
        if route["name"] not in {getattr(fn, "api_name", None) for fn in fns.values()}:
            return 404, f"no endpoint named {route['name']!r} (see /gradio_api/info)"
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from ..guard import refuse

        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] != "POST" or \
                not path.startswith("/gradio_api/"):
            await self.app(scope, receive, send)
            return
        if path in _UPLOAD_ROUTES:  # files: streamed through, never held here
            await self._run(scope, receive, send, direct=False,
                            refusal="not an upload: send multipart/form-data whose \"files\" "
                                    "parts are files with names")
            return
        messages = []
        while True:  # the whole body: bounded by the guard outside
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        route = _EVENT_ROUTE.match(path)
        problem = self.problem(route, body)
        if problem is not None:
            await refuse(scope, receive, send, *problem)
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self._run(scope, replay, send,
                        direct=route is not None and route["kind"] in {"run", "api"},
                        refusal="this request does not fit the route: /gradio_api/info "
                                "describes the endpoints and their parameters")

    async def _run(self, scope: Any, receive: Any, send: Any, *, direct: bool,
                   refusal: str) -> None:
        """Run the request, holding back a 500 until it is known whether the request caused
        it (then 400 with ``refusal``) or, for a direct call (``direct``), whether it carries
        a ``gr.Error``'s message (then 400 with it)."""
        from ..guard import refuse

        held: list[Any] = []
        started = False

        async def holding(message: Any) -> None:
            nonlocal started
            if held or (message["type"] == "http.response.start" and message["status"] == 500):
                held.append(message)
            else:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, receive, holding)
        except self.CLIENT_FAULTS:
            if started:
                raise
            await refuse(scope, receive, send, 400, refusal)
            return
        except Exception:
            await self._release(held, send, direct=False)
            raise
        await self._release(held, send, direct=direct)

    @staticmethod
    async def _release(held: list[Any], send: Any, *, direct: bool) -> None:
        if not held:
            return
        body = b"".join(m.get("body", b"") for m in held[1:] if m["type"] == "http.response.body")
        start = held[0]
        if direct:
            # Gradio's payload for a gr.Error has its message; a bug's has {"error": null}.
            try:
                said = json.loads(body).get("error")
            except (ValueError, AttributeError):
                said = None
            if isinstance(said, str) and said:
                start = {**start, "status": 400}
        await send(start)
        await send({"type": "http.response.body", "body": body})


def allowed_hosts(given: Sequence[str] = ()) -> list[str]:
    """The host names the server answers for besides its ``--host`` and the localhost names:
    ``given`` (``serve --allowed-host``) and those in ``PRESS_ASSISTANT_ALLOWED_HOSTS``
    (separated by commas or spaces), e.g. its public name behind a reverse proxy; ``*`` turns
    the check off."""
    from_env = os.environ.get(ALLOWED_HOSTS_ENV, "").replace(",", " ").split()
    return list(dict.fromkeys([*given, *from_env]))


def host_policy(host: str, extra: Sequence[str] = ()) -> Any:
    """The :class:`~assistant.guard.HostPolicy` for a server bound to ``host``; a name that is
    not one raises :class:`ConfigError`."""
    from ..guard import HostPolicy

    try:
        return HostPolicy.serving(host, extra)
    except ValueError as exc:
        raise ConfigError(f"allowed hosts (--allowed-host, {ALLOWED_HOSTS_ENV}): {exc}") from None


def build_server(assistant: Assistant, *, host: str = "127.0.0.1",
                 auth: tuple[str, str] | None = None, uploader: Uploader | None = None,
                 extra_hosts: Sequence[str] = (), login_delay: float = 0.5) -> Any:
    """The whole ASGI app :func:`serve` runs: the JSON API with the chat mounted on it at
    ``/``, both behind :func:`assistant.guard.protect` (host and origin checks, body limits,
    login throttling, security headers). Gradio's upload folder is read from
    ``GRADIO_TEMP_DIR`` now: set it first (:func:`serve` does)."""
    _ensure_no_analytics()
    import gradio as gr

    from ..api import build_api
    from ..guard import MULTIPART_SLACK, protect
    from ..uploads import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES

    policy = host_policy(host, extra_hosts)
    blocks = build_app(assistant, uploader=uploader)
    app = gr.mount_gradio_app(build_api(assistant, auth=auth, uploader=uploader), blocks,
                              path="/", auth=auth, show_error=False, ssr_mode=False, css=_CSS,
                              max_file_size=MAX_UPLOAD_BYTES)
    # Gradio checks that a file named in an event's data is one its upload route stored
    # (processing_utils._check_allowed) only once the app "has launched", which only
    # Blocks.launch() records: mounted, every path a client names would be read.
    blocks.has_launched = True
    app = GradioRequestChecks(app, blocks)
    # An upload request carries a few files (the per-request limit of uploads.py); every
    # other body is small, however it is sent.
    return protect(app, policy=policy, upload_limit=MAX_REQUEST_BYTES + MULTIPART_SLACK,
                   login_delay=login_delay)


@contextmanager
def upload_cache() -> Iterator[Path]:
    """Gradio's upload folder for this server: ``GRADIO_TEMP_DIR`` when it is set, else a new
    private folder (mode 0700) removed at exit. Gradio's default, /tmp/gradio, is shared by
    every Gradio app on the machine, and anything another user put there would count as
    uploaded to this one."""
    given = os.environ.get("GRADIO_TEMP_DIR")
    if given:
        yield Path(given)
        return
    folder = Path(tempfile.mkdtemp(prefix="press-assistant-uploads-"))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop("GRADIO_TEMP_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


def serve(*, settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          corpus: Path | None = None, extra_hosts: Sequence[str] = (),
          quota_bytes: int | None = None, quota_files: int | None = None) -> None:
    """Open the index, load the model, and serve the chat at ``/`` and the JSON API at
    ``/api`` (:mod:`assistant.api`) until interrupted; both behind the same credentials and
    the protections of :mod:`assistant.guard`. ``corpus``: the indexed folder files added
    from the web are saved under, in its uploads folder (None: no uploads). ``extra_hosts``:
    host names served besides ``host`` and localhost (see :func:`allowed_hosts`, which adds
    ``PRESS_ASSISTANT_ALLOWED_HOSTS``). ``quota_bytes``, ``quota_files``: what the uploads
    folder may hold (None: the defaults of :mod:`assistant.uploads`)."""
    import uvicorn

    from ..service import Assistant

    # Before the slow part: a refused configuration fails at once.
    auth = launch_auth(host)
    extra = allowed_hosts(extra_hosts)
    host_policy(host, extra)
    assistant = Assistant.open(settings=settings)
    try:
        assistant.warm_up()  # the model, the vectors, the catalog: not on the first question
        from ..uploads import QUOTA_BYTES, QUOTA_FILES, Uploader

        uploader = (Uploader(assistant, corpus, quota_bytes=quota_bytes or QUOTA_BYTES,
                             quota_files=quota_files or QUOTA_FILES)
                    if corpus is not None else None)
        with upload_cache():
            app = build_server(assistant, host=host, auth=auth, uploader=uploader,
                               extra_hosts=extra)
            shown = f"[{host}]" if ":" in host else host
            print(f"Serving the chat on http://{shown}:{port}/ and the API on "
                  f"http://{shown}:{port}/api (Ctrl+C stops)", flush=True)
            uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        assistant.close()
