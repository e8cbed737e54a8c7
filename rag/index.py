"""The persisted index: FAISS inner-product vectors, a JSON docstore, and a manifest.

Layout of an index directory::

    manifest.json            schema, embedding engine/model/dim, per-article hashes,
                             the data generation in use and each data file's size + SHA-256
    gen-<stamp>/vectors.faiss   faiss.write_index of the chunk vectors (row i = chunk i): an exact
                                IndexFlatIP up to ``exact_limit`` chunks, an approximate
                                IndexIVFFlat (inner product, spherical k-means) beyond it
    gen-<stamp>/chunks.json     the chunks, in row order
    gen-<stamp>/articles.json   the cleaned articles (body, title, dates)
    gen-<stamp>/sentences.json  every sentence as [article id, start, end] into its body
    gen-<stamp>/sentences.faiss their vectors (row i = sentence i), for answer selection
    gen-<stamp>/bm25.npz        the chunks' BM25 matrix (``rag.bm25``), so no start re-tokenises
                                the corpus (optional: an index without it builds it on load)

The embedding cache (``CachedEmbeddings``) lives outside the index, in the settings'
cache directory, so an index directory holds only what ``load_index`` verifies.
Nothing is pickled, and nothing read from an index directory can run code: the manifest
carries its own SHA-256 (a hand edit is caught), the generation must be a ``gen-*``
directory inside the index, JSON is parsed as data and checked (offsets, ids, types), flat
``.faiss`` files are parsed by ``read_flat_index`` (the exact flat inner-product layout,
sizes checked, memory-mapped with NumPy) and an approximate chunk index is read by FAISS
only after its SHA-256 matched the manifest. A build writes a fresh ``gen-*`` directory and
then replaces ``manifest.json`` atomically, so an interrupted or killed build leaves the
previous index in use. Loading verifies every file against the manifest and raises a
one-line project error naming the fix; ``rag index`` then rebuilds. ``write_index`` writes
an index from vectors computed elsewhere (the benchmark's corpora at scale use it).
Covers: building, updating only changed articles (duplicates skipped, undated and
instruction-like articles reported), loading, searching (exact or approximate, with or
without a set of allowed rows). Does not cover: ranking beyond the raw vector search
(``rag.retrieval``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from rag.bm25 import BM25, BM25_FILE, bm25_text
from rag.chunking import Chunk, chunk_article
from rag.embeddings import CachedEmbeddings, EngineEmbeddings
from rag.errors import ArticleError, IndexCorruptError, IndexMismatchError, IndexMissingError, IndexWriteError
from rag.ingest import (
    Article,
    article_files,
    article_id,
    duplicate_warning,
    load_article,
    read_text,
    text_key,
    undated_warning,
)
from rag.safety import instruction_like
from rag.text import expanded_syllables, sentence_spans

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: the manifest carries its own checksum
PIPELINE_VERSION = "ingest-1/chunk-1/sent-1"  # bump when cleaning or chunking changes output
MANIFEST = "manifest.json"
DATA_FILES = ("vectors.faiss", "chunks.json", "articles.json", "sentences.json", "sentences.faiss")
MAX_MANIFEST_BYTES = 64 << 20
_GENERATION = re.compile(r"gen-[0-9A-Za-z]{1,64}")
_FLAT_IP = b"IxFI"  # FAISS fourcc of an IndexFlatIP
_FLAT_HEADER = 45  # fourcc, d, ntotal, two reserved, is_trained, metric, vector length
IVF_FILE = "ivf.npz"  # centroids and each chunk's list, for an approximate chunk index
OPTIONAL_FILES = (BM25_FILE, IVF_FILE)  # verified when the manifest lists them
DEFAULT_EXACT_LIMIT = 50_000  # chunks; above this the chunk vectors go into an approximate (IVF) index
IVF_LISTS_PER_SQRT = 4  # nlist = 4 * sqrt(chunks): about 4,700 lists for 1.4M chunks
IVF_PROBE_SHARE = 12  # nprobe = nlist / 12: recall@10 >= 0.98 on the benchmark's corpora (bench/README.md)
IVF_TRAIN_PER_LIST = 32  # k-means trains on 32 vectors per list (at most; evenly spread over the rows)

Progress = Callable[[int, int, str], None]


def _fix(directory: Path) -> str:
    return f"Rebuild it with `rag index --index {directory}`."


# ---------------------------------------------------------------- the loaded index


@dataclass
class Index:
    """A loaded, verified index: articles, chunks (row order) and their vectors."""

    directory: Path
    manifest: dict
    articles: dict[str, Article]
    chunks: list[Chunk]
    vectors: faiss.Index
    sentences: list[tuple[str, int, int]]  # (article id, start, end) into the article body
    sentence_vectors: np.ndarray  # (len(sentences), dim), normalised; read-only, memory-mapped
    bm25: BM25 | None = None  # the chunks' BM25 matrix, when the index holds one

    @property
    def approximate(self) -> bool:
        """True when the chunk vectors are in an approximate (IVF) index."""
        return isinstance(self.vectors, faiss.IndexIVF)

    @property
    def engine(self) -> str:
        return self.manifest["embedding"]["engine"]

    @property
    def model(self) -> str:
        return self.manifest["embedding"]["model"]

    @property
    def dim(self) -> int:
        return int(self.manifest["embedding"]["dim"])

    @property
    def fingerprint(self) -> str:
        """Short content hash of the data files: two indexes with equal fingerprints are equal."""
        joined = "".join(self.manifest["files"][name]["sha256"] for name in DATA_FILES)
        return hashlib.sha256(joined.encode()).hexdigest()[:12]

    def search(
        self, query: np.ndarray, k: int, rows: Sequence[int] | np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top ``k`` ``(row, inner product)`` for one query vector, optionally among ``rows``
        (row numbers, or a boolean mask over all rows)."""
        mask = None
        if rows is not None and np.asarray(rows).dtype == bool:
            mask = np.asarray(rows)
            count = int(np.count_nonzero(mask))
        else:
            count = None if rows is None else len(rows)
        if self.vectors.ntotal == 0 or k <= 0 or count == 0:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != self.vectors.d:
            raise IndexMismatchError(
                f"Query vectors have {q.shape[1]} dimensions but the index has {self.vectors.d}.",
                _fix(self.directory),
            )
        params = None
        bitmap = None
        if count is not None:
            k = min(k, count)
            if not self.approximate:
                ids = np.flatnonzero(mask) if mask is not None else np.asarray(rows, dtype=np.int64)
                params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids.astype(np.int64)))
            else:
                # a bitmap (O(1) membership at any size), and as many more lists probed as the
                # selection is smaller than the index: the same number of allowed rows is scanned
                # (all lists - an exact search over the selection - when it is small)
                if mask is None:
                    mask = np.zeros(self.vectors.ntotal, dtype=bool)
                    mask[np.asarray(rows, dtype=np.int64)] = True
                bitmap = np.packbits(mask, bitorder="little")
                sel = faiss.IDSelectorBitmap(self.vectors.ntotal, faiss.swig_ptr(bitmap))
                share = count / self.vectors.ntotal
                nprobe = min(self.vectors.nlist, int(np.ceil(self.vectors.nprobe / share)))
                params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
        # one query: one thread is faster than a team (measured 6 against 8-20 ms at 1.4M chunks)
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.vectors.search(q, min(k, self.vectors.ntotal), params=params)
        finally:
            faiss.omp_set_num_threads(threads)
        del bitmap  # the selector points into it until the search is done
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def check_embeddings(self, embeddings: EngineEmbeddings) -> None:
        """Raise ``IndexMismatchError`` unless ``embeddings`` made this index's vectors."""
        if (embeddings.engine, embeddings.model) != (self.engine, self.model):
            raise IndexMismatchError(
                f"The index at {self.directory} was built with {self.engine} ({self.model}), "
                f"not {embeddings.engine} ({embeddings.model}).",
                f"Rebuild it with `rag index --index {self.directory}` or set RAG_EMBEDDINGS={self.engine}.",
            )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_checksum(manifest: dict) -> str:
    """SHA-256 of the manifest's canonical JSON, without its ``checksum`` field."""
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def read_manifest(directory: Path) -> dict:
    """The verified manifest of an index directory, or a one-line ``RagError``."""
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"No index at {directory}.", f"Build it with `rag index --index {directory}`.")
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError("too large")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["embedding"]["engine"], manifest["files"], manifest["generation"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise IndexCorruptError(f"The index manifest {path} is unreadable or incomplete.", _fix(directory)) from err
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"The index at {directory} has schema version {manifest.get('schema_version')}, "
            f"this program reads version {SCHEMA_VERSION}.",
            _fix(directory),
        )
    if manifest.get("checksum") != manifest_checksum(manifest):
        raise IndexCorruptError(f"The index manifest {path} was edited or damaged (checksum mismatch).",
                                _fix(directory))
    generation = manifest["generation"]
    if not isinstance(generation, str) or not _GENERATION.fullmatch(generation):
        raise IndexCorruptError(f"The index manifest {path} names an invalid data directory.", _fix(directory))
    return manifest


