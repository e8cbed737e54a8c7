"""Question analysis: language, question type, dates, and the concepts a question asks about.

Covers: turning a question (English or Vietnamese) into a ``Query``: its language, its
type (who / when / where / signed / number / rank / what), the periods it names, the
named things in it, and ``Concept`` records - each a set of accent-folded Vietnamese
phrases from the domain lexicon (``rag/data/lexicon.tsv``) or the question's own words -
used both to expand lexical search and to check that an answer covers the question.
Does not cover: searching or scoring passages.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

from rag.dates import Period, question_period_spans
from rag.text import abbreviations, expanded_syllables, fold, normalize

# ---------------------------------------------------------------- lexicon


@dataclass(frozen=True)
class LexiconEntry:
    keys: tuple[str, ...]  # folded
    expansions: tuple[str, ...]  # folded Vietnamese phrases


@lru_cache(maxsize=4)
def load_lexicon(text: str | None = None) -> tuple[LexiconEntry, ...]:
    """Parse the lexicon TSV (the packaged one by default)."""
    if text is None:
        text = resources.files("rag").joinpath("data/lexicon.tsv").read_text(encoding="utf-8")
    entries = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        keys, _, expansions = line.partition("\t")
        entries.append(
            LexiconEntry(
                keys=tuple(fold(k).strip() for k in keys.split("|") if k.strip()),
                expansions=tuple(fold(e).strip() for e in expansions.split("|") if e.strip()),
            )
        )
    return tuple(entries)


@lru_cache(maxsize=4)
def _lexicon_pattern(entries: tuple[LexiconEntry, ...]) -> tuple[re.Pattern[str], dict[str, LexiconEntry]]:
    by_key: dict[str, LexiconEntry] = {}
    for entry in entries:
        for key in entry.keys:
            by_key.setdefault(key, entry)
    alternation = "|".join(re.escape(k) for k in sorted(by_key, key=len, reverse=True))
    return re.compile(rf"(?<![0-9a-z])(?:{alternation})(?![0-9a-z])"), by_key


# ---------------------------------------------------------------- vocabulary

_EN_STOP = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "into", "over", "after",
    "before", "during", "between", "and", "or", "but", "is", "are", "was", "were", "be", "been", "being", "do",
    "does", "did", "done", "have", "has", "had", "having", "will", "would", "shall", "should", "can", "could",
    "may", "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "that",
    "this", "these", "those", "it", "its", "they", "them", "their", "there", "he", "she", "his", "her", "him",
    "i", "you", "we", "our", "your", "my", "me", "us", "not", "no", "any", "some", "all", "each", "other",
    "another", "such", "than", "then", "so", "as", "if", "also", "only", "just", "very", "more", "most", "much",
    "many", "per", "via", "up", "out", "off", "down", "according", "say", "said", "tell", "told", "name", "named",
    "list", "give", "given", "describe", "described", "mention", "mentioned", "article", "articles", "report",
    "reported", "news", "s", "t", "one", "ones", "thing", "things", "kind", "kinds", "type", "types",
}
_VI_STOP_WORDS = (
    "là", "gì", "nào", "ai", "đâu", "sao", "thế", "bao", "nhiêu", "mấy", "khi", "lúc", "giờ", "của", "và", "với",
    "cho", "các", "những", "một", "được", "bị", "đã", "đang", "sẽ", "có", "không", "thì", "mà", "này", "kia",
    "đó", "ấy", "vậy", "như", "theo", "tại", "trong", "ngoài", "trên", "dưới", "từ", "đến", "về", "vào", "ra",
    "để", "do", "bởi", "hay", "hoặc", "cũng", "rất", "nhiều", "ít", "gồm", "hãy", "xin", "biết", "ông", "bà",
    "anh", "chị", "họ", "hai", "bên", "việc", "người", "nhau", "lại", "còn", "nữa", "vị", "điều", "hỏi", "bài",
    "báo", "tin", "ở",
)
_VI_STOP = {fold(w) for w in _VI_STOP_WORDS}
# Content syllables that fold like a stop word: "hộ" (ủng hộ) like "họ", "hỗ" (hỗ trợ), "bão" (typhoon)
# like "báo", "đề" (đề nghị: propose) like "để"
_NOT_STOP = {"hộ", "hỗ", "bão", "đề"}


def _stopped(toned: str, folded: str) -> bool:
    return toned not in _NOT_STOP and (folded in _VI_STOP or folded in _EN_STOP)


_EN_HINTS = {"what", "who", "which", "when", "where", "how", "did", "does", "the", "was", "were", "is", "of", "and"}
# Vietnamese words typed without tone marks that are not English words
_VI_PLAIN = {
    "ai", "gi", "nao", "dau", "bao", "nhieu", "cua", "nhung", "duoc", "nuoc", "cac", "trong", "thang", "ngay",
    "nguoi", "hai", "nam", "voi", "giua", "nhau", "khi", "sau", "truoc", "da", "cho", "ve", "la", "va", "bien",
    "gioi", "hop", "tac", "quoc", "phong", "truong", "thuc", "hien", "thoa", "thuan", "ky", "ket", "doi", "hoi",
    "dam", "tuong", "dai", "tham", "tang", "viet",
}
VI_MARKS = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]", re.I)


def detect_language(text: str) -> str:
    """``vi`` or ``en``: Vietnamese diacritics and function words against English ones."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        return "en"
    marked = sum(1 for w in words if VI_MARKS.search(w))
    english = sum(1 for w in words if w in _EN_HINTS)
    if marked >= max(2, english) or (marked and not english):
        return "vi"
    folded = [fold(w) for w in words]
    vi_plain = sum(1 for w in folded if w in _VI_PLAIN)
    return "vi" if vi_plain > english else "en"


