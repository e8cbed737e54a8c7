"""The Python API: ChatBot.from_settings, ask, chat (follow-ups), stream, errors, re-indexing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import Answer, ChatBot, Citation, RagError, Settings
from rag.errors import IndexMissingError, QuestionError
from rag.text import fold

from .conftest import ARTICLES, SIGNING_ARTICLE


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


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_unusable_questions_are_project_errors(bot: ChatBot, question: str) -> None:
    with pytest.raises(QuestionError) as err:
        bot.ask(question)
    assert "\n" not in str(err.value)


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


def test_chain_is_the_same_pipeline_as_a_langchain_runnable(bot: ChatBot) -> None:
    question = "What was signed in December 2021?"
    assert bot.chain.invoke(question).to_json() == bot.ask(question).to_json()
