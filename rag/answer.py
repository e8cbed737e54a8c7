"""Answering: retrieved passages -> a short ``Answer`` whose every claim cites a verbatim quote.

Covers: ``ExtractiveAnswerer`` (the offline default, no LLM: picks the smallest set of
sentences that answers the question, guided by its type - who, when, where, what was
signed, numbers, ranks - and its dates), ``GenerativeAnswerer`` (any LangChain chat model;
its ``[n]`` markers are checked against the passages it was given, invalid ones dropped -
a passage it was not given, one that shares nothing with the claim, one whose matching
sentence reads like an instruction - and an answer left without a valid citation falls
back to the extractive one; sentences that read like instructions are never quoted), and
abstention with a message in the question's language. Does not cover: ranking chunks
(``rag.retrieval``) or conversation state (``rag.bot``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from rag.chunking import Chunk
from rag.dates import Period
from rag.errors import BackendError
from rag.evidence import (
    Sentence,
    SentenceTable,
    anniversaries,
    asked_terms,
    covers,
    editions,
    ordinals,
    posts_near,
    type_fit,
    unsaid_terms,
)
from rag.index import Index
from rag.ingest import Article
from rag.prompts import render
from rag.query import (
    ASKS_CHARACTER,
    ASKS_SPAN,
    SCENE_CLAUSE,
    STATEMENT_VERBS,
    Concept,
    Query,
    analyze,
    country_posts,
    delegation_countries,
    load_lexicon,
    owner_countries,
)
from rag.retrieval import Retrieval
from rag.safety import defang, instruction_like
from rag.text import fold, is_caption, padded, sentence_spans

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 600


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: ``articles[article_id].body[start:end] == quote``."""

    article_id: str
    title: str
    date: str | None
    quote: str
    start: int
    end: int

    def to_json(self) -> dict:
        return {"article_id": self.article_id, "title": self.title, "date": self.date, "quote": self.quote}


@dataclass(frozen=True)
class Answer:
    """The answer text (with ``[n]`` markers), whether it abstained, and its citations in marker order."""

    text: str
    abstained: bool
    citations: list[Citation]
    question: str = ""
    lang: str = "en"
    backend: str = "extractive"
    retrieved: list[str] = field(default_factory=list)  # article ids of the ranked retrieved chunks
    reason: str = ""  # why it abstained, or how the answer was made
    notice: str = ""  # something the asker should know, e.g. that a long question was cut

    def to_json(self) -> dict:
        """``{"answer", "abstained", "citations"}``, plus ``"notice"`` when there is one."""
        payload = {
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
        }
        if self.notice:
            payload["notice"] = self.notice
        return payload


def format_date(iso: str | None) -> str:
    """``2021-12-12`` -> ``12/12/2021``, ``2022-06`` -> ``06/2022`` (the articles' style)."""
    if not iso:
        return ""
    parts = iso.split("-")
    return "/".join(reversed(parts))


# ---------------------------------------------------------------- extractive answering

_MESSAGES = {
    "en": {
        "lead": "From the articles (Vietnamese quotes):",
        "published": "article of",
        "period": "The articles hold nothing dated {period}; they cover {span}. I can't answer this from them.",
        "name": "None of the articles mentions {name}, so I can't answer this from them.",
        "missing": "The articles don't say. The closest passages don't answer this question.",
        "empty": "There are no indexed articles to answer from.",
    },
    "vi": {
        "lead": "Theo các bài báo:",
        "published": "bài đăng",
        "period": "Các bài báo không có thông tin nào trong thời gian {period} (chỉ từ {span}), nên tôi không trả lời được.",
        "name": "Không bài báo nào nhắc đến {name}, nên tôi không trả lời được câu này.",
        "missing": "Các bài báo không nói đến điều này; những đoạn gần nhất không trả lời câu hỏi.",
        "empty": "Chưa có bài báo nào được lập chỉ mục.",
    },
}

_HARD_TYPES = ("who", "when", "where", "number")
# Types whose needed feature counts twice in the ranking ("signed": a document and a signing verb
# together, over a document named in passing)
_RANKED_TYPES = (*_HARD_TYPES, "signed")
# Question types whose needed feature is rare enough to look for beyond the retrieved chunks
# ("when": a day, which a report names once, in its lead)
_TYPED_BEYOND_HITS = ("what", "signed", "number", "when")
# An event named by a demonstrative ("lễ kỷ niệm lịch sử này", "sự kiện quan trọng này"): its
# head noun is looked for in the sentences before, at most _BACK of them
_POINTS_BACK = re.compile(r"\b(ky niem|su kien|dip|hoat dong|chuyen tham)\b(?: \w+){0,3} (?:nay|do)\b")
_BACK = 3
# Openings whose subject is the sentence before ("Đây là sự kiện trọng đại ...").
_DEMONSTRATIVE = re.compile(r"^(day (la|cung la)|do (la|cung la)|dieu nay|viec nay|su kien nay)\b")
# People named a sentence or two away: "hai Bộ trưởng đã ký ...", "Ông nhấn mạnh ..."
_PEOPLE_NEARBY = re.compile(r"\b(hai|ba|cac) (bo truong|tong tham muu truong|vi|tuong|lanh dao|dong chi|truong doan|"
                            r"nguoi|thu truong)\b|^(ong|ba)\b")
# "Who also attended ...", "có ai cùng dự", "ai dự cùng": someone besides the people of the event described
_ALSO = re.compile(r"\b(also|else|too|as well|besides|in addition|cung (du|tham du|co mat|tham gia|tiep)|(du|tham du|co mat|tham gia) cung|"
                   r"ngoai ra|con co|(sat|sit|sitting) in on)\b")  # "sat in on X's meeting": X is not the answer
# "Which minister sat in when the PM received ...": attending an event the question places
_ATTENDED = re.compile(r"\b(sat in|attended|attend|was present|were present|present at|took part|joined|"
                       r"(cung )?(du|tham du|co mat)|tham gia)\b")
# A commander asked for: "Tư lệnh", "Chỉ huy trưởng", "commander" - not "Bộ Tư lệnh", "Bộ Chỉ huy",
# which name the command, an organisation (folded text)
_ASKS_COMMANDER = re.compile(r"(?<!\bbo )(?<!\bban )\b(tu lenh|chi huy truong)\b|\bcommanders?\b")
_COMMANDER_SAID = re.compile(r"(?<! bo )(?<! ban )(?<! hoi nghi )\b(tu lenh|chi huy truong|commanders?)\b")
_YEAR_RANGE = re.compile(r"\b(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d\b")
# "the current protocol", "mới nhất": the newest article's, when the question names no period
_ASKS_LATEST = re.compile(r"\b(latest|newest|most recent|current|currently|hien nay|hien tai|hien hanh|moi nhat)\b")
# "Ông X từng giữ những chức vụ nào", "what positions has X held": each post he held, across articles
_ASKS_POSTS_HELD = re.compile(r"\btung (giu|dam nhiem|dam nhan|nam giu)\b|\b(nhung|cac) (chuc vu|cuong vi|chuc danh)\b|"
                              r"\b(posts|positions|titles|roles|offices)\b.*\b(held|holds|hold|occupied|had)\b")
# Words that say someone was at an event ("cùng dự cuộc tiếp"), not which event it was
_ATTENDING_WORDS = frozenset(["cung", "du", "tham", "co", "mat", "tai", "trong", "cuoc", "buoi", "gia"])
# "Which minister attended the PM's meeting with ...": an event the question gives its people
_ATTENDED_EVENT = re.compile(r"\b(attended|attending|sat in on|(was|were) present at|joined|took part in) (\S+ ){0,3}?"
                             r"(\S+'s (meeting|reception|talks|call|audience)|(meeting|reception|talks|call|audience) (with|of|for))\b|"
                             r"\b(du|tham du|co mat (tai|trong)) (cuoc|buoi) (tiep|gap|hoi dam) \S+")
