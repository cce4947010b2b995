"""The served app in headless Chromium (Playwright, Debian's /usr/bin/chromium), over the HTTP
API and gradio_client: the seed release and a hostile one, indexed with the real model.

What a user does: ask the Sanya question and see the seed release's source card; filter by
date and see the citation change; add a release from the library and ask about it; read a
release full of markup that runs nothing; see the page in a Russian and a Kazakh browser.
Also: the server will not bind a public interface without credentials. The chat screenshot
in docs/ comes from here, when asked:
``pytest tests/test_browser.py --screenshot docs/chat.png`` (or
``PRESS_ASSISTANT_SCREENSHOT=docs/chat.png``); otherwise it is taken into a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.llm_servers import RealLLM

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SEED_TITLE = "Prosecutor General took part in 14th meeting"
SEED_SENTENCE = "The event was attended by"
# Every payload would set window.__pwned if the page ever ran it.
HOSTILE = (
    "Harbour crane <script>window.__pwned = 'script'</script> opened\n\n"
    "12 May 2019\n\n"
    "Visitors of the harbour saw <img src=x onerror=\"window.__pwned = 'img'\"> the new crane "
    "lift forty tonnes.\n\n"
    "The port's <a href=\"javascript:window.__pwned='link'\">timetable</a> and "
    "<svg onload=\"window.__pwned='svg'\"></svg> stay the same.\n")
UPLOADED = ("Aktau ferry terminal reopened\n\n3 March 2021\n\n"
            "The Aktau ferry terminal reopened after repairs with two new gangways. "
            "Ferries to Baku now leave twice a day from the renovated terminal.\n")

pytestmark = [
    pytest.mark.real_model,
    pytest.mark.skipif(not (ROOT / "corpus").is_dir(), reason="corpus/ (the seed release) is missing"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, server: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the server did not answer on port {port} in {timeout:.0f}s:\n"
                f"{log.read_text()[-3000:]}")


def _serve(tmp: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """The seed release and a hostile one, indexed with the real model and served by
    `press-assistant serve` with an uploads folder (and ``extra`` options)."""
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "harbour.txt").write_text(HOSTILE, encoding="utf-8")
    index = tmp / "index"
    built = subprocess.run([sys.executable, "-m", "assistant", "index", str(corpus), "--index",
                            str(index)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    port = _free_port()
    log = tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "PRESS_ASSISTANT_AUTH"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve", "--index", str(index), "--port", str(port),
             "--corpus", str(corpus), *extra],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server, log, timeout=120)
        yield {"url": f"http://127.0.0.1:{port}/", "tmp": tmp, "log": log}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _serve(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make browser` (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield chromium
        finally:
            chromium.close()


def _open_page(browser: Any, url: str, locale: str | None = None) -> Iterator[Any]:
    # locale: the browser's language (navigator.language and Accept-Language), as a reader's
    # browser set to it would send; None: Chromium's own (English here).
    page = browser.new_page(viewport={"width": 1280, "height": 1000},
                            **({"locale": locale} if locale else {}))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The Content-Security-Policy must not block anything the page itself does.
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.locator("#question textarea").wait_for(timeout=60_000)
    yield page
    assert not errors, errors
    page.close()


@pytest.fixture
def page(browser: Any, served: dict[str, Any]) -> Iterator[Any]:
    yield from _open_page(browser, served["url"])


def _ask(page: Any, question: str) -> Any:
    """Ask in the chat; the last answer's message once its source cards (or an abstention)
    are on screen."""
    answers = page.locator('#chat [data-testid="bot"]')
    count = answers.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """([n]) => {
             const bots = document.querySelectorAll('#chat [data-testid="bot"]');
             if (bots.length <= n) return false;
             const last = bots[bots.length - 1].innerText;
             return !last.includes('Searching the archive') &&
                    (bots[bots.length - 1].querySelector('.card') !== null ||
                     last.includes('no release') || last.includes('Sorry'));
           }""", arg=[count], timeout=90_000)
    return answers.last


@pytest.mark.browser
def test_the_sanya_question_is_answered_with_the_seed_release_card(
        page: Any, tmp_path: Path, screenshot_target: Path | None) -> None:
    answer = _ask(page, "Who attended the Sanya meeting?")
    card = answer.locator(".card").first
    assert SEED_TITLE in card.locator(".card-title").inner_text()
    assert card.locator(".card-date").inner_text() == "2016-11-30"
    assert SEED_SENTENCE in card.locator("mark").inner_text()
    # The marker [1] leads to its card.
    marker = answer.locator('a[href^="#src-"]').first
    target = marker.get_attribute("href")
    assert marker.inner_text() == "[1]" and answer.locator(f".card{target}").count() == 1
    marker.click()
    assert page.evaluate("location.hash") == target
    # The card opens to the whole release.
    whole = card.locator("details.card-whole")
    whole.locator("summary").click()
    assert "Zhakip Assanov" in whole.inner_text()
    shot = tmp_path / "chat.png"
    page.screenshot(path=str(shot), full_page=True)
    if screenshot_target is not None:  # --screenshot PATH: the README's picture, refreshed
        screenshot_target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, screenshot_target)


@pytest.mark.browser
def test_the_words_that_answer_are_bold_in_the_answer_and_its_card(page: Any) -> None:
    answer = _ask(page, "With which Chinese prosecutor did Zhakip Assanov hold negotiations?")
    spans = answer.locator("strong.answer-span")
    assert spans.count() >= 2  # in the answer's text and in its card's quote
    shown = spans.all_inner_texts()
    assert all("Cao Jianming" in text for text in shown), shown
    # Bold, not only tagged: the reader sees it at a glance.
    weight = spans.first.evaluate("e => getComputedStyle(e).fontWeight")
    assert int(weight) >= 600
    assert answer.locator(".card mark strong.answer-span").count() == 1


@pytest.mark.browser
def test_the_date_filter_changes_what_is_cited(page: Any) -> None:
    question = "What happened at the harbour, and who attended the Sanya meeting?"
    everything = _ask(page, question)
    dates = set(everything.locator(".card-date").all_inner_texts())
    assert "2016-11-30" in dates, dates
    page.locator("#since input, #since textarea").first.fill("2019-01-01")
    filtered = _ask(page, question)
    text = filtered.inner_text()
    assert "Searched releases from 2019-01-01 on" in text
    assert set(filtered.locator(".card-date").all_inner_texts()) <= {"2019-05-12"}
    assert "2016-11-30" not in text


@pytest.mark.browser
def test_a_hostile_release_is_shown_as_text_and_runs_nothing(page: Any) -> None:
    answer = _ask(page, "How much does the new harbour crane lift?")
    card = answer.locator(".card").first
    card.locator("details.card-whole summary").click()
    page.wait_for_timeout(500)  # time for an onerror or onload to fire, if one could
    shown = answer.inner_text()
    assert "<img src=x onerror=" in shown and "<script>" in shown and "<svg onload=" in shown
    assert page.evaluate("window.__pwned") is None
    assert answer.locator("img, script, svg[onload], a[href^='javascript']").count() == 0
    # The library shows the same release as text too.
    page.get_by_role("tab", name="Library").click()
    page.locator("#library-table").get_by_text("harbour.txt").first.click()
    document = page.locator("#document")
    document.get_by_text("onerror", exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert document.locator("img, script, svg").count() == 0


@pytest.mark.browser
def test_an_uploaded_release_is_indexed_and_answers(page: Any, served: dict[str, Any]) -> None:
    release = served["tmp"] / "aktau ferry (2021).txt"
    release.write_text(UPLOADED, encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(release))
    page.locator("#add").click()
    page.locator("#upload-status").get_by_text("1 added").wait_for(timeout=120_000)
    assert (served["tmp"] / "corpus" / "uploads" / "aktau_ferry_2021_.txt").is_file()
    page.get_by_role("tab", name="Chat").click()
    answer = _ask(page, "How often do ferries to Baku leave the Aktau terminal?")
    card = answer.locator(".card").first
    assert "Aktau ferry terminal reopened" in card.locator(".card-title").inner_text()
    assert "twice a day" in card.locator("mark").inner_text()


@pytest.mark.browser
@pytest.mark.parametrize(("locale", "ask", "tab", "placeholder", "stats"), [
    # Russian: Gradio's own translation of the gr.I18n words; Kazakh, which Gradio's browser
    # side does not know, by the labels the server sends again on load.
    ("ru-RU", "Спросить", "Библиотека", "Фильтр по названию или id", "показано"),
    ("kk-KZ", "Сұрау", "Кітапхана", "Атауы немесе id бойынша сүзу", "көрсетілді"),
])
def test_the_page_speaks_the_browsers_language(browser: Any, served: dict[str, Any], locale: str,
                                               ask: str, tab: str, placeholder: str,
                                               stats: str) -> None:
    for page in _open_page(browser, served["url"], locale=locale):
        page.locator("#ask").get_by_text(ask, exact=True).wait_for(timeout=30_000)
        page.get_by_role("tab", name=tab).click()
        box = page.locator("#library-filter textarea, #library-filter input").first
        page.wait_for_function("([box, want]) => box.placeholder === want",
                               arg=[box.element_handle(), placeholder], timeout=30_000)
        # What the server writes follows the same language: the library's counts.
        page.locator("#library-stats").get_by_text(stats, exact=False).wait_for(timeout=30_000)


def test_a_public_interface_without_credentials_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PRESS_ASSISTANT_AUTH"}
    done = subprocess.run([sys.executable, "-m", "assistant", "serve", "--index",
                           str(tmp_path / "none"), "--host", "0.0.0.0", "--port", str(_free_port())],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "PRESS_ASSISTANT_AUTH=user:password" in done.stderr and "bind 127.0.0.1" in done.stderr


def test_the_served_api_and_gradio_client_give_the_same_answer(served: dict[str, Any]) -> None:
    import httpx
    from gradio_client import Client

    url = served["url"]
    reply = httpx.post(f"{url}api/ask", json={"question": "Who attended the Sanya meeting?"},
                       timeout=60)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert not body["abstained"] and "SCO" in body["answer"]
    assert body["citations"][0]["date"] == "2016-11-30"
    assert httpx.get(f"{url}api/health", timeout=10).json()["documents"] >= 2
    bad = httpx.post(f"{url}api/ask", json={"questio": "typo"}, timeout=10)
    assert bad.status_code == 422 and "question" in bad.json()["error"]
    # The seed's file opens through the server; nothing outside the indexed folder does.
    seed = body["citations"][0]["doc_id"]
    opened = httpx.get(f"{url}source/{seed}", timeout=10)
    assert opened.status_code == 200 and SEED_SENTENCE in opened.text
    assert opened.headers["content-security-policy"] == "sandbox"
    assert httpx.get(f"{url}source/..%2F..%2Fetc%2Fpasswd", timeout=10).status_code == 404

    client = Client(url, verbose=False)
    answer = client.predict("Who attended the Sanya meeting?", "", "", api_name="/ask")
    assert answer == body  # the same answer, the same shape, by either road


@pytest.fixture(scope="module")
def served_with_llm(tmp_path_factory: pytest.TempPathFactory,
                    real_llm: RealLLM) -> Iterator[dict[str, Any]]:
    """The same archive, served with answers written by the real model (SmolLM2)."""
    yield from _serve(tmp_path_factory.mktemp("served-llm"), "--llm", real_llm.url,
                      "--llm-model", real_llm.model)


@pytest.mark.browser
def test_the_chat_streams_a_written_answer_then_shows_the_checked_one(
        browser: Any, served_with_llm: dict[str, Any]) -> None:
    for page in _open_page(browser, served_with_llm["url"]):
        # Watch for the draft: it is on the page only while the model writes.
        page.evaluate("""() => { window.__draft = false;
            new MutationObserver(() => {
              if (document.querySelector('#chat')?.innerText.includes('Writing; checked'))
                window.__draft = true;
            }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
        answer = _ask(page, "Who attended the Sanya meeting?")
        assert page.evaluate("() => window.__draft"), "no draft was shown while the model wrote"
        text = answer.inner_text()
        assert "Writing; checked" not in text
        # Which one answered is said: the model (every sentence checked), or the quotes and why.
        assert "every sentence checked" in text or "Extractive answer:" in text, text
        if "every sentence checked" in text:
            assert "Written by" in text and answer.locator(".card").count() >= 1