def read_flat_index(path: Path, dim: int) -> np.ndarray:
    """The vectors of a ``faiss.write_index`` file of an ``IndexFlatIP`` with ``dim`` dimensions,
    memory-mapped read-only (no copy).

    Only that exact layout is accepted, and the file size must match the header, so a
    file planted in an index directory is rejected before anything is built from it.
    Raises ``ValueError`` otherwise.
    """
    with path.open("rb") as fh:
        head = fh.read(_FLAT_HEADER)
    size = path.stat().st_size
    if len(head) < _FLAT_HEADER or head[:4] != _FLAT_IP:
        raise ValueError(f"{path.name} is not a flat inner-product FAISS index")
    d = int(np.frombuffer(head, "<i4", 1, 4)[0])
    ntotal = int(np.frombuffer(head, "<i8", 1, 8)[0])
    is_trained, metric = head[32], int(np.frombuffer(head, "<i4", 1, 33)[0])
    floats = int(np.frombuffer(head, "<u8", 1, 37)[0])
    if d != dim or ntotal < 0 or metric != faiss.METRIC_INNER_PRODUCT or is_trained != 1:
        raise ValueError(f"{path.name} has an unexpected header ({d} dimensions, {ntotal} vectors)")
    if floats != ntotal * d or size != _FLAT_HEADER + 4 * floats:
        raise ValueError(f"{path.name} has {size:,} bytes, not the {_FLAT_HEADER + 4 * ntotal * d:,} its header says")
    if ntotal == 0:
        return np.zeros((0, d), dtype=np.float32)
    return np.memmap(path, dtype="<f4", mode="r", offset=_FLAT_HEADER, shape=(ntotal, d))


