"""OCR quality and speed (assistant/readers/ocr.py) on real releases.

1. English: the first pages of text-layer PDFs of ../shared/data/pdf_press_releases/
   lk_treasury_en are rendered to images and read by Tesseract, as a scan would be; the OCR is
   compared with the page's own text layer: character error rate (Levenshtein distance over
   the text layer's length, whitespace collapsed, Unicode NFKC, zero-width characters
   dropped). "CER" counts everything; "CER body" leaves out what OCR read before the first
   and after the last character matched with the text layer — the Sinhala/Tamil letterhead and
   the seal, which are images in these PDFs, so the text layer has no words for them to be
   compared with. Configurations: 300 dpi and 200 dpi with the default languages, and 300 dpi
   English alone; and the shipped one without reading a Latin page with Cyrillic look-alikes
   again (ocr.latin_page_languages), counting the words that came out with Cyrillic letters.
2. Sinhala: the police releases of lk_police_si, whose text layer is a legacy font's garbage,
   OCR'd with ``sin``: there is no clean reference, so the report gives the share of
   Sinhala-script letters, the project's own damage check (cleaning.text_damage, which
   rejects the text layer) on the OCR text, and how often a few everyday words of these
   releases appear in the OCR text and in the text layer.

    nice -n 10 .venv/bin/python benchmarks/ocr_quality.py            # ~5 min on 2 cores
    nice -n 10 .venv/bin/python benchmarks/ocr_quality.py --docs 3 --police 2   # quicker
    nice -n 10 .venv/bin/python benchmarks/ocr_quality.py --docs 0   # the Sinhala part alone

Writes the tables to stdout and the figures to .eval/ocr_quality.json.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import statistics
import time
import unicodedata
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from assistant.cleaning.damage import text_damage
from assistant.readers import ocr

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "pdf_press_releases"
OUT = ROOT / ".eval" / "ocr_quality.json"
ALL = "+".join(ocr.DEFAULT_LANGUAGES)
# (dpi, languages, read a Latin page with Cyrillic look-alikes again without rus/kaz)
CONFIGS = [(300, ALL, True), (300, ALL, False), (200, ALL, True), (300, "eng", True)]
CYRILLIC = re.compile("[\u0400-\u04ff]")
# Everyday words of a police media release: police, station, suspect, arrested, division.
SINHALA_WORDS = ["පොලිස්", "ස්ථානය", "සැකකරු", "අත්අඩංගුවට", "කොට්ඨාසය"]
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


def normalized(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH)
    return " ".join(text.split())


def cer(reference: str, read: str) -> tuple[float, float]:
    """(CER, CER body): the second leaves out OCR's text before the first and after the last
    character aligned with the reference (insertions at the reference's two ends)."""
    ops = Levenshtein.editops(reference, read)
    total = len(ops)
    ends = sum(1 for op in ops if op.tag == "insert" and op.src_pos in (0, len(reference)))
    return total / len(reference), (total - ends) / len(reference)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (tesseract): unlike the wall
    clock, not inflated when other work shares the cores."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def read_page(data: bytes, number: int, dpi: int, lang: str,
              again: bool = True) -> tuple[str, float, float]:
    """One page rendered at ``dpi`` and read in ``lang`` as the indexer reads it (a Latin
    page with Cyrillic look-alikes read again without the Cyrillic languages): its text, and
    the wall-clock and CPU seconds taken (rendering and OCR)."""
    ocr.DPI = dpi  # what _rendered and _tesseract read
    program = ocr._program()
    assert program is not None, ocr.unavailable_reason()
    start, cpu = time.perf_counter(), _cpu()
    [(_, png)] = list(ocr._rendered(data, [number]))
    if again:
        text = ocr.read_image(program, png, lang.split("+")) or ""  # as the indexer reads a page
    else:
        text = ocr.tidy(ocr._tesseract(program, png, lang) or "")
    return text, time.perf_counter() - start, _cpu() - cpu


def text_pages(folder: Path, docs: int, pages: int) -> list[tuple[str, int, bytes, str]]:
    """(file, page, PDF bytes, text layer) of the first ``pages`` pages of the first ``docs``
    PDFs whose text layer is readable."""
    from pypdf import PdfReader

    chosen: list[tuple[str, int, bytes, str]] = []
    files = 0
    for file in sorted(folder.glob("*.pdf")):
        data = file.read_bytes()
        if not data.startswith(b"%PDF"):
            continue  # a Word file named .pdf
        reader = PdfReader(io.BytesIO(data))
        layers = [normalized(page.extract_text() or "") for page in reader.pages[:pages]]
        if not all(len(layer) > 200 for layer in layers):
            continue  # a scan, or a page with little text
        chosen += [(file.name, n, data, layer) for n, layer in enumerate(layers)]
        files += 1
        if files == docs:
            break
    return chosen


