"""The ``press-assistant`` command: index | ask | chat | search | info | eval | export | check | serve.

Library errors become one line on stderr and a non-zero exit; nothing here computes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Never

import click

from .config import Settings
from .dates import parse_filter_date
from .documents import Answer, IndexReport
from .errors import AssistantError, ConfigError, QueryError
from .uploads import QUOTA_BYTES, QUOTA_FILES


def _settings(index: str | None, model: str | None = None, **extra: Any) -> Settings:
    return Settings.from_env(index_dir=index, model=model, **extra)


def _open(index: str | None, model: str | None = None, reranker: str | None = None,
          **llm: str | None) -> Any:
    from .service import Assistant

    return Assistant.open(settings=_settings(index, model, reranker=reranker, **llm))


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except AssistantError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted: everything committed so far is kept", err=True)
        sys.exit(130)


@contextmanager
def _progress_bars(units: dict[str, str] | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback drawing one tqdm bar per stage on stderr."""
    from tqdm import tqdm

    bars: dict[str, tqdm[Never]] = {}  # bars over a total, not over an iterable

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, unit=(units or {}).get(stage, "it"),
                               file=sys.stderr, dynamic_ncols=True)
        bar = bars[stage]
        bar.total, bar.n = total, done
        bar.refresh()

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        day = parse_filter_date(value, "date")
    except QueryError:
        day = None
    if day is None:  # an empty option is no date either
        raise click.BadParameter(f"{value!r} is not a date like 2021-03-01")
    return day


index_option = click.option("--index", "index", metavar="DIR", default=None,
                            help="Index folder [default: $PRESS_ASSISTANT_INDEX or ./index].")
model_option = click.option("--model", default=None, metavar="NAME_OR_PATH",
                            help="sentence-transformers model [default: the index's, or "
                                 "all-MiniLM-L6-v2 from its PyPI package].")
reranker_option = click.option(
    "--reranker", default=None, metavar="NAME_OR_PATH",
    help="Re-score the top passages with a second model: a local bi- or cross-encoder "
         "folder, or all-mpnet-base-v2 from its PyPI parts [default: $PRESS_ASSISTANT_RERANKER "
         "or none].")
llm_options = [
    click.option("--llm", "llm_url", default=None, metavar="URL",
                 help="Base URL of an OpenAI-compatible API (Ollama: http://127.0.0.1:11434/v1): "
                      "a language model writes the answer, every sentence checked against the "
                      "passage it cites [default: $PRESS_ASSISTANT_LLM_URL or none: extractive "
                      "answers]. The key is read from $PRESS_ASSISTANT_LLM_KEY."),
    click.option("--llm-model", "llm_model", default=None, metavar="NAME",
                 help="The model to ask for [default: $PRESS_ASSISTANT_LLM_MODEL or the "
                      "server's first model]."),
]
filter_options = [
    click.option("--since", callback=_date, metavar="YYYY-MM-DD",
                 help="Only releases published on or after this date."),
    click.option("--until", callback=_date, metavar="YYYY-MM-DD",
                 help="Only releases published on or before this date."),
    click.option("--collection", "collections", multiple=True, metavar="NAME",
                 help="Only documents of this collection (the folder or export file they came "
                      "from; `info` lists them). Repeatable."),
    click.option("--lang", "languages", multiple=True, metavar="CODE",
                 help="Only documents in this language (en, ru, ...). Repeatable."),
]


def _with(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def apply(func: Any) -> Any:
        for option in reversed(options):
            func = option(func)
        return func
    return apply


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="press-assistant")
def main() -> None:
    """Ask an archive of press releases; every answer cites the release and sentence."""


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@index_option
@model_option
@click.option("--field", "fields", multiple=True, metavar="OURS=THEIRS",
              help="Map an export's column to ours (id, title, date, url, text), e.g. text=body.")
@click.option("--rebuild", is_flag=True, help="Re-embed every stored document first.")
@click.option("--watch", is_flag=True, help="Keep running; index changes as they happen.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="auto", default=None,
              metavar="[ADDRESS]",
              help="Embed on a pool of Ray workers (pip install 'press-assistant[ray]'): "
                   "$RAY_ADDRESS, a cluster started here with `ray start`, or a new local "
                   "instance; or the cluster at ADDRESS (HOST:6379, ray://HOST:10001). "
                   "Reading, chunking and writing stay in this process. Give it after the "
                   "paths, or as --ray=ADDRESS.")
