"""Ingestion: raw news-page text files -> clean ``Article`` records.

Covers: reading ``.txt`` files safely (UTF-8 only, not empty, not binary, size-capped;
duplicates of another file's cleaned text are recognised by ``text_key``),
Unicode normalisation, removing page furniture (crumbs, ``Tag``, ``aa``, related-article
blocks and all after them, doubled headlines, repeated captions, file-slug lines,
bylines, weather/infographic/video lists), finding the title, the publication date with
its precision, the outlet, and the event dates the body mentions.
Does not cover: HTML (input is the page's text), chunking, or anything about embeddings.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.dates import DateMention, find_date_mentions, parse_publication_line, precision_of
from rag.errors import ArticleError
from rag.text import PHOTO_CREDIT, ends_like_sentence, fold, is_caption, normalize, sentence_spans

log = logging.getLogger(__name__)

MAX_ARTICLE_BYTES = 2_000_000


@dataclass(frozen=True)
class Article:
    """One cleaned article. ``id`` is the file name without ``.txt``."""

    id: str
    title: str
    date: str | None  # ISO, day (2021-12-12) or month (2022-06) precision
    outlet: str | None
    body: str
    sha256: str  # of the raw file bytes
    raw_chars: int
    title_inferred: bool = False
    dates: tuple[DateMention, ...] = field(default=(), repr=False)  # event dates in body

    @property
    def date_precision(self) -> str | None:
        return precision_of(self.date) if self.date else None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date,
            "outlet": self.outlet,
            "body": self.body,
            "sha256": self.sha256,
            "raw_chars": self.raw_chars,
            "title_inferred": self.title_inferred,
            "dates": [[d.start, d.end, d.text, d.iso] for d in self.dates],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Article:
        return cls(
            id=d["id"],
            title=d["title"],
            date=d["date"],
            outlet=d["outlet"],
            body=d["body"],
            sha256=d["sha256"],
            raw_chars=d["raw_chars"],
            title_inferred=d.get("title_inferred", False),
            dates=tuple(DateMention(s, e, t, iso) for s, e, t, iso in d["dates"]),
        )


# ---------------------------------------------------------------- reading files


def read_text(path: Path) -> tuple[str, str]:
    """Return ``(text, sha256)`` of an article file, or raise ``ArticleError``."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ArticleError(f"{path.name}: cannot be read ({err.strerror}).") from err
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(
            f"{path.name}: {len(data):,} bytes is over the {MAX_ARTICLE_BYTES:,}-byte limit.",
            "Split it or remove it.",
        )
    if not data.strip():
        raise ArticleError(f"{path.name}: the file is empty.", "Remove it or add the article text.")
    if b"\x00" in data:
        raise ArticleError(f"{path.name}: looks binary, not text.", "Only UTF-8 .txt files are indexed.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ArticleError(
            f"{path.name}: not valid UTF-8 (byte {err.start}).", "Re-save the file as UTF-8."
        ) from err
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(3, len(text) // 200):
        raise ArticleError(f"{path.name}: looks binary, not text.", "Only UTF-8 .txt files are indexed.")
    return text, hashlib.sha256(data).hexdigest()


def article_id(path: Path) -> str:
    return path.name[: -len(".txt")] if path.name.lower().endswith(".txt") else path.stem


def article_files(directory: Path) -> list[Path]:
    """The ``.txt`` files of a directory (not hidden ones), sorted by name."""
    if not directory.is_dir():
        raise ArticleError(
            f"Articles directory {directory} does not exist.", "Pass --articles DIR or set RAG_ARTICLES_DIR."
        )
    return sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".txt" and not p.name.startswith(".")
    )


