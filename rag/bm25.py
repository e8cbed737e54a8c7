"""BM25 as a sparse term-document matrix: fast at any corpus size, saved with the index.

Covers: Okapi BM25 (Lucene's idf, ``k1``/``b`` length normalisation) over pre-tokenised
documents, stored column by column (CSC: for each term, the documents holding it and
their weights, as ``bm25s`` does), so a query touches only the postings of its own terms;
top-k by partial selection; building in blocks (bounded memory); and saving/loading as
one ``.npz`` of plain arrays (no pickle). Does not cover: tokenising (``rag.text.lexical_tokens``) or fusing
with the dense search (``rag.retrieval``).
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

BM25_FILE = "bm25.npz"


def bm25_text(title: str, text: str) -> str:
    """What BM25 indexes for a chunk: its article's title and its text."""
    return f"{title}\n{text}"


class BM25:
    """Okapi BM25 over pre-tokenised documents, as a sparse matrix.

    ``scores(terms)`` gives every document's score (a dense array); ``top(terms, k,
    allowed)`` gives the ``k`` best documents (score > 0, ties by document number).
    """

    _BLOCK = 1 << 23  # postings gathered before they are sorted by term

    def __init__(self, docs: Iterable[Sequence[str]] = (), k1: float = 1.2, b: float = 0.75) -> None:
        """Index ``docs`` (consumed once, a block of documents at a time: memory stays near
        the size of the finished matrix however many documents there are)."""
        terms, indptr, rows, tf, lengths = build_postings(docs, self._BLOCK)
        self._setup(terms, indptr, rows, tf, lengths, k1, b)

    @classmethod
    def from_words(cls, docs: Iterable[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> BM25:
        """BM25 over each document's words and adjacent-word pairs ``"a_b"`` - the same as
        ``BM25(lexical_tokens(text) ...)`` given ``expanded_syllables(text)``, built faster."""
        self = cls.__new__(cls)
        terms, indptr, rows, tf, lengths = bigram_postings(docs)
        self._setup(terms, indptr, rows, tf, lengths, k1, b)
        return self

    def _setup(
        self, terms: list[str], indptr: np.ndarray, rows: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
        k1: float, b: float,
    ) -> None:
        self.k1, self.b = k1, b
        self.terms = terms
        self.vocab = {t: i for i, t in enumerate(terms)}
        self.n = len(lengths)
        self.lengths = np.asarray(lengths, dtype=np.float32)
        self.avg = float(self.lengths.mean()) if self.n else 0.0
        self.indptr = np.asarray(indptr, dtype=np.int64)
        self.rows = np.ascontiguousarray(rows, dtype=np.int32)
        self.tf = np.asarray(tf)
        self.df = np.diff(self.indptr)
        self.idf = np.log1p((self.n - self.df + 0.5) / (self.df + 0.5))
        # per-posting weight, computed a block of terms at a time to bound memory
        self.weights = np.empty(len(self.rows), dtype=np.float32)
        norm = (k1 * (1 - b + b * self.lengths.astype(np.float64) / self.avg)) if self.n else np.zeros(0)
        block = 1 << 22
        start_col = 0
        while start_col < len(terms):
            end_col = int(np.searchsorted(self.indptr, self.indptr[start_col] + block, side="right")) - 1
            end_col = max(end_col, start_col + 1)
            s, e = self.indptr[start_col], self.indptr[min(end_col, len(terms))]
            tf_block = self.tf[s:e].astype(np.float64)
            idf = np.repeat(self.idf[start_col:end_col], self.df[start_col:end_col])
            self.weights[s:e] = idf * tf_block * (k1 + 1) / (tf_block + norm[self.rows[s:e]])
            start_col = end_col

    # ---------------------------------------------------------------- persistence

    def save(self, path: Path) -> None:
        """Write the matrix to ``path`` (a ``.npz`` of plain arrays; no pickle)."""
        tf = self.tf
        fd, tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    terms=np.array(self.terms, dtype=str) if self.terms else np.zeros(0, dtype="<U1"),
                    indptr=self.indptr,
                    rows=self.rows,
                    tf=tf,
                    lengths=self.lengths,
                    params=np.array([self.k1, self.b], dtype=np.float64),
                )
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path) -> BM25:
        with np.load(path, allow_pickle=False) as data:
            k1, b = (float(x) for x in data["params"])
            self = cls.__new__(cls)
            self._setup(
                data["terms"].tolist(), data["indptr"], data["rows"], data["tf"], data["lengths"], k1, b
            )
        return self

    # ---------------------------------------------------------------- scoring

    def _ids(self, terms: Sequence[str]) -> list[int]:
        """Known terms, each once (a repeated query term counts once)."""
        return [self.vocab[t] for t in dict.fromkeys(terms) if t in self.vocab]

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """Every document's score for the query ``terms``."""
        out = np.zeros(self.n, dtype=np.float32)
        for t in self._ids(terms):
            s, e = self.indptr[t], self.indptr[t + 1]
            np.add.at(out, self.rows[s:e], self.weights[s:e])  # unbuffered: ~3x a fancy-index +=
        return out

    def top(
        self, terms: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best documents with a score > 0 (among ``allowed``, a boolean mask),
        best first, ties by document number, and their scores: the first ``k`` of
        ``scores(terms)`` sorted, found without sorting every score."""
        if k <= 0 or not self._ids(terms):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.scores(terms)
        rows = self.best(scores, k, allowed)
        return rows, scores[rows]

    def best(self, scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """The ``k`` documents with the highest ``scores`` > 0 (among ``allowed``), best first,
        ties by document number, without sorting every score: any ``k`` documents' scores
        give a floor under the k-th best, and only the documents at or above it are sorted."""
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        floor = np.finfo(np.float32).tiny
        if self.n > 4 * k:
            sample = scores[:: max(1, self.n // (64 * k))]  # spread over the corpus
            if allowed is not None:
                sample = sample[allowed[:: max(1, self.n // (64 * k))]]
            sample = sample[sample > 0]
            if len(sample) >= k:
                floor = max(floor, float(np.partition(sample, len(sample) - k)[len(sample) - k]))
        keep = scores >= floor
        if allowed is not None:
            keep &= allowed
        cand = np.flatnonzero(keep)
        return _best(cand, scores, k)[0]


def _merge(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_terms: int) -> tuple[np.ndarray, ...]:
    """One CSC matrix from blocks of ``(cols, rows, tf)`` postings, each sorted by column and
    covering consecutive documents: a term's postings are its postings in each block, in order."""
    df = np.zeros(n_terms, dtype=np.int64)
    block_dfs = []
    for col, _, _ in blocks:
        block_df = np.bincount(col, minlength=n_terms)
        block_dfs.append(block_df)
        df += block_df
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    rows = np.empty(int(indptr[-1]), dtype=np.int32)
    tf = np.empty(int(indptr[-1]), dtype=np.uint32)
    cursor = indptr[:-1].copy()
    for (col, block_rows, block_tf), block_df in zip(blocks, block_dfs, strict=True):
        start_in_block = np.zeros(n_terms, dtype=np.int64)
        np.cumsum(block_df[:-1], out=start_in_block[1:])
        dest = cursor[col] + (np.arange(len(col), dtype=np.int64) - start_in_block[col])
        rows[dest] = block_rows
        tf[dest] = block_tf
        cursor += block_df
    blocks.clear()
    small = tf.astype(np.uint16) if len(tf) and int(tf.max()) < 1 << 16 else tf
    return indptr, rows, small


def build_postings(
    docs: Iterable[Sequence[str] | set[str]], block: int = 1 << 23
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Term -> documents postings of ``docs`` (CSC): ``(terms, indptr, rows, tf, lengths)``, where
    term ``t``'s documents are ``rows[indptr[t]:indptr[t+1]]`` (ascending) with counts ``tf``;
    ``lengths`` are the documents' token counts (a document given as a set counts each of
    its terms once). Built ``block`` postings at a time: memory
    stays near the size of the result however many documents there are."""
    vocab: dict[str, int] = {}
    lengths = array("f")
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per block: cols, rows, tf (sorted by col)
    cols, rows, tfs = array("i"), array("i"), array("i")

    def close_block() -> None:
        col = np.frombuffer(cols, dtype=np.int32).copy()
        order = np.argsort(col, kind="stable")  # documents stay in order within a term
        blocks.append((col[order], np.frombuffer(rows, dtype=np.int32)[order],
                       np.frombuffer(tfs, dtype=np.int32)[order].astype(np.uint32)))
        del cols[:], rows[:], tfs[:]

    for i, doc in enumerate(docs):
        lengths.append(len(doc))
        if isinstance(doc, set):  # each term once: no counting
            cols.extend([vocab.setdefault(t, len(vocab)) for t in doc])
            tfs.extend([1] * len(doc))
            rows.extend([i] * len(doc))
        else:
            counts = Counter(doc)
            cols.extend([vocab.setdefault(t, len(vocab)) for t in counts])
            tfs.extend(counts.values())
            rows.extend([i] * len(counts))
        if len(cols) >= block:
            close_block()
    if len(cols) or not blocks:
        close_block()
    indptr, all_rows, tf = _merge(blocks, len(vocab))
    return list(vocab), indptr, all_rows, tf, np.frombuffer(lengths, dtype=np.float32).copy()


def bigram_postings(
    docs: Iterable[Sequence[str]], block: int = 1 << 22
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``build_postings`` of each document's words plus its adjacent-word pairs ``"a_b"``
    (``rag.text.lexical_tokens``), given the words (which hold no ``_``); the same postings,
    counted with array operations instead of one string per pair: about 3x faster."""
    words: dict[str, int] = {}  # word -> word id
    get = words.get
    terms: list[str] = []  # term id -> term
    word_term: list[int] = []  # word id -> term id
    pair_term: dict[int, int] = {}  # pair key -> term id
    lengths = array("f")
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    ids, sizes = array("q"), array("q")
    first_doc = 0

    def close_block() -> None:
        nonlocal first_doc
        flat = np.frombuffer(ids, dtype=np.int64).copy()
        size = np.frombuffer(sizes, dtype=np.int64).copy()
        doc = np.repeat(np.arange(first_doc, first_doc + len(size), dtype=np.int64), size)
        same = doc[:-1] == doc[1:]
        big = 1 << 31  # pair key = first word id * 2^31 + second word id
        pair_keys = flat[:-1][same] * big + flat[1:][same]
        unique_pairs, pair_index = np.unique(pair_keys, return_inverse=True)
        new = [int(k) for k in unique_pairs.tolist() if k not in pair_term]
        for key in new:
            pair_term[key] = len(terms)
            terms.append(f"{word_lists[key // big]}_{word_lists[key % big]}")
        pair_ids = np.fromiter((pair_term[k] for k in unique_pairs.tolist()), dtype=np.int64, count=len(unique_pairs))
        term = np.concatenate([np.asarray(word_term, dtype=np.int64)[flat], pair_ids[pair_index]])
        owner = np.concatenate([doc, doc[:-1][same]]) - first_doc
        # count each (term, document) pair, sorted by term, then document
        span = max(1, len(size))
        keys, counts = np.unique(term * span + owner, return_counts=True)
        blocks.append(((keys // span).astype(np.int32), (keys % span + first_doc).astype(np.int32),
                       counts.astype(np.uint32)))
        first_doc += len(size)
        del ids[:], sizes[:]

    word_lists: list[str] = []  # word id -> word
    for doc in docs:
        found = list(map(get, doc))
        if None in found:
            for w in doc:
                if w not in words:
                    words[w] = len(word_lists)
                    word_lists.append(w)
                    word_term.append(len(terms))
                    terms.append(w)
            found = list(map(get, doc))
        ids.extend(found)
        sizes.append(len(doc))
        lengths.append(2 * len(doc) - 1 if doc else 0)
        if len(ids) >= block:
            close_block()
    if len(sizes) or not blocks:
        close_block()
    indptr, rows, tf = _merge(blocks, len(terms))
    return terms, indptr, rows, tf, np.frombuffer(lengths, dtype=np.float32).copy()


def _best(cand: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` of ``cand`` with the highest ``scores[cand]``, ties by ``cand``, best first."""
    values = scores[cand]
    if len(cand) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth  # every one tied with the k-th stays, the order decides
        cand, values = cand[keep], values[keep]
    order = np.lexsort((cand, -values))[:k]
    return cand[order].astype(np.int64), values[order]
