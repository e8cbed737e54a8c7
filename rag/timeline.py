"""Timeline: the dated events and the signed documents that the articles report.

Covers: ``events(articles)`` - one ``Event`` per (sentence, date) the ingestion found in
an article body (``Article.dates``), in date order, with the sentence verbatim (photo
credit removed, long ones cut at a word), the people it names (a rank or post such as
``Đại tướng`` / ``Bộ trưởng`` followed by a capitalised name) and its source; an
article without a day or month mention adds its main event (publication date + lead
sentence). ``agreements(articles)`` - one ``Agreement`` per document named right after
a signing verb (``ký``, ``ký kết``, ``lễ ký``): document name as written, date, parties
(the ``giữa ...`` clause) and signers (the subject before the verb).
Does not cover: deduplicating one event reported by several articles, date ranges (each
day of ``15-16/10`` is its own event), anniversaries of past signings (``45 năm Ngày ký
Hiệp ước ...``: no date for the signing itself), or documents merely mentioned as being
implemented. Everything is derived from ``Article`` records; nothing is typed by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.dates import DateMention, precision_of
from rag.entities import people
from rag.ingest import Article
from rag.text import PHOTO_CREDIT, is_caption, sentence_spans

MAX_EVENT_CHARS = 320

_DOC_TYPES = ("Nghị định thư", "Kế hoạch", "Thỏa thuận", "Bản ghi nhớ", "Hiệp định", "Hiệp ước")
_DOC = re.compile(rf"(?<!\w)(?:{'|'.join(_DOC_TYPES)})(?!\w)")
_SIGN = re.compile(r"(?<!\w)(?:[Ll]ễ\s+)?[Kk]ý(?:\s+kết)?(?!\w)")
_SIGN_AT_END = re.compile(r"(?<!\w)(?:[Ll]ễ\s+)?[Kk]ý(?:\s+kết)?$")
# what joins a signed document to the next: ",", " và", " và chứng kiến lễ ký"
_SIGN_TAIL = re.compile(r"(?:,|\svà)?(?:\s+chứng kiến)?(?:\s+[Ll]ễ)?(?:\s+ký(?:\s+kết)?)?[\s,]*$")


@dataclass(frozen=True)
class Event:
    """Something an article reports as happening on ``date`` (ISO; its length is the precision)."""

    date: str
    what: str  # the sentence, verbatim (credit removed, long ones cut at a word with "…")
    who: tuple[str, ...]  # names of people in the sentence, as written, without their rank
    article_id: str
    article_title: str
    mention: str  # the date as the article writes it ("ngày mai", "12/12"); "" for a main event
    start: int  # the sentence's offsets in the article body
    end: int

    @property
    def precision(self) -> str:
        return precision_of(self.date)


@dataclass(frozen=True)
class Agreement:
    """A document an article reports as signed."""

    document: str  # as written: "Nghị định thư hợp tác về Cứu hộ - Cứu nạn"
    date: str | None  # a day/month date in the sentence, else the article's date
    parties: str  # "giữa ..." clause as written ("hai Bộ Quốc phòng"), "" if none
    signers: str  # who signed, as written ("hai Bộ trưởng hai nước"), "" if not said
    article_id: str
    article_title: str
    sentence: str  # the whole sentence, verbatim


# ---------------------------------------------------------------- helpers


def _clean(sentence: str, focus: int = 0) -> str:
    """The sentence without a trailing photo credit; a long one is cut at words to at most
    ``MAX_EVENT_CHARS``, keeping the clause around offset ``focus`` (the date mention)."""
    text = PHOTO_CREDIT.sub("", sentence).rstrip(" -–") or sentence
    if len(text) <= MAX_EVENT_CHARS:
        return text
    start = 0
    if focus > MAX_EVENT_CHARS - 80:  # the date is far in: start at a clause (else a word) before it
        start = max(0, min(focus - MAX_EVENT_CHARS // 2, len(text) - MAX_EVENT_CHARS))
        clause = text.find(", ", start, focus)
        start = clause + 2 if 0 <= clause < start + 80 else text.find(" ", start, focus) + 1
    cut = text[start : start + MAX_EVENT_CHARS]
    if start + MAX_EVENT_CHARS < len(text):
        cut = cut.rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return ("… " if start else "") + cut


def _sentence_of(spans: list[tuple[int, int]], start: int) -> tuple[int, int]:
    return next(((s, e) for s, e in spans if s <= start < e), (start, start))


def _part_of_a_name(body: str, sentence_start: int, mention: DateMention) -> bool:
    """True for a year that is part of a name: "Kế hoạch hợp tác năm 2022",
    "Triển lãm Quốc phòng Quốc tế Việt Nam năm 2024"."""
    before = body[sentence_start : mention.start]
    clause = re.split(r"[,;:(]", before)[-1]
    words = clause.split()
    return bool(_DOC.search(clause)) or bool(words and words[-1][0].isupper())


def _lead(article: Article, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The first sentence that is not a photo caption."""
    for s, e in spans:
        if not is_caption(article.body[s:e]):
            return s, e
    return spans[0]


