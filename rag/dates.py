"""Dates: publication dates, event dates mentioned in article text, and periods in questions.

Covers: ISO strings whose length carries the precision (``2021-12-12`` day, ``2021-12``
month, ``2021`` year); the publication-date shapes seen on Vietnamese news pages; event
mentions such as ``Ngày 12/12``, ``Sáng 2/6``, ``Chiều nay``, ``ngày mai``,
``tháng 12/2021`` resolved against the publication date; and question periods in English
and Vietnamese (``December 2021``, ``12/2021``, ``tháng 12 năm 2021``, ``in 2022``).
Does not cover: weeks, seasons or vague phrases ("recently", "thời gian qua").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from rag.text import fold

# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Period:
    """A closed range of days with a label; built from an ISO date of any precision."""

    start: date
    end: date
    iso: str

    @classmethod
    def from_iso(cls, iso: str) -> Period:
        return _period_of(iso)

    @classmethod
    def _parse(cls, iso: str) -> Period:
        parts = [int(p) for p in iso.split("-")]
        if len(parts) == 1:
            return cls(date(parts[0], 1, 1), date(parts[0], 12, 31), iso)
        if len(parts) == 2:
            last = calendar.monthrange(parts[0], parts[1])[1]
            return cls(date(parts[0], parts[1], 1), date(parts[0], parts[1], last), iso)
        return cls(date(*parts), date(*parts), iso)

    @property
    def precision(self) -> str:
        return precision_of(self.iso)

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def within(self, other: Period) -> bool:
        return other.start <= self.start and self.end <= other.end


@lru_cache(maxsize=4096)
def _period_of(iso: str) -> Period:
    """``Period.from_iso``, parsed once per string (retrieval compares every chunk's dates)."""
    return Period._parse(iso)


def precision_of(iso: str) -> str:
    """``day``, ``month`` or ``year`` from the length of an ISO date string (``years``
    for a ``2020/2024`` range)."""
    if "/" in iso:
        return "years"
    return {1: "year", 2: "month", 3: "day"}[len(iso.split("-"))]


def iso_of(d: date, precision: str) -> str:
    if precision == "year":
        return f"{d.year:04d}"
    if precision == "month":
        return f"{d.year:04d}-{d.month:02d}"
    return d.isoformat()


def _valid(year: int, month: int, day: int = 1) -> bool:
    if not (1900 <= year <= 2100 and 1 <= month <= 12):
        return False
    return 1 <= day <= calendar.monthrange(year, month)[1]


# ---------------------------------------------------------------- publication dates

_PUB_ISO = re.compile(r"^\s*date\s+(\d{4})-(\d{2})(?:-(\d{2}))?\b", re.I)
_PUB_DMY = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_PUB_ISO_ANY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_PUB_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s*(?:năm|,)?\s*(\d{4})", re.I)


def parse_publication_line(line: str) -> tuple[str, str] | None:
    """Parse a page's dateline; return ``(iso, matched_text)`` or None.

    Shapes: ``Tin tức 18/12/2024 23:00``, ``Chủ nhật, 12/12/2021 17:43 PM``,
    `` date 2022-06``, `` date 2025-10-15``, ``15:45 | 26/09/2020 GMT+7``,
    ``Thứ hai, ngày 12 tháng 12 năm 2021``. A bare ``d/m/yyyy`` without a time is not
    taken for a dateline (body sentences carry such dates too).
    """
    m = _PUB_ISO.match(line)
    if m:
        y, mo, d = int(m[1]), int(m[2]), m[3]
        if d is None and _valid(y, mo):
            return f"{y:04d}-{mo:02d}", m.group(0)
        if d is not None and _valid(y, mo, int(d)):
            return f"{y:04d}-{mo:02d}-{int(d):02d}", m.group(0)
        return None
    if len(line) > 90:
        return None
    has_time = bool(_TIME.search(line))
    for rx in (_PUB_DMY, _PUB_ISO_ANY, _PUB_WORDS):
        m = rx.search(line)
        if not m:
            continue
        if rx is _PUB_ISO_ANY:
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        else:
            d, mo, y = int(m[1]), int(m[2]), int(m[3])
        if _valid(y, mo, d) and (has_time or rx is _PUB_WORDS):
            return f"{y:04d}-{mo:02d}-{d:02d}", m.group(0)
    return None


# ---------------------------------------------------------------- event mentions in text


@dataclass(frozen=True)
class DateMention:
    """A date mentioned in an article body, resolved to an ISO date of some precision."""

    start: int
    end: int
    text: str
    iso: str

    @property
    def precision(self) -> str:
        return precision_of(self.iso)


_PART_OF_DAY = r"(?:ngày|sáng|chiều|tối|trưa|đêm|chiều tối|rạng sáng|sáng sớm|tối muộn)"
# Ordered: the first pattern to claim a stretch of text wins.
_MENTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("dmy", re.compile(r"(?<![\d/.])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?![\d/])")),
    ("words_dmy", re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.I)),
    ("words_dm", re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})(?!\s*(?:/|năm)\s*\d)", re.I)),
    ("my", re.compile(r"tháng\s+(\d{1,2})\s*(?:/|-|năm|,)\s*(\d{4})(?!\d)", re.I)),
    ("day_range", re.compile(r"(?<![\d/])(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{1,2})(?![\d/])")),
    ("dm", re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])")),
    ("dm_dash", re.compile(rf"\b{_PART_OF_DAY}\s+(\d{{1,2}})-(\d{{1,2}})(?![\d/-])", re.I)),
    ("month", re.compile(r"(?:vào|trong|từ|đến|cuối|đầu|giữa|hồi)\s+tháng\s+(\d{1,2})\b(?!\s*(?:/|năm|-)\s*\d)", re.I)),
    ("year", re.compile(r"năm\s+(\d{4})(?!\s*[-–]\s*\d{4})(?![\d/])", re.I)),
    ("today", re.compile(r"\b(?:(?:sáng|trưa|chiều|tối|đêm|chiều tối|hôm)\s+nay)\b", re.I)),
    ("tomorrow", re.compile(r"\b(?:ngày|sáng|trưa|chiều|tối)\s+mai\b", re.I)),
    ("yesterday", re.compile(r"\bhôm\s+qua\b", re.I)),
    ("this_year", re.compile(r"\bnăm\s+nay\b", re.I)),
]


