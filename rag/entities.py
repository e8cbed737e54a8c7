"""Entities in Vietnamese news sentences: the people named after a title, and places.

Covers: ``people(text)`` - names of two to four capitalised words that follow a rank or
post ("Đại tướng Phan Văn Giang", "Thủ tướng Chính phủ Phạm Minh Chính", "Chủ tịch nước
Lào Thongloun Sisoulith"), skipping the institutions and countries in between; and
``has_place(text)`` - whether a sentence says where ("tại Hà Nội", "tỉnh Quảng Trị",
"tại Trụ sở ..."); ``title_aliases`` - who a title used alone stands for in an article
("Thủ tướng Chính phủ cho biết" after "Thủ tướng Chính phủ Phạm Minh Chính"). Used by
answer selection and the timeline.
Does not cover: names without a title, organisations, or pronouns ("ông", "hai Bộ trưởng").
"""

from __future__ import annotations

import re

from rag.text import fold

# Ranks and posts that come before a name, folded.
TITLES = (
    "dai tuong", "thuong tuong", "trung tuong", "thieu tuong", "dai ta", "thuong ta", "trung ta", "thieu ta",
    "thu tuong", "pho thu tuong", "bo truong", "thu truong", "chu tich nuoc", "chu tich", "tong bi thu",
    "tong tham muu truong", "dai su", "tu lenh", "dong chi", "ong", "ba", "truong doan", "tuy vien quoc phong",
)
# Institutions and countries that sit between a title and a name ("Bộ trưởng Bộ Quốc phòng
# Phan Văn Giang") but are never part of it; folded, longest first.
_INSTITUTIONS = sorted(
    (
        tuple(p.split())
        for p in (
            "bo quoc phong", "quoc phong", "chinh phu", "viet nam", "lao", "campuchia", "quan doi nhan dan",
            "qdnd", "bqp", "bdbp", "bo chinh tri", "quan uy trung uong", "trung uong dang", "bo tong tham muu",
            "bo tu lenh", "bo doi bien phong", "bien phong", "nha nuoc", "quoc hoi", "dang", "quan doi",
            "bo an ninh", "tong cuc", "uy vien", "thuong vu",
        )
    ),
    key=len,
    reverse=True,
)
_PLACE = re.compile(
    r"(?:\b(?:tại|ở)\s+(?:(?:tỉnh|huyện|thành phố|thủ đô|cửa khẩu|thị xã|xã|khu vực)\s+)?[A-ZĐ])|"
    r"(?:\b(?:tại|ở)\s+(?:các\s+|những\s+)?(?:khu vực|vùng|địa bàn|tuyến) biên giới\b)|"
    r"(?:\b(?:tỉnh|huyện|thành phố|cửa khẩu|thủ đô)\s+[A-ZĐ])"
)
_ENDS = (",", ".", ";", ":", "!", "?")


_END_CHARS = "".join(_ENDS)
_TITLES_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}  # first word -> titles, in TITLES order
for _title in TITLES:
    _TITLES_BY_FIRST.setdefault(_title.split()[0], []).append(tuple(_title.split()))
_INSTITUTIONS_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}  # first word -> institutions, longest first
for _phrase in _INSTITUTIONS:
    _INSTITUTIONS_BY_FIRST.setdefault(_phrase[0], []).append(_phrase)


def _institution_at(folded: list[str], j: int) -> int:
    """Length of the institution or country starting at word ``j`` (0: none)."""
    if j >= len(folded):
        return 0
    for phrase in _INSTITUTIONS_BY_FIRST.get(folded[j], ()):
        if tuple(folded[j : j + len(phrase)]) == phrase:
            return len(phrase)
    return 0


_COUNTRIES = {("viet", "nam"): "viet nam", ("lao",): "lao", ("campuchia",): "campuchia"}
_NOT_ALIASES = {("ong",), ("ba",), ("dong", "chi")}  # pronoun-like: the sentence before says who
_MANY = {"hai", "ba", "cac", "nhung", "moi"}  # "hai Bộ trưởng", "Bộ trưởng hai nước": not one person


def mentions(text: str) -> list[tuple[str, str | None]]:
    """Each title in ``text`` as (key, name as written or None): the key is the folded title
    and the country between it and the name ("thu tuong lao" for "Thủ tướng Chính phủ Lào"),
    the name is None where none follows ("Thủ tướng Chính phủ cho biết")."""
    words = [w.strip("()\"“”'‘’") for w in text.split()]
    if not words:
        return []
    # folding is character by character: fold once, split where the words were joined
    folded = [f.rstrip(_END_CHARS) for f in fold("\n".join(words)).split("\n")]
    found: list[tuple[str, str | None]] = []
    for i in range(len(words)):
        for title in _TITLES_BY_FIRST.get(folded[i], ()):  # only the titles that start with this word
            size = len(title)
            if tuple(folded[i : i + size]) != title:
                continue
            j = i + size
            country = ""
            ended = words[j - 1].endswith(_ENDS)
            while not ended and (skip := _institution_at(folded, j)):
                country = _COUNTRIES.get(tuple(folded[j : j + skip]), country)
                j += skip
                ended = words[j - 1].endswith(_ENDS)
            name: list[str] = []
            while not ended and j < len(words) and len(name) < 4 and words[j][:1].isupper() \
                    and not _institution_at(folded, j):
                name.append(words[j].rstrip(_END_CHARS))
                j += 1
                ended = words[j - 1].endswith(_ENDS)  # punctuation ends the name
            key = " ".join(title + ((country,) if country else ()))
            if 2 <= len(name) <= 4:
                found.append((key, " ".join(name)))
            elif title not in _NOT_ALIASES and (i == 0 or folded[i - 1] not in _MANY) \
                    and (j >= len(folded) or folded[j] not in _MANY):
                found.append((key, None))
    return found


def people(text: str) -> tuple[str, ...]:
    """Names of the people ``text`` names after a title, as written, in order of appearance."""
    return tuple(dict.fromkeys(name for _, name in mentions(text) if name))


def title_aliases(said: list[list[tuple[str, str | None]]]) -> list[tuple[str, ...]]:
    """For the ``mentions`` of each sentence of one article, the people each one names by
    title alone: after "Thủ tướng Chính phủ Phạm Minh Chính", a later "Thủ tướng Chính phủ
    cho biết" is him. A title the article gives to two people resolves to no one."""
    holders: dict[str, set[str]] = {}
    for found in said:
        for key, name in found:
            if name:
                holders.setdefault(key, set()).add(name)
    return [
        tuple(dict.fromkeys(next(iter(holders[key])) for key, name in found
                            if name is None and len(holders.get(key, ())) == 1))
        for found in said
    ]


def has_place(text: str) -> bool:
    """Does the sentence say where something happened?"""
    return bool(_PLACE.search(text))