# ---------------------------------------------------------------- question types

# Words that end a noun phrase: "what occasions *brought* Laos's minister" asks for the occasions
_NOT_IN_NOUN_PHRASE = (r"(of|in|on|at|to|for|from|by|with|did|does|do|was|were|is|are|has|have|had|will|would|can|"
                       r"brought|took|gave|made|sent|led|met|came|went|saw|held|told|said|got|kept|paid|won|"
                       r"brings|takes|gives|makes|sends|leads|meets|comes|prompted|caused|drew)")
# "là giai đoạn nào", "which period": a span of years ("giai đoạn 2025-2029") is asked for
ASKS_SPAN = re.compile(r"\b(la|thuoc|ap dung( cho| trong)?|danh cho|cho) (nhung |cac )?(giai doan|thoi ky) nao\b|\b(which|what) (period|phase)\b")
_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # "Nghị định thư ... là giai đoạn nào": the span a document covers, not a signing or a date
    ("what", ASKS_SPAN),
    ("number", re.compile(r"\bhow (many|much|old|long)\b|\bnumber of\b|\bbao nhieu\b|\bbao lau\b|\bthu may\b|\bmay (nam|nguoi|xe|lan|nuoc|chiec|doan|ben|ngay|thang|van kien|hoat dong|quoc gia|bo truong|to chuc)\b|\bwhich (anniversary|edition|round|session)\b|\bwhat (number|anniversary)\b|\b(lan|phien|vong) thu (may|bao nhieu)\b|\bso may\b")),
    ("when", re.compile(r"\bwhen\b|\bwhat (date|day|time|year|month)\b|\bwhich (date|day|year|month)\b|\bon what (date|day)\b|\bkhi nao\b|\bbao gio\b|\bluc nao\b|\b(ngay|thang|(?<!viet )nam|thoi gian|thoi diem|hom) nao\b|\bngay bao nhieu\b|\b(ngay|thang|nam) may\b")),
    ("where", re.compile(r"\bwhere\b|\bwhereabouts\b|\bwhat (venue|location|place)\b|\b(in )?which (\w+ ){0,2}(province|district|city|country|place|venue|location|border gate|town|village)\b|\bo dau\b|\btai dau\b|\b(noi|tinh|huyen|dia diem|thanh pho|cua khau) nao\b")),
    ("who", re.compile(rf"\bwho\b|\bwhom\b|\bwhose\b|\bwhich ((?!{_NOT_IN_NOUN_PHRASE}\b)\w+ ){{0,5}}(minister|general|leader|official|officials|officer|person|people|colonel|attache|leaders|head|premier|president|member)\b"
                        r"|\bname of\b|\bai\b|\b(nguoi|lanh dao|nhan vat)( \w+){0,5} nao\b|(?<!don )\bvi (?!tri\b)(\w+ ){0,5}nao\b|\b(ong|ba) nao\b|\bten (la )?gi\b|\bla ai\b|\b(dong chi|tuong|lanh dao|can bo)( \w+){0,3} nao\b")),
    ("rank", re.compile(r"(?<!border )(?<!frontier )(?<!guard )\b(rank|post|posts|position|positions|title|titles|role|job|office|capacity)\b|\bchuc vu\b|\bchuc danh\b|\bcap bac\b|\bquan ham\b|(?<!tren )(?<!voi )\bcuong vi\b|\bgiu chuc\b|\bdam nhiem\b|(?<!voi )\btu cach\b|\buy vien (\w+ ){0,4}nao\b")),
    ("signed", re.compile(r"\bsign|\binked\b|\bprotocol|\bmemorand|\bagreement|\btreaty\b|\bky ket\b|\bky\b|\bvan kien\b|\bthoa thuan\b|\bnghi dinh thu\b|\bban ghi nho\b|\bhiep dinh\b")),
]


_PERSON_NOUNS = (
    r"(minister|ministers|general|generals|leader|leaders|official|officials|officer|officers|person|people|"
    r"colonel|colonels|attache|attaches|head|premier|president|chief|commander|secretary|ambassador|"
    r"representative|counterpart|host|guest|delegate|deputy|politician|man|woman|member|members)"
)
# An English question's opening words decide its type before anything later in it does
# ("What titles did X hold *when* ..." asks for titles; "When ..." asks for a date).
_LEADS: list[tuple[str, re.Pattern[str]]] = [
    # "Where does X rank among the priorities?", "how does it rank": a standing, not a place or a post
    ("what", re.compile(r"^(where|how) (does|do|did|would|will) (\S+ ){1,10}(rank|ranks|stand|stands|fit|fits|sit|sits)\b")),
    ("who", re.compile(r"^(who|whom|whose)\b")),
    ("when", re.compile(r"^(when|on what (exact |precise )?(date|day)|in what (year|month)|what (exact |precise )?(date|day|year|month)|"
                        r"which (date|day|year))\b")),
    ("where", re.compile(r"^(where|whereabouts|in (which|what) (\w+ ){0,2}(province|district|city|country|place|town|village))\b")),
    ("number", re.compile(r"^(how (many|much|long|old)|what number|which (anniversary|edition|round|session)|"
                          r"what (was|is|were|are) the (\w+ ){0,2}(value|cost|costs|price|worth|amount|sum)( of)?)\b")),
    ("rank", re.compile(r"^(what|which) (\w+ ){0,2}(rank|ranks|post|posts|position|positions|title|titles|role|roles|"
                        r"job|office|capacity)\b|^in what capacity\b")),
    # "Which Lao party and state leader ..." (not "What did the ministers ...", "Which anniversary of the people ...")
    ("who", re.compile(rf"^(which|what) ((?!{_NOT_IN_NOUN_PHRASE}\b)[\w'-]+ ){{0,5}}{_PERSON_NOUNS}\b")),
]


