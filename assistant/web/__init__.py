r"""The web chat: a Gradio page over :class:`~assistant.service.Assistant`, in three parts.

* :mod:`.formatting`: what the page shows, as escaped Markdown/HTML (pure functions);
* :mod:`.page`: the Gradio Blocks and their events;
* :mod:`.serving`: the one ASGI app (JSON API + chat, behind :mod:`assistant.guard`) and
  :func:`serve`, which runs it.

Everything a release says reaches the browser as *text*: the Chatbot renders Markdown (for
the blockquotes and the source links), so every piece of document text is escaped twice over,
once for HTML (``<``, ``>``, ``&``) and once for Markdown (every ASCII punctuation character
gets a backslash), and only ``http``/``https`` URLs become links. Gradio's own sanitizer stays
on as a second line of defence, not the first.

>>> from assistant.web import escape_text
>>> escape_text("<b>*[1]*</b>")
'&lt;b&gt;\\*\\[1\\]\\*&lt;\\/b&gt;'

Importing this package is light: gradio, uvicorn and the API load inside the functions.
"""

from .formatting import (
    EXAMPLES,
    SUBTITLE,
    TITLE,
    escape_text,
    format_answer,
    format_card,
    format_document,
    format_error,
    format_hits,
    format_sources,
    format_upload_status,
    reply,
    safe_url,
    source_href,
)
from .page import build_app, uploaded_file
from .serving import (
    ALLOWED_HOSTS_ENV,
    AUTH_ENV,
    GradioRequestChecks,
    allowed_hosts,
    build_server,
    host_policy,
    launch_auth,
    serve,
    upload_cache,
)

__all__ = [
    "ALLOWED_HOSTS_ENV", "AUTH_ENV", "EXAMPLES", "SUBTITLE", "TITLE", "GradioRequestChecks",
    "allowed_hosts", "build_app", "build_server", "escape_text", "format_answer", "format_card",
    "format_document", "format_error", "format_hits", "format_sources", "format_upload_status",
    "host_policy", "launch_auth", "reply", "safe_url", "serve", "source_href", "upload_cache",
    "uploaded_file",
]