def _infer_year(day: int, month: int, pub: Period) -> int | None:
    """Year for a day/month with no year: the publication year, or the one before when
    the date would otherwise fall more than a month after publication."""
    year = pub.start.year
    if not _valid(year, month, day):
        return None
    if date(year, month, day) > pub.end + timedelta(days=31):
        year -= 1
    return year if _valid(year, month, day) else None


def find_date_mentions(text: str, published: str | None) -> list[DateMention]:
    """Every date ``text`` mentions, resolved against the publication date when needed."""
    pub = Period.from_iso(published) if published else None
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []

    def free(s: int, e: int) -> bool:
        return all(e <= ts or s >= te for ts, te in taken)

    for kind, rx in _MENTION_PATTERNS:
        for m in rx.finditer(text):
            if not free(m.start(), m.end()):
                continue
            isos = _resolve(kind, m, pub)
            if not isos:
                continue
            taken.append((m.start(), m.end()))
            found.extend(DateMention(m.start(), m.end(), m.group(0), iso) for iso in isos)
    found.sort(key=lambda d: (d.start, d.iso))
    return found


def _resolve(kind: str, m: re.Match[str], pub: Period | None) -> list[str]:
    g = m.groups()
    if kind in ("dmy", "words_dmy"):
        d, mo, y = int(g[0]), int(g[1]), int(g[2])
        return [f"{y:04d}-{mo:02d}-{d:02d}"] if _valid(y, mo, d) else []
    if kind == "my":
        mo, y = int(g[0]), int(g[1])
        return [f"{y:04d}-{mo:02d}"] if _valid(y, mo) else []
    if kind == "year":
        y = int(g[0])
        return [f"{y:04d}"] if 1900 <= y <= 2100 else []
    if pub is None:
        return []
    if kind in ("dm", "dm_dash", "words_dm"):
        d, mo = int(g[0]), int(g[1])
        y = _infer_year(d, mo, pub)
        return [f"{y:04d}-{mo:02d}-{d:02d}"] if y else []
    if kind == "day_range":
        d1, d2, mo = int(g[0]), int(g[1]), int(g[2])
        if not d1 < d2:
            return []
        y = _infer_year(d2, mo, pub)
        if not y or not _valid(y, mo, d1):
            return []
        return [f"{y:04d}-{mo:02d}-{d1:02d}", f"{y:04d}-{mo:02d}-{d2:02d}"]
    if kind == "month":
        mo = int(g[0])
        y = _infer_year(1, mo, pub)
        return [f"{y:04d}-{mo:02d}"] if y else []
    if kind == "this_year":
        return [f"{pub.start.year:04d}"]
    if kind == "today":
        return [pub.iso]
    if pub.precision != "day":
        return []
    shift = {"tomorrow": 1, "yesterday": -1}[kind]
    return [(pub.start + timedelta(days=shift)).isoformat()]


# ---------------------------------------------------------------- periods in questions