_EN_OPENING = re.compile(r"^(what|which|how|why|in what|in which|to what|for what|"
                         r"did|does|do|is|was|were|are|has|have|had|can|could|will|would)\b")  # yes/no too
_EN_CLAUSE = re.compile(r"\b(when|where|who|whom|whose)\b|\b(took|take|takes|taking) (up|over) (the|his|her|a|their) "
                        r"(job|post|position|role|office)\b")


# "When PM X received Y, which minister ...?": a clause setting the scene (not "When was ...")
# before the question itself
# Openers of a leading clause that states a circumstance ("Given the COVID-19 situation, ...")
_CIRCUMSTANCE = r"given|amid|despite|in view of|in light of"
_SCENE = re.compile(rf"^(?:when|while|after|before|during|as|according to|in|on|at|{_CIRCUMSTANCE})\s+(?!(?:what|which|whose|was|were|is|are|did|does|do|has|have|"
                    r"had|will|would|can|could)\b)[^,?]{3,}?,\s*(?=(?:what|which|who|whom|whose|where|when|how|why|"
                    r"did|does|do|is|was|were|are|has|have)\b)")


# Folded syllables that stand for a question word only with one tone: "ký" (sign), not
# "kỳ" (định kỳ, nhiệm kỳ) or "kỷ" (kỷ niệm)
_TONED = {"ky": ("ký", "ky")}


def _tone_safe(question: str) -> str:
    """The folded question, with a syllable whose tone makes it another word than the question
    word it folds to marked off ("định kỳ" -> "dinh ky_"); a question typed without tone marks
    keeps its words."""
    words, folded = question.split(), fold(question).split()
    if len(words) != len(folded):
        return fold(question).strip()
    marked = [f"{w}_" if w in _TONED and re.sub(r"\W", "", o.lower()) not in _TONED[w] else w
              for o, w in zip(words, folded, strict=True)]
    return " ".join(marked)


def question_type(question: str) -> str:
    """The type an English question's opening asks for, else the first type whose pattern
    matches anywhere (Vietnamese puts the question word last), else ``what``."""
    f = _tone_safe(question)
    scene = _SCENE.match(f)
    if scene and detect_language(question) == "en":
        return question_type(question.strip()[scene.end():])  # the question after the scene
    for name, rx in _LEADS:
        if rx.search(f):
            return name
    if _EN_OPENING.search(f) and detect_language(question) == "en":
        # "What did he promise *when* he took up the post?", "Did he say X when he met Y?":
        # a clause, not what is asked
        f = _EN_CLAUSE.sub(" ", f)
    for name, rx in _TYPE_PATTERNS:
        if rx.search(f):
            return name
    if not _ASKS.search(f) and (_BARE_POST.match(f) or re.match(rf"^(\w+ ){{0,3}}{_PERSON_NOUNS}(?=\s+(in|of|at|for|to|during|from|on|with|under)\b|\W*$)", f)):
        return "who"  # a post alone ("Outgoing Lao defence attaché in 2020?") asks who held it
    return "what"


# Posts a Vietnamese question may name alone ("Bộ trưởng Quốc phòng Lào năm 2024?")
_BARE_POST = re.compile(r"^(\w+ ){0,2}(tuy vien|bo truong|thu truong|tong tham muu truong|tu lenh|thu tuong|"
                        r"chu tich|tong bi thu|dai su|truong doan|attache|defen[cs]e attache)\b")


# ---------------------------------------------------------------- concepts


@dataclass(frozen=True)
class Concept:
    """Something the question asks about: any of ``phrases`` (folded) in a passage covers it."""

    label: str
    phrases: tuple[str, ...]
    kind: str = "word"  # word | lexicon | name | number
    weight: float = 1.0  # below 1 for concepts a part of a question borrows from the other parts


@dataclass(frozen=True)
class Query:
    text: str
    lang: str
    qtype: str
    periods: tuple[Period, ...] = ()
    concepts: tuple[Concept, ...] = ()
    names: tuple[str, ...] = field(default=())  # capitalised names in the question, folded
    parts: tuple[Query, ...] = ()  # sub-questions of a two-part question ("X in 2021, and Y in 2024?")
    split: str = ""  # for a part: "clause" (its own clause) or "period" (the same words, one of the periods)
    focus: str = ""  # what the question asks for ("command vehicles" in "how many command vehicles"), folded
    head_at: str = ""  # first | last: where the focus's head noun is

    @property
    def search_text(self) -> str:
        """The question plus its Vietnamese expansions, for lexical search."""
        extra = " ".join(p for c in self.concepts if c.kind == "lexicon" for p in c.phrases)
        return f"{self.text} {extra}".strip()


