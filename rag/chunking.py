"""Chunking: an ``Article`` -> sentence-aligned ``Chunk`` records with exact offsets.

Covers: packing whole sentences into chunks of a few hundred characters, with one sentence
of overlap between neighbours, so that ``article.body[chunk.start:chunk.end] == chunk.text``
always holds; the event dates each chunk mentions; and the header-carrying text that gets
embedded. Does not cover: sentence detection itself (``rag.text``) or embedding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.ingest import Article
from rag.text import sentence_spans

DEFAULT_CHUNK_CHARS = 600


@dataclass(frozen=True)
class Chunk:
    """A passage of one article. ``text == body[start:end]`` of that article."""

    article_id: str
    n: int  # 0-based position within the article
    start: int
    end: int
    text: str
    title: str
    date: str | None  # the article's publication date (ISO)
    event_dates: tuple[str, ...] = field(default=())  # ISO dates the passage mentions

    @property
    def id(self) -> str:
        return f"{self.article_id}#{self.n}"

    def embed_text(self) -> str:
        """What gets embedded: a short header (title, date) so the passage keeps its context."""
        header = self.title if not self.date else f"{self.title} ({self.date})"
        return f"{header}\n{self.text}"

    def to_dict(self) -> dict:
        return {
            "article_id": self.article_id,
            "n": self.n,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "title": self.title,
            "date": self.date,
            "event_dates": list(self.event_dates),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Chunk:
        return cls(
            article_id=d["article_id"],
            n=d["n"],
            start=d["start"],
            end=d["end"],
            text=d["text"],
            title=d["title"],
            date=d["date"],
            event_dates=tuple(d["event_dates"]),
        )


def chunk_article(
    article: Article, max_chars: int = DEFAULT_CHUNK_CHARS, spans: list[tuple[int, int]] | None = None
) -> list[Chunk]:
    """Pack sentences into chunks of at most ``max_chars`` (a longer sentence stands alone).

    Each chunk after the first starts with the last sentence of the one before, unless
    that sentence alone would fill the chunk. ``spans``: the body's ``sentence_spans``,
    when the caller has them already.
    """
    if spans is None:
        spans = sentence_spans(article.body)
    groups: list[tuple[int, int]] = []  # (first sentence, last sentence), inclusive
    i = 0
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= max_chars:
            j += 1
        groups.append((i, j))
        if j + 1 >= len(spans):
            break
        # overlap one sentence, when the next chunk can hold it together with a new one
        fits = spans[j + 1][1] - spans[j][0] <= max_chars
        i = j if j > i and fits else j + 1
    chunks = []
    for n, (a, b) in enumerate(groups):
        start, end = spans[a][0], spans[b][1]
        dates = sorted({d.iso for d in article.dates if d.start >= start and d.end <= end})
        chunks.append(
            Chunk(
                article_id=article.id,
                n=n,
                start=start,
                end=end,
                text=article.body[start:end],
                title=article.title,
                date=article.date,
                event_dates=tuple(dates),
            )
        )
    return chunks