@click.option("--ray-actors", type=click.IntRange(min=1), default=None, metavar="N",
              help="Model copies on the cluster [default: its CPUs // --ray-threads].")
@click.option("--ray-threads", type=click.IntRange(min=1), default=None, metavar="N",
              help="CPUs each Ray worker asks for and embeds on [default: this machine's "
                   "cores, which gives the vectors a local run gives].")
@click.option("--ray-gpus", type=click.FloatRange(min=0), default=0.0, metavar="G",
              help="GPUs each Ray worker asks for (the torch backend runs there) [default: 0].")
def index(paths: tuple[str, ...], index: str | None, model: str | None,
          fields: tuple[str, ...], rebuild: bool, watch: bool, ray_address: str | None,
          ray_actors: int | None, ray_threads: int | None, ray_gpus: float) -> None:
    """Index files, folders and JSONL/CSV exports: new and changed documents are embedded,
    unchanged ones skipped, and documents whose files are gone removed."""

    from .service import Assistant

    with _errors():
        field_map = {}
        for item in fields:
            ours, sep, theirs = item.partition("=")
            if not sep or ours not in {"id", "title", "date", "url", "text", "lang"} or not theirs:
                raise ConfigError(f"--field {item!r}: expected OURS=THEIRS with OURS one of "
                                  "id, title, date, url, text, lang")
            field_map[ours] = theirs
        bot = Assistant.open(settings=_settings(index, model, field_map=field_map), create=True)
        with _progress_bars(units={"embed": "doc", "read": "path", "keywords": "chunk",
                                        "link": "doc"}) as progress:
            ray = None
            if ray_address is not None:
                from .distributed import RayOptions

                ray = RayOptions(address=ray_address, actors=ray_actors,
                                 threads_per_actor=ray_threads, gpus_per_actor=ray_gpus)
            report = bot.index(paths, progress=progress, rebuild_all=rebuild, ray=ray)
        _print_report(report)
        if watch:
            from .watching import watch as follow

            click.echo(f"watching {', '.join(paths)} for changes (Ctrl-C stops)", err=True)
            follow(bot, [Path(p) for p in paths], on_report=_print_report,
                   on_error=lambda exc: click.echo(f"error: {exc}", err=True))


def _print_report(report: IndexReport) -> None:
    click.echo(report.summary())
    for note in report.notes:
        click.echo(f"note: {note}")
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped.path}: {skipped.reason}")


def _print_answer(answer: Answer) -> None:
    click.echo(answer.text)
    if answer.reason:
        click.echo(f"(why: {answer.reason})")
    if answer.generator:
        dropped = (f"; {len(answer.dropped)} sentence(s) dropped by the check"
                   if answer.dropped else "")
        click.echo(f"(written by {answer.generator}, every sentence checked{dropped})")
    elif answer.fallback:
        click.echo(f"(extractive answer: {answer.fallback})")
    if answer.searched:
        click.echo(f"(searched {answer.searched})")
    if answer.citations:
        click.echo("\nSources:")
    for c in answer.citations:
        where = c.url or ""
        page = f", page {c.page}" if c.page else ""
        page += " (OCR text)" if c.ocr else ""  # read from a scan: words may be misread
        click.echo(f"[{c.n}] {c.title} ({c.date or 'undated'}) {where}{page}")
        click.echo(f"    “{' '.join(c.quote.split())}”")


@main.command()
@click.argument("question")
@index_option
@model_option
@reranker_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="Passages to read.")
@click.option("--history", "history_file", metavar="FILE", default=None,
              help="A conversation file: earlier turns are read from it (follow-ups lean on "
                   "them) and this answer is appended to it (JSONL, one answer a line).")
@_with(llm_options)
@_with(filter_options)
def ask(question: str, index: str | None, model: str | None, reranker: str | None, as_json: bool,
        k: int | None, history_file: str | None, llm_url: str | None, llm_model: str | None,
        since: dt.date | None, until: dt.date | None, collections: tuple[str, ...],
        languages: tuple[str, ...]) -> None:
    """Answer QUESTION from the archive, with numbered verbatim sources."""
    with _errors():
        history = _read_history(Path(history_file)) if history_file else []
        answer = _open(index, model, reranker, llm_url=llm_url, llm_model=llm_model).ask(
            question, k=k, since=since, until=until, collections=collections,
            languages=languages, history=history)
        if history_file:
            with open(history_file, "a", encoding="utf-8") as out:
                out.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            _print_answer(answer)