def english(docs: int, pages: int) -> dict[str, object]:
    chosen = text_pages(DATA / "lk_treasury_en", docs, pages)
    print(f"English: {len(chosen)} pages of {len({c[0] for c in chosen})} treasury PDFs")
    results: dict[str, object] = {}
    by_config: dict[tuple[int, str, bool], list[dict[str, object]]] = {c: [] for c in CONFIGS}
    # Page by page, every configuration in turn: a busy spell of the machine slows all alike.
    for name, number, data, layer in chosen:
        for dpi, lang, again in CONFIGS:
            read, seconds, cpu = read_page(data, number, dpi, lang, again)
            full, body = cer(layer, normalized(read))
            by_config[(dpi, lang, again)].append({
                "file": name, "page": number + 1, "cer": full, "cer_body": body,
                "seconds": seconds, "cpu": cpu, "chars": len(layer),
                "cyrillic_words": sum(1 for word in read.split() if CYRILLIC.search(word))})
    for (dpi, lang, again), rows in by_config.items():
        chars = sum(int(r["chars"]) for r in rows)  # type: ignore[call-overload]
        summary = {
            "pages": len(rows),
            "cer_median": statistics.median(float(r["cer"]) for r in rows),  # type: ignore[arg-type]
            "cer_body_median": statistics.median(float(r["cer_body"]) for r in rows),  # type: ignore[arg-type]
            "cer_body_pooled": sum(float(r["cer_body"]) * int(r["chars"]) for r in rows) / chars,  # type: ignore[call-overload, arg-type]
            "cer_body_max": max(float(r["cer_body"]) for r in rows),  # type: ignore[arg-type]
            "seconds_median": statistics.median(float(r["seconds"]) for r in rows),  # type: ignore[arg-type]
            "cpu_median": statistics.median(float(r["cpu"]) for r in rows),  # type: ignore[arg-type]
            "cyrillic_words": sum(int(r["cyrillic_words"]) for r in rows),  # type: ignore[call-overload]
        }
        key = f"{dpi}dpi {lang}" + ("" if again else " (one reading)")
        results[key] = {"summary": summary, "pages": rows}
        print(f"  {key:28} CER median {summary['cer_median']:.3f}  body median "
              f"{summary['cer_body_median']:.3f}  body pooled {summary['cer_body_pooled']:.3f}  "
              f"body max {summary['cer_body_max']:.3f}  s/page median {summary['seconds_median']:.1f} "
              f"(CPU {summary['cpu_median']:.1f}); words with Cyrillic letters {summary['cyrillic_words']}")
    return results


def sinhala(count: int, lang: str) -> dict[str, object]:
    from pypdf import PdfReader

    files = sorted((DATA / "lk_police_si").glob("*.pdf"))[:count]
    rows = []
    print(f"Sinhala police releases, first page, 300 dpi, {lang}: {len(files)}")
    for file in files:
        data = file.read_bytes()
        layer = normalized(PdfReader(io.BytesIO(data)).pages[0].extract_text() or "")
        read, seconds, _ = read_page(data, 0, 300, lang)
        read = normalized(read)
        letters = [ch for ch in read if ch.isalpha() or unicodedata.category(ch) in ("Mn", "Mc")]
        sinhala_share = sum("\u0d80" <= ch <= "\u0dff" for ch in letters) / max(1, len(letters))
        ocr_damage, layer_damage = text_damage(read), text_damage(layer)
        rows.append({
            "file": file.name, "seconds": seconds, "chars": len(read),
            "sinhala_letter_share": sinhala_share,
            "ocr_unreadable": ocr_damage.unreadable, "ocr_damage": ocr_damage.symptom(),
            "layer_unreadable": layer_damage.unreadable,
            "words_in_ocr": {w: read.count(w) for w in SINHALA_WORDS},
            "words_in_layer": {w: layer.count(w) for w in SINHALA_WORDS},
        })
        print(f"  {file.name}: {len(read)} chars in {seconds:.1f}s, Sinhala letters "
              f"{sinhala_share:.2f}, damage check: OCR "
              f"{'unreadable' if ocr_damage.unreadable else 'readable'} ({ocr_damage.symptom()}), "
              f"text layer {'unreadable' if layer_damage.unreadable else 'readable'}; everyday "
              f"words OCR {sum(rows[-1]['words_in_ocr'].values())} / layer "  # type: ignore[attr-defined]
              f"{sum(rows[-1]['words_in_layer'].values())}")  # type: ignore[attr-defined]
    return {"pages": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10, help="treasury text PDFs (default 10)")
    parser.add_argument("--pages", type=int, default=2, help="first pages of each (default 2)")
    parser.add_argument("--police", type=int, default=5, help="police PDFs, first page (default 5)")
    args = parser.parse_args()
    if (reason := ocr.unavailable_reason()) is not None:
        raise SystemExit(reason)
    print(f"Tesseract languages installed and wanted: {'+'.join(ocr.languages())}")
    results = {"english": english(args.docs, args.pages)} if args.docs else {}
    # Sinhala alone, and the default set the indexer uses for every scan.
    for lang in ("sin", "+".join(ocr.languages())) if args.police else ():
        results[f"sinhala {lang}"] = sinhala(args.police, lang)
    OUT.parent.mkdir(exist_ok=True)
    # A partial run (--docs 0) replaces its own parts of an earlier run's figures only.
    earlier = json.loads(OUT.read_text()) if OUT.exists() else {}
    OUT.write_text(json.dumps({**earlier, **results}, indent=1, ensure_ascii=False))
    print(f"figures: {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
