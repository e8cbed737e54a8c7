"""Evidence in sentences: the facts answer selection checks a passage for.

Covers: ``SentenceTable`` (every indexed sentence with its vector, dates, phrase document
frequencies and the people the corpus names), ``covers`` (does a passage contain a
concept), ``focus_concept`` (what a "how many"/"which" question asks for), ``asked_terms`` and
``unsaid_terms`` (lexicon terms a question asks about, and those no article uses), ``type_fit``
(does a passage carry what the question type needs: a new person for who, a precise date
for when, a place for where, a signing and a document for what was signed, a number next
to the counted thing, ranks and posts) and ``ordinals`` (editions: "lần thứ 2", "second").
Does not cover: scoring, choosing or quoting sentences (``rag.answer``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from rag.entities import has_place, mentions, title_aliases
from rag.index import Index
from rag.phrases import PhraseIndex
from rag.query import ASKS_CHARACTER, STATEMENT_VERBS, Concept, Query
from rag.safety import instruction_like
from rag.text import fold, is_caption, normalize, padded

PHRASE_INDEX_MIN = 20_000  # sentences; a smaller table is simply read through for each new phrase


_DOC_TYPES = ("nghi dinh thu", "ke hoach", "thoa thuan", "ban ghi nho", "hiep dinh", "hiep uoc", "van kien")
_SIGN = (" ky ", " ky ket ")
_RANKS = ("dai tuong", "thuong tuong", "trung tuong", "thieu tuong", "dai ta", "thuong ta", "trung ta", "thieu ta")
_POSTS = (
    "bo truong", "thu truong", "tong tham muu truong", "thu tuong", "chu tich", "tong bi thu", "uy vien",
    "tuy vien", "pho bi thu", "truong doan", "tu lenh", "dai su", "pho thu tuong",
)
# Number words, matched with their tone marks: folded, "hai" is also "hài" (hài cốt), "sau"
# is "after", "nhat" is in "thống nhất". They become digits before the text is folded.
_NUMBER_WORDS = {"một": "num1", "hai": "num2", "ba": "num3", "bốn": "num4", "sáu": "num6", "bảy": "num7",
                 "tám": "num8", "chín": "num9", "mười": "num10", "thứ nhất": "thứ num1"}
_NUMBER_WORD = re.compile(r"(?<!\w)(" + "|".join(_NUMBER_WORDS) + r")(?!\w)(?! trong)", re.IGNORECASE)  # "một trong": "one of"


def _digits(text: str) -> str:
    """``text`` with its number words marked ("ba nước" -> "num3 nước"), other words as they are."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], normalize(text))

# "How long did he serve", "kéo dài bao lâu": a span of time, not a length ("how long is the border");
# not "cột mốc số mấy tháng 12/2021" (a number, then a date)
_ASKS_DURATION = re.compile(r"\bhow long (did|does|do|has|have|had|will|would|was \w+ing)\b|"
                            r"\bhow long (was|is|were) (\S+ ){0,6}?(term|tenure|stay|visit|mission|posting|trip|meeting|talks)\b|\bfor how (long|many (years|months|weeks|days))\b|"
                            r"\bhow many (years|months|weeks|days) (did|does|do|has|have|had|was|were|will|would)\b|"
                            r"\bbao lau\b|(?<!so )\bmay (nam|thang|tuan|ngay)\b(?! \d)|\bbao nhieu (nam|thang|tuan|ngay)\b(?! \d)")
_SPAN = re.compile(r"\b(?:\d+|num\d+) (?:\w+ )?(?:nam|thang|tuan|ngay|gio|thap ky|years?|months?|weeks?|days?|hours?|decades?)\b"
                   r"(?! cang\b)")  # not "hai nước ngày càng" (increasingly)
# an anniversary ("80 năm Ngày thành lập", "50 năm Quốc khánh") says how old a day is, not how
# long something lasted, unless the question asks about the anniversary
_ANNIVERSARY = re.compile(r"\b(\d+|num\d+) nam (ngay|quoc khanh|thiet lap|thanh lap|chien thang|giai phong)\b")
_ASKS_ANNIVERSARY = re.compile(r"\b(ky niem|anniversary|quoc khanh|national day|thanh lap|founding|thiet lap|"
                                r"quan he ngoai giao|diplomatic|hiep uoc|treaty|danh dau|marks?|marked|ngay hoi|tron)\b")
