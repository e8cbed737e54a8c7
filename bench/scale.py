"""Indexes of synthetic corpora at scale, with vectors derived from real ones.

Embedding 100k articles (about 1.4M chunks and 2M sentences) with the offline engine
would take days on two cores, so the vectors at scale are derived, not embedded:

- every sentence of a synthetic article is a sample-corpus sentence (``bench.synth``),
  whose vector is the real one (the pool of distinct sentences is embedded once, with
  the index's engine, exactly as ``IndexBuilder`` embeds sentences);
- a chunk's vector is the normalised mean of its sentences' vectors (a real chunk vector
  embeds the chunk's text with its title and date; on the sample corpus the two agree to
  the cosine ``derived_chunk_cosine`` reports).

Everything else is what ``rag index`` would write for these articles: the same cleaned
articles, the library's own chunking, the library's writer (``rag.index.write_index``:
the same files, the HNSW choice above ``exact_limit``, the BM25 matrix), so ``ChatBot``
and the retriever load and search it unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.synth import SyntheticCorpus
from rag.chunking import chunk_article
from rag.embeddings import EngineEmbeddings
from rag.index import PIPELINE_VERSION, IndexEntry, write_index


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(norms > 0, norms, 1)).astype(np.float32)


class PoolRows:
    """Rows ``ids`` of the pool matrix, materialised only when the index writer reads them."""

    def __init__(self, pool: np.ndarray, ids: np.ndarray) -> None:
        self.pool, self.ids = pool, ids

    def __len__(self) -> int:
        return len(self.ids)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.pool[self.ids].astype(dtype or np.float32)


class ChunkMeans:
    """Each chunk's vector: the normalised mean of its sentences' pool vectors (sentences ``first[i]..last[i]``)."""

    def __init__(self, pool: np.ndarray, ids: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
        self.pool, self.ids, self.first, self.last = pool, ids, first, last

    def __len__(self) -> int:
        return len(self.first)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        sums = np.zeros((len(self.ids) + 1, self.pool.shape[1]), dtype=np.float64)
        np.cumsum(self.pool[self.ids], axis=0, out=sums[1:])
        return _normalise(sums[self.last + 1] - sums[self.first]).astype(dtype or np.float32)


def embed_pool(corpus: SyntheticCorpus, embeddings: EngineEmbeddings) -> np.ndarray:
    """The real passage vectors of every distinct sample sentence."""
    return np.asarray(embeddings.embed_passages(corpus.pool), dtype=np.float32)


def entries(
    corpus: SyntheticCorpus, n: int, pool: np.ndarray, chunk_chars: int = 600,
    progress: Callable[[int, int], None] | None = None,
) -> list[IndexEntry]:
    """Index entries of articles ``0 .. n-1``, their vectors derived from ``pool``."""
    out = []
    for i in range(n):
        spec = corpus.spec(i)
        article = corpus.article(i, spec)
        spans, ids = corpus.sentences(spec)
        chunks = chunk_article(article, chunk_chars, spans=spans)
        starts = np.array([s for s, _ in spans])
        ends = np.array([e for _, e in spans])
        first = np.searchsorted(starts, [c.start for c in chunks])
        last = np.searchsorted(ends, [c.end for c in chunks])
        ids_arr = np.asarray(ids, dtype=np.int32)
        out.append(IndexEntry(article, chunks, ChunkMeans(pool, ids_arr, first, last), spans, PoolRows(pool, ids_arr)))
        if progress and (i + 1) % 5000 == 0:
            progress(i + 1, n)
    return out


def build(
    corpus: SyntheticCorpus,
    n: int,
    pool: np.ndarray,
    index_dir: Path,
    *,
    engine: str,
    model: str,
    exact_limit: int,
    chunk_chars: int = 600,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write the index of articles ``0 .. n-1`` to ``index_dir``; returns counts and timings."""
    started = time.perf_counter()
    made = entries(corpus, n, pool, chunk_chars, progress)
    composed = time.perf_counter()
    write_index(
        index_dir, made, engine=engine, model=model, dim=pool.shape[1],
        pipeline=f"{PIPELINE_VERSION}/chars-{chunk_chars}", exact_limit=exact_limit,
    )
    done = time.perf_counter()
    return {
        "articles": n,
        "chunks": sum(len(e.chunks) for e in made),
        "sentences": sum(len(e.sentences) for e in made),
        "compose_s": round(composed - started, 1),
        "write_s": round(done - composed, 1),
    }


def derived_chunk_cosine(chunk_vectors: np.ndarray, sentence_vectors: np.ndarray, chunks, sentences) -> float:
    """Mean cosine between real chunk vectors and the chunk vectors derived from the real sentence
    vectors of the same index (the sample corpus): how faithful the derivation is."""
    by_article: dict[str, list[int]] = {}
    for row, (aid, _, _) in enumerate(sentences):
        by_article.setdefault(aid, []).append(row)
    cosines = []
    for row, chunk in enumerate(chunks):
        rows = [r for r in by_article.get(chunk.article_id, []) if sentences[r][1] >= chunk.start
                and sentences[r][2] <= chunk.end]
        if rows:
            derived = _normalise(sentence_vectors[rows].sum(axis=0, keepdims=True))[0]
            cosines.append(float(derived @ chunk_vectors[row]))
    return float(np.mean(cosines)) if cosines else float("nan")