def _read_history(path: Path) -> list[Any]:
    """The turns of a conversation file written by ``ask --history`` (missing: a new one)."""
    from .documents import Turn

    if not path.exists():
        return []
    turns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            turns.append(Turn(question=str(record["question"]), cited=tuple(
                dict.fromkeys(str(c["doc_id"]) for c in record.get("citations") or ())),
                answer=str(record.get("answer") or "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number} is not an answer written by `ask --history` "
                              f"({exc}): start a new conversation file") from exc
    return turns


@main.command()
@index_option
@model_option
@reranker_option
@_with(llm_options)
@_with(filter_options)
def chat(index: str | None, model: str | None, reranker: str | None, llm_url: str | None,
         llm_model: str | None, since: dt.date | None, until: dt.date | None,
         collections: tuple[str, ...], languages: tuple[str, ...]) -> None:
    """Ask questions one after another; follow-ups lean on the conversation. An empty line
    or Ctrl-D ends it."""
    from .documents import Turn

    with _errors():
        bot = _open(index, model, reranker, llm_url=llm_url, llm_model=llm_model)
        history: list[Turn] = []
        while True:
            try:
                question = input("? ").strip()
            except EOFError:
                break
            if not question:
                break
            try:
                answer = bot.ask(question, since=since, until=until, collections=collections,
                                 languages=languages, history=history)
            except AssistantError as exc:  # a bad question ends nothing: say why, go on
                click.echo(f"error: {exc}", err=True)
                continue
            _print_answer(answer)
            click.echo()
            history.append(Turn.of(answer))


@main.command()
@click.argument("query")
@index_option
@model_option
@reranker_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="Passages to return.")
@_with(filter_options)
def search(query: str, index: str | None, model: str | None, reranker: str | None, as_json: bool,
           k: int | None, since: dt.date | None, until: dt.date | None,
           collections: tuple[str, ...], languages: tuple[str, ...]) -> None:
    """The passages that best match QUERY, best first."""
    with _errors():
        hits = _open(index, model, reranker).search(query, k=k, since=since, until=until,
                                                    collections=collections, languages=languages)
        if as_json:
            click.echo(json.dumps({"query": query, "hits": [h.to_json() for h in hits]},
                                  ensure_ascii=False))
            return
        for rank, hit in enumerate(hits, start=1):
            click.echo(f"{rank}. {hit.score:.3f}  {hit.title} ({hit.date or 'undated'})  {hit.doc_id}")
            click.echo(f"   {' '.join(hit.text.split())[:300]}")


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def info(index: str | None, as_json: bool) -> None:
    """What the index holds: documents, chunks, model, size, last update."""
    with _errors():
        from .languages import describe_model_languages

        data = _open(index).info()
        if as_json:
            from dataclasses import asdict

            click.echo(json.dumps(asdict(data), ensure_ascii=False))
            return
        click.echo(f"index:       {data.path}")
        click.echo(f"documents:   {data.documents}")
        click.echo(f"chunks:      {data.chunks}")
        click.echo(f"model:       {data.model} ({data.dimension} dimensions; "
                   f"{describe_model_languages(data.model_languages)})")
        click.echo(f"size:        {data.size_bytes / 1e6:.1f} MB")
        click.echo(f"updated:     {data.updated_at or 'never'}")
        click.echo(f"collections: {', '.join(data.collections) or '-'}")
        click.echo(f"languages:   {', '.join(data.languages) or '-'}")
        layout = data.vectors
        click.echo("vectors:     " + ("exact search" if layout.get("kind", "flat") == "flat" else
                                      f"{layout['kind']}, {layout.get('nlist')} lists, "
                                      f"{layout.get('nprobe')} probed, recall@10 "
                                      f"{layout.get('recall_at_10')} when built"))


@main.command(name="eval")
@click.option("--beir", "beir", multiple=True, metavar="DIR",
              help="A retrieval set in BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv).")
@click.option("--qa", "qa", multiple=True, metavar="FILE",
              help="A question-answer set (JSONL) asked against --index.")
@click.option("--distractors", multiple=True, metavar="PATH",
              help="Archives indexed beside each BEIR corpus (a haystack).")
@index_option
@model_option
@reranker_option
@click.option("--work", default=".eval", show_default=True, metavar="DIR",
              help="Where BEIR corpora are indexed (reused by later runs).")
@click.option("--baseline", is_flag=True, help="Also run BM25 alone and dense alone.")
@click.option("--answers", is_flag=True,
              help="Also ask each BEIR question: does the first quoted sentence hold a gold span?")
@click.option("--answers-sample", "answers_sample", type=click.IntRange(min=1), default=None,
              metavar="N", help="Ask only N of each BEIR set's questions for --answers, evenly "
                                "spread (a slow --llm) [default: all].")
@click.option("--json", "json_out", metavar="FILE", help="Write the full report as JSON.")
@click.option("--markdown", "md_out", metavar="FILE", help="Write the tables as Markdown.")
@_with(llm_options)
def evaluate(beir: tuple[str, ...], qa: tuple[str, ...], distractors: tuple[str, ...],
             index: str | None, model: str | None, reranker: str | None, work: str,
             baseline: bool, answers: bool, answers_sample: int | None,
             json_out: str | None, md_out: str | None, llm_url: str | None,
             llm_model: str | None) -> None:
    """Measure retrieval (Recall@k, MRR@10, nDCG@10) and answers (answer-hit, citation
    precision, abstention) on evaluation sets."""

    from .evaluation import run_eval, to_markdown

    with _errors():
        if not beir and not qa:
            raise ConfigError("nothing to evaluate: give --beir DIR and/or --qa FILE")
        with _progress_bars() as progress:
            report = run_eval(beir=[Path(b) for b in beir], qa=[Path(q) for q in qa],
                              distractors=[Path(d) for d in distractors],
                              settings=_settings(index, model, reranker=reranker,
                                                 llm_url=llm_url, llm_model=llm_model),
                              work_dir=Path(work),
                              baseline=baseline, answers=answers,
                              answers_sample=answers_sample, progress=progress)
        table = to_markdown(report)
        click.echo(table)
        if json_out:
            Path(json_out).write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
        if md_out:
            Path(md_out).write_text(table + "\n", encoding="utf-8")


@main.command()
@index_option
@click.option("--jsonl", "target", required=True, metavar="FILE", help="Where to write the export.")
def export(index: str | None, target: str) -> None:
    """Write every document with its metadata to a JSONL file (`index` reads it back)."""
    with _errors():
        count = _open(index).export(target)
        click.echo(f"{count} documents written to {target}")


@main.command()
@index_option
def check(index: str | None) -> None:
    """Check the index's integrity (repairing vectors that lag behind the store)."""
    with _errors():
        problems = _open(index).check()
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        if problems:
            click.echo("the index failed its check: rebuild it with `index --rebuild`", err=True)
            sys.exit(2)
        click.echo("ok")


@main.command()
@index_option
@model_option
@reranker_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=7860, show_default=True, type=int)
@click.option("--corpus", default="corpus", show_default=True, metavar="DIR",
              help="The indexed folder that files added from the web are saved under (in its "
                   "uploads/ folder) and that is indexed again after each upload.")