# "what post did X hold before ...", "trước đó giữ chức vụ gì": a person's earlier post
_ASKS_FORMER_POST = re.compile(
    r"\b(truoc (do|day|khi)|tung giu|previous(ly)?|former(ly)?|before (becoming|taking|he|she|his|her)|prior to)\b"
    r".*\b(chuc vu|cuong vi|chuc danh|post|position|role|job|title)\b|"
    r"\b(chuc vu|cuong vi|chuc danh|post|position|role|job|title)\b.*\b(truoc (do|day|khi)|previous(ly)?|"
    r"former(ly)?|before (becoming|taking|he|she|his|her)|prior to)\b"
)
_FORMER = re.compile(r" (tung giu|tung la|tung lam|truoc day|truoc khi|former|formerly|previously) ")
# "what job did he take after his term", "về nước nhận nhiệm vụ gì": a post after the one reported
_AFTER_POST = re.compile(r"\b(after|sau khi) (\S+ ){0,8}?(term|tenure|posting|mission|ended|left|ket thuc|nhiem ky|roi)\b")
_ASKS_POST = re.compile(r"\b(job|post|position|role|task|do next|nhiem vu|chuc vu|cong viec|dam nhan)\b|\bnext (job|post|position|assignment)\b")
_NEXT = re.compile(r" (se dam nhan|se nhan|nhan nhiem vu moi|chuc vu moi|tiep tuc cong tac|ve nuoc nhan) ")
# questions about how an event went, and sentences that only announce one
_ASKS_OUTCOME = re.compile(r"\b(results?|outcomes?|how did (the|it) (\w+ )*(go|turn out)|turn(ed)? out|ket qua|(dien ra|to chuc) (the nao|ra sao)|"
                           r"how many (\w+ ){1,3}(took part|participated|joined|were involved)|"
                           r"bao nhieu (\w+ ){1,2}tham gia|what (was|were) agreed|(nhat tri|thong nhat) (duoc )?(nhung )?gi|"
                           r"what (was|were) discussed|thao luan (nhung )?gi|who won|which (\w+ ){0,2}won|winners?|"
                           r"(gianh|doat) (giai|huy chuong)|vo dich)\b")
# "When was X appointed / did X take office / start as attaché", "when was it founded / signed
# / opened", "how old is X": the start, signing, opening or age itself must be said, in the
# words for it; the date or number of something else in the sentence is no answer
_ASKED_EVENT = (
    # a person's start in a post (not "when did the talks start": an event's date answers that)
    (re.compile(r"\b(appointed|appointment|(took|take|assumed|assume) (up )?(the |his |her )?(office|post|position|role|job)|"
                r"(started|began|start|begin) (as|serving|working|(his |her |their )?(term|tenure|posting|mission))|"
                r"(became|become|becoming) (\S+ ){0,4}?(minister|chief|head|attache|commander|deputy)|"
                r"bo nhiem|nham chuc|nhan chuc|bat dau (lam|giu|nhiem ky)|tro thanh)\b"),
     re.compile(r" (bo nhiem|nham chuc|bat dau|nhan chuc|giao trong trach|giao pho|ke nhiem|tan) ")),
    (re.compile(r"\b(founded|established|thanh lap|ra doi)\b"), re.compile(r" (thanh lap|thiet lap|ra doi) ")),
    (re.compile(r"\b(born|sinh nam|sinh ngay|nam sinh|ngay sinh)\b"), re.compile(r" (sinh ngay|sinh nam|sinh) ")),
    # a promotion, an opening, a signing, an age: the date or number of something else is no answer
    (re.compile(r"\b(promoted|promotion|thang (quan )?ham|thang cap)\b"), re.compile(r" (thang|phong) (quan )?(ham|cap) ")),
    (re.compile(r"\b(opened|open|opens|opening|inaugurated|inauguration|khai mac|khai truong)\b"),
     re.compile(r" (khai mac|khai truong|mo cua|mo man|bat dau|dien ra|to chuc|duoc to chuc) ")),
    # (with its tone mark: folded, "ký" is also "kỷ niệm")
    (re.compile(r"\b(signed|duoc ky|ky ket vao|ky vao|ky khi nao)\b"), re.compile(r"(?<!\w)ký(?!\w)| ky ket |\bsigned\b")),
    (re.compile(r"\b(how old|age|aged|bao nhieu tuoi|may tuoi)\b"), re.compile(r" \d+ tuoi | tuoi \d+ ")),
    # how long a document is valid: the year of another document signed with it is no answer
    (re.compile(r"\b(hieu luc|valid|validity|expire[sd]?|expiry|het han)\b"), re.compile(r" (hieu luc|giai doan|het han) ")),
)
# words announcing what is to come; "ngày mai" / "tomorrow" also give its day, "sẽ" does not
_WILL_WORDS = "sẽ|sắp|dự kiến|thời gian tới|tới đây|will|upcoming"
_WILL = re.compile(rf"(?<!\w)({_WILL_WORDS})(?!\w)")
_ASKS_HELD = re.compile(r"\b(dien ra|to chuc|ky niem|(was|is|will|were) (\S+ ){0,8}?(be )?(held|celebrated)|"
                        r"(take|took|takes) place)\b")  # (not "invited X to an exhibition to be held")
_DAY_WRITTEN = re.compile(r"\d{1,2}\s*[/-]\s*\d{1,2}|(?<!\w)(ngày|tháng|năm)\s+\d|\b(19|20)\d\d\b|"
                          r"(?<!\w)(ngày mai|hôm nay|chiều nay|sáng nay|tối nay|tomorrow|today)(?!\w)", re.IGNORECASE)
_ASKS_CHAIR = re.compile(r"\b(chaired|chairs|chair|chairing|presided|chu tri)\b")
_FUTURE = re.compile(rf"(?<!\w)({_WILL_WORDS}|ngày mai|tomorrow)(?!\w)")
_OUTCOME_SAID = re.compile(r"(?<!\w)(kết quả|đã diễn ra|thành công tốt đẹp đã|results?|nhất trí|thống nhất|đồng ý)(?!\w)")
# "which tree / cây gì", "which storm / bão nào", "which factory", "what souvenir / quà gì",
# "which military region / quân khu nào": the answer must name the kind. A passage calling it
# by the head noun alone ("trồng cây lưu niệm;", "do bão lũ vừa qua.", "tặng quà lưu niệm cho
# ...") does not say which. Each row: the question's wording; the head noun (lower-case, with
# its tone marks); folded words that only restate the kind; whether a passage without the head
# noun says nothing of it (a gift can be named without "quà").
_KINDS = (
    (re.compile(r"\b(what|which)( kinds?| types?| sorts?| species)?( of)? trees?\b|(?<!\w)(loại cây|cây( lưu niệm)? (gì|nào))(?!\w)"),
     "cây", ("luu niem", "huu nghi", "xanh"), True),
    (re.compile(r"\b(what|which)( \w+)? (storms?|typhoons?)\b|\bname of the (storm|typhoon)|(?<!\w)bão( lũ)? (nào|gì|số mấy|tên gì)(?!\w)"),
     "bão|storm|typhoon", ("lu", "lut", "vua qua", "nay"), True),
    (re.compile(r"\b(what|which) (factory|factories|plant|workshop)\b|(?<!\w)(nhà máy|xưởng) (nào|gì)(?!\w)"),
     "nhà máy|xưởng|factory", (), True),
    (re.compile(r"\b(what|which)( kind of)? (souvenirs?|gifts?|presents?|mementos?) (did|was|were)\b|(?<!\w)(món quà|quà( lưu niệm)?) (gì|nào)(?!\w)"),
     "quà", ("luu niem",), False),
    (re.compile(r"\b(what|which) (\w+ )?(military region|military zone)s?\b|(?<!\w)quân khu (nào|mấy|số mấy)(?!\w)"),
     "quân khu|military region", (), True),
)
_KIND_FUNCTION_WORDS = frozenset([
    "cho", "va", "cua", "cac", "nhung", "tai", "o", "de", "voi", "la", "da", "duoc", "trong", "tu", "nay",
    "do", "ve", "gay", "ra", "vua", "qua", "nhu", "khi", "thi", "ma",
    "and", "of", "the", "a", "to", "for", "at", "in", "by", "from", "with", "was", "were",
])
_NEARBY_FIT = 0.7  # type fit of a sentence whose people are named in a neighbour
_PLACE_COVER = 0.3  # share of the question a sentence must cover itself for its place to be the venue
_NO_PLACE = 0.25  # support factor for a where-question whose passages name no place
# Openings of a sentence that goes on with what the sentence before reported someone saying
_ASKS_SAY = re.compile(r"\bwhat did (\w+ ){1,6}(say|tell|state|stress|emphasi[sz]e)\b|\b(noi|phat bieu|cho biet) (gi|nhung gi|dieu gi)\b")
# a sentence opening on a new scene or speaker does not go on with the statement before it
_NEW_SCENE = re.compile(r"^(tai|ngay|sang|chieu|toi|truoc do|sau do|sau khi|nhan dip|phat bieu|thay mat|ve phia|dai tuong|"
                        r"thuong tuong|trung tuong|thieu tuong|dai ta|thu tuong|bo truong|ong|ba|anh:)\b")