# Capitalised words that are not names (sentence starts, English function words, months).
_NOT_NAMES = {
    "what", "which", "who", "when", "where", "why", "how", "did", "does", "do", "is", "was", "were", "are",
    "in", "on", "at", "the", "a", "an", "and", "of", "for", "to", "during", "after", "before", "according",
    "i", "if", "with", "from", "by", "as", "it", "its", "his", "her", "their", "there", "that", "this",
    "general", "colonel", "minister", "deputy", "prime", "president", "lieutenant", "major", "senior",
    "generals", "colonels", "ministers", "presidents", "lieutenants", "majors", "officers", "officer", "attache",
    "attaches", "chiefs", "leaders",
    "mr", "mrs", "ms", "dr", "gen", "col", "lt", "maj", "people", "army", "chief", "staff", "command", "party",
    "state", "ministry", "border", "guard", "guards", "force", "forces", "day", "national", "central", "committee",
    "military", "defence", "defense", "commission", "congress", "government", "office", "department", "friendship",
    "exchange", "protocol", "memorandum", "agreement", "plan", "year", "new", "first", "second", "third",
    "despite", "although", "besides", "apart", "ong", "ba", "anh", "chi", "ngai", "dong chi", "theo", "tai", "trong",
    "sau", "truoc", "nam", "thang", "ngay", "ve", "cac", "nhung",
    # months and weekdays ("the talks that June"): a time, not someone's name
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
_WORD_SPAN = re.compile(r"[^\W\d_][\w\-]*(?:['’]s)?")
# Vietnamese words that head the name of an institution, an event or a place, never a
# person's ("Đoàn Bộ Quốc phòng Lào": the delegation of the ministry), with their tone marks.
_VI_HEADS = {"bộ", "cục", "ban", "sở", "viện", "lễ", "ngày", "tỉnh", "huyện", "xã", "quân", "hội", "đảng", "trường"}
# Words a Vietnamese question often opens with, capitalised only because they come first
# ("Buổi Thứ trưởng ... tiếp", "Dịp Tổng Tham mưu trưởng ... sang thăm"): not part of a name
# (words of the stop list, "Khi", "Theo", "Tại", already split a name)
_VI_OPENERS = {"buổi", "dịp", "hôm", "nhân", "sau", "cuộc", "chuyến", "đoàn", "năm", "tháng", "hồi", "trước", "phía"}


def _capitalised_runs(text: str) -> list[tuple[int, int]]:
    """Spans of consecutive words that start with an upper-case letter."""
    runs: list[tuple[int, int]] = []
    for m in _WORD_SPAN.finditer(text):
        if not m.group(0)[0].isupper():
            continue
        if runs and text[runs[-1][1] : m.start()].strip() == "":
            runs[-1] = (runs[-1][0], m.end())
        else:
            runs.append(m.span())
    return runs


def _name_spans(text: str, lang: str, blocked: list[tuple[int, int]]) -> list[tuple[str, tuple[int, int]]]:
    """Capitalised word runs that look like names of people, places or organisations.

    Words inside ``blocked`` spans (dates, lexicon terms such as ``Vietnam`` or ``Deputy
    Minister``) split a run. Vietnamese capitalises every syllable of a name (``Phạm Minh
    Chính``) but only the first of a title (``Thủ tướng``), so a Vietnamese name needs two
    capitalised syllables unless the word is not Vietnamese (``Savannakhet``). A sentence's
    first word is not taken for a name.
    """
    found = []
    for run_start, run_end in _capitalised_runs(text):
        initial = run_start == 0 or text[:run_start].rstrip().endswith((".", "?", "!", ":", ","))
        groups: list[list[tuple[int, int]]] = [[]]
        for m in _WORD_SPAN.finditer(text, run_start, run_end):
            s, e = m.span()
            word = re.sub(r"['’]s$", "", m.group(0))
            # "BQP", "QP": Bộ Quốc phòng; any two- or three-letter capitals ("TT" Thủ or Thượng
            # tướng) read as an abbreviation, not a name to find in the articles
            # ("TTg" Thủ tướng: a known abbreviation with its capitals)
            known_short = (word.isupper() and (fold(word) in abbreviations() or len(word) <= 3)) or (
                fold(word) in abbreviations() and sum(c.isupper() for c in word) >= 2)
            if known_short or fold(word) in _NOT_NAMES or (lang == "vi" and fold(word) in _VI_STOP) \
                    or word.lower() in _VI_HEADS or any(
                not (e <= bs or s >= be) for bs, be in blocked
            ):
                groups.append([])
                continue
            groups[-1].append((s, s + len(word)))
        for group in groups:
            if initial and lang == "vi" and group and group[0][0] == run_start and \
                    text[group[0][0]:group[0][1]].lower() in _VI_OPENERS:
                group = group[1:]  # "Buổi Thứ trưởng ...": the opening word is no syllable of a name
            if initial and group and group[0][0] == run_start and len(group) == 1:
                continue  # a lone capitalised first word is the sentence's start, not a name
            if not group:
                continue
            words = [text[s:e] for s, e in group]
            if lang == "vi" and len(words) < 2 and VI_MARKS.search(words[0]):
                continue
            span = (group[0][0], group[-1][1])
            if len(words) == 1 and re.fullmatch(r"[A-Z][\w]+(-[A-Z][\w]+)+", words[0]):
                # "the Giang-Khamliang talks": two people, each named by one word
                found.extend((fold(part), span) for part in words[0].split("-"))
                continue
            found.append((fold(" ".join(words)), span))
    return found


# Where a question splits into parts: ", and who ...", "; ...", ", và ... nào".
_PART_SPLIT = re.compile(
    r"(?:,\s*|;\s*|\?\s+)(?:and\s+|va\s+|con\s+)?(?=(?:who|what|when|where|which|why|how|in which|on what|"
    r"and\s+(?:who|what|when|where|which|why|how))\b)|"
    r",\s*(?:va|con)\s+(?=\S+(?:\s+\S+){0,20}\s+(?:ai|gi|nao|dau|bao nhieu|may|tai sao|vi sao)\b)|"
    r"\s+and\s+(?=(?:who|what|when|where|which|why|how)\b)"
)
# What a question asks for, tried in order: "how much did X cost" -> cost, "how many X",
# "what is the X of", "which X", "bao nhiêu X". The mode says where the head noun is.
_FOCUS = [
    ("last", re.compile(r"\bhow much\b.*\b(cost|costs|spend|spent|worth|paid|pay|price)\b")),
    ("last", re.compile(r"\b(?:how many|how much|number of|what number of)\s+(.+)")),
    ("last", re.compile(r"^(?:what|which)\s+(?:is|was|are|were)\s+the\s+(.+)")),
    ("first", re.compile(r"^(?:which|what)\s+(?!is\b|was\b|are\b|were\b|did\b|does\b|do\b)(.+)")),
    ("first", re.compile(r"\b(?:bao nhieu|may)\s+(.+)")),
    ("first", re.compile(r"\bai la\s+(.+)")),  # "ai là Cục trưởng ...": the post asked about
    ("first", re.compile(r"\b(?:nhung|cac)\s+((?:\w+ ){1,3})(?:gi|nao)\b")),  # "những hoạt động gì"
]
_FOCUS_END = {
    "the", "a", "an", "that", "which", "who", "did", "do", "does", "was", "were", "is", "are", "has", "have",
    "had", "will", "would", "can", "could", "of", "in", "on", "at", "for", "to", "from", "by", "with", "da",
    "duoc", "la", "cua", "trong", "tai", "o", "de", "cho", "va", "khi",
}


# A verb after the asked-for noun ends it: "how many Lao students *received* gifts"
_VERB_AFTER_NOUN = re.compile(r"^(\w+ed|got|took|gave|came|went|met|won|held|led|sent|made|paid|left|saw|became|"
                              r"remain|remained|take|get|receive|attend|join|visit)$")


_PARTITIVES = {"sets", "set", "pieces", "units", "batches", "kinds", "types", "sorts", "rounds", "groups", "pairs",
               "tons", "tonnes", "lots", "rows", "items", "cases"}


def _focus(folded: str) -> tuple[str, str]:
    """(up to three words naming what the question asks for, and ``first``/``last``: where
    their head is - "lao military *students*", "*học sinh* Lào")."""
    for mode, rx in _FOCUS:
        m = rx.search(folded)
        if not m:
            continue
        words = re.findall(r"[a-z0-9'-]+", m.group(1))
        while words and words[0] in ("the", "a", "an"):
            words = words[1:]
        if len(words) > 2 and words[0] in _PARTITIVES and words[1] == "of":  # "sets of remains": remains
            words = words[2:]
        taken: list[str] = []
        for word in words:
            counted = [w for w in taken if w not in ("and", "va")]  # "lao and vietnamese students"
            if word in _FOCUS_END or len(counted) == 3 or (taken and _VERB_AFTER_NOUN.match(word)):
                break
            taken.append(word)
            if word.endswith(("'", "'s")):  # "how many countries' armies": the countries are counted
                taken[-1] = word[:-2] if word.endswith("'s") else word[:-1]
                break
        if taken:
            return " ".join(taken), mode
    return "", ""


def analyze(question: str, lexicon: tuple[LexiconEntry, ...] | None = None) -> Query:
    """Build the ``Query`` for a question, with ``parts`` when it asks two things at once."""
    query = _analyze_one(question, lexicon)
    parts = _split_parts(query, lexicon)
    if len(parts) > 1:
        query = Query(**{**query.__dict__, "parts": tuple(parts)})
    return query


# "When X, what Y?", "According to X, what Y?": a clause that only sets the scene
_SUBORDINATE = re.compile(
    rf"^(when|while|after|before|during|if|since|as|although|though|once|according to|regarding|concerning|"
    rf"{_CIRCUMSTANCE}|khi|sau khi|trong khi|luc|theo)\b"
)


# A question word: a clause without one ("In his December 2024 meeting with X, what ...") asks nothing
_ASKS = re.compile(r"\b(who|whom|whose|what|when|where|which|why|how|ai|gi|nao|dau|bao nhieu|may|sao|khong|chua)\b")


def _split_parts(query: Query, lexicon: tuple[LexiconEntry, ...] | None) -> list[Query]:
    """Sub-questions: clauses joined by "and"/"và" with their own question word, and one
    part per period when a clause names several periods ("in 2020 and in 2024")."""
    folded = fold(query.text)
    pieces, last = [], 0
    for m in _PART_SPLIT.finditer(folded):
        if m.start() - last >= 12:
            pieces.append(query.text[last : m.start()])
            last = m.end()
    pieces.append(query.text[last:])
    def thin(piece: str) -> bool:  # too little to stand alone ("and how many years each?")
        part = _analyze_one(piece, lexicon)
        return len([c for c in part.concepts if c.kind != "word" or part.lang == "vi"]) < 2

    texts: list[str] = []
    for piece in (p.strip(" ,;") for p in pieces if p.strip(" ,;")):
        # "When X, what Y?": a subordinate clause is context, not a question of its own
        subordinate = texts and (_SUBORDINATE.match(fold(texts[-1])) or not _ASKS.search(fold(texts[-1])))
        if texts and (thin(piece) or thin(texts[-1]) or subordinate):
            texts[-1] = f"{texts[-1]}, {piece}"  # glue it to its neighbour
        else:
            texts.append(piece)
    parts = [_analyze_one(t, lexicon) for t in texts]
    split: list[Query] = []
    for part in parts:
        if len(part.periods) > 1:
            split.extend(Query(**{**part.__dict__, "periods": (period,), "split": "period"}) for period in part.periods)
        else:
            split.append(Query(**{**part.__dict__, "split": "clause"}))
    if len(split) < 2:
        return []
    # an elliptical part ("who held that post ...", "why did he say ...") borrows the others'
    # concepts at a lower weight (their people too, unless it asks for a person), and their
    # period when it names none; every part knows the people the whole question names (they
    # are not the answer)
    periods = {period for p in split for period in p.periods}
    return [
        Query(**{**p.__dict__, "lang": query.lang, "names": query.names, "concepts": p.concepts + tuple(
            Concept(c.label, c.phrases, c.kind, 0.3)
            for other in split if other is not p for c in other.concepts
            if (c.kind != "name" or p.qtype not in ("who", "rank")) and all(c.phrases != own.phrases for own in p.concepts)
        ), "periods": p.periods or (tuple(periods) if len(periods) == 1 and _ELLIPTICAL.search(fold(p.text)) else ())})
        for p in split
    ]


# a part that points back at the rest of the question ("why did *he* say ...", "*it*")
_ELLIPTICAL = re.compile(r"\b(he|she|it|they|him|his|her|its|their|them|ong ay|ba ay|vi do|nguoi do|"
                         r"(su kien|dip|hoat dong|van kien) (do|nay))\b")


# What people say in the news: a question about one ("what did he pledge?") is answered by
# the sentence that says it, more than by one naming the same people.
STATEMENT_VERBS = {
    "cam on", "chuc mung", "de nghi", "de xuat", "nhat tri", "thong nhat", "nhan manh", "khang dinh", "cho biet",
    "chia se", "cam ket", "no luc", "mong muon", "ghi nho", "tin tuong", "bay to", "danh gia cao",
}
STATEMENT_VERBS_BOOST = 2.0
# Questions about how someone characterised something ("how did he describe X", "ví X là gì",
# "X có vị trí thế nào"): the answer says what X is; the verb frames the question and weighs
# little (the answer says "X là ...", whoever describes it)
ASKS_CHARACTER = re.compile(
    r"\b(describe|described|describes|characteri[sz]e|characteri[sz]ed|liken|likened|portray|portrayed)\b|"
    r"\b(regard|regarded|consider|considered|view|viewed|see|saw|call|called|compare|compared)\b[^?]* (as|to)\b|"
    r"\bcall(ed)? it\b|\bwhat (place|role|position|importance|weight)\b|"
    # "ví" (liken), not "vị" (the title word: "vị khách", "vị Bộ trưởng"), which folds alike
    r"\b(vi(?! (khach|tri|tuong|bo|thu|lanh|dai|chu|tong|nay|do|ay|nao|the)\b)|goi|coi|xem|danh gia)\b.*"
    r"\b(la gi|the nao|ra sao|nhu the nao|nhu gi)\b|\bvi tri\b.*\b(the nao|ra sao|gi)\b"
)
_FRAME_WEIGHT = 0.3


# "... when he received the Lao minister", "khi tiếp Bộ trưởng Lào": a clause that places the
# event the question asks about; its words weigh this much
SCENE_CLAUSE = re.compile(rf"\b(when|while|during|khi|trong khi|luc)\b[^,?;]*|^({_CIRCUMSTANCE})\b[^,?;]*")
_SCENE_WEIGHT = 0.5


def _inside_name(text: str, span: tuple[int, int]) -> bool:
    """Is the capitalised word at ``span`` between two capitalised words ("Nguyễn Tân Cương")?"""
    before = text[: span[0]].split()[-1:]
    after = text[span[1]:].split()[:1]
    return text[span[0]:span[1]][:1].isupper() and bool(before and after) and before[0][:1].isupper() \
        and after[0][:1].isupper()


def _analyze_one(question: str, lexicon: tuple[LexiconEntry, ...] | None = None) -> Query:
    text = normalize(" ".join(question.split()))
    lang = detect_language(text)
    lexicon = lexicon or load_lexicon()
    pattern, by_key = _lexicon_pattern(lexicon)
    folded = fold(text)
    masked = list(folded)  # same length as text (NFC in, one folded char per char)

    def mask(span: tuple[int, int]) -> None:
        masked[span[0] : span[1]] = " " * (span[1] - span[0])

    period_spans = question_period_spans(text)
    for _, span in period_spans:
        mask(span)
    concepts: list[Concept] = []
    seen: set[tuple[str, ...]] = set()
    lexicon_spans = []
    qtype = question_type(text)
    scenes = [m.span() for m in SCENE_CLAUSE.finditer(folded)] if qtype != "when" else []

    def weight(span: tuple[int, int]) -> float:  # words of the scene identify the event, not the answer
        return _SCENE_WEIGHT if any(a <= span[0] and span[1] <= b for a, b in scenes) else 1.0

    for m in pattern.finditer("".join(masked)):
        if lang == "vi" and " " not in m.group(0) and _inside_name(text, m.span()):
            continue  # "tân" (new) in "Nguyễn Tân Cương" is a syllable of his name
        entry = by_key[m.group(0)]
        lexicon_spans.append(m.span())
        phrases = tuple(dict.fromkeys((*entry.expansions, m.group(0))))
        if phrases not in seen:
            seen.add(phrases)
            concepts.append(Concept(m.group(0), phrases, "lexicon", weight(m.span())))
    for span in lexicon_spans:
        mask(span)
    names = _name_spans(text, lang, [span for _, span in period_spans] + lexicon_spans)
    for name, span in names:
        concepts.insert(0, Concept(name, (name,), "name"))
        mask(span)
    # the question's other content words, as themselves
    run: list[tuple[str, int]] = []  # (folded word, where it is typed)
    # the masked text as typed (lower-case, tone marks kept), char for char
    lower = text.lower() if len(text.lower()) == len(masked) else "".join(masked)  # "İ" lower-cases to two chars
    typed_text = "".join(t if m != " " else " " for t, m in zip(lower, masked, strict=True))
    cuts = [0, *(x for m in re.finditer(r"[^\w ]| {2,}", "".join(masked)) for x in m.span()), len(masked)]
    segments = ["".join(masked[a:b]) for a, b in itertools.pairwise(cuts)]  # punctuation and masked spans break runs
    typed_segments = [typed_text[a:b] for a, b in itertools.pairwise(cuts)]
    words: list[tuple[str, str, int]] = []  # (as typed, lower-case; folded; offset in the text)
    for start, seg, typed_seg in zip(cuts, segments, typed_segments, strict=False):
        folded_words, typed = expanded_syllables(seg), [(m.group(), m.start()) for m in re.finditer(r"\w+", typed_seg)]
        if len(typed) != len(folded_words):  # an abbreviation spelled out: its folded words decide
            typed = [(w, 0) for w in folded_words]
        words.extend([*((t, w, start + at) for (t, at), w in zip(typed, folded_words, strict=True)), ("", "", 0)])
    for toned, word, at in words:
        if word and not _stopped(toned, word) and not word.isdigit():
            run.append((word, at))
            continue
        # Vietnamese words span syllables: a run becomes its bigrams; English words stand alone;
        # a word in a clause setting the scene weighs less
        units = [(f"{a} {b}", weight((i, j + 1))) for (a, i), (b, j) in itertools.pairwise(run)] \
            if lang == "vi" and len(run) > 1 else [(w, weight((i, i + 1))) for w, i in run]
        first: dict[str, float] = {}
        for u, w in units:
            first.setdefault(u, w)
        concepts.extend(Concept(u, (u,), "word", w) for u, w in first.items())
        run = []
        if word.isdigit():
            concepts.append(Concept(word, (word,), "number"))
    focus, head_at = _focus(folded)
    if qtype == "what" and ASKS_CHARACTER.search(folded):  # "how did he describe X": X is what counts
        concepts = [replace(c, weight=c.weight * _FRAME_WEIGHT) if ASKS_CHARACTER.fullmatch(c.label) else c
                    for c in concepts]
    elif qtype == "what":  # "what did X promise/propose/stress": the statement is what is asked
        concepts = [
            replace(c, weight=c.weight * STATEMENT_VERBS_BOOST) if c.kind == "lexicon" and STATEMENT_VERBS & set(c.phrases) else c
            for c in concepts
        ]
    return Query(
        text=text,
        lang=lang,
        qtype=qtype,
        periods=tuple(p for p, _ in period_spans),
        concepts=tuple(concepts),
        names=tuple(dict.fromkeys(name for name, _ in names)),
        focus=focus,
        head_at=head_at,
    )


# ---------------------------------------------------------------- posts qualified by a country

# Posts a question may qualify by a country ("Cambodia's defence minister", "Tùy viên quốc
# phòng Việt Nam tại Lào"): question wording (folded) -> how Vietnamese articles write them.
_POST_FORMS: dict[str, tuple[str, ...]] = {
    "bo truong (?:bo )?quoc phong|(?:defen[cs]e|national defen[cs]e) ministers?|ministers? of (?:national )?defen[cs]e":
        ("bo truong bo quoc phong", "bo truong quoc phong"),
    "thu truong (?:bo )?quoc phong|deputy (?:defen[cs]e )?ministers?(?: of (?:national )?defen[cs]e)?":
        ("thu truong bo quoc phong", "thu truong quoc phong", "thu truong"),
    "tuy vien quoc phong|tuy vien quan su|(?:defen[cs]e|military) attach[eé]s?|attach[eé]s?": ("tuy vien quoc phong",),
    "tong tham muu truong|chiefs? of (?:the )?general staff": ("tong tham muu truong",),
    "thu tuong|prime ministers?|premiers?": ("thu tuong",),
    "chu tich nuoc|presidents?": ("chu tich nuoc",),
    "dai su|ambassadors?": ("dai su",),
}
_COUNTRY_FORMS: dict[str, str] = {
    "viet nam|vietnam|vietnamese|vn": "viet nam",
    "lao|laos|laotian": "lao",
    "campuchia|cambodia|cambodian": "campuchia",
    "trung quoc|china|chinese": "trung quoc",
    "thai lan|thailand|thai": "thai lan",
    "nga|russia|russian": "nga",
    "nhat ban|japan|japanese": "nhat ban",
    "an do|india|indian": "an do",
    "hoa ky|my|united states|american": "hoa ky",
    # a capital stands for its country ("attaché in Vientiane"); articles write the country
    "vientiane|vieng chan|viang chan": "lao",
    "hanoi|ha noi": "viet nam",
    "phnom penh": "campuchia",
}
# Posts held in another country: "in Laos" is where the post is ("attaché in Vientiane")
_STATIONED = ("tuy vien quoc phong", "dai su")
# What articles put between a post and its country ("Tổng Tham mưu trưởng QĐND Lào")
_BETWEEN = ("", "bo quoc phong ", "quan doi nhan dan ", "quan doi ", "chinh phu ", "nuoc ", "bo tong tham muu ")
_C = "|".join(_COUNTRY_FORMS)
_P = "|".join(f"(?:{p})" for p in _POST_FORMS)
_POSTS_ASKED = [  # (post, country, location) as named groups
    re.compile(rf"\b(?P<country>{_C})(?:'s|s')?\s+(?P<post>{_P})(?:\s+(?:in|to|tai|o)\s+(?P<loc>{_C}))?\b"),
    re.compile(rf"\b(?P<post>{_P})\s+(?:(?:of|from|cua|nuoc)\s+)?(?P<country>{_C})(?:\s+(?:in|to|tai|o)\s+(?P<loc>{_C}))?\b"),
    re.compile(rf"\b(?P<post>{_P})\s+(?:in|to|tai|o)\s+(?P<loc>{_C})\b"),
]


def _country(word: str | None) -> str | None:
    if word is None:
        return None
    return next(v for k, v in _COUNTRY_FORMS.items() if re.fullmatch(k, word))


_DELEGATION_OF = re.compile(
    rf"\bdelegations? (?:of|from) (?:the )?(?P<a>{_C})\b|\b(?P<b>{_C})(?:'s|s'|n|ese)? (?:\w+ ){{0,2}}delegations?\b|"
    rf"\b(?:truong )?doan (?:dai bieu )?(?:(?:bo quoc phong|quan doi|nuoc) )?(?P<c>{_C})\b"
)


def _spelled_out(question: str) -> str:
    """The folded question with its abbreviations spelled out ("BQP" -> "bo quoc phong"), its
    possessives kept ("cambodia's")."""
    words = []
    for word in fold(question).split():
        core = word.strip(".,;:?!()\"")
        full = abbreviations().get(core)
        words.append(word.replace(core, " ".join(full), 1) if full and core else word)
    return " ".join(words)


# "who represented Cambodia", "Cambodia's minister", "the Cambodian side", "đại diện Campuchia":
# the person asked for belongs to that country (not "Vietnam - Laos - Cambodia", a list)
_LIST_NEXT = r"(?!\s*(?:[-–,&/]|and\b|va\b))"
_BELONGS_TO = re.compile(
    rf"\b(?:represent\w*|on behalf of|from|for) (?:the )?(?P<a>{_C})\b{_LIST_NEXT}|"
    rf"(?<![-–,] )(?<!and )(?<!va )\b(?P<b>{_C})(?:'s|s')|\b(?P<c>cambodian|vietnamese|laotian|lao)\s+(?:side|counterpart|delegate|representative)s?\b|"
    rf"\b(?:phia|dai dien(?: cho)?|thay mat(?: cho)?) (?P<d>{_C})\b{_LIST_NEXT}"
)


def owner_countries(question: str, names: tuple[str, ...] = ()) -> list[str]:
    """The countries the person a question asks for belongs to ("who represented Cambodia",
    "Cambodia's minister", "phía Campuchia"), as articles write them ("campuchia"); a word of
    one of the question's ``names`` is not a country ("Le Duc Thai's rank")."""
    found = []
    for m in _BELONGS_TO.finditer(_spelled_out(question)):
        word = next(g for g in m.groups() if g)
        if not any(f" {word} " in f" {n} " for n in names):
            found.append(_country(word))
    return [c for c in found if c]


def delegation_countries(question: str) -> list[str]:
    """The countries whose delegation a question asks about ("who led Cambodia's delegation",
    "trưởng đoàn Campuchia"), as articles write them ("campuchia")."""
    return [c for m in _DELEGATION_OF.finditer(_spelled_out(question))
            if (c := _country(m.group("a") or m.group("b") or m.group("c")))]


def country_posts(question: str) -> list[tuple[str, ...]]:
    """For each post the question ties to a country ("Cambodia's defence minister", "Tùy
    viên quốc phòng Việt Nam tại Lào"), the folded phrases an article holding that post
    would use ("bo truong bo quoc phong campuchia", ...). A post of Vietnam's own with no
    place is left out: Vietnamese news names its own officials without the country."""
    folded = _spelled_out(question)
    asked: list[tuple[str, ...]] = []
    taken: list[tuple[int, int]] = []
    for rx in _POSTS_ASKED:
        for m in rx.finditer(folded):
            if any(not (m.end() <= s or m.start() >= e) for s, e in taken):
                continue
            taken.append(m.span())
            forms = next(v for k, v in _POST_FORMS.items() if re.fullmatch(k, m.group("post")))
            country, loc = _country(m.groupdict().get("country")), _country(m.group("loc"))
            if forms[0] not in _STATIONED:
                loc = None  # "the Lao chief of general staff in Hanoi": where he was, not his post's place
            if loc is None and country in (None, "viet nam"):
                continue
            where = f" tai {loc}" if loc else ""
            # a post "in Laos" held by another country's envoy: any country may sit between
            between = [country] if country else list(_COUNTRY_FORMS.values())
            phrases = [f"{p} {b}{c}{where}" for p in forms for b in _BETWEEN for c in between]
            if loc and country in (None, "viet nam"):
                phrases += [f"{p}{where}" for p in forms]
            asked.append(tuple(dict.fromkeys(phrases)))
    return asked