_FORUM = re.compile(r"\b(?:tại|trên|ở)\s+(?:các\s+|những\s+)?diễn đàn\b", re.IGNORECASE)
_FORUM_FIT = 0.6
_MONTH_QUESTION = re.compile(r"\b(what|which) month\b|\bthang (nao|may|bao nhieu)\b")
_MONTH_FIT = 0.6  # "tháng 12/2021" answers "when" less precisely than "ngày 12/12/2021"
_DAY_QUESTION = re.compile(r"\b(what|which) (date|day)\b|\bon what\b|\bngay nao\b|\bngay bao nhieu\b|\bhom nao\b")


# "Which country ...", "nước nào": a country's name is the answer
_ASKS_COUNTRY = re.compile(r"\b(which|what) (\w+ )?(country|countries|nation|nations)\b|\b(nuoc|quoc gia) nao\b")
_COUNTRIES = ("viet nam", "lao", "campuchia", "thai lan", "trung quoc", "hoa ky", "nga", "nhat ban", "an do", "han quoc",
              "singapore", "indonesia", "malaysia", "philippines", "myanmar", "brunei")
# "Which province ...", "tỉnh nào": the level of place asked for, and its word in the articles.
_PLACE_LEVEL = re.compile(r"\b(province|district|tinh|huyen)\b")
_LEVEL_WORD = {"province": "tinh", "tinh": "tinh", "district": "huyen", "huyen": "huyen"}

# Questions about someone's exact words ("what motto ...", "cụm từ nào trong ngoặc kép")
_ASKS_WORDING = re.compile(
    r"\b(motto|mottos|slogan|phrase|phrases|expression|quote|quoted|quotation|catchphrase|wording|in quotes|"
    r"spirit|watchword|watchwords|official name|called(?! (?:on|upon|for|in|at|to|off)\b)|dubbed|designated)\b|"
    r"\b(phuong cham|khau hieu|ngoac kep|cum tu|cau noi|tu ngu|nhung chu|goi la|ten goi|mang ten)\b"
)
_ASKS_WHY = re.compile(r"^why\b|\b(vi sao|tai sao|ly do|de lam gi|nham muc dich gi|vi le gi)\b")
# Words that give a reason or a purpose, with their tone marks ("đề" in "đề nghị" is not "để")
_REASON = re.compile(r"(?<!\w)(do|vì|bởi|nhằm|để|vừa được|nhờ|vì vậy|nên|với kinh nghiệm|trên cơ sở|xuất phát từ)(?!\w)(?![^,.;]* dẫn đầu)")  # "do X dẫn đầu": led by X
# "Why was the delegation in Vietnam?", "vì sao đoàn sang Việt Nam": being somewhere is explained by
# what one came to attend or the visit itself ("đang thăm chính thức Việt Nam và dự Lễ kỷ niệm ...")
_ASKS_WHY_THERE = re.compile(r"^why (was|were|did|had|has|have|is|are) (\S+ ){1,8}?(in|to|visit|visiting|come|came|travel|"
                             r"travelled|traveled|go|went|there)\b|\b(vi sao|tai sao|ly do)\b(.* )?(sang|den|tham|o|co mat) ")
_ATTENDING = re.compile(r"(?<!\w)(dự|tham dự|thăm chính thức|thăm hữu nghị|thăm làm việc)(?!\w)")
_QUOTED = re.compile(r"[\"“”«»][^\"“”«»]{3,}[\"“”«»]")


# Openings that make a sentence lean on the one before: its subject or topic is there.
_LEANS_ON_PREVIOUS = re.compile(
    r"^(ong|ba|ho|trong do|theo do|dong thoi|ben canh do|qua do|day la|dieu nay|vi vay|do do|ngoai ra|"
    r"cung trong|tai day|sau do|tu do|nho do)\b"
)