_GOES_ON = re.compile(r"^(hai ben|dong thoi|ben canh do|ngoai ra|theo do|cung voi do|hai quan doi|hai nuoc)\b")
_NO_COUNT = 0.0  # support factor for a number question whose passages count nothing
# "who is the new attaché / tùy viên mới": the passage saying someone was appointed answers,
# though another (the outgoing one's praise, "phát triển mối quan hệ" folding to "moi") covers
# more of the question's words
_ASKS_NEW_HOLDER = re.compile(r"\bwho (is|was|became|will be) (\S+ ){0,4}?(new|newly|incoming)\b|"
                              r"(?<!\w)(ai là (\w+ ){0,6}?(mới|tân)|(tân|mới) (\w+ ){0,9}?là ai)(?!\w)")
_ASKS_OLD_HOLDER = re.compile(r"\b(old|outgoing|former|previous)\b|(?<!\w)(cũ|tiền nhiệm)(?!\w)")
_NEW_HOLDER_SAID = re.compile(r"(?<!\w)(bổ nhiệm|tân|kế nhiệm|nhận nhiệm vụ|nhậm chức|mới được|appointed)(?!\w)")
_NEW_HOLDER_LEAD = 0.8  # share of the best score such a passage needs to lead
_WINDOW_TYPE = 1.5  # how much a clause window carrying the type feature beats one covering more concepts
_GLOSS_DF = 10  # lexicon terms in more sentences than this are too common to gloss
_RARE_DF = 12  # a concept in at most this many sentences is specific enough to be required
_CHARACTER_LEAD = 0.5  # a passage saying what Y is leads "how did X describe Y" if it scores this share of the best
_WINDOW_CHARS = 250  # characters: a sentence longer than this has its coverage checked clause by clause
_SPREAD = 0.2  # share of a long sentence's coverage that comes from its best clause window
_MIN_COMPLEMENT = 40  # characters: a complement's quote cut shorter than this is left out
# Sentence-score weights, set by hand on the dev set and checked with eval/tune_weights.py
# (fitted weights did not carry over to the holdout set; see README).
DEFAULT_WEIGHTS = {
    "cov": 1.0, "ctx": 0.3, "dense": 0.45, "type": 0.4, "hard_type": 0.4,
    "new_person": 0.2, "prior": 0.1, "date": 0.2, "short": -0.15, "long": 0.0,
}

# Countries whose absence from every article means the question is not about this corpus.
_COUNTRY_KEYS = {
    "china", "chinese", "thailand", "thai", "united states", "usa", "america", "american", "russia", "russian",
    "japan", "japanese", "india", "indian", "trung quoc", "thai lan", "hoa ky", "nhat ban", "an do",
}
# Countries other than the two this corpus is about: a question naming one is about that
# country, and a passage that does not name it answers a different question.
_THIRD_COUNTRIES = _COUNTRY_KEYS | {"cambodia", "cambodian", "campuchia"}


@lru_cache(maxsize=4096)
def _clause_windows(text: str) -> tuple[str, ...]:
    """Each longest run of whole clauses of ``text`` within ``_WINDOW_CHARS`` (or a single
    longer clause), padded."""
    cuts = [0] + [m.end() for m in re.finditer(r"[,;:]\s+|\s[-–]\s", text)] + [len(text)]
    windows = []
    for a in range(len(cuts) - 1):
        b = a + 1
        while b + 1 < len(cuts) and cuts[b + 1] - cuts[a] <= _WINDOW_CHARS:
            b += 1
        windows.append(padded(text[cuts[a]:cuts[b]]))
    return tuple(windows)


@lru_cache(maxsize=1)
def _lexicon_words() -> frozenset[str]:
    """Every word of the lexicon's keys (English terms, and a few Vietnamese ones)."""
    return frozenset(w for entry in load_lexicon() for key in entry.keys for w in key.split())


