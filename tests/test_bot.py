"""The Python API: ChatBot.from_settings, ask, chat (follow-ups), stream, errors, re-indexing."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from pathlib import Path

import pytest

from rag import Answer, ChatBot, Citation, RagError, Settings
from rag.errors import ConfigError, IndexMissingError, QuestionError
from rag.text import fold

from .conftest import ARTICLES, ROOT, SIGNING_ARTICLE


def test_public_api_shape(bot: ChatBot) -> None:
    answer = bot.ask("What was signed in December 2021?")
    assert isinstance(answer, Answer) and isinstance(answer.citations[0], Citation)
    payload = answer.to_json()
    assert set(payload) == {"answer", "abstained", "citations"}
    assert set(payload["citations"][0]) == {"article_id", "title", "date", "quote"}
    assert payload["citations"][0]["date"] == "2021-12-12"
    assert issubclass(QuestionError, RagError)


def test_follow_up_is_resolved_against_the_history(bot: ChatBot) -> None:
    first = bot.ask("What was signed in December 2021?")
    history = [
        {"role": "user", "content": "What was signed in December 2021?"},
        {"role": "assistant", "content": first.text},
    ]
    answer = bot.chat(history, "and who signed it?")
    assert answer.citations[0].article_id == SIGNING_ARTICLE
    assert "phan van giang" in fold(answer.text) and "chansamone" in fold(answer.text)
    # the same follow-up without history has nothing to refer to
    alone = bot.chat([], "and who signed it?")
    assert alone.citations == [] or alone.citations[0].article_id != SIGNING_ARTICLE or alone.text != answer.text
    # pairs work as history too, in Vietnamese
    pairs = [("Việt Nam và Lào đã ký những văn kiện gì vào tháng 12/2021?", first.text)]
    vi = bot.chat(pairs, "Ai đã ký?")
    assert vi.lang == "vi" and vi.citations[0].article_id == SIGNING_ARTICLE


def test_stream_yields_text_then_the_answer(bot: ChatBot) -> None:
    items = list(bot.stream("Ngày 18/12/2024, Thủ tướng Phạm Minh Chính tiếp ai?"))
    *pieces, final = items
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in pieces) and len(pieces) > 3
    assert "".join(pieces) == final.text
    assert "khamliang" in fold(final.text)


@pytest.mark.parametrize("question", ["", "   ", "\n\t \u3000", " " * 100_000])
def test_empty_questions_are_project_errors(bot: ChatBot, question: str) -> None:
    with pytest.raises(QuestionError) as err:
        bot.ask(question)
    assert str(err.value) == "The question is empty. Type a question about the articles."


def _median_seconds(*calls, repeat: int = 5) -> list[float]:
    """Median wall time of each call, the calls interleaved so that load from other
    processes on the machine falls on all of them alike."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for call, spent in zip(calls, times, strict=True):
            started = time.perf_counter()
            call()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def test_a_100k_character_question_is_cut_with_a_notice_in_normal_time(bot: ChatBot) -> None:
    question = "What was signed in December 2021?"
    huge = question + " Please quote the articles and cite them." * 2_600
    assert len(huge) > 100_000
    answer = bot.ask(huge)
    assert answer.notice == (f"The question was {len(huge):,} characters long; only its first "
                             f"{len(answer.question):,} were used (RAG_MAX_QUESTION_CHARS=1,000).")
    assert 900 <= len(answer.question) <= 1000 and answer.question.startswith(question)
    assert not answer.abstained and answer.citations[0].article_id == SIGNING_ARTICLE
    assert answer.to_json()["notice"] == answer.notice and set(answer.to_json()) == {
        "answer", "abstained", "citations", "notice"}
    normal = bot.ask(question)
    assert normal.notice == "" and set(normal.to_json()) == {"answer", "abstained", "citations"}
    # streamed and multi-turn answers carry the notice too; the history may hold long questions
    assert list(bot.stream(huge))[-1].notice == answer.notice
    assert bot.chat([{"role": "user", "content": huge}, {"role": "assistant", "content": "x" * 50_000}],
                    huge).notice == answer.notice
    # latency: within what real questions take (the longest of the evaluation sets)
    longest = max((json.loads(line)["question"] for path in sorted((ROOT / "eval").glob("qa_*.jsonl"))
                   for line in path.read_text(encoding="utf-8").splitlines()), key=len)
    short_s, long_s, huge_s = _median_seconds(
        lambda: bot.ask(question), lambda: bot.ask(longest), lambda: bot.ask(huge)
    )
    print(f"\nask latency (median of 5): {len(question)}-character question {short_s * 1000:.0f} ms; "
          f"longest evaluation question ({len(longest)} characters) {long_s * 1000:.0f} ms; "
          f"{len(huge):,}-character question {huge_s * 1000:.0f} ms")
    assert huge_s < 1.5 * long_s + 0.1