@dataclass(frozen=True)
class Sentence:
    article_id: str
    start: int
    end: int
    text: str
    padded: str  # " folded words " for phrase matching
    dates: tuple[str, ...]  # ISO dates mentioned in the sentence
    refers: str = ""  # padded text of the sentence before, when this one leans on it ("Ông ...", "Trong đó, ...")
    aliases: str = ""  # padded names of the people it names by title alone ("Thủ tướng cho biết")
    instruction: bool = False  # reads like an instruction to an AI model: never quoted (rag.safety)


def _by_article(sentences: Sequence[tuple[str, int, int]]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The index's (article id, start, end) rows grouped by article, in order."""
    groups: list[tuple[str, list[tuple[int, int]]]] = []
    for aid, start, end in sentences:
        if not groups or groups[-1][0] != aid:
            groups.append((aid, []))
        groups[-1][1].append((start, end))
    return groups


class SentenceTable:
    """Every indexed sentence, its vector, and the corpus facts answer selection needs:
    phrase document frequencies and gazetteers of the people and places the articles name."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.articles = index.articles
        self.vectors = index.sentence_vectors
        self.sentences: list[Sentence] = []
        self.by_article: dict[str, list[int]] = {}
        persons: set[str] = set()  # everyone the corpus names after a title
        for aid, spans in _by_article(index.sentences):
            article = self.articles[aid]
            texts = [article.body[start:end] for start, end in spans]
            said = [mentions(text) for text in texts]
            persons.update(fold(name) for found in said for _, name in found if name)
            ids = self.by_article.setdefault(aid, [])
            for (start, end), text, aliases in zip(spans, texts, title_aliases(said), strict=True):
                dates = tuple(d.iso for d in article.dates if d.start >= start and d.end <= end)
                refers = ""
                if ids and _LEANS_ON_PREVIOUS.match(fold(text)):
                    # what it leans on is the text before, not a photo caption set between
                    before = next((i for i in reversed(ids) if not is_caption(self.sentences[i].text)), None)
                    refers = self.sentences[before].padded if before is not None else ""
                ids.append(len(self.sentences))
                self.sentences.append(Sentence(aid, start, end, text, padded(text), dates, refers,
                                               padded(" ".join(aliases)) if aliases else "", instruction_like(text)))
        self._df: dict[str, int] = {}
        # a sentence names them with or without the title
        self.persons = tuple(sorted(persons))

    @cached_property
    def corpus(self) -> str:
        return "".join(s.padded for s in self.sentences) + self.titles

    @cached_property
    def titles(self) -> str:
        return "".join(padded(a.title) for a in self.articles.values())

    @cached_property
    def phrases(self) -> PhraseIndex:
        """Word and word-pair postings: a large table's counts without reading every sentence."""
        return PhraseIndex([s.padded for s in self.sentences])

    def df(self, phrase: str) -> int:
        """Sentences containing the folded ``phrase`` as whole words."""
        if phrase not in self._df:
            if len(self.sentences) >= PHRASE_INDEX_MIN:
                self._df[phrase] = self.phrases.count(phrase)
            else:
                needle = f" {phrase} "
                self._df[phrase] = sum(1 for s in self.sentences if needle in s.padded)
        return self._df[phrase]

    def holding(self, phrase: str) -> list[int]:
        """Ids of the sentences containing the folded ``phrase`` as whole words."""
        if len(self.sentences) >= PHRASE_INDEX_MIN:
            return self.phrases.holding(phrase)
        needle = f" {phrase} "
        return [i for i, s in enumerate(self.sentences) if needle in s.padded]

    def person_near(self, phrase: str, words: int = 8) -> bool:
        """Does any sentence name a person at most ``words`` words from ``phrase`` ("Bộ trưởng
        Quốc phòng Lào, Thượng tướng Khamliang")? A country never so named has no one of its
        own in the articles ("ba nước Việt Nam - Lào - Campuchia")."""
        def spots(toks: list[str], what: list[str]) -> list[int]:
            return [i for i in range(len(toks)) if toks[i : i + len(what)] == what]

        target = phrase.split()
        for sid in self.holding(phrase):
            pad = self.sentences[sid].padded
            toks = pad.split()
            at = spots(toks, target)
            for person in (p for p in self.persons if f" {p} " in pad):
                reach = words + max(len(person.split()), len(target))
                if any(abs(i - j) <= reach for i in at for j in spots(toks, person.split())):
                    return True
        return False

    def delegation_named(self, country: str) -> bool:
        """Does any sentence speak of a delegation of ``country`` ("Đoàn Bộ Tổng Tham mưu Quân
        đội nhân dân Lào")? "đoàn kết" (solidarity) is no delegation."""
        near = re.compile(rf" doan (?!ket )(?:\w+ ){{0,8}}{re.escape(country)} ")
        return any(near.search(self.sentences[i].padded) for i in self.holding(country))

    def concept_df(self, concept: Concept) -> int:
        return max((self.df(p) for p in concept.phrases), default=0)

    def in_corpus(self, phrase: str) -> bool:
        if len(self.sentences) >= PHRASE_INDEX_MIN and phrase and all(phrase.split(" ")):
            # padded texts begin and end with a space: the phrase is within one of them
            return self.df(phrase) > 0 or f" {phrase} " in self.titles
        return f" {phrase} " in self.corpus

    def neighbours(self, sid: int, distance: int = 1) -> list[int]:
        """Sentence ids at most ``distance`` away in the same article (an article's are consecutive)."""
        aid = self.sentences[sid].article_id
        return [
            i for i in range(max(0, sid - distance), min(len(self.sentences), sid + distance + 1))
            if self.sentences[i].article_id == aid
        ]

    def context(self, sid: int) -> str:
        """The sentence with its neighbours in the same article, padded."""
        return "".join(self.sentences[i].padded for i in self.neighbours(sid))


def covers(text_padded: str, concept: Concept) -> bool:
    """Does a padded passage (``padded(text)``) contain any phrase of the concept?"""
    return any(f" {p} " in text_padded for p in concept.phrases)


_NATIONALITIES = {"vietnamese", "vietnam", "viet nam", "lao", "laos", "laotian", "cambodian", "cambodia", "military"}


def focus_concept(query: Query, table: SentenceTable | None = None) -> Concept | None:
    """The head of what the question asks for: the last concept of a counted noun phrase
    ("lao military *students*"), else the first that is not a nationality ("*học sinh*
    Lào", "Vietnamese *company*"); words the corpus never uses are skipped given a table."""
    if not query.focus:
        return None
    found = [
        (query.focus.find(c.label), c)
        for c in query.concepts
        if c.kind != "number" and c.label in query.focus
        and (table is None or c.kind != "word" or table.concept_df(c) > 0)
    ]
    if not found:
        return None
    if query.head_at == "last":
        return max(found, key=lambda fc: fc[0])[1]
    # "which Vietnamese company": skip a leading nationality
    ranked = sorted(found, key=lambda fc: fc[0])
    useful = [c for _, c in ranked if c.label not in _NATIONALITIES]
    return useful[0] if useful else ranked[0][1]


_VI_ASKED = re.compile(r"((?:\w+ ){1,3})(?:nao|bao nhieu)\b")  # "mẫu xe VinFast nào", "trị giá bao nhiêu"


def asked_terms(query: Query) -> list[Concept]:
    """The lexicon terms naming what a question asks for: those in its focus ("which VinFast
    *model*", "what was the *budget*") and, in Vietnamese, those just before "nào" or "bao
    nhiêu" ("*mẫu xe* nào", "*trị giá* bao nhiêu"). Only lexicon terms: their Vietnamese
    forms are known, so a term no article uses means the articles do not say."""
    spans = [f" {query.focus} "] if query.focus else []
    if query.lang == "vi":
        spans += [f" {m.group(1)}" for m in _VI_ASKED.finditer(fold(query.text))]
    return [c for c in query.concepts
            if c.kind == "lexicon" and c.label not in _NATIONALITIES and any(f" {c.label} " in s for s in spans)]


# Lexicon terms that frame the answer rather than name a subject ("in which *city*", "how
# *long*"), and places a question may name in passing ("Hanoi–Vientiane ties")
_FRAME_TERMS = {"city", "province", "provinces", "district", "districts", "capital", "where", "location", "venue",
                "place", "long", "hanoi", "ha noi", "vientiane"}


def unsaid_terms(query: Query, table: SentenceTable) -> list[Concept]:
    """The lexicon terms of a question that no article uses at all ("*chi phí*", "the
    conference *theme*", "*born*"): their Vietnamese forms are known, so the articles do not
    speak of that thing, and a passage found for the other words answers something else.
    Terms that frame the answer ("which *city*") and places named in passing are left out."""
    duration = bool(_ASKS_DURATION.search(fold(query.text)))  # "how long did it last": no length
    return [c for c in query.concepts if c.kind == "lexicon" and table.concept_df(c) == 0
            and (c.label not in _FRAME_TERMS or (c.label == "long" and not duration))]


# "how many people / participants", "bao nhiêu người, đại biểu": people are counted
_COUNTS_PEOPLE = re.compile(r"\b(how many|number of|bao nhieu|may) (\w+ )?(people|persons|participants|attendees|personnel|"
                            r"delegates|troops|soldiers|officers|members|pupils|students|schoolchildren|children|"
                            r"nguoi|dai bieu|can bo|chien si|thanh vien|hoc sinh|hoc vien)\b")
# "cột mốc số mấy", "what number": a number names one thing, it does not count them
_ASKS_IDENTIFIER = re.compile(r"\b(so|thu|lan) (may|bao nhieu)\b|\b(what|which) (number|anniversary|edition|round|session)\b|"
                              r"\b(ky niem|anniversary) (bao nhieu|may)\b|\bthe number of (the|a|that|this) ")  # "the number of the marker"
_NAMED_BY_NUMBER = re.compile(r"(\w+ \w+) so (?:may|bao nhieu)\b")  # "cột mốc số mấy", "bão số mấy"
# units a number is asked in (matched on the question folded, then on the passage as written)
_UNITS = (
    (re.compile(r"\b(bao nhieu|may) tan\b|\btonnes?\b|\btons\b"), re.compile(r"\d\s*tấn\b", re.IGNORECASE)),
    (re.compile(r"\b(bao nhieu|may) (ha|hecta|hec ta)\b|\bhectares?\b"), re.compile(r"\d\s*(ha|héc-?ta|hecta)\b", re.IGNORECASE)),
    (re.compile(r"\b(bao nhieu|may) (ty|trieu)\b|\b(billion|million)\b"), re.compile(r"\d\s*(tỷ|triệu)", re.IGNORECASE)),
    (re.compile(r"\b(usd|dollars?)\b"), re.compile(r"\d\s*(usd|đô)|\$\s*\d", re.IGNORECASE)),
)
_HEADCOUNT = re.compile(r" (\d+|num\d+) (nguoi|dai bieu|can bo|chien si|quan nhan|si quan|binh si|hoc vien|thanh vien|"
                        r"dong chi|luu hoc sinh|hoc sinh|sinh vien|khach|thanh nien|em|chau) ")
_CLASSIFIERS = {"chiec", "cai", "con", "tam", "buc", "ngoi", "quyen", "bo"}


def counted_unknown(query: Query, table: SentenceTable) -> bool:
    """Does a Vietnamese "how many" question count something the articles never name
    ("bao nhiêu *liều* vắc-xin": no article speaks of doses)? Its head word is then one the
    corpus does not hold (English words are not checked: the lexicon may not know them)."""
    if query.lang != "vi" or not query.focus or query.focus.split()[0] in _CLASSIFIERS:
        return False  # "mấy chiếc xe": the words are cut across the classifier and its noun
    found = sorted(((query.focus.find(c.label), c) for c in query.concepts
                    if c.kind != "number" and c.label in query.focus and c.label not in _NATIONALITIES),
                   key=lambda at: at[0])
    if not found:
        return False
    head = found[-1][1] if query.head_at == "last" else found[0][1]
    return head.kind == "word" and table.concept_df(head) == 0


def type_fit(text: str, pad: str, dates: Sequence[str], query: Query, table: SentenceTable) -> float:
    """0..1: does a passage (``text`` and its ``padded`` form ``pad``) carry what the question type needs?"""
    qtype = query.qtype
    if qtype == "who":  # someone the question does not already name
        named = [f" {n} " for n in query.names]
        return 1.0 if any(f" {p} " in pad and not any(f" {p} " in n or n in f" {p} " for n in named)
                          for p in table.persons) else 0.0
    if qtype == "when":
        if any(len(d.split("-")) >= 3 for d in dates):
            return 1.0
        if any(len(d.split("-")) == 2 for d in dates):  # a month: the answer, unless a day is to be had
            return 1.0 if _MONTH_QUESTION.search(fold(query.text)) else _MONTH_FIT
        return 0.0 if _DAY_QUESTION.search(fold(query.text)) or not dates else 0.4
    if qtype == "where":
        if _ASKS_COUNTRY.search(fold(query.text)):  # "which country": one the question does not name
            asked = {p for c in query.concepts for p in c.phrases}
            return 1.0 if any(f" {c} " in pad and c not in asked for c in _COUNTRIES) else 0.0
        if not has_place(text):  # a forum is where one side backs the other, less than a place
            return _FORUM_FIT if _FORUM.search(text) else 0.0
        level = _PLACE_LEVEL.search(fold(query.text))  # "which province": the province must be named
        return 1.0 if level is None or f" {_LEVEL_WORD[level.group(1)]} " in pad else 0.5
    if qtype == "signed":
        has_doc = any(f" {d} " in pad for d in _DOC_TYPES)
        return 1.0 if has_doc and any(v in pad for v in _SIGN) else 0.5 if has_doc else 0.0
    if qtype == "number":
        if _ASKS_DURATION.search(fold(query.text)):
            said = fold(_digits(text))
            if not _ASKS_ANNIVERSARY.search(fold(query.text)):
                said = _ANNIVERSARY.sub(" ", said)
            return 1.0 if _SPAN.search(said) else 0.0
        words = padded(_digits(text)).split()
        numbers = [i for i, w in enumerate(words) if w.isdigit() or re.fullmatch(r"num\d+", w)]
        if not numbers:
            return 0.0
        asked = fold(query.text)
        named = _NAMED_BY_NUMBER.search(asked)
        if named:  # "cột mốc số mấy": the number stands after the thing it names
            return 1.0 if re.search(rf" {named.group(1)} (so )?\d+ ", padded(_digits(text))) else 0.0
        if counted_unknown(query, table):
            return 0.0
        if _COUNTS_PEOPLE.search(asked):  # "bao nhiêu người tham gia": a head count
            return 1.0 if _HEADCOUNT.search(padded(_digits(text))) else 0.0
        for unit, said in _UNITS:  # "bao nhiêu tấn", "how many hectares": the number comes with its unit
            if unit.search(asked):
                return 1.0 if said.search(text) else 0.0
        names_one = bool(_ASKS_IDENTIFIER.search(asked))
        concept = focus_concept(query, table)
        if concept is None:
            return 1.0
        for phrase in concept.phrases:
            size = len(phrase.split())
            for i in range(len(words) - size + 1):
                if words[i : i + size] != phrase.split():
                    continue
                # "3 xe chỉ huy", "ba nước" count what follows; "lần thứ nhất", and for "cột mốc
                # số mấy" "cột mốc 605", name it from after (then 605 is no count of markers)
                after_ok = phrase.endswith(" thu") or phrase == "thu" or names_one
                if (not names_one and any(i - 4 <= n < i for n in numbers)) or any(
                    i + size <= n <= i + size + 1 and after_ok and (words[n].isdigit() or phrase.endswith("thu"))
                    for n in numbers
                ):
                    return 1.0
        # a number in the same clause as the counted thing is weaker evidence
        for clause in map(padded, re.split(r"[,;:()]", text)):
            for phrase in concept.phrases:  # (not a number naming one of them: "cột mốc 605")
                clause = re.sub(rf" {phrase} (so )?\d+ ", f" {phrase} ", clause)
            if covers(clause, concept) and re.search(r" \d+ ", clause):
                return 0.6
        return 0.0
    if qtype == "rank":
        found = sum(1 for r in (*_RANKS, *_POSTS) if f" {r} " in pad)
        return min(1.0, found / 2)
    if _ASKS_WORDING.search(fold(query.text)):  # a motto or a phrase is quoted
        return 1.0 if _QUOTED.search(text) else 0.0
    if _ASKS_WHY.search(fold(query.text)):  # a reason or a purpose: "do bão lũ", "để chào mừng"
        lower = text.lower()
        if _ASKS_WHY_THERE.search(fold(query.text)) and _ATTENDING.search(lower):
            return 1.0
        return 1.0 if _REASON.search(lower) else 0.0
    if ASKS_CHARACTER.search(fold(query.text)):  # "how did he describe X": "X là ..."
        return 1.0 if defines(pad, query, table) else 0.0
    if qtype == "what" and lists_focus(pad, query, table, text):  # "what challenges": "các thách thức ... như: dịch bệnh, ..."
        return 1.0
    # "what did X share / propose / pledge": the passage that says it with that verb
    said = {p for c in query.concepts if c.kind == "lexicon" and c.label not in _JUST_SAY and c.weight >= 1.0
            for p in c.phrases if p in STATEMENT_VERBS}  # the part's own verb, not one it borrows
    if qtype == "what" and said:
        return _SAID_FIT if any(f" {v} " in pad for v in said) else 0.0
    return 0.0


_SAID_FIT = 0.5  # type fit of a passage that says what a "what did X share/propose" question asks with its verb
_JUST_SAY = {"say", "says", "said", "state", "stated", "tell", "told"}  # any statement says something


_LIST_MARK = re.compile(r"^(nhu(?! cau\b)|gom|bao gom|including|such as)\b")
_LIST_REACH = 10  # words: how far after the asked-for thing its list may begin


def lists_focus(pad: str, query: Query, table: SentenceTable | None = None, text: str = "") -> bool:
    """Does the passage name what a "what X" question asks for and go on to list them
    ("các thách thức an ninh truyền thống và phi truyền thống như: Dịch bệnh, ..."), or list
    them and end on it ("chống buôn lậu, ma túy và các *tội phạm* xuyên biên giới")? Words
    the corpus never uses ("loại tội": a pair across two words) are not asked for, given a table."""
    asked = [c for c in query.concepts if c.kind in ("lexicon", "word") and c.weight >= 1.0 and c.label in query.focus
             and (table is None or table.concept_df(c) > 0)]
    if not asked:
        return False
    commas = " " + " ".join(re.sub(r"[^\w,]+", " ", fold(text)).replace(",", " , ").split()) + " "
    if any(re.search(rf" , (?:\w+ ){{1,6}}(?:va|cung) (?:cac|nhung) {re.escape(p)} ", commas)
           for p in asked[-1].phrases):  # the head ends the list: "a, b và các X"
        return True
    words = pad.split()
    for at in range(1, len(words)):
        if not _LIST_MARK.match(" ".join(words[at : at + 2])):
            continue
        before = " " + " ".join(words[max(0, at - _LIST_REACH) : at]) + " "
        if all(covers(before, c) for c in asked):
            return True
    return False


_SETTING_SHARE = 0.5  # a concept in more than this share of the sentences ("Việt Nam") is the setting


def defines(pad: str, query: Query, table: SentenceTable) -> bool:
    """Does the passage say what one of the question's things is ("hợp tác quốc phòng là
    một trong những trụ cột ...")? The things are the question's own concepts (not its frame
    or scene) that are not the setting of most sentences: "quan hệ ... Việt Nam-Lào là tài sản
    vô giá" does not say what "cuộc hội đàm với Bộ trưởng Việt Nam" was."""
    setting = _SETTING_SHARE * len(table.sentences)
    return any(
        re.search(rf" {re.escape(p)} (?:\w+ ){{0,5}}(?<! nhat )(?<! hay )(?<! dac biet )la (?!do |vi |khi )", pad)  # not "nhất là", "đặc biệt là"
        for c in query.concepts if c.kind == "lexicon" and c.weight >= 1.0 and table.concept_df(c) <= setting
        for p in c.phrases
    )


_ORDINAL_WORDS = {"nhat": 1, "dau": 1, "hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9}
_ORDINAL_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
               "ninth": 9, "tenth": 10}
_ORDINAL = re.compile(r"\blan (?:thu )?(\d+|nhat|hai|ba|tu|nam|sau|bay|tam|chin)\b|\blan dau\b|"
                      r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b"
                      r"(?! (?:country|countries|nation|nations|party|parties|state|states|half|quarter)\b)"  # "a third country"
                      r"|\b(\d+)(?:st|nd|rd|th)\b")


def _edition(m: re.Match[str]) -> int:
    vi, en, num = m.groups()
    if vi:
        return int(vi) if vi.isdigit() else _ORDINAL_WORDS[vi]
    if en:
        return _ORDINAL_EN[en]
    return int(num) if num else 1  # "lần đầu"


def ordinals(folded: str) -> set[int]:
    """Editions a text names: "lần thứ 2", "lần đầu", "second", "9th"."""
    return {_edition(m) for m in _ORDINAL.finditer(folded)}


# An English anniversary: "the 50th anniversary", "60 years of diplomatic relations" (folded text)
_ANNIVERSARY_EN = re.compile(r"\b(\d+)(?:st|nd|rd|th) anniversary\b|"
                             r"\b(\d+) years? of (?=diplomatic|the (?:treaty|founding|establishment)|national)")


def anniversaries(folded: str) -> set[int]:
    """The anniversaries a text names, in years: {80, 35} for "kỷ niệm 80 năm Ngày thành
    lập ..., 35 năm Ngày hội ...". "sơ kết 3 năm thực hiện" is a review, not an anniversary."""
    said = {int(m.group(1)) for m in _ANNIVERSARY.finditer(folded) if m.group(1).isdigit()}
    return said | {int(m.group(1) or m.group(2)) for m in _ANNIVERSARY_EN.finditer(folded)}


_POST_WINDOW = 24  # words: how far after the name of the person holding it a post may stand
_POST_BEFORE = 10  # ... and how far before it ("Tổng Tham mưu trưởng QĐND Lào Khamliang ...")
_MANY = {"hai", "ba", "cac", "nhung", "num2", "num3"}  # "ba Bộ trưởng": posts of several people
# A verb between a post and the name after it: the post is its subject's ("X, Thứ trưởng, chủ trì
# lễ đón Trung tướng Khamliang")
_POST_BREAKS = {"chu", "tri", "don", "tiep", "gap", "tham", "chao", "du", "ky", "hoi", "dam", "cung", "va", "voi"}


def posts_near(pad: str, names: Sequence[str], others: Sequence[str] = ()) -> set[str]:
    """The posts a padded passage gives one of ``names``: after the name ("Thượng tướng Khamliang
    Outhakaysone, Bộ trưởng Quốc phòng Lào"; "... được giao phó trọng trách Thứ trưởng") up to
    the name of anyone in ``others``, or just before it with no verb between ("Tổng Tham mưu
    trưởng Quân đội nhân dân Lào Khamliang"). A post of several people ("ba Bộ trưởng") is no one's."""
    words = pad.split()
    found: set[str] = set()
    stops = [o.split() for o in others if o not in names]

    def posts_in(lo: int, hi: int) -> list[tuple[int, int, str]]:
        out = []
        for post in _POSTS:
            step = post.split()
            for j in range(lo, hi - len(step) + 1):
                if words[j : j + len(step)] == step and (j == 0 or words[j - 1] not in _MANY):
                    out.append((j, j + len(step), post))
        return out

    for name in names:
        size = len(name.split())
        for i in range(len(words) - size + 1):
            if words[i : i + size] != name.split():
                continue
            hi = min(len(words), i + size + _POST_WINDOW)
            for other in stops:  # someone else's name ends the window
                for j in range(i + size, hi - len(other) + 1):
                    if words[j : j + len(other)] == other:
                        hi = min(hi, j)
            found |= {p for _, _, p in posts_in(i + size, hi)}
            found |= {p for _, end, p in posts_in(max(0, i - _POST_BEFORE), i)
                      if not _POST_BREAKS & set(words[end:i])}
    return found


_EDITION_WINDOW = 10  # words: how far an edition's event name may stand from its ordinal


def editions(folded: str) -> list[tuple[int, str]]:
    """Each edition a text names with the words of the event it belongs to, padded: the
    words before a Vietnamese ordinal ("Giao lưu ... biên giới lần thứ nhất") and after an
    English one ("the second border exchange")."""
    found = []
    for m in _ORDINAL.finditer(folded):
        if m.group(2) or m.group(3):  # English: the event follows
            words = folded[m.end():].split()[:_EDITION_WINDOW]
        else:
            words = folded[: m.start()].split()[-_EDITION_WINDOW:]
        found.append((_edition(m), padded(" ".join(re.findall(r"\w+", " ".join(words))))))
    return found
