"""Property tests (hypothesis): the date parser, the page cleaner and the chunker's offsets.

Each property runs on a bounded number of generated examples (seconds, not minutes).
"""

from __future__ import annotations

import calendar
import itertools
import re
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_article
from rag.dates import (
    Period,
    find_date_mentions,
    parse_publication_line,
    precision_of,
    question_periods,
)
from rag.errors import ArticleError
from rag.ingest import Article, clean_page, load_article
from rag.text import normalize, sentence_spans

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like the articles: Vietnamese words, numbers, date-ish punctuation, line breaks.
_WORDS = [
    "Ngày", "ngày", "tháng", "năm", "Sáng", "chiều", "nay", "mai", "hôm", "qua", "Tin", "tức", "Việt", "Nam",
    "Lào", "ký", "kết", "Bộ", "trưởng", "TP.", "TS.", "Ảnh:", "Tag", "aa", "Đọc", "thêm", "date", "in", "December",
    "Dec", "mid", "early", "of", "on", "và", "(CLO)", "TTXVN", "-", "–", "/", ".", ",", ":", "...", "…", "?", "!",
    "\n", "\n\n", "  ", "\t", "\u00a0", '"', "“", "”", "(", ")",
]
_NUMBERS = st.integers(min_value=0, max_value=3000).map(str)
_SMALL = st.integers(min_value=0, max_value=40)
# date-shaped pieces, valid or not: 12/12, 31/2/2021, 25-9, 16 - 17/4, 2021-13-01, tháng 12/2021
_DATEISH = st.one_of(
    st.tuples(_SMALL, _SMALL).map(lambda t: f"{t[0]}/{t[1]}"),
    st.tuples(_SMALL, _SMALL, st.integers(1850, 2150)).map(lambda t: f"{t[0]}/{t[1]}/{t[2]}"),
    st.tuples(_SMALL, _SMALL).map(lambda t: f"Ngày {t[0]}-{t[1]}"),
    st.tuples(_SMALL, _SMALL, _SMALL).map(lambda t: f"{t[0]} - {t[1]}/{t[2]}"),
    st.tuples(st.integers(1850, 2150), _SMALL, _SMALL).map(lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}"),
    st.tuples(_SMALL, st.integers(1850, 2150)).map(lambda t: f"tháng {t[0]}/{t[1]}"),
    st.tuples(_SMALL, _SMALL, st.integers(1850, 2150)).map(lambda t: f"ngày {t[0]} tháng {t[1]} năm {t[2]}"),
)
_TOKENS = st.one_of(st.sampled_from(_WORDS), _NUMBERS, _DATEISH, st.text(min_size=1, max_size=3))
article_like = st.lists(_TOKENS, max_size=80).map(lambda parts: " ".join(parts))
long_article = st.lists(_TOKENS, min_size=20, max_size=300).map(lambda parts: " ".join(parts))
any_text = st.one_of(article_like, st.text(max_size=300))
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
publication = st.one_of(st.none(), days.map(date.isoformat), days.map(lambda d: f"{d.year:04d}-{d.month:02d}"))


def _valid_iso(iso: str) -> bool:
    period = Period.from_iso(iso)
    return 1900 <= period.start.year <= period.end.year <= 2100 and period.start <= period.end


# ---------------------------------------------------------------- dates


@BOUNDED
@given(text=any_text, published=publication)
def test_date_mentions_never_crash_and_point_at_their_text(text: str, published: str | None) -> None:
    found = find_date_mentions(text, published)
    assert found == sorted(found, key=lambda m: (m.start, m.iso))
    for m in found:
        assert text[m.start : m.end] == m.text and m.start < m.end
        assert _valid_iso(m.iso)
    # spans claimed by different patterns never overlap (one date range may yield two days)
    spans = sorted({(m.start, m.end) for m in found})
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


@BOUNDED
@given(text=any_text)
def test_question_periods_are_valid_and_ordered(text: str) -> None:
    periods = question_periods(text)
    order = {"day": 0, "month": 1, "year": 2, "years": 3}
    assert [order[p.precision] for p in periods] == sorted(order[p.precision] for p in periods)
    for p in periods:
        assert p.start <= p.end and p.start.year >= 1900 and p.end.year <= 2100


@BOUNDED
@given(line=any_text)
def test_publication_lines_never_crash(line: str) -> None:
    parsed = parse_publication_line(line)
    if parsed:
        iso, matched = parsed
        assert _valid_iso(iso) and precision_of(iso) in ("day", "month") and matched.strip() in line


_EN_MONTHS = [calendar.month_name[i] for i in range(13)]


@BOUNDED
@given(d=days, shape=st.sampled_from(["d/m/y", "dd/mm/y", "y-mm-dd", "vi words", "d Month y", "Month d, y"]))
def test_a_day_in_a_question_round_trips(d: date, shape: str) -> None:
    written = {
        "d/m/y": f"{d.day}/{d.month}/{d.year}",
        "dd/mm/y": f"{d.day:02d}/{d.month:02d}/{d.year}",
        "y-mm-dd": d.isoformat(),
        "vi words": f"ngày {d.day} tháng {d.month} năm {d.year}",
        "d Month y": f"{d.day} {_EN_MONTHS[d.month]} {d.year}",
        "Month d, y": f"{_EN_MONTHS[d.month]} {d.day}, {d.year}",
    }[shape]
    periods = question_periods(f"Hai bên đã ký văn kiện gì vào {written}?")
    assert [p.iso for p in periods] == [d.isoformat()], written