def test_the_question_cap_is_a_setting(bot: ChatBot) -> None:
    short_cap = ChatBot(bot.index, bot.embeddings, bot.settings.replace(max_question_chars=60))
    answer = short_cap.ask("What was signed in December 2021? " * 4)
    assert "only its first" in answer.notice and "RAG_MAX_QUESTION_CHARS=60" in answer.notice
    assert len(answer.question) <= 60


def test_from_settings_builds_when_missing_and_reindex_picks_up_uploads(tmp_path: Path, real_settings) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / f"{SIGNING_ARTICLE}.txt", articles)
    settings = real_settings.replace(articles_dir=articles, index_dir=tmp_path / "index")
    with pytest.raises(IndexMissingError):
        ChatBot.from_settings(settings, build_if_missing=False)
    bot = ChatBot.from_settings(settings)
    assert [a.id for a in bot.articles] == [SIGNING_ARTICLE]
    shutil.copy(ARTICLES / "003_f334f3650929ce75.txt", articles)
    report = bot.reindex()
    assert report.added == ["003_f334f3650929ce75"]
    assert report.embedded == 0  # the session's shared embedding cache already holds these texts
    assert bot.ask("What memorandum was signed in October 2025?").citations[0].article_id == "003_f334f3650929ce75"
    assert [a.id for a in bot.articles] == ["003_f334f3650929ce75", SIGNING_ARTICLE]  # newest first


def test_settings_from_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"RAG_INDEX_DIR": str(tmp_path), "RAG_TOP_K": "4", "RAG_BACKEND": "openai", "OPENAI_API_KEY": "k"},
        backend="extractive",  # a flag wins over the environment
    )
    assert settings.index_dir == tmp_path and settings.top_k == 4 and settings.backend == "extractive"
    assert settings.llm_api_key == "k"
    with pytest.raises(RagError, match="RAG_EMBEDDINGS"):
        Settings.from_env({"RAG_EMBEDDINGS": "word2vec"})
    with pytest.raises(RagError, match="RAG_TOP_K"):
        Settings.from_env({"RAG_TOP_K": "-1"})
    with pytest.raises(AttributeError):
        settings.top_k = 3  # frozen
    assert Settings.from_env({"RAG_MAX_QUESTION_CHARS": "2000"}).max_question_chars == 2000


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("RAG_TOP_K", "many", "RAG_TOP_K='many' is not a number."),
        ("RAG_TOP_K", "2.5", "RAG_TOP_K='2.5' is not a number."),
        ("RAG_TOP_K", "0", "RAG_TOP_K=0 must be a positive whole number."),
        ("RAG_CHUNK_CHARS", "50", "RAG_CHUNK_CHARS below 120"),
        ("RAG_MAX_UPLOAD_BYTES", "1e6", "RAG_MAX_UPLOAD_BYTES='1e6' is not a number."),
        ("RAG_MAX_QUESTION_CHARS", "10", "RAG_MAX_QUESTION_CHARS=10 would cut ordinary questions."),
        ("RAG_LLM_TIMEOUT", "soon", "RAG_LLM_TIMEOUT='soon' is not a number."),
        ("RAG_LLM_TIMEOUT", "nan", "RAG_LLM_TIMEOUT=nan must be a positive number of seconds."),
        ("RAG_LLM_TIMEOUT", "-5", "RAG_LLM_TIMEOUT=-5.0 must be a positive number of seconds."),
        ("RAG_LLM_BASE_URL", "127.0.0.1:8000", "RAG_LLM_BASE_URL='127.0.0.1:8000' is not an http(s) URL."),
        ("RAG_LOG_LEVEL", "LOUD", "RAG_LOG_LEVEL='LOUD' is not a logging level."),
        ("RAG_BACKEND", "gpt", "RAG_BACKEND='gpt' is not a backend."),
        ("RAG_EMBEDDINGS", "word2vec", "RAG_EMBEDDINGS='word2vec' is not an engine."),
    ],
)
def test_malformed_settings_are_one_line_errors_naming_the_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({variable: value})
    message = str(err.value)
    assert message.startswith(says) and "\n" not in message and err.value.fix


def test_chain_is_the_same_pipeline_as_a_langchain_runnable(bot: ChatBot) -> None:
    question = "What was signed in December 2021?"
    assert bot.chain.invoke(question).to_json() == bot.ask(question).to_json()