def load_article(path: Path) -> Article:
    """Read and clean one article file; raise ``ArticleError`` when it is unusable."""
    text, digest = read_text(path)
    page = clean_page(text)
    if not page.body.strip():
        raise ArticleError(f"{path.name}: no article text left after cleaning.", "Check that it is a news article.")
    return Article(
        id=article_id(path),
        title=page.title,
        date=page.date,
        outlet=page.outlet,
        body=page.body,
        sha256=digest,
        raw_chars=len(text),
        title_inferred=page.title_inferred,
        dates=tuple(find_date_mentions(page.body, page.date)),
    )


def text_key(article: Article) -> str:
    """SHA-256 of the cleaned body: two files with equal keys hold the same article."""
    return hashlib.sha256(article.body.encode("utf-8")).hexdigest()


def duplicate_warning(path: Path, original: Path) -> str:
    return f"skipped {path.name}: the same article text as {original.name}. Remove one of the two files."


def undated_warning(path: Path) -> str:
    return (f"{path.name}: no publication date found; indexed without one "
            "(date filters and date questions cannot use it). Add a dateline such as 'Tin tức 18/12/2024 23:00'.")


def load_articles(paths: Iterable[Path]) -> tuple[list[Article], list[str]]:
    """Load many files; a bad one or a duplicate (the same cleaned text as an earlier file)
    is skipped with a one-line warning, returned too; an undated one is kept with a warning."""
    articles, warnings, seen = [], [], {}
    for path in paths:
        try:
            article = load_article(path)
        except ArticleError as err:
            warnings.append(f"skipped {err}")
            continue
        key = text_key(article)
        if key in seen:
            warnings.append(duplicate_warning(path, seen[key]))
            continue
        seen[key] = path
        if article.date is None:
            warnings.append(undated_warning(path))
        articles.append(article)
    for warning in warnings:
        log.warning("%s", warning)
    return articles, warnings


# ---------------------------------------------------------------- cleaning