def _flat(vectors: np.ndarray, dim: int) -> faiss.Index:
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _ivf(vectors: np.ndarray, path: Path, nprobe: int) -> faiss.IndexIVFFlat:
    """An inverted-file index rebuilt from the flat vectors and ``ivf.npz`` (the centroids and
    each row's list, plain arrays read without pickle): no FAISS file parser touches the
    index directory, and no vector is assigned again."""
    with np.load(path, allow_pickle=False) as z:
        centroids = np.ascontiguousarray(z["centroids"], dtype=np.float32)
        assign = np.ascontiguousarray(z["assign"], dtype=np.int64)
    nlist, dim = centroids.shape
    if dim != vectors.shape[1] or assign.shape != (len(vectors),) or not nlist or not 0 < nprobe <= nlist:
        raise ValueError(f"{path.name} does not fit the chunk vectors")
    if len(assign) and (assign.min() < 0 or assign.max() >= nlist):
        raise ValueError(f"{path.name} names lists that do not exist")
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(centroids)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.own_fields = True
    quantizer.this.disown()
    for start in range(0, len(vectors), 65536):
        block = np.ascontiguousarray(vectors[start : start + 65536], dtype=np.float32)
        ids = np.arange(start, start + len(block), dtype=np.int64)
        ivf.add_core(len(block), faiss.swig_ptr(block), faiss.swig_ptr(ids), faiss.swig_ptr(assign[start : start + len(block)]))
    ivf.make_direct_map()  # rows can be read back (an update keeps unchanged articles' vectors)
    ivf.nprobe = nprobe
    return ivf


