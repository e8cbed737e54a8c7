"""Web UI: a thin Gradio front end over ``ChatBot`` - chat, timeline, articles, and an API.

Covers: ``build_ui(bot)`` with a Chat tab (streamed answers from ``bot.stream``, multi-turn,
numbered source cards whose quote is highlighted in its paragraph and, on click, in the
whole cleaned article; a distinct style for abstentions; optional publication-date range
and backend choice; user errors as one line), a Timeline tab (``rag.timeline`` events and
signed agreements), an Articles tab (the corpus, and ``.txt`` uploads that are validated,
saved under a safe name and indexed incrementally), and the ``/ask`` API endpoint returning
``Answer.to_json()``. ``launch(bot)`` starts it with the server-side upload limit
(``RAG_MAX_UPLOAD_BYTES``); chat turns and ``/ask`` calls share ``RAG_CONCURRENCY`` workers. The small helpers (``save_upload``, ``safe_filename``, the HTML
renderers) are plain functions, testable without a browser; everything shown from article
text or from a user is HTML-escaped.
Does not cover: retrieval, answering or prompts (all in ``rag.bot`` / ``rag.answer``);
callbacks only call the library and format what it returns. Per-session state lives in
``gr.State``; uploaded articles join the shared corpus on purpose.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer import Answer, Citation, format_date
from rag.bot import ChatBot
from rag.errors import ArticleError, QuestionError, RagError
from rag.ingest import Article, article_files, load_article
from rag.timeline import agreements, events

EXAMPLES = [
    "What was signed in December 2021?",
    "Việt Nam và Lào đã ký những văn kiện gì vào tháng 12/2021?",
    "Who did Prime Minister Pham Minh Chinh receive on 18 December 2024?",
    "Diễn tập cứu hộ, cứu nạn chung giữa ba nước diễn ra khi nào?",
    "What memorandum was signed in October 2025?",
]
Turn = tuple[str, Answer]  # (question as typed, the library's answer)

CSS = """
.rag-msg { line-height: 1.55; }
.rag-ref { font-size: .75em; color: #1d4ed8; font-weight: 600; }
.rag-abstain { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f; padding: .5em .75em;
  border-radius: 6px; }
.rag-abstain .rag-icon { font-weight: 700; margin-right: .35em; }
.rag-error { border: 1px solid #fca5a5; background: #fef2f2; color: #991b1b; padding: .45em .75em;
  border-radius: 6px; margin: .25em 0; }
.rag-notice { border: 1px solid #93c5fd; background: #eff6ff; color: #1e3a8a; padding: .45em .75em;
  border-radius: 6px; margin: .25em 0; }
.rag-ok { border: 1px solid #86efac; background: #f0fdf4; color: #166534; padding: .45em .75em; border-radius: 6px; }
.rag-sources-head { font-weight: 600; margin: .2em 0 .6em; color: #374151; }
.rag-empty { color: #6b7280; font-style: italic; padding: .5em 0; }
.rag-card { border: 1px solid #e5e7eb; border-radius: 8px; margin: 0 0 .75em; background: #fff;
  box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.rag-card > summary { list-style: none; cursor: pointer; padding: .7em .85em; }
.rag-card > summary::-webkit-details-marker { display: none; }
.rag-card[open] > summary { border-bottom: 1px dashed #e5e7eb; }
.rag-card-head { display: flex; gap: .55em; align-items: baseline; }
.rag-card .rag-num { flex: none; background: #1d4ed8; color: #fff !important; border-radius: 999px; min-width: 1.6em;
  text-align: center; font-size: .8em; font-weight: 700; padding: .1em .4em; }
.rag-title { font-weight: 600; color: #111827; }
.rag-meta { color: #6b7280; font-size: .85em; margin: .2em 0 .45em 2.3em; }
.rag-meta code { font-size: .95em; }
.rag-para, .rag-body { white-space: pre-wrap; color: #374151; font-size: .93em; line-height: 1.55; }
.rag-para { margin-left: 2.3em; }
.rag-body { padding: .6em .85em .85em; max-height: 420px; overflow-y: auto; }
mark.rag-quote { background: #fef08a; color: #111827; padding: 0 .1em; border-radius: 2px; }
.rag-article-head { padding: .7em .85em 0; }
.rag-article-head .rag-meta { margin-left: 0; }
.rag-card .rag-open { display: inline-block; margin: .45em 0 0 2.3em; font-size: .82em; color: #1d4ed8 !important; }
.rag-card[open] .rag-open::after { content: " (click to close)"; }
.rag-table table, .rag-table .virtual-row, .rag-table .header-table, .rag-table td, .rag-table th {
  font-family: var(--font) !important; }
"""
# Scrolls the highlighted quote into view when a card is opened (our code, not article text).
_CARD_JS = """element.addEventListener('toggle', (e) => {
  const m = e.target.open && e.target.querySelector('.rag-body mark');
  if (m) m.scrollIntoView({block: 'center', behavior: 'smooth'});
}, true);"""


# ---------------------------------------------------------------- uploads


def safe_filename(filename: str) -> str:
    """A safe ``.txt`` base name for an upload: no directories, ASCII letters, digits, ``-_.``;
    raise ``ArticleError`` for another extension."""
    base = re.split(r"[\\/]", filename or "")[-1].strip()
    stem, dot, ext = base.rpartition(".")
    if not dot or ext.lower() != "txt":
        raise ArticleError(f"{base or 'The file'}: only .txt files can be added.", "Save the article as UTF-8 text (.txt).")
    ascii_stem = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    ascii_stem = ascii_stem.encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_stem).strip("-_")[:80]
    return f"{ascii_stem or 'article'}.txt"


def save_upload(source: Path, filename: str, articles_dir: Path, max_bytes: int) -> Path:
    """Validate an uploaded article and add it to ``articles_dir``; return the saved path.

    Raises ``ArticleError`` (one line, with the fix) for another extension, a file over
    ``max_bytes``, text that is not UTF-8, binary, empty or not an article (``rag.ingest``
    rules), or bytes already in the corpus. Never overwrites: a taken name gets ``-2``, ``-3``...
    """
    name = safe_filename(filename)
    size = Path(source).stat().st_size
    if size > max_bytes:
        raise ArticleError(f"{name}: {size:,} bytes is over the {max_bytes:,}-byte upload limit.", "Shorten or split it.")
    data = Path(source).read_bytes()
    with tempfile.TemporaryDirectory() as tmp:  # validate under the name the user will see in messages
        staged = Path(tmp) / name
        staged.write_bytes(data)
        load_article(staged)
    articles_dir = Path(articles_dir)
    for existing in article_files(articles_dir):
        if existing.stat().st_size == len(data) and existing.read_bytes() == data:
            raise ArticleError(f"{name}: the same text is already in the corpus as {existing.name}.", "Nothing to add.")
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=articles_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        stem = name[: -len(".txt")]
        for n in range(1, 1000):
            target = articles_dir / (name if n == 1 else f"{stem}-{n}.txt")
            try:
                os.link(tmp_name, target)  # atomic, and fails instead of overwriting
                return target
            except FileExistsError:
                continue
        raise ArticleError(f"{name}: too many files with this name.", "Rename the file.")
    finally:
        os.unlink(tmp_name)


# ---------------------------------------------------------------- HTML rendering


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def highlight(body: str, start: int, end: int, lo: int = 0, hi: int | None = None) -> str:
    """Escaped ``body[lo:hi]`` with ``body[start:end]`` wrapped in ``<mark class="rag-quote">``."""
    hi = len(body) if hi is None else hi
    return f'{_esc(body[lo:start])}<mark class="rag-quote">{_esc(body[start:end])}</mark>{_esc(body[end:hi])}'


def paragraph_bounds(body: str, start: int, end: int) -> tuple[int, int]:
    """The paragraph(s) (``\\n\\n``-separated) around ``body[start:end]``."""
    lo = body.rfind("\n\n", 0, start)
    hi = body.find("\n\n", end)
    return (0 if lo < 0 else lo + 2), (len(body) if hi < 0 else hi)


def _span(article: Article, c: Citation) -> tuple[int, int] | None:
    """The citation's offsets, checked against the article (re-found if the index moved on)."""
    if article.body[c.start : c.end] == c.quote:
        return c.start, c.end
    at = article.body.find(c.quote)
    return (at, at + len(c.quote)) if at >= 0 else None


def source_card(n: int, c: Citation, article: Article | None) -> str:
    """One numbered card: title, date, id, the quote in its paragraph; opens to the whole article."""
    meta = " · ".join(x for x in (format_date(c.date), article.outlet if article else None) if x)
    head = (
        f'<div class="rag-card-head"><span class="rag-num">{n}</span><span class="rag-title">{_esc(c.title)}</span></div>'
        f'<div class="rag-meta">{_esc(meta)} · <code>{_esc(c.article_id)}</code></div>'
    )
    span = _span(article, c) if article else None
    if span is None:  # article gone since the answer: show the quote alone
        return f'<div class="rag-card" data-article-id="{_esc(c.article_id)}"><div>{head}<div class="rag-para">' \
               f'<mark class="rag-quote">{_esc(c.quote)}</mark></div></div></div>'
    lo, hi = paragraph_bounds(article.body, *span)
    return (
        f'<details class="rag-card" data-article-id="{_esc(c.article_id)}"><summary>{head}'
        f'<div class="rag-para">{highlight(article.body, *span, lo, hi)}</div>'
        f'<span class="rag-open">▸ Show the whole article</span></summary>'
        f'<div class="rag-body">{highlight(article.body, *span)}</div></details>'
    )


def article_html(article: Article) -> str:
    """The whole cleaned article (Articles tab), escaped."""
    meta = " · ".join(x for x in (format_date(article.date), article.outlet, article.id) if x)
    return (f'<div class="rag-card"><div class="rag-article-head"><div class="rag-title">{_esc(article.title)}</div>'
            f'<div class="rag-meta">{_esc(meta)}</div></div><div class="rag-body">{_esc(article.body)}</div></div>')


def render_sources(answer: Answer | None, articles: dict[str, Article], state: str = "") -> str:
    """The source cards of an answer (``state`` tags the container for tests and styling)."""
    if answer is None:
        text = "Searching the articles…" if state == "streaming" else "Sources of the latest answer appear here."
        return f'<div class="rag-sources" data-state="{state or "idle"}"><div class="rag-empty">{text}</div></div>'
    if answer.abstained or not answer.citations:
        return ('<div class="rag-sources" data-state="abstained"><div class="rag-abstain">'
                "⚠ No sources: the articles do not answer this question.</div></div>")
    cards = "".join(source_card(i, c, articles.get(c.article_id)) for i, c in enumerate(answer.citations, 1))
    head = f'<div class="rag-sources-head">Sources of the latest answer ({len(answer.citations)})</div>'
    return f'<div class="rag-sources" data-state="answered">{head}{cards}</div>'


def message_html(text: str, abstained: bool = False) -> str:
    """A chat message as one escaped HTML block (no Markdown is interpreted in it)."""
    body = _esc(text).replace("\n", "<br>")
    if abstained:
        return f'<div class="rag-msg rag-abstain"><span class="rag-icon">⚠ Not in the articles.</span>{body}</div>'
    body = re.sub(r"\[(\d{1,2})\]", r'<sup class="rag-ref">[\1]</sup>', body)
    return f'<div class="rag-msg">{body}</div>'


def error_html(message: str) -> str:
    return f'<div class="rag-error" role="alert">⚠ {_esc(message)}</div>' if message else ""


def notice_html(message: str) -> str:
    """A one-line note about an answer (e.g. the question was cut), shown where errors are."""
    return f'<div class="rag-notice" role="status">ℹ {_esc(message)}</div>' if message else ""


def _chat(turns: list[Turn], pending: tuple[str, str] | None = None) -> list[dict[str, str]]:
    messages = []
    for question, answer in turns:
        messages += [{"role": "user", "content": message_html(question)},
                     {"role": "assistant", "content": message_html(answer.text, answer.abstained)}]
    if pending:
        messages += [{"role": "user", "content": message_html(pending[0])},
                     {"role": "assistant", "content": message_html(pending[1] + " ▌")}]
    return messages


# ---------------------------------------------------------------- tables


def _source(article_id: str, title: str) -> str:
    return f"{article_id} — {title}"


def article_rows(bot: ChatBot) -> list[list[Any]]:
    return [[a.date or "", a.title, a.outlet or "", a.id, len(a.body)] for a in bot.articles]


def event_rows(bot: ChatBot) -> list[list[str]]:
    return [[e.date, e.what, ", ".join(e.who), _source(e.article_id, e.article_title)]
            for e in events(bot.index.articles.values())]


def agreement_rows(bot: ChatBot) -> list[list[str]]:
    return [[a.document, a.date or "", a.parties, a.signers, _source(a.article_id, a.article_title)]
            for a in agreements(bot.index.articles.values())]


def _parse_day(value: Any, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value).date()
    try:
        return datetime.fromisoformat(str(value).strip()).date()
    except ValueError:
        raise QuestionError(f"{label} {str(value)!r} is not a date.", "Use YYYY-MM-DD, e.g. 2021-12-01.") from None


# ---------------------------------------------------------------- the app


def chat_turn(bot: ChatBot, message: str, turns: list[Turn], date_from: Any = None, date_to: Any = None,
              backend: str | None = None) -> Iterator[tuple[Any, ...]]:
    """One chat turn, streamed: yields (chat messages, sources HTML, error HTML, turns, textbox).

    The library gets the plain history (question, answer text); a ``RagError`` leaves the
    conversation as it was and shows one line. ``gr.skip()`` marks outputs left unchanged.
    """
    history = [m for q, a in turns for m in ({"role": "user", "content": q}, {"role": "assistant", "content": a.text})]
    text = ""
    limit = bot.settings.max_question_chars  # the library cuts longer questions; the chat shows them cut too
    shown = message if not isinstance(message, str) or len(message) <= limit else message[:limit] + " …"
    try:
        within = (_parse_day(date_from, "Start date"), _parse_day(date_to, "End date"))
        for piece in bot.stream(message, history=history, backend=backend or None, within=within):
            if isinstance(piece, Answer):
                turns = [*turns, (shown, piece)]
                yield _chat(turns), render_sources(piece, bot.index.articles), notice_html(piece.notice), turns, ""
                return
            text += piece
            yield _chat(turns, (shown, text)), render_sources(None, {}, "streaming"), "", gr.skip(), gr.skip()
    except RagError as err:
        last = turns[-1][1] if turns else None
        yield _chat(turns), render_sources(last, bot.index.articles), error_html(str(err)), gr.skip(), gr.skip()


def add_articles(bot: ChatBot, paths: list[str] | None, progress: Callable[..., Any] | None = None) -> str:
    """Save the uploaded files (``save_upload``), re-index, and return the status HTML."""
    saved, problems = [], []
    for f in paths or []:
        try:
            saved.append(save_upload(Path(f), Path(f).name, bot.settings.articles_dir, bot.settings.max_upload_bytes))
        except RagError as err:
            problems.append(str(err))
    if not paths:
        problems.append("No file chosen. Pick one or more .txt articles first.")
    def step(done: int, total: int, name: str) -> None:
        if progress:
            progress((done, total), desc=f"Indexing {name}")

    status = ""
    if saved:
        try:
            report = bot.reindex(progress=step)
            status = f'<div class="rag-ok">Added {", ".join(_esc(p.name) for p in saved)}. {_esc(report.summary())}</div>'
            status += "".join(notice_html(w) for w in report.warnings)  # duplicates, undated articles, ...
        except RagError as err:
            problems.append(str(err))
    return status + "".join(error_html(p) for p in problems)


def build_ui(bot: ChatBot) -> gr.Blocks:
    """The Gradio app for ``bot``; launch it with ``build_ui(bot).launch()``."""

    def respond(message: str, turns: list[Turn], date_from: Any, date_to: Any, backend: str | None
                ) -> Iterator[tuple[Any, ...]]:
        yield from chat_turn(bot, message, turns, date_from, date_to, backend)

    def upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        status = add_articles(bot, files, progress)
        return status, article_rows(bot), event_rows(bot), agreement_rows(bot), None

    def show_article(evt: gr.SelectData) -> str:
        article = bot.index.articles.get(str((evt.row_value or [""] * 4)[3]))  # column 3 is the id
        return article_html(article) if article else ""

    def ask(question: str) -> dict:
        """Answer one question from the articles.

        Returns {"answer", "abstained", "citations": [{"article_id", "title", "date", "quote"}]}.
        """
        try:
            return bot.ask(question).to_json()
        except RagError as err:
            raise gr.Error(str(err), print_exception=False) from None

    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title="Việt Nam – Lào defence news Q&A") as demo:
        gr.HTML("<h2 style='margin:.2em 0'>Việt Nam – Lào defence cooperation: news Q&amp;A</h2>"
                "<div style='color:#6b7280'>Answers come only from the indexed articles and quote them verbatim; "
                "when the articles do not say, the bot says so.</div>", head=f"<style>{CSS}</style>", js_on_load=None)
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat"), gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    chatbot = gr.Chatbot(
                        label="Conversation", show_label=False, height=440, elem_id="rag-chat", buttons=[],
                        feedback_options=None, latex_delimiters=[],  # messages are our escaped HTML, nothing else
                        placeholder="Ask about Việt Nam – Lào defence cooperation.",
                    )
                    error = gr.HTML("", elem_id="rag-error", js_on_load=None)
                    with gr.Row():
                        question = gr.Textbox(show_label=False, placeholder="Ask a question (English or Tiếng Việt)…",
                                              scale=6, elem_id="rag-question", submit_btn=False)
                        ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
                        clear = gr.Button("New chat", scale=1)
                    gr.Examples([[q] for q in EXAMPLES], inputs=[question], label="Examples")
                    with gr.Accordion("Filters", open=False):
                        with gr.Row():
                            date_from = gr.DateTime(label="Published from", include_time=False, type="string")
                            date_to = gr.DateTime(label="Published until", include_time=False, type="string")
                        backend = gr.Dropdown(bot.backends, value=bot.settings.backend, label="Answer backend",
                                              visible=len(bot.backends) > 1)
                with gr.Column(scale=4):
                    sources = gr.HTML(render_sources(None, {}), elem_id="rag-sources", js_on_load=_CARD_JS)
            with gr.Tab("Timeline"):
                gr.Markdown("Dated events and signed documents found in the articles (dates: ISO; `2022` = year only).")
                table: dict[str, Any] = {"wrap": True, "interactive": False, "elem_classes": ["rag-table"]}
                event_table = gr.Dataframe(event_rows(bot), headers=["Date", "What happened", "Who", "Source"],
                                           label="Events", column_widths=["10%", "52%", "16%", "22%"], **table)
                agreement_table = gr.Dataframe(agreement_rows(bot), label="Agreements signed",
                                               headers=["Document", "Date", "Parties", "Signed by", "Source"],
                                               column_widths=["32%", "10%", "22%", "16%", "20%"], **table)
            with gr.Tab("Articles"):
                article_table = gr.Dataframe(article_rows(bot), headers=["Date", "Title", "Outlet", "Id", "Characters"],
                                             label="Corpus (select a row to read it)",
                                             column_widths=["10%", "52%", "10%", "18%", "10%"], **table)
                article_view = gr.HTML("", js_on_load=None)
                files = gr.File(label=f"Add articles (.txt, UTF-8, up to {bot.settings.max_upload_bytes:,} bytes)",
                                file_count="multiple", file_types=[".txt"], type="filepath", elem_id="rag-files")
                add = gr.Button("Add to the corpus and index", variant="primary", elem_id="rag-upload")
                upload_status = gr.HTML("", elem_id="rag-upload-status", js_on_load=None)

        chat_io = {"inputs": [question, turns, date_from, date_to, backend],
                   "outputs": [chatbot, sources, error, turns, question]}
        # chat turns and /ask calls share RAG_CONCURRENCY workers (ChatBot is thread-safe); the rest queue
        answering: dict[str, Any] = {"concurrency_limit": bot.settings.concurrency, "concurrency_id": "answer"}
        gr.on([question.submit, ask_button.click], respond, **chat_io, **private, **answering)
        clear.click(lambda: ([], [], render_sources(None, {}), ""), outputs=[turns, chatbot, sources, error], **private)
        chatbot.clear(lambda: ([], render_sources(None, {}), ""), outputs=[turns, sources, error], **private)
        add.click(upload, inputs=[files], outputs=[upload_status, article_table, event_table, agreement_table, files],
                  concurrency_limit=1, **private)
        article_table.select(show_article, outputs=[article_view], **private)
        demo.load(lambda: (article_rows(bot), event_rows(bot), agreement_rows(bot)),  # uploads from other sessions
                  outputs=[article_table, event_table, agreement_table], **private)
        gr.api(ask, api_name="ask", **answering)
    return demo


def launch(bot: ChatBot, **kwargs: Any) -> gr.Blocks:
    """Build the app for ``bot`` and start it (``kwargs`` go to ``Blocks.launch``). The server
    refuses uploads over ``settings.max_upload_bytes`` before they reach the disk (HTTP 413);
    ``save_upload`` checks the size again."""
    demo = build_ui(bot)
    demo.launch(max_file_size=bot.settings.max_upload_bytes, **kwargs)
    return demo


__all__ = [
    "CSS", "EXAMPLES", "add_articles", "article_html", "build_ui", "chat_turn", "highlight", "launch", "notice_html",
    "paragraph_bounds",
    "render_sources", "safe_filename", "save_upload", "source_card",
]
