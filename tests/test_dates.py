"""Dates in questions (English and Vietnamese) and in article text."""

from __future__ import annotations

import pytest

from rag.dates import Period, find_date_mentions, parse_publication_line, question_periods


@pytest.mark.parametrize(
    ("question", "isos"),
    [
        ("What was signed in December 2021?", ["2021-12"]),
        ("What was signed in Dec 2021?", ["2021-12"]),
        ("What was signed in 12/2021?", ["2021-12"]),
        ("Việt Nam và Lào ký gì vào tháng 12/2021?", ["2021-12"]),
        ("Việt Nam và Lào ký gì vào tháng 12 năm 2021?", ["2021-12"]),
        ("What happened in 2022?", ["2022"]),
        ("Năm 2022 có sự kiện gì?", ["2022"]),
        ("Ngày 18/12/2024, Thủ tướng tiếp ai?", ["2024-12-18"]),
        ("Who met in October 2025?", ["2025-10"]),
        ("What happened on 2 June 2022?", ["2022-06-02"]),
        ("What happened on June 2, 2022?", ["2022-06-02"]),
        ("Which protocol covered 2020-2024?", ["2020/2024"]),
        ("Who was minister in December 2021 and in December 2024?", ["2021-12", "2024-12"]),
        ("Who signed the protocol?", []),
        ("How many vehicles (3) were given?", []),
    ],
)
def test_question_periods(question: str, isos: list[str]) -> None:
    assert sorted(p.iso for p in question_periods(question)) == sorted(isos)


def test_period_overlap() -> None:
    dec = Period.from_iso("2021-12")
    assert Period.from_iso("2021-12-12").overlaps(dec) and Period.from_iso("2021-12-12").within(dec)
    assert not Period.from_iso("2022-06").overlaps(dec)
    assert Period.from_iso("2021").overlaps(dec) and not Period.from_iso("2021").within(dec)


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Ngày 12/12, hai bên ký.", "2021-12-12", [("12/12", "2021-12-12")]),
        ("Sáng 2/6, tại Hà Nội.", "2022-06", [("2/6", "2022-06-02")]),
        ("Chiều nay, hai bên hội đàm.", "2025-10-15", [("Chiều nay", "2025-10-15")]),
        ("Diễn tập diễn ra vào ngày mai.", "2025-10-15", [("ngày mai", "2025-10-16")]),
        ("Ngày 25-9, tại Hà Nội.", "2020-09-26", [("Ngày 25-9", "2020-09-25")]),
        ("Tổ chức vào tháng 12/2021 tại Quảng Trị.", "2022-06", [("tháng 12/2021", "2021-12")]),
        ("Kỷ niệm (22/12/1944 - 22/12/2024).", "2024-12-18", [("22/12/1944", "1944-12-22"), ("22/12/2024", "2024-12-22")]),
        ("Ngày 20/12 vừa qua.", "2025-01-05", [("20/12", "2024-12-20")]),  # previous year, not the future
        ("Từ ngày 16 - 17/4 tại Lạng Sơn.", "2025-04-10", [("16 - 17/4", "2025-04-16"), ("16 - 17/4", "2025-04-17")]),
        ("Nhiệm kỳ 2025-2030 và giai đoạn 2020 - 2024.", "2025-10-15", []),
        ("Hiện nay hai nước hợp tác.", "2025-10-15", []),
    ],
)
def test_mentions_resolved_against_publication(text: str, published: str, expected) -> None:
    found = [(m.text, m.iso) for m in find_date_mentions(text, published)]
    assert found == expected
    for m in find_date_mentions(text, published):
        assert text[m.start : m.end] == m.text


def test_relative_dates_need_a_day_precise_publication() -> None:
    assert find_date_mentions("Diễn ra vào ngày mai.", "2022-06") == []
    assert [m.iso for m in find_date_mentions("Chiều nay hội đàm.", "2022-06")] == ["2022-06"]


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("Tin tức 18/12/2024 23:00", "2024-12-18"),
        ("Chủ nhật, 12/12/2021 17:43 PM - 0 Trả lời", "2021-12-12"),
        (" date 2022-06 Bộ trưởng tiếp đoàn", "2022-06"),
        (" date 2025-10-15 Chiều nay", "2025-10-15"),
        ("15:45 | 26/09/2020 GMT+7", "2020-09-26"),
        ("Thứ hai, ngày 12 tháng 12 năm 2021", "2021-12-12"),
        ("Ngày 12/12/2021 hai bên ký kết văn kiện.", None),  # a body sentence, not a dateline
    ],
)
def test_publication_lines(line: str, iso: str | None) -> None:
    parsed = parse_publication_line(line)
    assert (parsed[0] if parsed else None) == iso
