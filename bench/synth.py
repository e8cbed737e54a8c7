"""Synthetic corpora for the benchmark: new articles recombined from the sample articles.

Article ``i`` of a corpus is drawn from ``random.Random(f"{seed}/{i}")``: the lead paragraph
of one sample article, then as many other paragraphs (from any sample article, each at
most once) as a sample article has, a new id (``syn-0000042``), the lead article's title
and a new publication date (one of ``n_dates`` days over ``years``). Sentences are kept
verbatim, so every sentence of every synthetic article is one of the sample corpus's
sentences: the benchmark embeds that pool of sentences once, for real, and derives every
other vector from it (``bench.scale``).

``raw_text(i)`` is the article as a page (title, dateline, paragraphs) that ``rag index``
ingests; ``article(i)`` is the ``Article`` that ingestion makes of that page, composed
directly from the paragraphs (cleaning, date resolution and sentence splitting work
paragraph by paragraph, so the parts can be computed once and reused; the tests check
that it equals ``load_article`` of the page). That is what makes 100k articles quick to
produce.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from rag.dates import DateMention, find_date_mentions
from rag.ingest import _AGENCIES, Article, article_files, load_article
from rag.text import PHOTO_CREDIT, ends_like_sentence, is_caption, sentence_spans

WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")


@dataclass(frozen=True)
class Paragraph:
    source: int  # which sample article
    text: str
    spans: tuple[tuple[int, int], ...]  # sentence spans within ``text``
    pool_ids: tuple[int, ...]  # each sentence's place in the sentence pool
    can_end: bool  # ingestion would not take it for a byline if it came last
    agency: str | None  # the news agency of its photo credit, if any


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    date: str  # ISO day
    paragraphs: tuple[int, ...]
    hour: int
    minute: int


class SyntheticCorpus:
    """Articles 0, 1, 2, ... of a synthetic corpus (any one of them, in any order, the same every time)."""

    def __init__(
        self, articles_dir: Path, *, seed: int = 6, years: tuple[int, int] = (2014, 2025), n_dates: int = 1200
    ) -> None:
        self.seed = seed
        self.samples = [load_article(p) for p in article_files(Path(articles_dir))]
        self.pool: list[str] = []  # every distinct sentence of the sample corpus
        where: dict[str, int] = {}
        self.paragraphs: list[Paragraph] = []
        self.leads: list[int] = []  # each sample article's first paragraph
        self.sizes: list[int] = []  # each sample article's number of paragraphs
        for source, article in enumerate(self.samples):
            texts = article.body.split("\n\n")
            self.leads.append(len(self.paragraphs))
            self.sizes.append(len(texts))
            for text in texts:
                spans = tuple(sentence_spans(text))
                ids = []
                for s, e in spans:
                    sentence = text[s:e]
                    if sentence not in where:
                        where[sentence] = len(self.pool)
                        self.pool.append(sentence)
                    ids.append(where[sentence])
                byline = len(text) <= 40 and len(text.split()) <= 5 and not ends_like_sentence(text)
                credit = text[PHOTO_CREDIT.search(text).start() :] if is_caption(text) else ""
                agency = next((a for a in _AGENCIES if re.search(rf"\b{re.escape(a)}\b", credit)), None)
                self.paragraphs.append(Paragraph(source, text, spans, tuple(ids), not byline, agency))
        rng = random.Random(f"{seed}/dates")
        first, last = date(years[0], 1, 1), date(years[1], 12, 31)
        days = (last - first).days + 1
        self.dates = sorted(first + timedelta(days=d) for d in rng.sample(range(days), min(n_dates, days)))
        self._mentions: dict[tuple[int, str], tuple[DateMention, ...]] = {}

    # ---------------------------------------------------------------- one article

    def spec(self, i: int) -> Spec:
        rng = random.Random(f"{self.seed}/{i}")
        lead_source = rng.randrange(len(self.samples))
        size = rng.choice(self.sizes)
        lead = self.leads[lead_source]
        others = rng.sample([p for p in range(len(self.paragraphs)) if p != lead], size - 1)
        if others and not self.paragraphs[others[-1]].can_end:
            swap = next((k for k in range(len(others) - 1) if self.paragraphs[others[k]].can_end), None)
            if swap is not None:
                others[swap], others[-1] = others[-1], others[swap]
        day = rng.choice(self.dates)
        return Spec(
            id=f"syn-{i:07d}",
            title=self.samples[lead_source].title,
            date=day.isoformat(),
            paragraphs=(lead, *others),
            hour=rng.randrange(6, 23),
            minute=rng.randrange(60),
        )

    def raw_text(self, i: int, spec: Spec | None = None) -> str:
        """The article as a news page: title, dateline, paragraphs."""
        spec = spec or self.spec(i)
        day = date.fromisoformat(spec.date)
        dateline = f"{WEEKDAYS[day.weekday()]}, {day.day:02d}/{day.month:02d}/{day.year} {spec.hour:02d}:{spec.minute:02d}"
        body = "\n\n".join(self.paragraphs[p].text for p in spec.paragraphs)
        return f"{spec.title}\n\n{dateline}\n\n{body}\n"

    def _paragraph_mentions(self, p: int, published: str) -> tuple[DateMention, ...]:
        key = (p, published)
        if key not in self._mentions:
            self._mentions[key] = tuple(find_date_mentions(self.paragraphs[p].text, published))
        return self._mentions[key]

    def article(self, i: int, spec: Spec | None = None) -> Article:
        """What ``load_article`` makes of ``raw_text(i)``, composed from the paragraphs."""
        spec = spec or self.spec(i)
        raw = self.raw_text(i, spec)
        offset, mentions = 0, []
        for p in spec.paragraphs:
            for m in self._paragraph_mentions(p, spec.date):
                mentions.append(DateMention(m.start + offset, m.end + offset, m.text, m.iso))
            offset += len(self.paragraphs[p].text) + 2
        return Article(
            id=spec.id,
            title=spec.title,
            date=spec.date,
            outlet=next((self.paragraphs[p].agency for p in spec.paragraphs if self.paragraphs[p].agency), None),
            body="\n\n".join(self.paragraphs[p].text for p in spec.paragraphs),
            sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
            raw_chars=len(raw),
            dates=tuple(mentions),
        )

    def sentences(self, spec: Spec) -> tuple[list[tuple[int, int]], list[int]]:
        """The article's ``sentence_spans`` and each sentence's place in the pool."""
        spans, ids, offset = [], [], 0
        for p in spec.paragraphs:
            para = self.paragraphs[p]
            spans.extend((s + offset, e + offset) for s, e in para.spans)
            ids.extend(para.pool_ids)
            offset += len(para.text) + 2
        return spans, ids

    def write(self, directory: Path, n: int, start: int = 0) -> list[Path]:
        """Write articles ``start`` .. ``start + n - 1`` as ``.txt`` pages into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(start, start + n):
            path = directory / f"{self.spec(i).id}.txt"
            path.write_text(self.raw_text(i), encoding="utf-8")
            paths.append(path)
        return paths
