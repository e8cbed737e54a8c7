"""Retrieval: BM25, hybrid fusion, date filtering and ranking, the LangChain retriever interface."""

from __future__ import annotations

from datetime import date

import pytest

from rag.bot import ChatBot
from rag.chunking import Chunk
from rag.dates import Period
from rag.query import analyze
from rag.retrieval import BM25, date_match, unmarked_vietnamese
from rag.text import fold, lexical_tokens

from .conftest import SIGNING_ARTICLE


def test_bm25_prefers_rare_matching_terms() -> None:
    docs = [lexical_tokens(t) for t in ("ký nghị định thư cứu hộ", "hai nước hợp tác", "hợp tác hai nước hữu nghị")]
    scores = BM25(docs).scores(lexical_tokens("nghị định thư"))
    assert scores[1] == 0 and scores[0] > 5 * scores[2] > 0  # "hữu nghị" shares one syllable, not the phrase


def test_accent_folding_and_abbreviations_match() -> None:
    assert set(lexical_tokens("Bộ đội Biên phòng")) <= set(lexical_tokens("BĐBP"))  # abbreviation spelled out
    assert lexical_tokens("thỏa thuận") == lexical_tokens("thoa thuan")


def chunk(date_: str | None, events: tuple[str, ...] = ()) -> Chunk:
    return Chunk("a", 0, 0, 1, "x", "t", date_, events)


def test_date_match_levels() -> None:
    dec21 = [Period.from_iso("2021-12")]
    assert date_match(chunk("2021-12-12"), dec21) == 1.0  # published then
    assert date_match(chunk("2022-06", ("2021-12",)), dec21) == 0.8  # mentions that month
    assert date_match(chunk("2024-12-18", ("2025",)), dec21) == 0.0
    assert date_match(chunk("2024-12-18", ("2025",)), [Period.from_iso("2025")]) == 0.5  # a year-only mention
    assert date_match(chunk("2024-12-18", ("2025",)), [Period.from_iso("2025-10")]) == 0.0  # too vague for a month


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("What was signed in December 2021?", SIGNING_ARTICLE),
        ("Dec 2021 border exchange", SIGNING_ARTICLE),
        ("Ai đến chào xã giao Tổng Bí thư Thongloun Sisoulith tháng 10/2025?", "003_f334f3650929ce75"),
        ("Who were the Lao defence attachés received in Hanoi in 2020?", "004_3c74da71e6f5db71"),
        ("Ngày 18/12/2024 Thủ tướng tiếp ai?", "000_365769973c54f80b"),
        ("In which province of Laos did the first border defence friendship exchange take place?", SIGNING_ARTICLE),
    ],
)
def test_hybrid_ranking(bot: ChatBot, question: str, first: str) -> None:
    result = bot.retrieve(question)
    assert result.hits[0].chunk.article_id == first
    assert all(h.score >= result.hits[-1].score for h in result.hits)


def test_vietnamese_without_tone_marks_leans_on_bm25(bot: ChatBot) -> None:
    # the embedding model reads unmarked Vietnamese poorly: its dense ranks count half, so
    # the chunk BM25 finds far ahead of the rest comes near the top
    query = analyze("bo doi bien phong 2 nuoc to chuc hoi nghi so ket bao nhieu nam thuc hien thoa thuan hop tac "
                    "bien phong?")
    assert unmarked_vietnamese(query) and not unmarked_vietnamese(analyze("Ai ký nghị định thư?"))

    def rank(retriever) -> int:
        return next(i for i, h in enumerate(retriever.retrieve(query).hits) if "sơ kết 3 năm" in h.chunk.text)

    equal = bot.retriever.model_copy(update={"unmarked_dense_weight": 1.0})
    assert rank(bot.retriever) <= 1 < rank(equal)
    answer = bot.ask(query.text)
    assert not answer.abstained and "3 nam" in fold(answer.text)


def test_date_filter_runs_before_search_and_never_silently_empties(bot: ChatBot) -> None:
    covered = bot.retrieve("What was signed in December 2021?")
    assert covered.period_covered is True
    assert all(date_match(h.chunk, covered.query.periods) > 0 for h in covered.hits)
    uncovered = bot.retrieve("What was signed in March 2019?")
    assert uncovered.period_covered is False and uncovered.hits  # says so, and still returns the closest
    assert "2019-03" in uncovered.notes[0]
    plain = bot.retrieve("What was signed?")
    assert plain.period_covered is None


def test_a_day_reaches_the_whole_article_that_reports_it(bot: ChatBot) -> None:
    # the article on 25/9/2020 names the day in its lead only; its other chunks are about that day
    result = bot.retrieve("Ngày 25/9/2020, ai là tân Tùy viên quốc phòng Lào?")
    assert result.period_covered
    rows = {h.chunk.id for h in result.hits}
    assert len(rows) > 1 and all(h.chunk.article_id == "004_3c74da71e6f5db71" for h in result.hits)
    # a month still filters chunk by chunk
    assert bot.retrieve("What was signed in December 2021?").hits[0].chunk.article_id == SIGNING_ARTICLE


def test_the_lexical_best_chunk_of_a_top_article_is_never_cut(bot: ChatBot) -> None:
    # "Bộ Tư lệnh BĐBP" stands in one chunk of the 2020 article; its dense rank is low and the
    # fused ranking keeps three other chunks of that article before it
    question = "Who spoke for the Vietnam Border Guard Command at the meeting with the Lao attachés?"
    retriever = bot.retriever
    query = analyze(question)
    lexical = retriever.bm25.scores(retriever.query_terms(query))
    best = retriever.index.chunks[int(lexical.argmax())]
    assert "Bộ Tư lệnh BĐBP" in best.text
    hits = bot.retrieve(question).hits
    assert best.id in {h.chunk.id for h in hits}
    assert best.article_id in {h.chunk.article_id for h in hits[:3]}


def test_date_range_filter(bot: ChatBot) -> None:
    result = bot.retrieve("What was signed?", within=(date(2025, 1, 1), None))
    assert {h.chunk.article_id for h in result.hits} == {"003_f334f3650929ce75"}
    empty = bot.retrieve("What was signed?", within=(date(2030, 1, 1), date(2030, 12, 31)))
    assert empty.hits == [] and "date range" in empty.notes[0]


def test_two_part_questions_are_retrieved_part_by_part(bot: ChatBot) -> None:
    result = bot.retrieve("Who was Laos's defence minister in December 2021, and who held that post in December 2024?")
    assert [p.query.periods[0].iso for p in result.parts] == ["2021-12", "2024-12"]
    assert result.parts[0].hits[0].chunk.article_id == SIGNING_ARTICLE
    assert result.parts[1].hits[0].chunk.article_id == "000_365769973c54f80b"


def test_english_questions_are_expanded_with_the_lexicon() -> None:
    query = analyze("Which memorandum did the defence ministers sign?")
    assert "ban ghi nho" in query.search_text and "ky ket" in query.search_text


def test_langchain_retriever_interface(bot: ChatBot) -> None:
    docs = bot.retriever.invoke("Nghị định thư hợp tác về Cứu hộ - Cứu nạn")
    assert docs and docs[0].metadata["article_id"] == SIGNING_ARTICLE
    assert docs[0].page_content == docs[0].metadata["text"]
    assert {"score", "dense", "lexical", "start", "end", "event_dates"} <= set(docs[0].metadata)
