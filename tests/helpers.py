"""Plain helpers shared by test modules: project paths, release texts, PDF and Word files
made in memory, and fresh indexes opened with the fake embedder.

Fixtures over these live in ``conftest.py`` (``make_assistant``, ``make_module_assistant``);
test modules import from here, never from one another.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from tests.fakes import FakeEmbedder

if TYPE_CHECKING:
    from assistant import Assistant, Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT / "corpus" / "000_f2eabe2890162440.txt"

# -- release texts ----------------------------------------------------------------------------

BODY_EN = (
    "The ministry signed a cooperation agreement with the regional development bank today. "
    "The agreement covers water supply, irrigation and rural roads in three provinces."
)
BODY_RU = (
    "Генеральный прокурор принял участие во встрече руководителей надзорных органов. "
    "Участники обсудили вопросы международного сотрудничества и обмена опытом."
)
SANYA = ("Prosecutor General took part in 14th meeting of general prosecutors (Sanya)\n\n"
         "30 November 2016\n\n"
         "The event was attended by the heads of supreme supervisory authorities of the SCO "
         "countries.\n\nIssues of countering terrorism were discussed at the meeting.\n")
HARBOUR = ("Harbour crane delivered\n\n12 May 2019\n\nThe new harbour crane lifts forty tonnes. "
           "It was delivered by ship from the manufacturer.\n")

# -- files made in memory ---------------------------------------------------------------------


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], *, title: str | None = None, scan: bool = False) -> bytes:
    """A minimal valid PDF: one Helvetica text line per entry; a page with no lines has no
    text layer: blank, or with ``scan`` a page-sized image (like a scan)."""
    count = len(pages)
    image = 4 + 2 * count  # a 1x1 grey image, the scan's stand-in
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: (f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(count))}]"
            f" /Count {count} >>").encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        image: (b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream"),
    }
    for i, lines in enumerate(pages):
        shows = " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines)
        blank = "q 612 0 0 792 0 0 cm /Im1 Do Q" if scan else "q Q"
        xobjects = f" /XObject << /Im1 {image} 0 R >>" if scan and not lines else ""
        content = f"BT /F1 12 Tf 14 TL 72 720 Td {shows} ET" if lines else blank
        objects[4 + 2 * i] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font "
            f"<< /F1 3 0 R >>{xobjects} >> /Contents {5 + 2 * i} 0 R >>"
        ).encode()
        objects[5 + 2 * i] = (
            f"<< /Length {len(content)} >>\nstream\n{content}\nendstream"
        ).encode()
    info = ""
    if title is not None:
        info_number = 5 + 2 * count
        objects[info_number] = f"<< /Title ({_pdf_string(title)}) >>".encode()
        info = f" /Info {info_number} 0 R"
    return pdf_file(objects, info=info)


def pdf_file(objects: dict[int, bytes], *, info: str = "") -> bytes:
    """A PDF of numbered ``objects`` (1 is the catalog), with its cross-reference table."""
    out = b"%PDF-1.4\n"
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offsets[n]:010d} 00000 n \n".encode() for n in sorted(objects))
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return out


def make_docx(paragraphs: list[str], *, title: str = "", table: list[list[str]] | None = None
              ) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# -- indexes with the fake embedder -----------------------------------------------------------

Files = Mapping[str, str | bytes]


def write_files(folder: Path, files: Files) -> Path:
    """Write ``files`` (a path relative to ``folder``, subfolders made, to its content: text
    as UTF-8, bytes as they are) into ``folder``, made if missing; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@contextmanager
def fake_assistant(root: Path, releases: Files | Iterable[Path] = (), *,
                   corpus: str | Path = "corpus", index: str | Path = "index",
                   embedder: FakeEmbedder | None = None,
                   settings: Settings | None = None) -> Iterator[Assistant]:
    """A new index at ``root / index`` opened with the fake embedder (``create=True``; a
    ``FakeEmbedder`` of the caller's, to count what it embeds, or a fresh one), closed on
    exit. ``releases`` is either files to write into ``root / corpus`` (as
    :func:`write_files`), then indexed, or paths indexed as they are; without them the
    index stays empty. An absolute ``corpus`` or ``index`` is used as it is."""
    from assistant import Assistant

    paths = [write_files(root / corpus, releases)] if isinstance(releases, Mapping) else list(releases)
    bot = Assistant.open(root / index, create=True, embedder=embedder or FakeEmbedder(),
                         settings=settings)
    try:
        if paths:
            bot.index(paths)
        yield bot
    finally:
        bot.close()


class AssistantFactory:
    """``factory(releases, *, corpus=..., index=..., embedder=None, settings=None)``: one
    :func:`fake_assistant` under ``root`` per call, all closed by :meth:`close`. The first
    call's folders default to ``corpus`` and ``index``, the n-th call's to ``corpus-n`` and
    ``index-n``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stack = ExitStack()
        self._calls = 0

    def __call__(self, releases: Files | Iterable[Path] = (), *, corpus: str | Path | None = None,
                 index: str | Path | None = None, embedder: FakeEmbedder | None = None,
                 settings: Settings | None = None) -> Assistant:
        self._calls += 1
        suffix = "" if self._calls == 1 else f"-{self._calls}"
        return self._stack.enter_context(fake_assistant(
            self.root, releases, corpus=corpus or f"corpus{suffix}", index=index or f"index{suffix}",
            embedder=embedder, settings=settings))

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> AssistantFactory:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