def load_index(directory: Path) -> Index:
    """Load and verify an index; raise a one-line ``RagError`` if it is missing or damaged."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    data = directory / manifest["generation"]
    for name in (*DATA_FILES, *(n for n in OPTIONAL_FILES if n in manifest["files"])):
        path = data / name
        expected = manifest["files"].get(name)
        if not isinstance(expected, dict) or not path.is_file():
            raise IndexCorruptError(f"Index file {path} is missing.", _fix(directory))
        size = path.stat().st_size
        if size != expected.get("bytes") or _sha256(path) != expected.get("sha256"):
            raise IndexCorruptError(
                f"Index file {path} is damaged, truncated or edited ({size:,} bytes, expected {expected.get('bytes')}"
                "; SHA-256 checked).",
                _fix(directory),
            )
    try:
        dim = int(manifest["embedding"]["dim"])
        kind = manifest.get("vector_index", {}).get("type", "flat")
        chunk_vectors = read_flat_index(data / "vectors.faiss", dim)
        if kind == "flat":
            vectors = _flat(chunk_vectors, dim)
        elif kind == "ivf" and IVF_FILE in manifest["files"]:
            vectors = _ivf(chunk_vectors, data / IVF_FILE, int(manifest["vector_index"]["nprobe"]))
        else:
            raise ValueError(f"unknown vector index type {kind!r}")
        sentence_vectors = read_flat_index(data / "sentences.faiss", dim)
        articles = {}
        for d in _read_json(data / "articles.json"):
            article = Article.from_dict(d)
            if not all(isinstance(x, str) for x in (article.id, article.title, article.body)):
                raise TypeError("article fields")
            articles[article.id] = article
        shared = {aid: aid for aid in articles}  # one string per article id, title and date
        shared.update((a.title, a.title) for a in articles.values())
        shared.update((a.date, a.date) for a in articles.values() if a.date)
        chunks = []
        for d in _read_json(data / "chunks.json"):
            for key in ("article_id", "title", "date"):
                d[key] = shared.get(d[key], d[key])
            chunks.append(Chunk.from_dict(d))
        sentences = [(shared.get(a, a), s, e) for a, s, e in _read_json(data / "sentences.json")]
        _check_offsets(articles, chunks, sentences)
        bm25 = BM25.load(data / BM25_FILE) if BM25_FILE in manifest["files"] else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, RuntimeError) as err:
        raise IndexCorruptError(f"The index at {directory} cannot be read ({err}).", _fix(directory)) from err
    if vectors.ntotal != len(chunks) or len(sentence_vectors) != len(sentences):
        raise IndexCorruptError(
            f"The index at {directory} is inconsistent ({vectors.ntotal} vectors for {len(chunks)} chunks, "
            f"{len(sentence_vectors)} for {len(sentences)} sentences).",
            _fix(directory),
        )
    if bm25 is not None and bm25.n != len(chunks):
        raise IndexCorruptError(f"The index at {directory} has a BM25 matrix for {bm25.n} chunks, not {len(chunks)}.",
                                _fix(directory))
    return Index(directory, manifest, articles, chunks, vectors, sentences, sentence_vectors, bm25)


def _check_offsets(articles: dict[str, Article], chunks: list[Chunk], sentences: list[tuple[str, int, int]]) -> None:
    """Every chunk and sentence points into an indexed article's body (``ValueError`` if not)."""
    for c in chunks:
        body = articles[c.article_id].body
        if not (type(c.start) is int and type(c.end) is int and 0 <= c.start < c.end <= len(body)) or (
            body[c.start : c.end] != c.text
        ):
            raise ValueError(f"chunk {c.id} does not match its article")
    for aid, start, end in sentences:
        if not (type(start) is int and type(end) is int and 0 <= start < end <= len(articles[aid].body)):
            raise ValueError(f"a sentence of {aid} lies outside its article")


def _all_vectors(index: faiss.Index) -> np.ndarray:
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), dtype=np.float32)


# ---------------------------------------------------------------- building


@dataclass
class BuildReport:
    """What a build did, for the CLI summary and the UI."""

    articles: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0  # texts sent to the embedding engine (cache misses)
    seconds: float = 0.0
    engine: str = ""
    model: str = ""
    warnings: list[str] = field(default_factory=list)
    written: bool = False

    def summary(self) -> str:
        parts = [
            f"{self.articles} articles, {self.chunks} chunks",
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged",
            f"{self.embedded} passages embedded",
            f"{self.seconds:.1f} s",
            f"engine {self.engine} ({self.model})",
        ]
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}")
        return "; ".join(parts)


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fh = (directory / ".lock").open("w")
    except OSError as err:
        raise IndexWriteError(f"Cannot write the index at {directory} ({err.strerror}).",
                              "Pass --index DIR or set RAG_INDEX_DIR to a writable directory.") from err
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, items: Iterable[object]) -> None:
    """A JSON array with one item per line, written item by item (so it is read item by item too)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[")
        for i, item in enumerate(items):
            fh.write(",\n" if i else "\n")
            fh.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        fh.write("\n]")


def _read_json(path: Path) -> Iterator:
    """The items of a JSON array written by ``_write_json``, one at a time (any other JSON array: at once)."""
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
        if first != "[\n":
            yield from json.loads(first + fh.read())
            return
        for line in fh:
            if line.startswith("]"):
                return
            yield json.loads(line.rstrip().rstrip(","))
        raise ValueError(f"{path.name} ends before its closing bracket")


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class IndexEntry:
    """One article's share of the index: its chunks and sentences with their vectors."""

    article: Article
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentences: list[tuple[int, int]]
    sentence_vectors: np.ndarray