# ---------------------------------------------------------------- events


def events(articles: Iterable[Article]) -> list[Event]:
    """Every dated event the articles report, oldest first."""
    found: list[Event] = []
    for article in articles:
        spans = sentence_spans(article.body)
        if not spans:
            continue
        kept: list[tuple[DateMention, tuple[int, int]]] = []
        name_years: list[tuple[DateMention, tuple[int, int]]] = []
        for mention in article.dates:
            span = _sentence_of(spans, mention.start)
            if mention.precision == "year" and _part_of_a_name(article.body, span[0], mention):
                name_years.append((mention, span))
            else:
                kept.append((mention, span))
        if not any(m.precision in ("day", "month") for m, _ in kept) and article.date:
            s, e = _lead(article, spans)
            found.append(_event(article, article.date, "", s, e, s))
        if not kept and not article.date:
            kept = name_years  # nothing better
        seen: set[tuple[int, str]] = set()
        for mention, (s, e) in kept:
            if (s, mention.iso) not in seen:
                seen.add((s, mention.iso))
                found.append(_event(article, mention.iso, mention.text, s, e, mention.start))
    return sorted(found, key=lambda ev: (ev.date, ev.article_id, ev.start))


def _event(article: Article, iso: str, mention: str, start: int, end: int, at: int) -> Event:
    sentence = article.body[start:end]
    what = _clean(sentence, at - start)
    return Event(iso, what, people(sentence), article.id, article.title, mention, start, end)


# ---------------------------------------------------------------- agreements


def agreements(articles: Iterable[Article]) -> list[Agreement]:
    """Documents reported as signed, in date order."""
    found: list[Agreement] = []
    for article in articles:
        for s, e in sentence_spans(article.body):
            sentence = article.body[s:e]
            if _SIGN.search(sentence) and _DOC.search(sentence):
                found.extend(_signed_in(article, sentence, s, e))
    return sorted(found, key=lambda a: (a.date or "", a.article_id))


def _signed_in(article: Article, sentence: str, start: int, end: int) -> list[Agreement]:
    """The documents of one sentence. A document type right after a signing verb - or right
    after ", " / " và " following such a document - starts a name that runs to the next one."""
    text = PHOTO_CREDIT.sub("", sentence).rstrip(" .")
    day_or_month = [d.iso for d in article.dates if start <= d.start < end and d.precision in ("day", "month")]
    when = day_or_month[0] if day_or_month else article.date
    starts: list[tuple[int, str]] = []  # (where a signed document's name starts, its signers)
    for doc in _DOC.finditer(text):
        before = text[: doc.start()].rstrip()
        verb = _SIGN_AT_END.search(before)
        if verb and not before[: verb.start()].rstrip().endswith("Ngày"):  # "Ngày ký ...": an anniversary
            witnessed = before[: verb.start()].rstrip().endswith("chứng kiến")
            starts.append((doc.start(), "" if witnessed else _subject(before[: verb.start()])))
        elif starts and re.search(r"(?:,|\svà)$", before) and not _SIGN.search(text, starts[-1][0], doc.start()):
            starts.append((doc.start(), starts[-1][1]))  # the next item of a list of signed documents
    out: list[Agreement] = []
    for i, (doc_start, signers) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        name, parties = _split_parties(_SIGN_TAIL.sub("", text[doc_start:stop]).strip())
        out.append(Agreement(name, when, parties, signers, article.id, article.title, sentence))
    return out


def _subject(before: str) -> str:
    """Who signed: the clause before the verb, without adverbs ("hai Bộ trưởng hai nước")."""
    clause = re.split(r"[,;:]", before)[-1]
    clause = re.sub(r"\s+(?:đã|cùng|chính thức|đã cùng|sẽ)(?:\s+(?:đã|cùng|chính thức))*\s*$", "", clause)
    return clause.strip()


def _split_parties(name: str) -> tuple[str, str]:
    """``"Kế hoạch ... giữa hai Bộ Quốc phòng"`` -> (name, "hai Bộ Quốc phòng"); a
    ``giữa X và Y về Z`` title keeps its clause in the name."""
    m = re.search(r"\s+giữa\s+", name)
    if not m:
        return name, ""
    rest = name[m.end() :]
    about = re.search(r"\s+về\s+", rest)
    if about:
        return name, rest[: about.start()].strip()
    return name[: m.start()].strip(), rest.strip()


__all__ = ["Agreement", "Event", "agreements", "events"]
