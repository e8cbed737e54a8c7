"""rag.timeline on the sample corpus: real dates, documents, parties and people."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.dates import Period
from rag.entities import people
from rag.ingest import Article, load_article
from rag.timeline import MAX_EVENT_CHARS, agreements, events

ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"
SIGNING = "001_4ecc485f7df185a9"
MEMORANDUM = "003_f334f3650929ce75"


@pytest.fixture(scope="module")
def corpus() -> dict[str, Article]:
    return {a.id: a for a in (load_article(p) for p in sorted(ARTICLES.glob("*.txt")))}


@pytest.fixture(scope="module")
def timeline(corpus):
    return events(corpus.values())


def _article(body: str, date: str | None, dates=()) -> Article:
    return Article("x", "Tiêu đề", date, None, body, "0" * 64, len(body), dates=tuple(dates))


# ---------------------------------------------------------------- events


def test_events_are_in_date_order_and_cover_every_article(timeline, corpus):
    starts = [Period.from_iso(e.date).start for e in timeline]
    assert starts == sorted(starts)
    assert {e.article_id for e in timeline} == set(corpus)
    assert timeline[0].date == "2020-09-25"  # "Ngày 25-9" in the 2020-09-26 article


def test_event_text_is_the_verbatim_sentence_with_its_date(timeline, corpus):
    for e in timeline:
        body = corpus[e.article_id].body
        assert e.mention in body[e.start : e.end]
        shown = e.what.removeprefix("… ").removesuffix(" …")
        assert shown in body[e.start : e.end], e
        assert len(e.what) <= MAX_EVENT_CHARS + 4
        if e.mention:
            assert e.mention in e.what  # a long sentence is cut around its date, not away from it


def test_twelve_december_2021_exchange(timeline):
    (event,) = [e for e in timeline if e.date == "2021-12-12"]
    assert event.article_id == SIGNING and event.mention == "12/12" and event.precision == "day"
    assert event.what.startswith("Ngày 12/12, Giao lưu hữu nghị quốc phòng biên giới Việt Nam - Lào lần thứ nhất")
    assert "huyện Hướng Hóa, tỉnh Quảng Trị" in event.what


def test_tomorrow_resolves_to_the_day_after_publication(timeline):
    (event,) = [e for e in timeline if e.mention == "ngày mai"]
    assert event.date == "2025-10-16" and event.article_id == MEMORANDUM
    assert "Diễn tập cứu hộ, cứu nạn chung giữa Quân đội ba nước Việt Nam - Lào - Campuchia" in event.what
    assert event.who == ("Phan Văn Giang", "Khamliang Outhakaysone")


def test_people_are_named_without_their_rank(timeline):
    by_date = {e.date: e for e in timeline if e.precision == "day"}
    assert by_date["2020-09-25"].who == ("Hoàng Xuân Chiến",)
    assert by_date["2024-12-18"].who == ("Phạm Minh Chính", "Khamliang Outhakaysone")
    assert by_date["2022-06-02"].who == ("Nguyễn Tân Cương", "Khamliang Outhakaysone")


def test_month_precision_and_year_events(timeline):
    (month,) = [e for e in timeline if e.date == "2021-12"]
    assert month.precision == "month" and month.mention == "tháng 12/2021"
    this_year = [e for e in timeline if e.mention == "năm nay"]
    assert [(e.date, e.precision) for e in this_year] == [("2025", "year")]
    assert "kỷ niệm 50 năm Quốc khánh" in this_year[0].what


def test_years_inside_names_are_skipped(timeline):
    mentions = {(e.article_id, e.mention) for e in timeline}
    # "Kế hoạch hợp tác Quốc phòng Việt Nam - Lào năm 2022", "Triển lãm ... Việt Nam năm 2024"
    assert (SIGNING, "năm 2022") not in mentions
    assert not [e for e in timeline if e.date == "2024"]
    assert not [e for e in timeline if "Kế hoạch hợp tác năm 2025" in e.what and e.date == "2025"]


def test_main_event_for_an_article_without_date_mentions():
    body = "Toàn cảnh hội nghị. Ảnh: TTXVN\n\nĐại tá Vongxay Inthakham chào từ biệt Bộ Quốc phòng.\n\nHai bên trao đổi."
    (event,) = events([_article(body, "2020-09-26")])
    assert (event.date, event.mention) == ("2020-09-26", "")
    assert event.what == "Đại tá Vongxay Inthakham chào từ biệt Bộ Quốc phòng."  # the lead, not the caption
    assert event.who == ("Vongxay Inthakham",)


def test_a_year_in_a_name_is_used_when_nothing_better_exists():
    from rag.dates import find_date_mentions

    body = "Hai bên triển khai Kế hoạch hợp tác năm 2022 giữa hai Bộ Quốc phòng."
    (event,) = events([_article(body, None, find_date_mentions(body, None))])
    assert event.date == "2022" and event.mention == "năm 2022"


def test_events_work_on_the_indexed_articles(bot, timeline):
    assert events(bot.index.articles.values()) == timeline


def test_people_helper():
    assert people("Tổng Bí thư, Chủ tịch nước Lào Thongloun Sisoulith tiếp Đại tá Bangsy Xaysomkhoth.") == (
        "Thongloun Sisoulith",
        "Bangsy Xaysomkhoth",
    )
    assert people("Bộ trưởng Quốc phòng Lào, Thượng tướng Khamliang Outhakaysone cho biết") == ("Khamliang Outhakaysone",)
    assert people("hai Bộ trưởng hai nước đã ký Nghị định thư") == ()


# ---------------------------------------------------------------- agreements


def test_december_2021_signing(corpus):
    signed = [a for a in agreements(corpus.values()) if a.article_id == SIGNING]
    assert [a.document for a in signed] == [
        "Nghị định thư hợp tác về Cứu hộ - Cứu nạn",
        "Kế hoạch hợp tác Quốc phòng Việt Nam - Lào năm 2022",
        "Thỏa thuận hợp tác Biên phòng",
    ]
    assert {a.date for a in signed} == {"2021-12-12"}
    protocol, plan, border = signed
    assert protocol.signers == plan.signers == "hai Bộ trưởng hai nước"
    assert plan.parties == "hai Bộ Quốc phòng"
    assert border.signers == ""  # the ministers witnessed ("chứng kiến lễ ký") this one
    assert border.parties == (
        "Bộ Tư lệnh Bộ đội Biên phòng Việt Nam với Tổng cục An ninh và Tổng cục Cảnh sát (Bộ An ninh Lào)"
    )
    assert all(a.sentence in corpus[SIGNING].body for a in signed)


def test_2025_memorandum(corpus):
    (memo,) = [a for a in agreements(corpus.values()) if a.article_id == MEMORANDUM]
    assert memo.document == (
        "Bản ghi nhớ giữa Bộ Quốc phòng Việt Nam và Bộ Quốc phòng Lào về tăng cường hợp tác trong lĩnh vực "
        "đào tạo, tập huấn, bồi dưỡng nguồn nhân lực"
    )
    assert memo.date == "2025-10-15"
    assert memo.parties == "Bộ Quốc phòng Việt Nam và Bộ Quốc phòng Lào"
    assert memo.signers == "Đại tướng Phan Văn Giang và Thượng tướng Khamliang Outhakaysone"


def test_only_reported_signings_count(corpus):
    found = agreements(corpus.values())
    assert len(found) == 4
    # "45 năm Ngày ký Hiệp ước hữu nghị..." is an anniversary; "triển khai ... Kế hoạch" is not a signing
    assert not [a for a in found if a.document.startswith("Hiệp ước")]
    assert [a.date for a in found] == sorted(a.date for a in found)
