"""Vietnamese text primitives: Unicode normalisation, accent folding, tokens, sentence spans.

Covers: one canonical spelling per word (NFC plus traditional tone-mark placement,
``hoà`` -> ``hòa``, ``thuỷ`` -> ``thủy``), accent folding for matching, syllable and
bigram tokens for lexical search, and sentence boundaries that respect Vietnamese
abbreviations, dates and numbers. Does not cover: word segmentation into multi-syllable
words (measured, and syllable bigrams did better for retrieval here; see README).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

# ---------------------------------------------------------------- normalisation

_TONES = {  # combining tone marks
    "\u0300": "grave",
    "\u0301": "acute",
    "\u0303": "tilde",
    "\u0309": "hook",
    "\u0323": "dot",
}

# Open syllables ending in oa, oe, uy: the traditional style puts the tone on the first
# vowel (hòa, khỏe, thủy), the "new" style on the second (hoà, khoẻ, thuỷ). We keep the
# traditional one, which is the majority style in the sample corpus.
_OPEN_DIPHTHONG = re.compile(
    r"(?<![qQ])([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])(?![\w\u0300-\u036f])"
)


def normalize(text: str) -> str:
    """Return ``text`` in NFC with one tone-mark placement for oa/oe/uy syllables."""
    decomposed = unicodedata.normalize("NFD", text)
    if any(mark in decomposed for mark in _TONES):
        decomposed = _OPEN_DIPHTHONG.sub(lambda m: m.group(1) + m.group(3) + m.group(2), decomposed)
    return unicodedata.normalize("NFC", decomposed)


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d").replace("Đ", "D").lower()


# Folding is character by character (NFD decomposes each character on its own and every
# combining mark is dropped; the only context-dependent lower-casing, Greek final sigma,
# lies outside these ranges), so text made only of these characters folds through a table.
_TABLE_RANGES = ((0, 0x7F), (0x80, 0x24F), (0x300, 0x36F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF))
_OUTSIDE_TABLE = re.compile("[^" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _TABLE_RANGES) + "]")


@lru_cache(maxsize=1)
def _fold_table() -> list[str]:
    """Code point -> its folded text, for the code points of ``_TABLE_RANGES`` (a list: fastest for translate)."""
    table = [chr(cp) for cp in range(_TABLE_RANGES[-1][1] + 1)]
    for lo, hi in _TABLE_RANGES:
        for cp in range(lo, hi + 1):
            table[cp] = _fold_slow(chr(cp))
    return table


def fold(text: str) -> str:
    """Accent-fold and lower-case: NFD, combining marks dropped, đ->d (the eval rules' folding)."""
    if text.isascii():
        return text.lower()
    if _OUTSIDE_TABLE.search(text):
        return _fold_slow(text)
    return text.translate(_fold_table())


# ---------------------------------------------------------------- tokens

_WORD = re.compile(r"[0-9a-z]+")


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, list[str]]:
    """Folded abbreviation -> folded syllables of its full form (``rag/data/abbreviations.tsv``)."""
    text = resources.files("rag").joinpath("data/abbreviations.tsv").read_text(encoding="utf-8")
    table = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            short, _, full = line.partition("\t")
            table[fold(short.strip())] = _WORD.findall(fold(full))
    return table


@lru_cache(maxsize=1)
def _syllable_table() -> list[str]:
    """Like ``_fold_table``, with every character that cannot be part of a syllable made a space."""
    return [re.sub(r"[^0-9a-z]", " ", folded) for folded in _fold_table()]


def syllables(text: str) -> list[str]:
    """Folded syllable tokens (Vietnamese writes one syllable per space-separated token)."""
    if _OUTSIDE_TABLE.search(text):
        return _WORD.findall(fold(text))
    return text.translate(_syllable_table()).split()