def _entries_of(index: Index) -> dict[str, IndexEntry]:
    """Split a loaded index back into per-article entries (to keep unchanged ones)."""
    chunk_vectors = _all_vectors(index.vectors)
    chunk_rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(index.chunks):
        chunk_rows.setdefault(chunk.article_id, []).append(row)
    sent_rows: dict[str, list[int]] = {}
    for row, (aid, _, _) in enumerate(index.sentences):
        sent_rows.setdefault(aid, []).append(row)
    return {
        aid: IndexEntry(
            article,
            [index.chunks[r] for r in chunk_rows.get(aid, [])],
            chunk_vectors[chunk_rows.get(aid, [])],
            [index.sentences[r][1:] for r in sent_rows.get(aid, [])],
            index.sentence_vectors[sent_rows.get(aid, [])],
        )
        for aid, article in index.articles.items()
    }


@dataclass
class _Pending:
    """An article chunked and waiting for its vectors (texts are embedded many articles at a time)."""

    slot: int
    article: Article
    chunks: list[Chunk]
    sentences: list[tuple[int, int]]
    texts: list[str]


class IndexBuilder:
    """Turns an articles directory into an index directory, touching only what changed.

    An article whose file hash and pipeline version match the existing index keeps its
    chunks and vectors; new or changed ones are cleaned, chunked and embedded (through
    the cache); deleted ones are dropped. A file that has become unreadable keeps its
    previously indexed version and yields a warning. An index made with another engine or
    model, or a damaged one, is rebuilt from scratch rather than mixed. Texts go to the
    engine ``batch_texts`` at a time across articles (fewer calls, and sentence-transformers
    sorts each call's texts by length, so batches pad little).
    """

    def __init__(
        self,
        embeddings: EngineEmbeddings,
        chunk_chars: int = 600,
        cache_dir: Path | None = None,
        *,
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        batch_texts: int = 256,
    ) -> None:
        self.embeddings = embeddings
        self.chunk_chars = chunk_chars
        self.cache_dir = cache_dir
        self.exact_limit = exact_limit
        self.batch_texts = batch_texts

    @property
    def pipeline(self) -> str:
        return f"{PIPELINE_VERSION}/chars-{self.chunk_chars}"

    def _previous(self, directory: Path, report: BuildReport) -> tuple[Index | None, list[IndexEntry], bool]:
        """The existing index, its entries (same engine only) and whether they may be reused as they are."""
        try:
            old = load_index(directory)
        except IndexMissingError:
            return None, [], False
        except (IndexCorruptError, IndexMismatchError) as err:
            report.warnings.append(f"existing index not reused: {err.problem}")
            log.warning("existing index not reused: %s", err.problem)
            return None, [], False
        if (old.engine, old.model) != (self.embeddings.engine, self.embeddings.model):
            report.warnings.append(
                f"existing index was built with {old.engine} ({old.model}); re-embedding everything"
            )
            return None, [], False
        same_pipeline = old.manifest.get("pipeline") == self.pipeline
        if not same_pipeline:
            log.info("pipeline changed (%s -> %s): re-chunking", old.manifest.get("pipeline"), self.pipeline)
        return old, list(_entries_of(old).values()), same_pipeline

    def run(self, articles_dir: Path, index_dir: Path, progress: Progress | None = None) -> BuildReport:
        started = time.perf_counter()
        articles_dir, index_dir = Path(articles_dir), Path(index_dir)
        report = BuildReport(engine=self.embeddings.engine, model=self.embeddings.model)
        files = article_files(articles_dir)
        with _build_lock(index_dir):
            old, old_entries, same_pipeline = self._previous(index_dir, report)
            old_hashes = {aid: meta["sha256"] for aid, meta in (old.manifest["articles"] if old else {}).items()}
            cache = CachedEmbeddings(self.embeddings, self.cache_dir)
            for entry in old_entries:  # vectors of unchanged texts are never computed twice
                cache.seed(self._texts(entry), np.vstack([entry.chunk_vectors, entry.sentence_vectors]))
            reusable = {e.article.id: e for e in old_entries} if same_pipeline else {}
            # 1. read and clean every file (cheap); unchanged ones keep their entry
            loaded = {path: self._one(path, reusable, old_hashes, report) for path in files}
            # 2. one copy of each article text: an indexed one wins, else the first by name
            keep = self._unique({p: item for p, item in loaded.items() if item is not None}, report)
            # 3. embed what is new or changed, many articles per call; the progress counts
            #    the files finished (reused, skipped, or embedded)
            slots: list[IndexEntry | None] = []
            pending: list[_Pending] = []
            done = 0

            def finish(count: int, name: str) -> None:
                nonlocal done
                done += count
                if progress:
                    progress(done, len(files), name)

            def embed() -> None:
                batch = len(pending)
                if batch and progress:  # shown during the (slow) embedding
                    progress(done, len(files), f"embedding {batch} article{'s' if batch > 1 else ''}")
                self._embed(pending, slots, cache)
                finish(batch, "")

            if progress:
                progress(0, len(files), "")
            for path in files:
                entry = keep.get(path)
                if entry is None:
                    finish(1, "")
                elif isinstance(entry, _Pending):
                    self._check_content(path, entry, report)
                    (report.changed if entry.article.id in old_hashes else report.added).append(entry.article.id)
                    entry.slot = len(slots)
                    slots.append(None)  # filled in when its batch is embedded
                    pending.append(entry)
                    if sum(len(p.texts) for p in pending) >= self.batch_texts:
                        embed()
                else:
                    report.unchanged += 1
                    slots.append(entry)
                    finish(1, "")
            embed()
            entries = [e for e in slots if e is not None]
            report.removed = sorted(set(old_hashes) - {e.article.id for e in entries})
            report.articles = len(entries)
            report.chunks = sum(len(e.chunks) for e in entries)
            report.embedded = cache.embedded
            if old is None or report.added or report.changed or report.removed or not reusable:
                write_index(
                    index_dir, entries, engine=self.embeddings.engine, model=self.embeddings.model,
                    dim=self.embeddings.dim, pipeline=self.pipeline, old_manifest=old.manifest if old else None,
                    exact_limit=self.exact_limit,
                )
                report.written = True
            try:
                cache.save()
            except OSError as err:
                self._warn(report, f"embedding cache not saved ({err.strerror}); the index is complete")
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _warn(report: BuildReport, message: str) -> None:
        report.warnings.append(message)
        log.warning("%s", message)

    @staticmethod
    def _texts(entry: IndexEntry) -> list[str]:
        body = entry.article.body
        return [c.embed_text() for c in entry.chunks] + [body[s:e] for s, e in entry.sentences]

    @staticmethod
    def _embed(pending: list[_Pending], slots: list[IndexEntry | None], cache: CachedEmbeddings) -> None:
        """Embed the texts of the pending articles in one call and fill in their entries."""
        if not pending:
            return
        vectors = cache.embed_passages([t for p in pending for t in p.texts])
        at = 0
        for p in pending:
            v = vectors[at : at + len(p.texts)]
            at += len(p.texts)
            slots[p.slot] = IndexEntry(p.article, p.chunks, v[: len(p.chunks)], p.sentences, v[len(p.chunks) :])
        pending.clear()

    def _one(
        self, path: Path, reusable: dict[str, IndexEntry], old_hashes: dict[str, str], report: BuildReport,
    ) -> IndexEntry | _Pending | None:
        """Read one file: its previous entry when the file is unchanged, else its chunks awaiting
        vectors, or None (with a warning) for a file that cannot be used."""
        aid = article_id(path)
        try:
            _, digest = read_text(path)
            if aid in reusable and old_hashes.get(aid) == digest:
                return reusable[aid]
            article = load_article(path)
        except ArticleError as err:
            if aid in reusable:
                self._warn(report, f"{err} Kept the previously indexed version.")
                return reusable[aid]
            self._warn(report, f"skipped {err}")
            return None
        sentences = sentence_spans(article.body)
        chunks = chunk_article(article, self.chunk_chars, spans=sentences)
        texts = [c.embed_text() for c in chunks] + [article.body[s:e] for s, e in sentences]
        return _Pending(-1, article, chunks, sentences, texts)

    def _check_content(self, path: Path, entry: _Pending, report: BuildReport) -> None:
        """Warn about a new or changed article without a date, or with sentences that read
        like instructions to an AI model (indexed as data all the same)."""
        article = entry.article
        if article.date is None:
            self._warn(report, undated_warning(path))
        flagged = [article.body[s:e] for s, e in entry.sentences if instruction_like(article.body[s:e])]
        if flagged:
            self._warn(report, f"{path.name}: {len(flagged)} sentence(s) read like instructions to an AI model "
                               f"(“{flagged[0][:80]}”); indexed as data, never followed or quoted in answers.")

    def _unique(self, loaded: dict[Path, IndexEntry | _Pending], report: BuildReport) -> dict[Path, IndexEntry | _Pending]:
        """Drop files whose cleaned text another file already has (with a warning naming both)."""
        order = sorted(loaded, key=lambda p: (not isinstance(loaded[p], IndexEntry), p.name))
        first: dict[str, Path] = {}
        keep: dict[Path, IndexEntry | _Pending] = {}
        for path in order:
            item = loaded[path]
            key = text_key(item.article)
            if key in first:
                self._warn(report, duplicate_warning(path, first[key]))
                continue
            first[key] = path
            keep[path] = item
        return keep



