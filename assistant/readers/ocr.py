"""OCR of PDF pages that have no text layer (scans), with Tesseract.

:mod:`assistant.readers.pdf` asks for the pages whose text layer is empty but that show an
image; each is rendered with pdfium (``pypdfium2``: prebuilt wheels, no system library) at
:data:`DPI` and read by the ``tesseract`` program, once per page, in the languages of
:func:`languages`. A PDF's text pages keep their text layer; only its image pages are read.

The ``tesseract`` program is called directly (``tesseract stdin stdout -l eng+rus``): it is
what ``pytesseract`` wraps too, and a direct call lets us give it a timeout and one thread
(``OMP_THREAD_LIMIT=1``: its OpenMP threads gain little on one page and spin on a busy
machine) without changing this process's environment.

Without Tesseract, or with none of the wanted languages installed, :func:`unavailable_reason`
says so and how to install it; scans are then skipped with that reason.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence

from assistant.errors import ReadError

LANGUAGES_ENV = "PRESS_ASSISTANT_OCR_LANGS"
"""Tesseract languages to read scans in, joined by "+" ("eng+rus"); default
:data:`DEFAULT_LANGUAGES`. Only those installed are used."""
DEFAULT_LANGUAGES = ("eng", "rus", "kaz", "sin", "tam")
"""The archives' languages: English, Russian, Kazakh, Sinhala, Tamil. On an English page all
five read as well as English alone for some 0.5 CPU seconds more (docs/quality/ocr.md), and the
Sri Lankan releases' letterheads mix three scripts."""
DPI = 300
"""Rendering resolution: what Tesseract's models are trained for. 200 dpi reads born-digital
release pages as well for 15 % less CPU (docs/quality/ocr.md); real scans and small print are
where the extra pixels count."""
PAGE_TIMEOUT = 180.0
"""Seconds one page may take; a page that takes longer is left unread (the others are kept)."""
MAX_PAGES = 100
"""Most pages of one PDF that are OCR'd (some 4 s each): a scanned book is not a release."""
# Tesseract's Sinhala and Tamil models write a ZWNJ after every virama (al-lakuna, pulli) and
# at word ends, where text typed in these scripts has none (a virama shows without it, and a
# joiner before a space joins nothing): left in, "පොලිස්" typed in a question would not match
# the same word read from a scan. A ZWJ (which builds Sinhala conjuncts) is kept.
_STRAY_ZWNJ = re.compile("(?<=[\u0dca\u0bcd])\u200c|\u200c(?=\\s|$)")
INSTALL = ("apt-get install tesseract-ocr " +
           " ".join(f"tesseract-ocr-{code}" for code in DEFAULT_LANGUAGES))


def _wanted() -> tuple[str, ...]:
    raw = os.environ.get(LANGUAGES_ENV, "").strip()
    if not raw:
        return DEFAULT_LANGUAGES
    return tuple(dict.fromkeys(code.strip() for code in raw.replace(",", "+").split("+")
                               if code.strip()))


