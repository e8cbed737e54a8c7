"""Tiny deterministic stand-ins for unit tests (no model, no network)."""

from __future__ import annotations

import hashlib

import numpy as np

from rag.embeddings import EngineEmbeddings
from rag.text import syllables


class HashEmbeddings(EngineEmbeddings):
    """Bag-of-syllables hashed into ``dim`` buckets, L2-normalised; counts what it embeds.

    Similar texts get similar vectors, so retrieval behaves sensibly in unit tests.
    """

    engine = "fake-hash"

    def __init__(self, dim: int = 64, model: str = "hash-64") -> None:
        self._dim = dim
        self.model = model
        self.calls: list[int] = []  # batch sizes sent to embed_passages
        self.embedded = 0

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for syl in syllables(text):
            v[int(hashlib.md5(syl.encode()).hexdigest(), 16) % self._dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        self.embedded += len(texts)
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)