@click.option("--no-uploads", is_flag=True, help="No adding or removing files from the web.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A host name the server answers for besides --host and localhost, e.g. its "
                   "public name behind a reverse proxy (pages of that name may also post to "
                   "it); * for any. Repeatable; more in $PRESS_ASSISTANT_ALLOWED_HOSTS "
                   "(comma-separated).")
@click.option("--uploads-quota", "quota_mb", default=QUOTA_BYTES // 2**20, show_default=True, metavar="MB",
              type=click.IntRange(min=1),
              help="Megabytes the uploads/ folder may hold; an upload past it is refused.")
@click.option("--uploads-max-files", "quota_files", default=QUOTA_FILES, show_default=True,
              metavar="N", type=click.IntRange(min=1),
              help="Files the uploads/ folder may hold; an upload past it is refused.")
@_with(llm_options)
def serve(index: str | None, model: str | None, reranker: str | None, host: str, port: int,
          corpus: str, no_uploads: bool, allowed_hosts: tuple[str, ...], quota_mb: int,
          quota_files: int, llm_url: str | None, llm_model: str | None) -> None:
    """Serve the web chat (at /) and the JSON API (at /api)."""
    with _errors():
        from .web import serve as run

        run(settings=_settings(index, model, reranker=reranker, llm_url=llm_url,
                               llm_model=llm_model), host=host, port=port,
            corpus=None if no_uploads else Path(corpus), extra_hosts=allowed_hosts,
            quota_bytes=quota_mb * 2**20, quota_files=quota_files)


if __name__ == "__main__":  # pragma: no cover
    main()