@functools.lru_cache(maxsize=8)
def _installed(program: str) -> tuple[str, ...]:
    """The languages the ``tesseract`` at ``program`` has traineddata for."""
    try:
        listed = subprocess.run([program, "--list-langs"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    # The first line says where they are ("List of available languages in ..."); "osd" is
    # orientation and script detection, not a language to read.
    lines = (listed.stdout + listed.stderr).splitlines()
    return tuple(line.strip() for line in lines[1:] if line.strip() and line.strip() != "osd")


def _program() -> str | None:
    return shutil.which("tesseract")


def languages() -> tuple[str, ...]:
    """The wanted languages that are installed, in the wanted order; () without Tesseract."""
    program = _program()
    if program is None:
        return ()
    installed = set(_installed(program))
    return tuple(code for code in _wanted() if code in installed)


def unavailable_reason() -> str | None:
    """Why scans cannot be read here, with how to fix it; None when they can."""
    program = _program()
    if program is None:
        return f"Tesseract OCR is not installed (install it: {INSTALL})"
    if importlib.util.find_spec("pypdfium2") is None:  # a dependency, unless installed --no-deps
        return "the pypdfium2 package that renders pages for OCR is missing (pip install pypdfium2)"
    if not languages():
        wanted = "+".join(_wanted())
        return (f"Tesseract has none of the OCR languages {wanted} installed (install them: "
                f"apt-get install {' '.join(f'tesseract-ocr-{code}' for code in _wanted())}, "
                f"or set {LANGUAGES_ENV} to installed ones)")
    return None


def signature() -> str:
    """What decides what OCR reads: the languages used ("" without Tesseract). An indexing
    run reads a file again when this changes, so a scan skipped before Tesseract was
    installed is read once it is."""
    return "+".join(languages())


def read_pages(data: bytes, numbers: Sequence[int]) -> dict[int, str]:
    """The text Tesseract reads on the pages ``numbers`` (0-based) of the PDF ``data``;
    a page it could not read is missing from the result. :class:`ReadError` when OCR is
    unavailable or the PDF has more than :data:`MAX_PAGES` pages to read."""
    reason = unavailable_reason()
    if reason is not None:
        raise ReadError(f"scanned PDF, needs OCR: {reason}")
    if len(numbers) > MAX_PAGES:
        raise ReadError(f"scanned PDF of {len(numbers)} pages without text: OCR reads at most "
                        f"{MAX_PAGES} pages of one file (split it, or OCR it with ocrmypdf first)")
    program = _program()
    assert program is not None  # unavailable_reason() said it is there
    wanted = languages()
    texts: dict[int, str] = {}
    for number, image in _rendered(data, numbers):
        if (text := read_image(program, image, wanted)) is not None:
            texts[number] = text
    return texts


def read_image(program: str, png: bytes, wanted: Sequence[str]) -> str | None:
    """The text of one page image in the ``wanted`` languages (read again without the
    Cyrillic ones when it is a Latin page with Cyrillic look-alikes), or None when
    Tesseract failed."""
    text = _tesseract(program, png, "+".join(wanted))
    if text is None:
        return None
    if narrower := latin_page_languages(text, wanted):
        text = _tesseract(program, png, "+".join(narrower)) or text
    return tidy(text)


_CYRILLIC_LANGUAGES = frozenset({"rus", "kaz", "ukr", "bel", "bul", "srp", "mkd", "kir", "tgk", "mon"})
_STRAY_CYRILLIC = 0.05


def latin_page_languages(text: str, wanted: Sequence[str]) -> tuple[str, ...]:
    """The languages to read a page again in, when it is Latin script with a few words read as
    Cyrillic look-alikes ("іп" for "in", "оп" for "on": the Russian and Kazakh models compete
    for round letters); () when the first reading stands.

    Measured on English releases (docs/quality/ocr.md): with Russian and Kazakh among the
    languages, 11 words in 13 pages came out in Cyrillic letters, and none without; such a
    word is never found by a search typed in Latin letters. A page that is mostly Cyrillic
    keeps its reading (names and addresses in Latin are real there)."""
    latin = sum(1 for ch in text if ch.isalpha() and ch.isascii())
    cyrillic = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    if not cyrillic or cyrillic > _STRAY_CYRILLIC * (latin + cyrillic):
        return ()
    narrower = tuple(code for code in wanted if code not in _CYRILLIC_LANGUAGES)
    return narrower if narrower and len(narrower) < len(wanted) else ()


def tidy(text: str) -> str:
    """Tesseract's text without the joiners its models add (see ``_STRAY_ZWNJ``)."""
    return _STRAY_ZWNJ.sub("", text)


def _rendered(data: bytes, numbers: Sequence[int]) -> Iterator[tuple[int, bytes]]:
    """Each page of ``numbers`` as a grayscale PNG at :data:`DPI`, one at a time (a page at
    300 dpi is 8 MB of pixels)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise ReadError(f"scanned PDF that pdfium cannot open for OCR ({error})") from error
    try:
        for number in numbers:
            try:
                page = pdf[number]
                bitmap = page.render(scale=DPI / 72, grayscale=True)
                buffer = io.BytesIO()
                bitmap.to_pil().save(buffer, format="PNG")
            except Exception:  # one page pdfium cannot draw: the others are still read
                continue
            yield number, buffer.getvalue()
    finally:
        pdf.close()


def _tesseract(program: str, png: bytes, lang: str) -> str | None:
    """The text of one page image, or None when Tesseract failed or ran out of time."""
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            [program, "stdin", "stdout", "-l", lang, "--dpi", str(DPI)], input=png,
            capture_output=True, timeout=PAGE_TIMEOUT, env=environment, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")