# ---------------------------------------------------------------- writing


def _flat_header(dim: int, ntotal: int) -> bytes:
    """The bytes ``faiss.write_index`` puts before the vectors of an ``IndexFlatIP``."""
    return b"IxFI" + struct.pack("<iqqq?iQ", dim, ntotal, 1 << 20, 1 << 20, True, faiss.METRIC_INNER_PRODUCT,
                                 ntotal * dim)


def _write_flat(path: Path, dim: int, matrices: Iterable[np.ndarray], ntotal: int) -> None:
    """Write an ``IndexFlatIP`` file block by block (byte for byte what faiss writes, without
    holding all the vectors twice in memory)."""
    written = 0
    with path.open("wb") as fh:
        fh.write(_flat_header(dim, ntotal))
        for m in matrices:
            if len(m):
                block = np.ascontiguousarray(m, dtype=np.float32)
                if block.shape[1] != dim:
                    raise ValueError(f"vectors of {block.shape[1]} dimensions for a {dim}-dimension index")
                fh.write(block.tobytes())
                written += len(block)
    if written != ntotal:
        raise ValueError(f"wrote {written} vectors, expected {ntotal}")


def _write_chunk_vectors(path: Path, dim: int, matrices: list[np.ndarray], exact_limit: int) -> dict:
    """The chunk vectors, always as a flat file (row i = chunk i); above ``exact_limit`` rows
    also an inverted-file layout beside it (spherical k-means centroids and each row's list,
    ``ivf.npz``) that loading turns into an approximate index; returns its description."""
    ntotal = sum(len(m) for m in matrices)
    _write_flat(path, dim, matrices, ntotal)
    if ntotal <= exact_limit:
        return {"type": "flat", "metric": "inner_product"}
    nlist = max(16, int(IVF_LISTS_PER_SQRT * np.sqrt(ntotal)))
    nprobe = max(1, -(-nlist // IVF_PROBE_SHARE))
    kmeans = faiss.Kmeans(dim, nlist, niter=12, spherical=True, max_points_per_centroid=IVF_TRAIN_PER_LIST,
                          seed=1234)
    step = max(1, ntotal // (nlist * IVF_TRAIN_PER_LIST))
    kmeans.train(_every(matrices, step))
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(kmeans.centroids)
    assign = np.concatenate([quantizer.search(block, 1)[1][:, 0] for block in _blocks(matrices)]).astype(np.int32)
    with (path.parent / IVF_FILE).open("wb") as fh:
        np.savez(fh, centroids=kmeans.centroids.astype(np.float32), assign=assign)
    return {"type": "ivf", "metric": "inner_product", "nlist": nlist, "nprobe": nprobe}


def _blocks(matrices: Iterable[np.ndarray], size: int = 65536) -> Iterator[np.ndarray]:
    """The rows of ``matrices`` in contiguous float32 blocks of about ``size`` rows."""
    block: list[np.ndarray] = []
    rows = 0
    for m in matrices:
        if len(m):
            block.append(np.asarray(m, dtype=np.float32))
            rows += len(block[-1])
        if rows >= size:
            yield np.ascontiguousarray(np.vstack(block), dtype=np.float32)
            block, rows = [], 0
    if block:
        yield np.ascontiguousarray(np.vstack(block), dtype=np.float32)


def _every(matrices: Iterable[np.ndarray], step: int) -> np.ndarray:
    """Every ``step``-th row of ``matrices`` (a training sample spread over the whole corpus)."""
    picked, offset = [], 0
    for block in _blocks(matrices):
        first = (-offset) % step
        picked.append(block[first::step])
        offset += len(block)
    return np.ascontiguousarray(np.vstack(picked), dtype=np.float32)


def write_index(
    index_dir: Path,
    entries: list[IndexEntry],
    *,
    engine: str,
    model: str,
    dim: int,
    pipeline: str,
    old_manifest: dict | None = None,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
) -> str:
    """Write ``entries`` as a new generation of the index at ``index_dir`` and switch to it.

    The vectors may come from anywhere (``IndexBuilder`` embeds them; the benchmark derives
    them), but must be ``engine``/``model`` vectors of ``dim`` dimensions, normalised.
    Returns the generation's name. The caller holds the build lock, if it needs one.
    """
    index_dir = Path(index_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    generation = f"gen-{stamp}"
    tmp = index_dir / f".tmp-{generation}"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=index_dir, prefix=".tmp-gen-"))
        vector_index = _write_chunk_vectors(tmp / "vectors.faiss", dim, [e.chunk_vectors for e in entries], exact_limit)
        n_sentences = sum(len(e.sentence_vectors) for e in entries)
        _write_flat(tmp / "sentences.faiss", dim, (e.sentence_vectors for e in entries), n_sentences)
        _write_json(tmp / "chunks.json", (c.to_dict() for e in entries for c in e.chunks))
        _write_json(tmp / "articles.json", (e.article.to_dict() for e in entries))
        _write_json(tmp / "sentences.json", ([e.article.id, s, t] for e in entries for s, t in e.sentences))
        BM25.from_words(expanded_syllables(bm25_text(c.title, c.text)) for e in entries for c in e.chunks).save(
            tmp / BM25_FILE
        )
        files = {}
        for name in (*DATA_FILES, BM25_FILE, *((IVF_FILE,) if vector_index["type"] == "ivf" else ())):
            path = tmp / name
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
            files[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        tmp.chmod(0o755)
        os.replace(tmp, index_dir / generation)
    except (OSError, RuntimeError) as err:  # FAISS reports a failed write as RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0][:120]
        raise IndexWriteError(f"Cannot write the index at {index_dir} ({reason}).",
                              "Free disk space or fix the directory's permissions, then rerun `rag index`.") from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    now = datetime.now(UTC).isoformat(timespec="seconds")
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created": old_manifest.get("created", now) if old_manifest else now,
        "updated": now,
        "embedding": {"engine": engine, "model": model, "dim": dim},
        "pipeline": pipeline,
        "generation": generation,
        "vector_index": vector_index,
        "files": files,
        "articles": {
            e.article.id: {
                "sha256": e.article.sha256,
                "title": e.article.title,
                "date": e.article.date,
                "chunks": len(e.chunks),
            }
            for e in entries
        },
        "counts": {
            "articles": len(entries),
            "chunks": sum(len(e.chunks) for e in entries),
            "sentences": n_sentences,
        },
    }
    manifest["checksum"] = manifest_checksum(manifest)
    try:
        _atomic_write(index_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    except OSError as err:  # the previous manifest, and its generation, are still in place
        shutil.rmtree(index_dir / generation, ignore_errors=True)
        raise IndexWriteError(f"Cannot write the index manifest in {index_dir} ({err.strerror}).",
                              "Free disk space or fix the directory's permissions, then rerun `rag index`.") from err
    for stale in index_dir.glob("gen-*"):
        if stale.name != generation:
            shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(".tmp-gen-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return generation