_MONTHS_EN = {
    name: i
    for i in range(1, 13)
    for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())
}
_MONTHS_EN["sept"] = 9
_EN_MONTH = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
# Question patterns run on folded text (no accents, lower-case): "thang 12/2021".
_QUESTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"(?<!\d)(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?!\d)")),
    ("dmy", re.compile(r"(?:(?:ngay|sang|chieu|toi|trua|dem|on)\s+)?(?<![\d/])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")),
    ("vi_dmy", re.compile(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+(?:nam\s+)?(\d{4})")),
    ("en_dmy", re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_EN_MONTH})\.?,?\s+(\d{{4}})")),
    ("en_mdy", re.compile(rf"\b({_EN_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})")),
    ("vi_my", re.compile(r"thang\s+(\d{1,2})\s*(?:/|-|nam|,)\s*(\d{4})(?!\d)")),
    ("my", re.compile(r"(?<![\d/])(\d{1,2})/(\d{4})(?!\d)")),
    ("en_my", re.compile(rf"\b({_EN_MONTH})\.?,?\s+(?:of\s+)?(\d{{4}})(?!\d)")),
    ("part_of_year", re.compile(
        r"\b(early|mid|late|end of|beginning of|start of|(?<!lan )dau|giua|cuoi)[\s-]+(?:nam\s+)?((?:19|20)\d{2})(?!\d)"
    )),
    ("year_range", re.compile(r"(?<![\d/-])((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2})(?![\d/])")),
    ("year", re.compile(r"(?<![\d/-])(?:nam\s+)?((?:19|20)\d{2})(?![\d/])")),
]


_PART_OF_YEAR = {
    "early": (1, 4), "beginning": (1, 4), "start": (1, 4), "dau": (1, 4),
    "mid": (5, 8), "giua": (5, 8),
    "late": (9, 12), "end": (9, 12), "cuoi": (9, 12),
}


def question_periods(question: str) -> list[Period]:
    """Periods a question names, most specific first; ``[]`` when it names none."""
    return [p for p, _ in question_period_spans(question)]


def question_period_spans(question: str) -> list[tuple[Period, tuple[int, int]]]:
    """Like ``question_periods``, with each period's ``(start, end)`` in the question."""
    text = fold(question)
    found: list[tuple[Period, tuple[int, int]]] = []
    for kind, rx in _QUESTION_PATTERNS:
        for m in rx.finditer(text):
            if any(not (m.end() <= s or m.start() >= e) for _, (s, e) in found):
                continue
            if kind == "part_of_year":
                months = _PART_OF_YEAR[m[1].replace(" of", "")]
                year = int(m[2])
                start, end = date(year, months[0], 1), date(year, months[1], calendar.monthrange(year, months[1])[1])
                iso = f"{year}-{months[0]:02d}/{year}-{months[1]:02d}"
                found.append((Period(start, end, iso), m.span()))
                continue
            if kind == "year_range":
                first, last = int(m[1]), int(m[2])
                if first < last:
                    found.append((Period(date(first, 1, 1), date(last, 12, 31), f"{first}/{last}"), m.span()))
                continue
            iso = _question_iso(kind, m.groups())
            if iso:
                found.append((Period.from_iso(iso), m.span()))
    order = {"day": 0, "month": 1, "year": 2, "years": 3}
    found.sort(key=lambda item: order[item[0].precision])
    return found


def _question_iso(kind: str, g: tuple[str, ...]) -> str | None:
    if kind == "iso":
        y, mo = int(g[0]), int(g[1])
        if g[2] is not None and _valid(y, mo, int(g[2])):
            return f"{y:04d}-{mo:02d}-{int(g[2]):02d}"
        return f"{y:04d}-{mo:02d}" if g[2] is None and _valid(y, mo) else None
    if kind in ("dmy", "vi_dmy"):
        d, mo, y = int(g[0]), int(g[1]), int(g[2])
    elif kind == "en_dmy":
        d, mo, y = int(g[0]), _MONTHS_EN[g[1]], int(g[2])
    elif kind == "en_mdy":
        mo, d, y = _MONTHS_EN[g[0]], int(g[1]), int(g[2])
    elif kind in ("vi_my", "my"):
        mo, y = int(g[0]), int(g[1])
        return f"{y:04d}-{mo:02d}" if _valid(y, mo) else None
    elif kind == "en_my":
        mo, y = _MONTHS_EN[g[0]], int(g[1])
        return f"{y:04d}-{mo:02d}" if _valid(y, mo) else None
    else:
        y = int(g[0])
        return f"{y:04d}" if 1900 <= y <= 2100 else None
    return f"{y:04d}-{mo:02d}-{d:02d}" if _valid(y, mo, d) else None