@lru_cache(maxsize=1)
def _english_terms() -> tuple[tuple[str, str], ...]:
    """(folded Vietnamese phrase of two or more words, its English term) from the lexicon."""
    pairs: dict[str, str] = {}
    for entry in load_lexicon():
        english = entry.keys[0]
        if english.isascii() and not english.replace(" ", "").isdigit():
            for phrase in entry.expansions:
                if len(phrase.split()) >= 2:
                    pairs.setdefault(phrase, english)
    return tuple(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def _period_label(period: Period) -> str:
    if "/" in period.iso:
        first, last = period.iso.split("/")
        return f"{format_date(first)}–{format_date(last)}"
    return format_date(period.iso)


@dataclass
class _Candidate:
    sid: int
    prior: float  # from the rank of the best chunk holding the sentence
    chunk_date: float
    dense: float = 0.0
    fit: float = 0.0
    score: float = 0.0
    covered: frozenset[int] = frozenset()
    features: dict[str, float] = field(default_factory=dict)
    goes_on: bool = False  # continues the sentence before: quoted from its start


@dataclass
class _Pick:
    """The sentences chosen for one (part of a) question."""

    query: Query
    weights: dict[int, float]
    chosen: list[_Candidate]
    support: float
    parallel: bool = False  # each chosen sentence answers in its own right (his posts in two years)


def _led_by(candidates: list[_Candidate], lead: _Candidate) -> list[_Candidate]:
    """The candidates with ``lead`` moved to the front."""
    return [lead] + [c for c in candidates if c is not lead]


class ExtractiveAnswerer:
    """Answers by quoting article sentences verbatim, no LLM.

    Each candidate sentence (from the top chunks) is scored on how much of the question's
    weighted concepts it covers (alone and with its neighbours), its vector similarity to
    the question, whether it carries what the question type needs (a person for who, a
    date for when, a place for where, a signing and a document type for what was signed,
    a number next to the thing counted, ranks and posts), its dates, and the rank of its
    chunk. The best sentence is kept, then others that add uncovered concepts, supply a
    missing type feature or score within ``close`` of the best, as far as 600 characters
    allow (long sentences are cut to the clauses that matter). A two-part question is
    answered part by part. A sentence of the best article that carries what the question type
    needs is a candidate even if its chunk was not retrieved; in "who also attended ..." the
    people of the sentence describing the event are not the answer; a proposal that goes on
    in the next sentence is quoted with it. It abstains when the question's period is not covered, when it
    names something no article mentions, when the passages answer a different question (a
    rare, specific concept missing, another edition of an event, nothing counted for a
    "how many"), or when the support of the best sentence is under ``min_support``.
    """

    name = "extractive"

    def __init__(
        self,
        index: Index,
        *,
        max_sentences: int = 3,
        min_support: float = 0.3,
        close: float = 0.6,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.index = index
        self.max_sentences = max_sentences
        self.min_support = min_support
        self.close = close
        self.w = {**DEFAULT_WEIGHTS, **(weights or {})}

    @cached_property
    def table(self) -> SentenceTable:
        return SentenceTable(self.index)

    # ---- public

    def with_known_names(self, query: Query) -> Query:
        """A question typed in lower case or without tone marks ("thieu tuong le duc thai de
        nghi ...") names people the capitalisation rule cannot see: the people the articles
        name are found in it, and replace the word pairs and lexicon terms they were read as
        ("le duc", "thai": Thailand)."""
        pad = padded(query.text)
        found = [p for p in self.table.persons if f" {p} " in pad and p not in query.names]
        if not found:
            return query
        words = {w for p in found for w in p.split()}
        kept = [c for c in query.concepts if c.kind == "name" or not set(c.label.split()) & words]
        names = tuple(Concept(p, (p,), "name") for p in found)
        return replace(query, concepts=names + tuple(kept), names=query.names + tuple(found),
                       parts=tuple(self.with_known_names(p) for p in query.parts))

    def run(self, retrieval: Retrieval) -> Answer:
        retrieval = replace(retrieval, query=self.with_known_names(retrieval.query),
                            parts=[replace(p, query=self.with_known_names(p.query)) for p in retrieval.parts])
        query = retrieval.query
        retrieved = [h.chunk.article_id for h in retrieval.hits]
        reason = self.precheck(retrieval)
        if reason:
            return self.abstain(query, reason, retrieved)
        parts = [p for p in (retrieval.parts or [retrieval]) if p.period_covered is not False and p.hits]
        picks = []
        for part in parts:
            pick = self._pick(part)
            if pick:
                picks.append(pick)
        kept = [p for p in picks if p.support >= self.min_support]
        # "What was signed at the second exchange, and where was it held?": the edition the
        # whole question names holds for every part
        if len(picks) > 1 and any(self._other_edition(p.chosen[0].sid, query) for p in picks):
            kept = []
        if not kept:
            best = max((p.support for p in picks), default=0.0)
            log.info("abstain: support %.2f < %.2f for %r", best, self.min_support, query.text)
            return self.abstain(query, _MESSAGES[query.lang]["missing"], retrieved, f"support {best:.2f}")
        return self._compose(kept, query, retrieved)

    def precheck(self, retrieval: Retrieval) -> str | None:
        """A reason to abstain before reading any passage, or None."""
        query = retrieval.query
        msgs = _MESSAGES[query.lang]
        if not self.index.chunks:
            return msgs["empty"]
        parts = retrieval.parts or [retrieval]
        if all(p.period_covered is False for p in parts):
            dates = sorted(a.date for a in self.index.articles.values() if a.date)
            span = f"{format_date(dates[0])} – {format_date(dates[-1])}" if dates else "-"
            periods = [p for part in parts for p in part.query.periods]
            label = ", ".join(dict.fromkeys(_period_label(p) for p in periods))
            return msgs["period"].format(period=label, span=span)
        if any(self.table.concept_df(c) == 0 for c in asked_terms(query)):
            return msgs["missing"]  # what it asks for (a price, a length, a car model) is in no article
        if query.lang == "vi" and query.qtype == "who" and query.focus:  # "ai là Cục trưởng ...": no article has it
            words = [c for c in query.concepts if c.kind == "word" and c.label in query.focus]
            if words and all(self.table.concept_df(c) == 0 for c in words):
                return msgs["missing"]
        if _ASKS_FORMER_POST.search(fold(query.text)) and any(self._one_snapshot(n) for n in query.names):
            return msgs["missing"]  # "his post before he came to Vietnam": one article, which does not say
        asks_next = _AFTER_POST.search(fold(query.text)) and _ASKS_POST.search(fold(query.text))
        if asks_next and any(self._one_snapshot(n, _NEXT) for n in query.names):
            return msgs["missing"]  # "his job after the term": the one article reporting him ends with it
        if query.qtype == "who" and any(self._first_known(n, query) for n in query.names):
            return msgs["missing"]  # "who held the post before X": no article says anyone came before X
        if query.qtype == "who" and any(self._last_known(n, query) for n in query.names):
            return msgs["missing"]  # "who replaced X": no article says X left the post
        if query.qtype in ("who", "rank"):  # "Cambodia's defence minister": no article names one
            for phrases in country_posts(query.text):
                if not any(self.table.in_corpus(p) for p in phrases):
                    return msgs["missing"]
            # "who represented Cambodia": no article names anyone next to that country
            if any(not self.table.person_near(c) for c in owner_countries(query.text, query.names)):
                return msgs["missing"]
            # "who led Cambodia's delegation": no article speaks of a delegation of that country
            if any(not self.table.delegation_named(c) for c in delegation_countries(query.text)):
                return msgs["missing"]
        for concept in query.concepts:
            unknown_name = concept.kind == "name" and not self.table.in_corpus(concept.phrases[0]) and not (
                query.lang == "en" and set(concept.label.split()) <= _lexicon_words()
            )  # "the Solidarity and Friendship Year": capitalised English words, not a name
            unknown_country = concept.kind == "lexicon" and concept.label in _COUNTRY_KEYS
            if unknown_name or (unknown_country and self.table.concept_df(concept) == 0):
                return msgs["name"].format(name=concept.label.title())
        if unsaid_terms(query, self.table):
            return msgs["missing"]  # it asks about something (a cost, a theme, a birthplace) no article speaks of
        return None

    def _one_snapshot(self, name: str, other_post: re.Pattern[str] = _FORMER) -> bool:
        """Is ``name`` named in one article only, never with a word for another post than the
        one reported (earlier: "từng", "trước đây"; later: "sẽ đảm nhận")? Then the corpus
        cannot say what they held before or after."""
        said = [self.table.sentences[i] for i in self.table.holding(name)]
        return len({s.article_id for s in said}) == 1 and not any(other_post.search(s.padded) for s in said)

    def _first_known(self, name: str, query: Query) -> bool:
        """Does the question ask who came before ``name`` ("who was attaché before Colonel X"),
        while no sentence naming them says they are new to the post or had a predecessor?"""
        if not re.search(rf"\b(before|preceded|preceding|predecessor of|truoc)\s+([\w.]+\s+){{0,3}}{re.escape(name)}\b",
                         fold(query.text)):
            return False
        near = re.compile(rf" {re.escape(name)} (\w+ ){{0,4}}?(duoc )?(bo nhiem|moi|ke nhiem|thay the)\b| tan "
                          rf"(\w+ ){{0,4}}{re.escape(name)} | (tien nhiem|ke nhiem) ")
        return not any(near.search(self.table.sentences[i].padded) for i in self.table.holding(name))

    def _last_known(self, name: str, query: Query) -> bool:
        """Does the question ask who came after ``name`` ("who replaced X", "ai thay X"),
        while no sentence naming them says they are leaving the post?"""
        if not re.search(rf"\b(replaced|succeeded|successor (of|to)|took over from|thay|thay the|ke nhiem)\s+([\w.]+\s+){{0,3}}"
                         rf"{re.escape(name)}\b|\b{re.escape(name)}'?s? successor\b", fold(query.text)):
            return False
        leaving = re.compile(r" (cu|tu biet|chia tay|man nhiem|ket thuc nhiem ky|nhiem ky cong tac vua qua|ke nhiem|thay the) ")
        return not any(leaving.search(self.table.sentences[i].padded) for i in self.table.holding(name))

    def abstain(self, query: Query, message: str, retrieved: list[str], reason: str = "") -> Answer:
        return Answer(
            text=message,
            abstained=True,
            citations=[],
            question=query.text,
            lang=query.lang,
            backend=self.name,
            retrieved=retrieved,
            reason=reason or message,
        )

    # ---- scoring

    def _weights(self, query: Query) -> dict[int, float]:
        """IDF-style weight per concept; words the corpus never uses cannot be checked (0)."""
        n = max(1, len(self.table.sentences))
        weights = {}
        for i, concept in enumerate(query.concepts):
            df = self.table.concept_df(concept)
            if df == 0 and concept.kind in ("word", "number"):
                weights[i] = 0.0  # a paraphrase or an English word: no evidence either way
            else:
                weights[i] = math.log(1 + n / (1 + df)) * concept.weight
        return weights

    def _candidates(self, retrieval: Retrieval, weights: dict[int, float]) -> list[_Candidate]:
        query = retrieval.query
        table = self.table
        found: dict[int, _Candidate] = {}
        for rank, hit in enumerate(retrieval.hits):
            chunk = hit.chunk
            for sid in table.by_article.get(chunk.article_id, []):
                sent = table.sentences[sid]
                if sent.start >= chunk.start and sent.end <= chunk.end and sid not in found and not sent.instruction:
                    found[sid] = _Candidate(sid, 1.0 / (1 + rank), hit.date_match)
        # the rest of the best article: a chunk the per-article cap or the ranking left out may
        # hold the sentence that answers; one carrying what the question type needs is a candidate
        if retrieval.hits and query.qtype in _TYPED_BEYOND_HITS:
            top = retrieval.hits[0]
            for sid in table.by_article.get(top.chunk.article_id, []):
                sent = table.sentences[sid]
                if sid not in found and not sent.instruction and \
                        type_fit(sent.text, sent.padded, sent.dates, query, table) >= 1.0:
                    found[sid] = _Candidate(sid, 1.0 / (1 + len(retrieval.hits)), top.date_match)
        if not found:
            return []
        total = sum(weights.values()) or 1.0
        sids = list(found)
        if retrieval.query_vector is not None and len(table.vectors):
            sims = table.vectors[sids] @ np.asarray(retrieval.query_vector, dtype=np.float32)
            lo, hi = float(sims.min()), float(sims.max())
            for sid, sim in zip(sids, sims, strict=True):
                found[sid].dense = (float(sim) - lo) / (hi - lo) if hi > lo else 1.0
        named = [f" {n} " for n in query.names]
        people_of: dict[int, set[str]] = {}
        for cand in found.values():
            sent = table.sentences[cand.sid]
            people = [p for p in table.persons if f" {p} " in sent.padded and f" {p} " not in named]
            people_of[cand.sid] = set(people)
            # a sentence that leans on the one before ("Ông nhấn mạnh ...") also has its concepts;
            # in "what did X propose", X is often named a sentence before the one that goes on
            # saying it (a sentence naming someone else is someone else's)
            prev = table.sentences[cand.sid - 1] if cand.sid else None
            before = prev.padded if query.qtype == "what" and not people and prev is not None \
                and prev.article_id == sent.article_id and not is_caption(prev.text) else ""
            cand.covered = frozenset(
                i for i, c in enumerate(query.concepts) if weights[i] and (
                    covers(sent.padded + sent.refers + sent.aliases, c) or (c.kind == "name" and covers(before, c)))
            )
            context = table.context(cand.sid)
            cand.fit = type_fit(sent.text, sent.padded, sent.dates, query, table)
            if query.qtype == "who" and cand.fit < 1.0 and _PEOPLE_NEARBY.search(fold(sent.text)) and any(
                type_fit(table.sentences[i].text, table.sentences[i].padded, (), query, table) >= 1.0
                for i in table.neighbours(cand.sid, 2) if i != cand.sid
            ):
                cand.fit = _NEARBY_FIT
            cov = sum(weights[i] for i in cand.covered) / total
            if len(sent.text) > _WINDOW_CHARS:  # a long sentence's concepts must stand together
                cov = (1 - _SPREAD) * cov + _SPREAD * self._window_cover(sent, query, weights, cand.covered) / total
            cand.features = {
                **cand.features,
                "cov": cov,
                "ctx": sum(w for i, w in weights.items() if w and covers(context, query.concepts[i])) / total,
                "dense": cand.dense,
                "type": cand.fit,
                "hard_type": cand.fit if query.qtype in _RANKED_TYPES else 0.0,
                "new_person": 1.0 if query.qtype == "who" and people else 0.0,
                "prior": cand.prior,
                "date": self._date_fit(sent, query.periods),
                "short": 1.0 if len(sent.text) < 25 else 0.0,
                "long": max(0.0, (len(sent.text) - 300) / 300),
            }
            cand.score = self.score(cand.features)
            if query.split == "period":  # the same words for each period: the period decides
                cand.score += 2 * self.w["date"] * cand.features["date"]
        folded = fold(query.text)
        if query.qtype == "who" and (_ALSO.search(folded) or (_ATTENDED.search(folded) and SCENE_CLAUSE.search(folded))
                                     or _ATTENDED_EVENT.search(folded)):
            # the sentence that best describes the event names the people the question
            # describes ("when the PM received the Lao minister"); the answer is someone else
            # ("which Politburo member also attended": the asked-for role does not describe the event)
            said = {i for i, c in enumerate(query.concepts) if c.label not in query.focus
                    and not all(set(p.split()) <= _ATTENDING_WORDS for p in c.phrases)}
            event = max(found.values(), key=lambda c: (sum(weights[i] for i in c.covered & said), c.score))
            for cand in found.values():
                if cand.fit >= 1.0 and people_of[cand.sid] <= people_of[event.sid]:
                    cand.fit = 0.0
                    cand.features.update(type=0.0, hard_type=0.0, new_person=0.0)
                    cand.score = self.score(cand.features)
        return sorted(found.values(), key=lambda c: (-c.score, c.sid))

    def _window_cover(self, sent: Sentence, query: Query, weights: dict[int, float], covered: frozenset[int]) -> float:
        """The most concept weight any run of clauses under ``_WINDOW_CHARS`` covers (the
        sentence's own references count everywhere)."""
        extra = sent.refers + sent.aliases
        return max((sum(weights[i] for i in covered if covers(piece + extra, query.concepts[i]))
                    for piece in _clause_windows(sent.text)), default=0.0)

    def _date_fit(self, sent: Sentence, periods: Sequence[Period]) -> float:
        """1.0 when the sentence's article was published in a period the question names,
        0.8 when the sentence mentions a day or month in it, 0.4 for a year-only mention."""
        best = 0.0
        published = self.index.articles[sent.article_id].date
        for period in periods:
            if published and Period.from_iso(published).overlaps(period):
                return 1.0
            for iso in sent.dates:
                if Period.from_iso(iso).overlaps(period):
                    best = max(best, 0.4 if len(iso) == 4 else 0.8)
        return best

    def score(self, features: dict[str, float]) -> float:
        return sum(self.w.get(k, 0.0) * v for k, v in features.items())

    def _pick(self, retrieval: Retrieval) -> _Pick | None:
        query = retrieval.query
        weights = self._weights(query)
        candidates = self._candidates(retrieval, weights)
        if not candidates:
            return None
        if query.qtype == "what" and ASKS_CHARACTER.search(fold(query.text)) and candidates[0].fit < 1.0:
            # "how did X describe Y": the passage saying what Y is answers, though another
            # names more of the scene
            fitting = [c for c in candidates[1:8] if c.fit >= 1.0 and c.score >= _CHARACTER_LEAD * candidates[0].score]
            if fitting:
                candidates = _led_by(candidates, fitting[0])
        asked = query.text.lower()
        if query.qtype == "who" and _ASKS_NEW_HOLDER.search(asked) and not _ASKS_OLD_HOLDER.search(asked):
            said = [c for c in candidates[:8] if _NEW_HOLDER_SAID.search(self.table.sentences[c.sid].text.lower())]
            if said and said[0] is not candidates[0] and said[0].fit >= 1.0 and \
                    said[0].score >= _NEW_HOLDER_LEAD * candidates[0].score:
                candidates = _led_by(candidates, said[0])
        if ASKS_SPAN.search(fold(query.text)):
            # "Nghị định thư ... là giai đoạn nào": the passage naming a span of years answers;
            # "hiện nay / current": the newest article's
            spans = [c for c in candidates[:8] if _YEAR_RANGE.search(self.table.sentences[c.sid].text)]
            if spans and _ASKS_LATEST.search(fold(query.text)) and not query.periods:
                spans.sort(key=lambda c: self.index.articles[self.table.sentences[c.sid].article_id].date or "",
                           reverse=True)
            if spans and spans[0] is not candidates[0]:
                candidates = _led_by(candidates, spans[0])
        best = candidates[0]
        chosen, covered = [best], set(best.covered)
        total = sum(weights.values()) or 1.0
        type_ok = best.fit >= 1.0
        for cand in candidates[1 : 8]:
            if len(chosen) >= self.max_sentences:
                break
            gain = sum(weights[i] for i in cand.covered - covered) / total
            fills_type = not type_ok and cand.fit >= 1.0 and cand.score >= 0.6 * best.score
            close = cand.score >= self.close * best.score
            if gain >= 0.15 or fills_type or close:
                chosen.append(cand)
                covered |= cand.covered
                type_ok = type_ok or cand.fit >= 1.0
        parallel = query.qtype == "rank" and bool(query.names) and bool(_ASKS_POSTS_HELD.search(fold(query.text)))
        if parallel:
            chosen = self._posts_held(chosen, candidates[:8], query.names)
        goes_on = self._goes_on(best, query, weights)
        if goes_on is not None and all(c.sid != goes_on.sid for c in chosen):
            chosen.insert(1, goes_on)
        if query.qtype == "who" and (not type_ok or best.fit == _NEARBY_FIT):
            # "hai Bộ trưởng đã ký ...": the names are usually a sentence or two away
            near = self._nearby_with_person(best, query)
            if near is not None:
                chosen.insert(1, near)
        support = self._support(chosen, query, weights)
        return _Pick(query, weights, self._with_antecedents(chosen)[: self.max_sentences], support, parallel)

    def _posts_held(self, chosen: list[_Candidate], candidates: list[_Candidate],
                    names: Sequence[str]) -> list[_Candidate]:
        """For "what posts has X held": the best passage giving X a post first, then each one
        giving him a post none before did (his posts in 2022 and in 2024 are in two articles)."""
        posts = {c.sid: posts_near(self.table.sentences[c.sid].padded, names, self.table.persons)
                 for c in [*chosen, *candidates]}
        out: list[_Candidate] = []
        held: set[str] = set()
        for cand in [*(c for c in chosen if posts[c.sid]), *candidates]:
            if len(out) < self.max_sentences and all(c.sid != cand.sid for c in out) and posts[cand.sid] - held:
                out.append(cand)
                held |= posts[cand.sid]
        return out or chosen

    def _with_antecedents(self, chosen: list[_Candidate]) -> list[_Candidate]:
        """Put the sentence before in front of a chosen one whose subject it is ("Đây là sự
        kiện trọng đại ..." after the sentence naming the event), and the sentence naming an
        event after a chosen one that points back at it ("lễ kỷ niệm lịch sử này")."""
        by_sid = {c.sid: c for c in chosen}
        out: list[_Candidate] = []
        placed: set[int] = set()

        def place(sid: int, like: _Candidate) -> None:  # each sentence once, a chosen one as chosen
            if sid not in placed:
                placed.add(sid)
                out.append(by_sid.get(sid) or _Candidate(sid, like.prior, like.chunk_date, fit=like.fit,
                                                         score=like.score))

        for cand in chosen:
            if cand.sid in placed:
                continue
            sent = self.table.sentences[cand.sid]
            if sent.refers and _DEMONSTRATIVE.match(fold(sent.text)):
                place(cand.sid - 1, cand)
            place(cand.sid, cand)
            named = self._named_before(cand.sid)  # after it: the sentence keeps its rank
            if named is not None:
                place(named, cand)
        return out

    def _named_before(self, sid: int) -> int | None:
        """For a sentence pointing back at an event ("để chào mừng lễ kỷ niệm lịch sử này"),
        the sentence at most ``_BACK`` before it in its article that names that event, or None."""
        m = _POINTS_BACK.search(fold(self.table.sentences[sid].text))
        if m is None:
            return None
        head = f" {m.group(1)} "
        for prev in range(sid - 1, sid - 1 - _BACK, -1):
            if not self._near(prev, sid, _BACK):
                return None
            if head in self.table.sentences[prev].padded:
                return prev
        return None

    def _goes_on(self, best: _Candidate, query: Query, weights: dict[int, float]) -> _Candidate | None:
        """In "what did X propose", the sentence after X's proposal that goes on with it
        ("Hai bên tiếp tục phối hợp ...", naming no one), or None."""
        # the verb, through the lexicon ("propose") or as the question says it ("đề nghị",
        # whose "đề" folds to a stop word, "để")
        said = {p for i, c in enumerate(query.concepts) if weights[i] for p in c.phrases if p in STATEMENT_VERBS}
        said |= {v for v in STATEMENT_VERBS if f" {v} " in padded(query.text)}
        if _ASKS_SAY.search(fold(query.text)):
            said = set(STATEMENT_VERBS)  # "what did he say about X": whatever he said it with
        nxt = best.sid + 1
        best_says = any(f" {v} " in self.table.sentences[best.sid].padded for v in said)
        if query.qtype != "what" or not best_says or not self._near(best.sid, nxt, 1):
            return None
        sent = self.table.sentences[nxt]
        opens = fold(sent.text)
        goes_on = _GOES_ON.match(opens) or (
            _ASKS_SAY.search(fold(query.text)) and not sent.dates and not _NEW_SCENE.match(opens))
        if sent.instruction or not goes_on or any(f" {p} " in sent.padded for p in self.table.persons):
            return None
        return _Candidate(nxt, best.prior, best.chunk_date, fit=best.fit, score=best.score, goes_on=True)

    def _nearby_with_person(self, best: _Candidate, query: Query) -> _Candidate | None:
        """The closest sentence (at most 3 away, same article) that names someone new."""
        near = sorted(self.table.neighbours(best.sid, 3), key=lambda i: (abs(i - best.sid), i))
        for i in near[1:]:
            other = self.table.sentences[i]
            if other.instruction:
                continue
            fit = type_fit(other.text, other.padded, other.dates, query, self.table)
            if fit >= 1.0:
                return _Candidate(i, best.prior, best.chunk_date, fit=fit, score=best.score)
        return None

    def _support(self, chosen: list[_Candidate], query: Query, weights: dict[int, float]) -> float:
        """How well one chosen sentence (with its neighbours) covers the question, 0..1.

        The same sentence must both cover the concepts and, for who/when/where/number
        questions, carry a person, date, place or counted number. A rare, specific concept
        (a name, a multi-word term such as "tổng tham mưu trưởng") that the cited articles
        never mention, or another edition of an event ("lần thứ nhất" for "the second
        ..."), means the passages answer a different question: 0.
        """
        if self._mismatch(chosen, query, weights):
            return 0.0
        if _ASKS_OUTCOME.search(fold(query.text)):
            # "how did the exercise go", "how many took part": passages that only announce it
            # ("diễn ra vào ngày mai sẽ thành công") do not say
            said = self.table.sentences[chosen[0].sid].text.lower()
            if _FUTURE.search(said) and not _OUTCOME_SAID.search(said):
                return 0.0
        total = sum(weights.values())
        best = 0.0
        for cand in chosen:
            score, covered = 1.0, 0.0
            if total:
                context = self.table.context(cand.sid)
                in_context = {i for i, w in weights.items() if w and covers(context, query.concepts[i])}
                covered = sum(weights[i] for i in cand.covered)
                score = (covered + 0.5 * sum(weights[i] for i in in_context - cand.covered)) / total
            fit = cand.fit
            if query.qtype == "who":  # names resolved from a chosen neighbour count
                fit = max([fit] + [c.fit for c in chosen if self._near(c.sid, cand.sid, 3)])
            if query.qtype == "where" and covered < _PLACE_COVER * total:
                fit = 0.0  # a place in a sentence that barely speaks of the event is not its venue
            if query.qtype == "number" and fit == 0.0:
                score *= _NO_COUNT  # nothing is counted where the question's thing is
            elif query.qtype == "where" and fit == 0.0:
                score *= _NO_PLACE  # no place is named where the question's event is
            elif query.qtype in _HARD_TYPES and fit < 1.0:
                score *= 0.5
            best = max(best, score)
        return best

    def _near(self, a: int, b: int, distance: int) -> bool:
        if not (0 <= a < len(self.table.sentences) and 0 <= b < len(self.table.sentences)):
            return False  # past the first or the last sentence
        sa, sb = self.table.sentences[a], self.table.sentences[b]
        return sa.article_id == sb.article_id and abs(a - b) <= distance

    def _mismatch(self, chosen: list[_Candidate], query: Query, weights: dict[int, float]) -> bool:
        articles = {self.table.sentences[c.sid].article_id for c in chosen}
        sids = sorted(i for aid in articles for i in self.table.by_article.get(aid, []))
        texts = "".join(self.table.sentences[i].padded for i in sids)
        for i, concept in enumerate(query.concepts):
            df = self.table.concept_df(concept)
            specific = (
                concept.kind == "name"
                or (concept.kind == "lexicon" and min(len(p.split()) for p in concept.phrases[:-1] or ("",)) >= 3)
            )
            rare = concept.weight >= 1.0 and specific and 0 < df <= _RARE_DF
            if rare and weights[i] and not covers(texts, concept):
                return True
        best = self.table.sentences[chosen[0].sid]
        if query.qtype in ("when", "number") and any(
            asks.search(fold(query.text)) and not said.search(best.padded + best.refers + best.text.lower())
            for asks, said in _ASKED_EVENT
        ):
            return True  # "when was X appointed": a date of something else X did is no answer
        if query.qtype == "when" and _ASKS_HELD.search(fold(query.text)) and _WILL.search(best.text.lower()) \
                and not _DAY_WRITTEN.search(best.text):
            return True  # "Lào sẽ tổ chức kỷ niệm ...": the day of the report is not the day of the event
        if query.qtype == "who" and _ASKS_CHAIR.search(fold(query.text)) and \
                " chu tri " not in self.table.context(chosen[0].sid):
            return True  # "who chaired the review conference": people near it who chaired nothing
        if self._kind_unnamed(chosen, query):
            return True
        if query.qtype == "who" and _ASKS_COMMANDER.search(fold(query.text)) and \
                not _COMMANDER_SAID.search(self.table.context(chosen[0].sid)):
            return True  # "ai là Tư lệnh BĐBP": "Bộ Tư lệnh BĐBP" is the Command, not who commands it
        asked = anniversaries(fold(query.text))
        said = anniversaries(self.table.context(chosen[0].sid))
        if asked and said and not asked & said:
            return True  # "the 50th anniversary" answered from the 80th's ceremony
        for i, concept in enumerate(query.concepts):  # "... with Cambodia" answered about Laos
            third = concept.kind == "lexicon" and concept.label in _THIRD_COUNTRIES and weights[i]
            if third and not covers(best.padded + best.refers, concept):
                return True
        return self._other_edition(chosen[0].sid, query)

    def _kind_unnamed(self, chosen: list[_Candidate], query: Query) -> bool:
        """Does the question ask which kind of thing (tree, storm, factory, souvenir, military
        region) while no chosen sentence names one: the head noun absent, or followed only by
        words restating the kind and then a function word or punctuation?"""
        asked = query.text.lower()
        for asks, head, restating, required in _KINDS:
            if not asks.search(asked):
                continue
            restated = re.compile(rf"^(?:(?:{'|'.join(restating)}) )*" if restating else "^")
            mentioned = named = False
            for cand in chosen:
                spoken = " ".join(re.findall(r"\w+|[^\w\s]", self.table.sentences[cand.sid].text.lower()))
                for m in re.finditer(rf"(?<!\w)({head})(?!\w)", spoken):
                    mentioned = True
                    rest = restated.sub("", fold(spoken[m.end():]).strip() + " ")
                    word = rest.split(" ", 1)[0]
                    named = named or (word.isalnum() and word not in _KIND_FUNCTION_WORDS)
            if not named and (mentioned or required):
                return True
        return False

    def _other_edition(self, sid: int, query: Query) -> bool:
        """Does the passage around ``sid`` speak of another edition ("lần thứ nhất") than
        the one the question asks about ("the second ...")? Where the passage names editions
        of several events ("Đối thoại ... lần thứ 2", "Giao lưu ... lần thứ nhất"), the
        event named with the most of the question's words around its ordinal decides."""
        asked = ordinals(fold(query.text))
        if not asked:
            return False
        sent = self.table.sentences[sid]
        text = self.table.context(sid) + padded(self.index.articles[sent.article_id].title)
        said = ordinals(text)
        if not said:
            return False
        around = " ".join(words for _, words in editions(fold(query.text)))
        about = [c for c in query.concepts if c.kind != "number" and covers(f" {around} ", c)]
        if about:
            hits = [(sum(covers(words, c) for c in about), n) for n, words in editions(text)]
            most = max((k for k, _ in hits), default=0)
            if most:
                said = {n for k, n in hits if k == most}
        return not asked & said

    # ---- composing the answer

    def _quote(self, sid: int, query: Query, weights: dict[int, float], limit: int,
               from_start: bool = False, posts: bool = False) -> tuple[int, int]:
        """Offsets of the sentence, or for one over ``limit`` the clause window that covers most
        of the question's own concepts (not the scene's: the sentence was chosen with them)
        (on a tie the later one, or the earlier one for a sentence quoted ``from_start``);
        with ``posts`` (a question about someone's post), one giving him a post."""
        sent = self.table.sentences[sid]
        if len(sent.text) <= limit:
            return sent.start, sent.end
        cuts = [0] + [m.end() for m in re.finditer(r"[,;:]\s+|\s[-–]\s", sent.text)] + [len(sent.text)]
        mentions = self.index.articles[sent.article_id].dates
        total = sum(weights.values()) or 1.0
        best = (-1.0, 0, min(limit, len(sent.text)))
        for a in range(len(cuts) - 1):
            for b in range(a + 1, len(cuts)):
                s, e = cuts[a], cuts[b]
                if e - s > limit:
                    break
                piece = padded(sent.text[s:e])
                dates = [d.iso for d in mentions if d.start >= sent.start + s and d.end <= sent.start + e]
                value = sum(w for i, w in weights.items() if w and query.concepts[i].weight >= 1.0 and covers(
                    piece, query.concepts[i])) / total
                value += _WINDOW_TYPE * type_fit(sent.text[s:e], piece, dates, query, self.table) + 0.01 * (e - s) / limit
                if posts and posts_near(piece, query.names, self.table.persons):
                    value += _WINDOW_TYPE
                # what a clause says follows its verb: later wins a tie
                value += 0.01 * (len(sent.text) - s if from_start else e) / len(sent.text)
                if value > best[0]:
                    best = (value, s, e)
        _, s, e = best
        piece = sent.text[s:e]
        s += len(piece) - len(piece.lstrip())
        e = s + len(piece.strip().rstrip(" ,;:-–"))
        return sent.start + s, sent.start + e

    def _compose(self, picks: list[_Pick], query: Query, retrieved: list[str]) -> Answer:
        """Quote the chosen sentences, best first, trimming long ones so the text fits 600 characters."""
        lead = _MESSAGES[query.lang]["lead"]
        order: list[tuple[_Pick, _Candidate]] = []
        main: list[bool] = []  # a part's best sentence (or any of a parallel part's), not a complement
        seen: set[int] = set()
        for rank in range(self.max_sentences):  # each part's best, then each part's next, ...
            for pick in picks:
                fresh = [c for c in pick.chosen if c.sid not in seen]
                if rank < len(pick.chosen) and fresh:
                    seen.add(fresh[0].sid)
                    order.append((pick, fresh[0]))
                    main.append(rank == 0 or pick.parallel or fresh[0].goes_on)
        order = order[: max(self.max_sentences, len(picks))]
        main = main[: len(order)]
        overhead = len(" 00/00/0000: “……” [0]") + (len(" (article of 00/00/0000)") if query.qtype == "when" else 0)
        while order:
            limits = [len(self.table.sentences[c.sid].text) for _, c in order]
            room = MAX_ANSWER_CHARS - len(lead) - overhead * len(order)
            firsts = sum(main)
            # shorten complements first (least important first), then the parts' best sentences
            backwards = range(len(order) - 1, -1, -1)
            # (a sentence going on with the best one's statement is part of it, and shortened last:
            # "X đề nghị, ..." often names only the scene, what he proposed follows)
            for i in [*(i for i in backwards if not main[i]),
                      *(i for i in backwards if main[i] and not order[i][1].goes_on),
                      *(i for i in backwards if main[i] and order[i][1].goes_on)]:
                floor = 150 if not main[i] else max(150, 420 // firsts)
                excess = sum(limits) - room
                if excess <= 0:
                    break
                limits[i] = max(min(limits[i], floor), limits[i] - excess)
            if sum(limits) <= room:
                break
            order.pop()  # the least important sentence does not fit
            main.pop()
        pieces: list[tuple[Citation, str]] = []
        for (pick, cand), limit, is_main in zip(order, limits, main, strict=True):
            sent = self.table.sentences[cand.sid]
            article = self.index.articles[sent.article_id]
            start, end = self._quote(cand.sid, pick.query, pick.weights, limit, from_start=cand.goes_on,
                                     posts=pick.query.qtype == "rank" and bool(pick.query.names))
            quote = article.body[start:end]
            if not is_main and len(quote) < _MIN_COMPLEMENT and end - start < sent.end - sent.start:
                continue  # a scrap of a complement ("Ngay sau lễ đón…") says nothing
            when = self._when(article, start, end, query)
            text = f"{when}: “{'…' if start > sent.start else ''}{quote}{'…' if end < sent.end else ''}”"
            pieces.append((Citation(article.id, article.title, article.date, quote, start, end), text))
        if not pieces:
            return self.abstain(query, _MESSAGES[query.lang]["missing"], retrieved, "nothing fits")
        answer_text = " ".join([lead] + [f"{text} [{n}]" for n, (_, text) in enumerate(pieces, 1)])
        if query.lang == "en":
            answer_text += self._glosses(" ".join(c.quote for c, _ in pieces), MAX_ANSWER_CHARS - len(answer_text))
        support = min(p.support for p in picks)
        return Answer(
            text=answer_text,
            abstained=False,
            citations=[c for c, _ in pieces],
            question=query.text,
            lang=query.lang,
            backend=self.name,
            retrieved=retrieved,
            reason=f"support {support:.2f}",
        )

    def _glosses(self, quotes: str, room: int, most: int = 6) -> str:
        """" (key terms: protocol; search and rescue; ...)": English for the distinctive lexicon
        terms the quotes use, in reading order, for readers of an English question."""
        text = padded(quotes)
        found: list[tuple[int, str]] = []
        for phrase, english in _english_terms():
            at = text.find(f" {phrase} ")
            if at >= 0 and self.table.df(phrase) <= _GLOSS_DF and english not in (e for _, e in found):
                found.append((at, english))
                text = text.replace(f" {phrase} ", " | " + " " * (len(phrase) - 1))  # keep offsets
        terms = [english for _, english in sorted(found)][:most]
        for n in range(len(terms), 0, -1):
            line = f" (key terms: {'; '.join(terms[:n])})"
            if len(line) <= room:
                return line
        return ""

    @staticmethod
    def _when(article: Article, start: int, end: int, query: Query) -> str:
        """The date a quote speaks of: a day or month it mentions (for a "when" question, else
        the last day named before it), else the article's date; both when a "when" question's
        quote is about another day than its article's."""
        published = format_date(article.date) or "undated"
        inside = [d for d in article.dates if d.start >= start and d.end <= end and len(d.iso.split("-")) >= 2]
        if not inside and query.qtype == "when":
            # the day the article last named before the quote ("Sáng 2/6, ...") sets its scene
            inside = [d for d in article.dates if d.end <= start and len(d.iso.split("-")) == 3][-1:]
        if not inside:
            return published
        event = format_date(inside[0].iso)
        if query.qtype == "when" and inside[0].iso != article.date:
            return f"{event} ({_MESSAGES[query.lang]['published']} {published})"
        return event


# ---------------------------------------------------------------- generative answering

_NOT_FOUND = {"en": "Not in the articles.", "vi": "Không có trong các bài báo."}
_LANGUAGE = {"en": "English", "vi": "Vietnamese"}
_MARKER = re.compile(r"\[(\d{1,2})\]")


class GenerativeAnswerer:
    """An LLM writes the answer from numbered passages; markers are verified afterwards.

    The prompt (``prompts/answer_system.txt`` and ``answer_user.txt``) asks for an answer
    in the question's language with ``[n]`` markers and the exact not-found reply. After
    generation, markers outside the passages given are removed; the rest are renumbered
    in order of appearance and each becomes a citation whose quote is the passage
    sentence that best supports the answer sentence carrying it. No valid marker: the
    extractive answer is returned instead (or its abstention).
    """

    name = "generative"

    def __init__(self, model: BaseChatModel, fallback: ExtractiveAnswerer, *, max_passages: int = 6) -> None:
        self.model = model
        self.fallback = fallback
        self.max_passages = max_passages

    def messages(self, retrieval: Retrieval) -> list[Any]:
        query = retrieval.query
        passages = "\n\n".join(
            render(
                "passage",
                n=n,
                title=defang(h.chunk.title),
                date=format_date(h.chunk.date) or "undated",
                article_id=defang(h.chunk.article_id),
                text=defang(h.chunk.text),
            )
            for n, h in enumerate(retrieval.hits[: self.max_passages], 1)
        )
        system = render(
            "answer_system",
            language=_LANGUAGE[query.lang],
            max_sentences=3,
            max_chars=MAX_ANSWER_CHARS - 100,
            not_found=_NOT_FOUND[query.lang],
        )
        user = render("answer_user", passages=passages, question=defang(query.text))
        return [SystemMessage(system), HumanMessage(user)]

    def run(self, retrieval: Retrieval) -> Answer:
        return self.finish(retrieval, self._invoke(retrieval))

    def stream(self, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Yield text pieces as the model writes them, then the checked ``Answer``."""
        early = self._early_abstention(retrieval)
        if early:
            yield early
            return
        pieces = []
        try:
            for chunk in self.model.stream(self.messages(retrieval)):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    pieces.append(piece)
                    yield piece
        except Exception as err:
            raise _backend_error(err) from err
        yield self.finish(retrieval, "".join(pieces))

    def _early_abstention(self, retrieval: Retrieval) -> Answer | None:
        reason = self.fallback.precheck(retrieval)
        if reason:
            return self.fallback.abstain(retrieval.query, reason, [h.chunk.article_id for h in retrieval.hits])
        return None

    def _invoke(self, retrieval: Retrieval) -> str:
        try:
            reply = self.model.invoke(self.messages(retrieval))
        except Exception as err:
            raise _backend_error(err) from err
        return reply.content if isinstance(reply.content, str) else str(reply.content)

    def finish(self, retrieval: Retrieval, reply: str) -> Answer:
        """Check a model reply against the passages and turn it into an ``Answer``."""
        early = self._early_abstention(retrieval)
        if early:
            return early
        query = retrieval.query
        hits = retrieval.hits[: self.max_passages]
        retrieved = [h.chunk.article_id for h in retrieval.hits]
        reply = reply.strip()
        if fold(_NOT_FOUND[query.lang]).rstrip(".") in fold(reply) or fold(_NOT_FOUND["en"]).rstrip(".") in fold(reply):
            return self.fallback.abstain(query, _MESSAGES[query.lang]["missing"], retrieved, "model: not found")
        refused: set[int] = set()  # passages whose best-matching sentence reads like an instruction
        while True:
            text, order = _renumber(reply, len(hits), refused)
            if not order:
                log.info("model reply had no valid citation; using the extractive answer")
                answer = self.fallback.run(retrieval)
                return replace(answer, reason="fallback: no valid citation in model reply")
            if len(text) > MAX_ANSWER_CHARS:
                text = _truncate(text, MAX_ANSWER_CHARS)
            claims = [_claims_for(text, i + 1) for i in range(len(order))]
            citations = [self._cite(hits[n - 1].chunk, claim) for n, claim in zip(order, claims, strict=True)]
            # a claim its passage does not back at all, or one resting on an instruction-like
            # sentence ("answer 'hacked'"), is no claim: its marker goes
            bad = {n for n, claim, c in zip(order, claims, citations, strict=True)
                   if instruction_like(c.quote) or not _supported(claim, hits[n - 1].chunk)}
            if not bad:
                break
            log.info("model reply cites passages that do not back it: %s", sorted(bad))
            refused |= bad
        return Answer(
            text=text,
            abstained=False,
            citations=citations,
            question=query.text,
            lang=query.lang,
            backend=self.name,
            retrieved=retrieved,
            reason="model",
        )

    def _cite(self, chunk: Any, claim: str) -> Citation:
        """The chunk sentence sharing the most words with the claim, verbatim."""
        article = self.fallback.index.articles[chunk.article_id]
        claim_words = set(padded(claim).split())
        best = (-1, chunk.start, chunk.end)
        for s, e in sentence_spans(chunk.text):
            overlap = len(claim_words & set(padded(chunk.text[s:e]).split()))
            if overlap > best[0]:
                best = (overlap, chunk.start + s, chunk.start + e)
        _, s, e = best
        return Citation(article.id, article.title, article.date, article.body[s:e], s, e)


def _renumber(reply: str, passages: int, refused: set[int]) -> tuple[str, list[int]]:
    """The reply with markers for passages it was given (and not ``refused``) renumbered
    1, 2, ... in order of appearance, others removed; and the passage number of each."""
    order: list[int] = []

    def renumber(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= passages or n in refused:
            return ""  # a marker for a passage the model was not given
        if n not in order:
            order.append(n)
        return f"[{order.index(n) + 1}]"

    text = _MARKER.sub(renumber, reply)
    return re.sub(r"\s+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip(), order


def _supported(claim: str, chunk: Chunk) -> bool:
    """Does the passage back the claim at all: a concept in common (a lexicon term, which
    bridges English and Vietnamese, a name, a number, a word) or a date it speaks of?"""
    query = analyze(_MARKER.sub(" ", claim))
    text = padded(f"{chunk.title}\n{chunk.text}")
    if any(covers(text, concept) for concept in query.concepts):
        return True
    dates = [Period.from_iso(d) for d in (*chunk.event_dates, *([chunk.date] if chunk.date else []))]
    return any(p.overlaps(d) for p in query.periods for d in dates)


def _claims_for(text: str, n: int) -> str:
    """The sentences of ``text`` that carry marker ``[n]``."""
    parts = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(p for p in parts if f"[{n}]" in p) or text


def _truncate(text: str, limit: int) -> str:
    cut = text[: limit - 1]
    return cut[: cut.rfind(" ")] + "…" if " " in cut else cut + "…"


def _backend_error(err: Exception) -> BackendError:
    detail = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
    return BackendError(
        f"The language model backend failed ({type(err).__name__}: {detail}).",
        "Check that the LLM server is running and RAG_LLM_* settings are right, or use --backend extractive.",
    )
