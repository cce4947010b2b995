"""``python app.py``: serve the web chat over ``./index`` (or ``$PRESS_ASSISTANT_INDEX``).

Host and port come from ``PRESS_ASSISTANT_HOST`` / ``PRESS_ASSISTANT_PORT`` (default
127.0.0.1:7860); a host other than loopback also needs ``PRESS_ASSISTANT_AUTH=user:password``.
The server answers only for that host and localhost, plus the names in
``PRESS_ASSISTANT_ALLOWED_HOSTS`` (comma-separated; e.g. its public name behind a proxy).
"""

from __future__ import annotations

import os
import sys

from assistant import AssistantError, ConfigError, Settings
from assistant.web import serve  # light: gradio loads inside serve()


def main() -> int:
    host = os.environ.get("PRESS_ASSISTANT_HOST", "127.0.0.1")
    port = os.environ.get("PRESS_ASSISTANT_PORT", "7860")
    try:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"PRESS_ASSISTANT_PORT={port!r} is not a port number (1-65535)")
        serve(settings=Settings.from_env(), host=host, port=int(port))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
