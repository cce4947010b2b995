"""Follow folders and re-index what changes, in batches.

File events (watchdog) only mark the folders dirty; once they have been quiet for
``debounce`` seconds, one incremental run indexes everything that changed since the last one.
A burst of edits (a sync tool copying a hundred releases) is one run, not a hundred, and the
content hashes make sure nothing unchanged is embedded again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .documents import IndexReport
from .errors import AssistantError

if TYPE_CHECKING:
    from .service import Assistant


def watch(
    assistant: Assistant,
    paths: Sequence[Path],
    *,
    on_report: Callable[[IndexReport], None],
    on_error: Callable[[AssistantError], None],
    stop: threading.Event | None = None,
    debounce: float = 2.0,
    poll: float = 0.25,
) -> None:
    """Index ``paths`` whenever files under them change, until ``stop`` is set (or Ctrl-C)."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    stop = stop or threading.Event()
    state = {"dirty": False, "last": 0.0}
    lock = threading.Lock()

    class Mark(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            name = Path(str(event.src_path)).name
            if event.is_directory and event.event_type == "modified":
                return  # a folder's mtime changes with every file in it: the file event says it
            if name.startswith((".", "~$")):
                return  # editors' swap files and our own temporary files
            with lock:
                state["dirty"] = True
                state["last"] = time.monotonic()

    observer = Observer()
    handler = Mark()
    for path in paths:
        folder = path if path.is_dir() else path.parent
        observer.schedule(handler, str(folder), recursive=path.is_dir())
    observer.start()
    try:
        while not stop.is_set():
            stop.wait(poll)
            with lock:
                due = state["dirty"] and time.monotonic() - state["last"] >= debounce
                if due:
                    state["dirty"] = False
            if due:
                try:
                    on_report(assistant.index(paths))
                except AssistantError as exc:  # one bad run must not end the watch
                    on_error(exc)
    finally:
        observer.stop()
        observer.join()