def expanded_syllables(text: str) -> list[str]:
    """Folded syllables with known abbreviations spelled out (``bdbp`` -> ``bo doi bien phong``)."""
    table = abbreviations()
    found = syllables(text)
    if table.keys().isdisjoint(found):
        return found
    out: list[str] = []
    for syl in found:
        out.extend(table.get(syl, (syl,)))
    return out


def padded(text: str) -> str:
    """``" w1 w2 ... "``: expanded folded syllables, for whole-word phrase matching."""
    return " " + " ".join(expanded_syllables(text)) + " "


def lexical_tokens(text: str) -> list[str]:
    """Tokens for BM25: folded syllables plus adjacent-syllable bigrams (``bien_gioi``)."""
    syl = expanded_syllables(text)
    return syl + list(map("{}_{}".format, syl, syl[1:]))


# ---------------------------------------------------------------- sentences

# Tokens after which a period does not end a sentence (checked folded, case-insensitive).
_ABBREVIATIONS = {
    "tp", "ts", "ths", "pgs", "gs", "bs", "ks", "ls", "nxb", "tskh", "th.s", "v.v", "vv",
    "mr", "mrs", "ms", "dr", "st", "no", "tt", "q", "p", "tx", "h",
}
_TERMINAL = ".!?…"
_CLOSERS = "\"'”’)»]"
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)»\]]*(?:/\.)?(?=\s)")


def _is_abbreviation(paragraph: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial (``TP.``, ``V.``)."""
    if paragraph[dot] != ".":
        return False
    j = dot
    while j > 0 and not paragraph[j - 1].isspace() and paragraph[j - 1] not in "(\"“":
        j -= 1
    word = fold(paragraph[j:dot])
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence ``(start, end)`` offsets into ``text``; ``text[start:end]`` is stripped.

    A line break always ends a sentence (paragraphs and captions are lines here). Inside a
    line, ``.``/``!``/``?``/``…`` end a sentence only when followed by a space and an
    upper-case letter, digit, quote or bracket, and not after an abbreviation such as
    ``TP.`` or ``TS.``; ``12/12``, ``1.000`` and ``4,5`` never split. A photo credit
    (``. Ảnh: ...``) stays with its caption.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        cut = 0
        for m in _SENTENCE_END.finditer(line):
            end = m.end()
            rest = line[end:].lstrip()
            if not rest:
                continue
            first = rest[0]
            if not (first.isupper() or first.isdigit() or first in "\"“'‘(["):
                continue
            if _is_abbreviation(line, m.start()) and m.end() - m.start() == 1:
                continue
            if fold(rest[:5]) in {"anh: ", "anh:"} or fold(rest).startswith("anh:"):
                continue
            spans.append((line_start + cut, line_start + end))
            cut = end
        spans.append((line_start + cut, line_start + len(line)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def ends_like_sentence(line: str) -> bool:
    """True when ``line`` ends with terminal punctuation (optionally followed by closers)."""
    stripped = line.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL + ":;"


# ---------------------------------------------------------------- photo captions

# A photo credit closing a caption line: ". Ảnh: TTXVN", " - Ảnh VGP/Nhật Bắc", "(Ảnh: BQP)".
# Anchored at the end, and without a colon only after a dash, so "Ảnh hưởng ..." is no credit.
PHOTO_CREDIT = re.compile(
    r"(?:(?:^|(?<=\S))\s*[.(]?\s*(?<!\w)\(?(?:Ảnh|Photo)\s*:"  # "... . Ảnh: Hà Thu", "(Ảnh: BQP)"
    r"|(?<=\S)\s+[-–]\s+\(?(?:Ảnh|Photo)\s)"  # "... - Ảnh VGP/Nhật Bắc": no colon after a dash
    r"\s*[^.\n]{1,40}\)?\.?\s*$"
)


def is_caption(text: str) -> bool:
    """True for a photo caption: a line or sentence that ends in a photo credit."""
    return bool(PHOTO_CREDIT.search(text))
