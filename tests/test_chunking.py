"""Sentence splitting and chunking: no splits inside dates/abbreviations/numbers, exact offsets."""

from __future__ import annotations

import itertools

import pytest

from rag.chunking import chunk_article
from rag.ingest import load_article
from rag.text import sentence_spans

from .conftest import ARTICLES


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentence_splits_respect_dates_abbreviations_numbers() -> None:
    text = (
        "Ngày 12/12, hai bên gặp nhau tại TP. Hồ Chí Minh. TS. Nguyễn Văn A phát biểu. "
        "Kinh phí là 1.000 tỷ đồng, tăng 4,5%. Toàn cảnh buổi tiếp. Ảnh: Hà Thu\nDòng mới không dấu chấm"
    )
    assert sentences(text) == [
        "Ngày 12/12, hai bên gặp nhau tại TP. Hồ Chí Minh.",
        "TS. Nguyễn Văn A phát biểu.",
        "Kinh phí là 1.000 tỷ đồng, tăng 4,5%.",
        "Toàn cảnh buổi tiếp. Ảnh: Hà Thu",
        "Dòng mới không dấu chấm",
    ]


def test_quotes_and_ellipsis() -> None:
    text = 'Ông nói: "Đây là đặc biệt của đặc biệt." Sau đó... Hai bên ký kết./.'
    assert sentences(text) == ['Ông nói: "Đây là đặc biệt của đặc biệt."', "Sau đó...", "Hai bên ký kết./."]


@pytest.mark.parametrize("path", sorted(ARTICLES.glob("*.txt")), ids=lambda p: p.stem)
def test_chunk_offsets_round_trip(path) -> None:
    article = load_article(path)
    chunks = chunk_article(article, max_chars=600)
    assert chunks and [c.n for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert article.body[c.start : c.end] == c.text
        assert c.article_id == path.stem and c.title == article.title and c.date == article.date
        assert c.embed_text().startswith(article.title) and c.embed_text().endswith(c.text)
    # chunks stay a few hundred characters unless one sentence is longer than the limit
    for c in chunks:
        one_sentence = len(sentence_spans(c.text)) == 1
        assert len(c.text) <= 600 or one_sentence
    # every sentence of the body is in some chunk, and neighbours share one sentence
    covered = {span for c in chunks for span in [(c.start + s, c.start + e) for s, e in sentence_spans(c.text)]}
    assert set(sentence_spans(article.body)) <= covered
    spans = sentence_spans(article.body)
    starts = [s for s, _ in spans]
    ends = [e for _, e in spans]
    for a, b in itertools.pairwise(chunks):
        last, first = ends.index(a.end), starts.index(b.start)
        if first != last:  # no shared sentence only when the two would not fit in one chunk
            assert first == last + 1 and spans[first][1] - spans[last][0] > 600


def test_chunks_carry_the_event_dates_they_mention() -> None:
    article = load_article(ARTICLES / "003_f334f3650929ce75.txt")
    chunks = chunk_article(article)
    with_tomorrow = [c for c in chunks if "ngày mai" in c.text]
    assert with_tomorrow and all("2025-10-16" in c.event_dates for c in with_tomorrow)
    assert all(c.date == "2025-10-15" for c in chunks)


def test_long_sentence_stands_alone() -> None:
    article = load_article(ARTICLES / "000_365769973c54f80b.txt")
    chunks = chunk_article(article, max_chars=200)
    longest = max(sentence_spans(article.body), key=lambda s: s[1] - s[0])
    assert any((c.start, c.end) == longest for c in chunks)
