"""Which sentences contain a phrase, without reading every sentence.

Covers: ``PhraseIndex``, postings of every word and every pair of adjacent words over
padded sentences (``rag.text.padded``: folded words between single spaces), so that the
number of sentences containing a phrase of one or two words is the length of one
posting list, and a longer phrase is checked only in the sentences holding all of its
word pairs. Answers are exactly those of scanning every sentence for ``" phrase "``.
Does not cover: what phrases mean (``rag.query``) or scoring (``rag.answer``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from rag.bm25 import bigram_postings


class PhraseIndex:
    """Word and word-pair postings over padded sentences (``" w1 w2 ... "``)."""

    def __init__(self, padded: Sequence[str]) -> None:
        self.padded = padded
        terms, self.indptr, self.rows, _, _ = bigram_postings(p.split() for p in padded)
        self.vocab = {t: i for i, t in enumerate(terms)}  # words, and pairs as "a_b" (words hold no "_")

    def _postings(self, key: str) -> np.ndarray | None:
        t = self.vocab.get(key)
        return None if t is None else self.rows[self.indptr[t] : self.indptr[t + 1]]

    def count(self, phrase: str) -> int:
        """How many sentences contain ``" phrase "`` (the phrase as whole words)."""
        return len(self.holding(phrase))

    def holding(self, phrase: str) -> list[int]:
        """The sentences (ascending ids) that contain ``" phrase "`` as whole words."""
        words = phrase.split(" ")
        needle = f" {phrase} "
        if not all(words):  # empty words (double or outer spaces): read every sentence
            return [i for i, p in enumerate(self.padded) if needle in p]
        if "_" in phrase:  # no padded word holds one (and pairs are keyed "a_b")
            return []
        if len(words) <= 2:
            found = self._postings("_".join(words))
            return [] if found is None else found.tolist()
        lists = [self._postings(f"{a}_{b}") for a, b in itertools.pairwise(words)]
        if any(p is None for p in lists):
            return []
        lists.sort(key=len)
        holders = lists[0]
        for other in lists[1:]:
            holders = np.intersect1d(holders, other, assume_unique=True)
        return [sid for sid in holders.tolist() if needle in self.padded[sid]]