@BOUNDED
@given(d=days, shape=st.sampled_from(["m/y", "tháng m/y", "tháng m năm y", "Month y", "Mon y"]))
def test_a_month_in_a_question_round_trips(d: date, shape: str) -> None:
    written = {
        "m/y": f"{d.month}/{d.year}",
        "tháng m/y": f"tháng {d.month}/{d.year}",
        "tháng m năm y": f"tháng {d.month} năm {d.year}",
        "Month y": f"{_EN_MONTHS[d.month]} {d.year}",
        "Mon y": f"{calendar.month_abbr[d.month]} {d.year}",
    }[shape]
    periods = question_periods(f"What was signed in {written}?")
    assert [p.iso for p in periods] == [f"{d.year:04d}-{d.month:02d}"], written


@BOUNDED
@given(d=days, hour=st.integers(0, 23), minute=st.integers(0, 59),
       shape=st.sampled_from(["Tin tức {d} {t}", "Chủ nhật, {d} {t} PM", "{t} | {d} GMT+7"]))
def test_a_dateline_round_trips(d: date, hour: int, minute: int, shape: str) -> None:
    line = shape.format(d=f"{d.day:02d}/{d.month:02d}/{d.year}", t=f"{hour:02d}:{minute:02d}")
    assert parse_publication_line(line)[0] == d.isoformat()
    assert find_date_mentions(f"Ngày {d.day}/{d.month}/{d.year}, hai bên ký.", None)[0].iso == d.isoformat()


# ---------------------------------------------------------------- the cleaner

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def _lines(raw: str) -> str:
    """The raw text as the cleaner sees it: normalised, one space between words, lines trimmed."""
    text = normalize(raw).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


@BOUNDED
@given(raw=any_text)
@example(raw="Tiêu đề\n\nTin tức 18/12/2024 23:00\naa\nTTTĐ - Nội dung bài viết dài một chút.")
@example(raw="Tag\n\nĐọc thêm\nX X X X X X X X X X X X")
def test_the_cleaner_only_removes(raw: str) -> None:
    """The cleaner never invents text: title and every paragraph are pieces of the page's own
    lines; the body is normalised (cleaning it again changes no spelling) and tidy."""
    page = clean_page(raw)
    source = _lines(raw)
    assert page.title in source or page.title_inferred
    for paragraph in page.body.split("\n\n") if page.body else []:
        assert paragraph and paragraph == paragraph.strip() and "\n" not in paragraph
        assert paragraph in source
    assert normalize(page.body) == page.body and normalize(page.title) == page.title
    assert len(page.body) <= len(source)
    if page.date:
        assert _valid_iso(page.date)


@BOUNDED
@given(data=st.one_of(st.binary(max_size=400), any_text.map(lambda t: t.encode("utf-8"))))
def test_any_file_is_an_article_or_an_article_error(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("prop") / "x.txt"
    path.write_bytes(data)
    try:
        article = load_article(path)
    except ArticleError as err:
        assert "x.txt" in str(err) and "\n" not in str(err)
        return
    assert article.body.strip() and article.id == "x"
    for m in article.dates:
        assert article.body[m.start : m.end] == m.text


# ---------------------------------------------------------------- the chunker


def _article(body: str) -> Article:
    return Article("a", "Tiêu đề", "2021-12-12", None, body, "0" * 64, len(body))


@BOUNDED
@given(body=long_article.filter(lambda b: b.strip()), cleaned=st.booleans(),
       max_chars=st.integers(min_value=120, max_value=700))
def test_chunks_are_exact_slices_covering_the_text_in_order(body: str, cleaned: bool, max_chars: int) -> None:
    if cleaned:  # as ingestion hands it over; otherwise raw, tabs and odd spaces included
        body = clean_page(f"x\n\n{body}").body or "Một câu."
    chunks = chunk_article(_article(body), max_chars)
    spans = sentence_spans(body)
    assert [c.n for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert body[c.start : c.end] == c.text and c.start < c.end
        assert len(c.text) <= max_chars or len(sentence_spans(c.text)) == 1  # only a long sentence stands alone
    # in order, starting and ending with the text, each sentence in some chunk, overlaps of at most one sentence
    assert chunks[0].start == spans[0][0] and chunks[-1].end == spans[-1][1]
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start and a.end < b.end
        assert a.start in starts and a.end in ends and b.start in starts
        last_of_a, first_of_b = ends.index(a.end), starts.index(b.start)
        assert first_of_b in (last_of_a, last_of_a + 1)  # no gap, at most one shared sentence
    covered = {(s, e) for s, e in spans if any(c.start <= s and e <= c.end for c in chunks)}
    assert covered == set(spans)

