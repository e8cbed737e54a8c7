"""Ingestion: noise removed and body kept for every sample article, dates, outlets, bad files."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from rag.errors import ArticleError
from rag.ingest import clean_page, load_article, load_articles
from rag.text import normalize

from .conftest import ARTICLES


def article(name: str):
    return load_article(ARTICLES / f"{name}.txt")


# Per sample file: lines that must survive (body) and lines that must be gone (noise).
KEEP_DROP = {
    "000_365769973c54f80b": (
        [
            "Chiều tối 18/12, Thủ tướng Chính phủ Phạm Minh Chính đã tiếp Thượng tướng Khamliang Outhakaysone",
            "Cùng dự cuộc tiếp có Ủy viên Bộ Chính trị, Bộ trưởng Bộ Quốc phòng Phan Văn Giang.",
            "Thủ tướng đề nghị hai Bộ Quốc phòng thực hiện thành công các ưu tiên đột phá",
            "vun đắp cho quan hệ này mãi mãi xanh tươi, đời đời bền vững.",
        ],
        [
            "Tag",
            "aa",
            "Đọc thêm",
            "Xem thêm",
            "Ngoại giao kinh tế trở thành nội hàm then chốt",  # related articles after "Đọc thêm"
            "Quan hệ Việt Nam - Lào không ngừng được củng cố",  # related headlines glued under the lead
            "Tin tức 18/12/2024 23:00",
        ],
    ),
    "001_4ecc485f7df185a9": (
        [
            "Ngày 12/12, Giao lưu hữu nghị quốc phòng biên giới Việt Nam - Lào lần thứ nhất được tổ chức",
            "Ngay sau Hội đàm, hai Bộ trưởng hai nước đã ký Nghị định thư hợp tác về Cứu hộ - Cứu nạn",
            "Đại tướng Phan Văn Giang và Đại tướng Chansamone Chanyalath chào cột mốc 605",
            "nhất là Bộ đội Biên phòng hai nước Việt Nam - Lào.",
        ],
        [
            "giao luu huu nghi quoc phong bien gioi viet nam",  # file-slug line
            "Chủ nhật, 12/12/2021",
            "Tin khác",
            "Chủ tịch Quốc hội: Kinh tế báo chí rất khó khăn",
            "\nPV\n",
        ],
    ),
    "002_7e366184e7ef7842": (
        [
            "Sáng 2/6, tại Trụ sở Bộ Quốc phòng, Thượng tướng Nguyễn Tân Cương",
            "Trong điều kiện khó khăn do dịch COVID-19 gây ra ở mỗi nước",
            "Nghị định thư giai đoạn 2020 - 2024",
            "coi đây là tài sản vô giá giữa hai dân tộc./.",
        ],
        ["date 2022-06"],
    ),
    "003_f334f3650929ce75": (
        [
            "Chiều nay, Thượng tướng Khamliang Outhakaysone, Bộ trưởng Quốc phòng Lào chủ trì lễ đón",
            "trân trọng tặng Bộ Quốc phòng Lào 3 xe chỉ huy hãng Vinfast",
            "ký kết Bản ghi nhớ giữa Bộ Quốc phòng Việt Nam và Bộ Quốc phòng Lào",
            "Việt Nam và Lào cũng hợp tác quân, binh chủng; hậu cần, kỹ thuật, công nghiệp quốc phòng được quan tâm thúc đẩy",
        ],
        ["date 2025-10-15"],
    ),
    "004_3c74da71e6f5db71": (
        [
            "Ngày 25-9, tại Hà Nội, Trung tướng Hoàng Xuân Chiến",
            "Chúc mừng Đại tá Vongxay Inthakham được bổ nhiệm làm Tùy viên quốc phòng Lào tại Việt Nam",
            "Thiếu tướng Lê Đức Thái tặng quà lưu niệm cho Đại tá Vongxay Inthakham.",
            "mang lại hiệu quả thiết thực cho sự nghiệp xây dựng quân đội ở mỗi nước.",
        ],
        [
            "Trang chủ",
            "Hội nghị SOMTC 20",  # headline repeated twice on one line
            "3154 sua1",
            "3317 3 1",
            "(bài 19)",
            "Để xây dựng biên giới hòa bình hữu nghị với Lào",  # teaser of a related article
            "Quỳnh Anh (TH)",
            "Tin bài liên quan",
            "Thời tiết hôm nay",
            "infographic",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(KEEP_DROP))
def test_noise_goes_and_body_stays(name: str) -> None:
    body = article(name).body
    keep, drop = KEEP_DROP[name]
    for line in keep:
        assert normalize(line) in body, f"{name}: lost body text {line!r}"
    for line in drop:
        assert line not in body, f"{name}: kept noise {line!r}"
    # every paragraph of the cleaned body is one of the raw file's lines (nothing invented)
    raw = normalize((ARTICLES / f"{name}.txt").read_text(encoding="utf-8"))
    for paragraph in body.split("\n\n"):
        assert paragraph.strip() and paragraph in raw


def test_repeated_caption_kept_once() -> None:
    caption = "Thủ tướng Chính phủ Phạm Minh Chính tiếp Thượng tướng Khamliang Outhakaysone, Bộ trưởng Bộ Quốc phòng Lào - Ảnh VGP/Nhật Bắc"
    assert article("000_365769973c54f80b").body.count(caption) == 1


@pytest.mark.parametrize(
    ("name", "title", "date", "outlet"),
    [
        ("000_365769973c54f80b", "Hợp tác quốc phòng là một trong những trụ cột quan trọng trong quan hệ Việt Nam - Lào",
         "2024-12-18", "TTTĐ"),
        ("001_4ecc485f7df185a9", "Giao lưu hữu nghị Quốc phòng biên giới Việt Nam - Lào lần thứ nhất", "2021-12-12", "CLO"),
        ("002_7e366184e7ef7842", None, "2022-06", "TTXVN"),
        ("003_f334f3650929ce75", None, "2025-10-15", None),
        ("004_3c74da71e6f5db71", "Tiếp tục thúc đẩy quan hệ hợp tác bảo vệ biên giới Việt – Lào", "2020-09-26", None),
    ],
)
def test_title_date_outlet(name: str, title: str | None, date: str, outlet: str | None) -> None:
    a = article(name)
    assert a.date == date
    assert a.date_precision == ("month" if len(date) == 7 else "day")
    assert a.outlet == outlet
    if title:
        assert a.title == title and not a.title_inferred
    else:  # no headline on the page: the first sentence stands in for it
        assert a.title_inferred and 20 < len(a.title) <= 161 and a.title in a.body


@pytest.mark.parametrize(
    ("dateline", "expected"),
    [
        ("Tag\n\nTiêu đề\n\nTin tức 18/12/2024 23:00\naa\nTTTĐ - Nội dung bài viết dài một chút.", "2024-12-18"),
        ("Tiêu đề\n\nChủ nhật, 12/12/2021 17:43 PM - 0 Trả lời\n\n(CLO) Nội dung bài viết.", "2021-12-12"),
        (" date 2022-06 Nội dung bài viết dài một chút. Ảnh: TTXVN\n\nĐoạn hai.", "2022-06"),
        (" date 2025-10-15 Chiều nay, hai bên hội đàm.\n\nĐoạn hai.", "2025-10-15"),
        ("Trang chủ Mục\n15:45 | 26/09/2020 GMT+7\n\nTiêu đề\n\naa\nNgày 25-9, tại Hà Nội, hai bên gặp.", "2020-09-26"),
        ("Tiêu đề\n\nThứ hai, ngày 12 tháng 12 năm 2021\n\nNội dung bài viết.", "2021-12-12"),
    ],
)
def test_date_shapes(dateline: str, expected: str) -> None:
    page = clean_page(dateline)
    assert page.date == expected
    assert not re.search(r"\d{1,2}:\d{2}|GMT|\bdate\b|tháng 12 năm 2021|Trả lời", page.body)  # dateline gone
    assert page.body.startswith(("TTTĐ", "Nội dung", "Chiều nay", "Ngày 25-9"))


def test_event_dates_are_resolved_against_publication() -> None:
    found = {(d.text, d.iso) for d in article("001_4ecc485f7df185a9").dates}
    assert ("12/12", "2021-12-12") in found
    found = {(d.text, d.iso) for d in article("002_7e366184e7ef7842").dates}
    assert ("2/6", "2022-06-02") in found  # "Sáng 2/6" in a June 2022 article
    assert ("tháng 12/2021", "2021-12") in found  # an event months before publication
    found = {(d.text.lower(), d.iso) for d in article("003_f334f3650929ce75").dates}
    assert ("chiều nay", "2025-10-15") in found
    assert ("ngày mai", "2025-10-16") in found
    found = {(d.text, d.iso) for d in article("004_3c74da71e6f5db71").dates}
    assert ("Ngày 25-9", "2020-09-25") in found  # the event, a day before the 26/09 publication
    for a in map(article, KEEP_DROP):
        for d in a.dates:
            assert a.body[d.start : d.end] == d.text


def test_unicode_normalised_to_one_spelling() -> None:
    body = article("000_365769973c54f80b").body
    assert "thỏa thuận" in body and "thoả thuận" not in body
    assert "cụ thể hóa" in body and "hoá" not in body
    assert "ma túy" in body
    assert normalize("hoà thuỷ Thoả quý khoẻ") == "hòa thủy Thỏa quý khỏe"  # "quý" keeps its mark on y


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        ("Tin tức bằng tiếng Việt".encode("utf-16"), "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Bài viết có chữ tiếng Việt".encode("cp1258", errors="replace") + b"\xff\xfe", "UTF-8"),
    ],
)
def test_bad_files_raise_a_one_line_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ArticleError) as err:
        load_article(path)
    text = str(err.value)
    assert "bad.txt" in text and message in text and "\n" not in text


def test_bad_files_are_skipped_with_a_warning(corpus_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    (corpus_copy / "broken.txt").write_bytes(b"\xff\xfe\x00\x01binary")
    (corpus_copy / "empty.txt").write_text("")
    original = corpus_copy / "002_7e366184e7ef7842.txt"
    (corpus_copy / "zz_duplicate.txt").write_text(original.read_text(encoding="utf-8").replace("\n", "\r\n"),
                                                  encoding="utf-8")  # other bytes, the same cleaned text
    (corpus_copy / "undated.txt").write_text("Tiêu đề\n\nHai bên hội đàm tại Hà Nội.\n\nĐoạn hai.\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.ingest"):
        articles, warnings = load_articles(sorted(corpus_copy.glob("*.txt")))
    assert {a.id for a in articles} == {*KEEP_DROP, "undated"}
    assert len(warnings) == 4 and [r.getMessage() for r in caplog.records] == warnings
    assert any(w.startswith("skipped broken.txt: looks binary") for w in warnings)
    assert any(w.startswith("skipped empty.txt: the file is empty") for w in warnings)
    assert "skipped zz_duplicate.txt: the same article text as 002_7e366184e7ef7842.txt. Remove one of the two files." in (
        warnings)
    assert any(w.startswith("undated.txt: no publication date found") for w in warnings)