# A line equal to one of these starts the related-articles area: it and all after it go.
_CUT_MARKERS = {
    "doc them", "tin khac", "tin bai lien quan", "cac tin bai khac", "doc nhieu", "xem them",
    "tin lien quan", "bai lien quan", "tin cung chuyen muc", "co the ban quan tam",
}
_UI_LINES = {
    "tag", "tags", "aa", "a a", "chia se", "binh luan", "in bai", "nguon", "nguon:", "tra loi",
    "gop y", "theo doi", "luu", "facebook", "twitter", "zalo", "email", "print",
}
_NOISE_PREFIXES = ("trang chu", "infographic", "[video]", "thoi tiet hom nay", "xin cho trong giay lat")
_SLUG = re.compile(r"^[a-z0-9 ]+$")
_OUTLET_PAREN = re.compile(r"^\(([A-ZĐ][A-Za-zĐđ.&\- ]{1,14})\)\s*[-–]?\s*")
_OUTLET_DASH = re.compile(r"^([A-ZĐ]{2,8}(?:\.[A-Z]{2,4})?)\s+[-–]\s+")
_AGENCIES = ("TTXVN", "VNA", "VOV", "VTV", "QĐND", "Vietnam+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


@dataclass
class Page:
    title: str
    date: str | None
    outlet: str | None
    body: str
    title_inferred: bool = False


def _doubled(line: str) -> bool:
    """``"X X"``: a related-article headline printed twice on one line."""
    n = len(line)
    if n < 20:
        return False
    mid = n // 2
    for k in range(max(1, mid - 2), min(n, mid + 3)):
        left, right = line[:k].strip(), line[k:].strip()
        if left and left == right:
            return True
    return False


def _is_noise(line: str) -> bool:
    f = fold(line).strip()
    if f in _UI_LINES or f.startswith(_NOISE_PREFIXES):
        return True
    # file slugs: "giao luu huu nghi ... hinh 1", "3154 sua1"
    return bool(_SLUG.match(f)) and line == line.lower() and (any(c.isdigit() for c in f) or len(f.split()) >= 4)


def clean_page(raw: str) -> Page:
    """Split a raw page into title, publication date, outlet and the cleaned body."""
    text = normalize(raw).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]

    # 1. everything from the first related-articles marker on goes
    for i, line in enumerate(lines):
        if fold(line).strip().rstrip(":") in _CUT_MARKERS and i > 2:
            lines = lines[:i]
            break

    # 2. the dateline: within the first lines; " date 2022-06 <content>" keeps its content
    date, date_index = None, None
    for i, line in enumerate(lines[:15]):
        parsed = parse_publication_line(line)
        if parsed:
            date, matched = parsed
            date_index = i
            rest = line[line.index(matched.strip()) + len(matched.strip()) :] if matched.strip() else ""
            lines[i] = rest.strip() if fold(line).lstrip().startswith("date") else ""
            break

    # 3. blocks of consecutive non-empty lines, noise removed
    blocks: list[list[tuple[int, str]]] = [[]]
    for i, line in enumerate(lines):
        if not line:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append((i, line))
    kept: list[tuple[int, str]] = []
    after_related = False
    for block in blocks:
        clean = []
        for i, line in block:
            if _doubled(line):
                after_related = True  # a related-article headline; its teaser may follow
            elif not _is_noise(line):
                clean.append((i, line))
        for j, (i, line) in enumerate(clean):
            if kept and kept[-1][1] == line:
                continue  # caption repeated on the next line
            if j > 0 and not ends_like_sentence(line) and not is_caption(line) and len(line) >= 40:
                after_related = True  # related headlines glued under a paragraph
                continue
            if after_related and line.rstrip().endswith(("...", "…")) and len(clean) == 1:
                continue  # teaser of a related article
            after_related = False
            kept.append((i, line))

    # 4. title: the heading line nearest above the dateline, or the first short one below
    title, title_inferred = "", False
    if date_index is not None:
        above = [k for k, (i, _) in enumerate(kept) if i < date_index]
        below = [k for k, (i, ln) in enumerate(kept) if i > date_index]
        pick = above[-1] if above else None
        heading = below and len(kept[below[0]][1]) <= 200 and not ends_like_sentence(kept[below[0]][1])
        if pick is None and heading and len(below) > 1:
            pick = below[0]
        if pick is not None:
            title = kept.pop(pick)[1]
    elif kept and len(kept[0][1]) <= 200 and not ends_like_sentence(kept[0][1]) and len(kept) > 1:
        title = kept.pop(0)[1]

    # 5. trailing bylines ("PV", "Quỳnh Anh (TH)")
    while kept and len(kept[-1][1]) <= 40 and len(kept[-1][1].split()) <= 5 and not ends_like_sentence(kept[-1][1]):
        kept.pop()

    # 6. outlet from the lead ("(CLO) ...", "TTTĐ - ..."), else from a news-agency photo credit
    outlet = None
    if kept:
        i, lead = kept[0]
        m = _OUTLET_PAREN.match(lead) or _OUTLET_DASH.match(lead)
        if m:
            outlet = m.group(1).strip()
            kept[0] = (i, lead[m.end() :])
    if outlet is None:
        for _, line in kept:
            credit = line[PHOTO_CREDIT.search(line).start() :] if is_caption(line) else ""
            hit = next((a for a in _AGENCIES if re.search(rf"\b{re.escape(a)}\b", credit)), None)
            if hit:
                outlet = hit
                break

    body = "\n\n".join(line for _, line in kept)
    if not title and body:
        title, title_inferred = _infer_title(body), True
    return Page(title=title, date=date, outlet=outlet, body=body, title_inferred=title_inferred)


def _infer_title(body: str) -> str:
    """A title for a page that has none: its first sentence without the photo credit."""
    s, e = sentence_spans(body)[0]
    first = body[s:e]
    credit = PHOTO_CREDIT.search(first)
    if credit and credit.start() > 20:
        first = first[: credit.start()]
    first = first.strip().rstrip(".-–: ")
    if len(first) > 160:
        first = first[:160].rsplit(" ", 1)[0] + "…"
    return first
