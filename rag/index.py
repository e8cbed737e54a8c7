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
Nothing is pickled. A build writes a fresh ``gen-*`` directory and then replaces
``manifest.json`` atomically, so an interrupted build leaves the previous index in use.
Loading verifies every file against the manifest and raises a one-line project error
naming the fix; the vector files are memory-mapped, not copied. ``write_index`` writes an
index from vectors computed elsewhere (the benchmark's corpora at scale use it). Covers:
building, updating only changed articles, loading, searching (exact or approximate, with
or without a set of allowed rows).
Does not cover: ranking beyond the raw vector search (``rag.retrieval``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
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
from rag.errors import ArticleError, IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.ingest import Article, article_files, article_id, load_article, read_text
from rag.text import expanded_syllables, sentence_spans

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
PIPELINE_VERSION = "ingest-1/chunk-1/sent-1"  # bump when cleaning or chunking changes output
MANIFEST = "manifest.json"
DATA_FILES = ("vectors.faiss", "chunks.json", "articles.json", "sentences.json", "sentences.faiss")
OPTIONAL_FILES = (BM25_FILE,)  # verified when the manifest lists them
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
    keep: tuple = ()  # faiss objects whose memory ``sentence_vectors`` views

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


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"No index at {directory}.", f"Build it with `rag index --index {directory}`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["embedding"]["engine"], manifest["files"], manifest["generation"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise IndexCorruptError(f"The index manifest {path} is unreadable or incomplete.", _fix(directory)) from err
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"The index at {directory} has schema version {manifest.get('schema_version')}, "
            f"this program reads version {SCHEMA_VERSION}.",
            _fix(directory),
        )
    return manifest


def load_index(directory: Path) -> Index:
    """Load and verify an index; raise a one-line ``RagError`` if it is missing or damaged."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    data = directory / manifest["generation"]
    for name in (*DATA_FILES, *(n for n in OPTIONAL_FILES if n in manifest["files"])):
        path = data / name
        expected = manifest["files"].get(name)
        if expected is None or not path.exists():
            raise IndexCorruptError(f"Index file {path} is missing.", _fix(directory))
        size = path.stat().st_size
        if size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise IndexCorruptError(
                f"Index file {path} is damaged or truncated ({size:,} of {expected['bytes']:,} bytes).",
                _fix(directory),
            )
    try:
        vectors = faiss.read_index(str(data / "vectors.faiss"), faiss.IO_FLAG_MMAP_IFC)
        articles = {d["id"]: Article.from_dict(d) for d in _read_json(data / "articles.json")}
        shared = {aid: aid for aid in articles}  # one string per article id, title and date
        shared.update((a.title, a.title) for a in articles.values())
        shared.update((a.date, a.date) for a in articles.values() if a.date)
        chunks = []
        for d in _read_json(data / "chunks.json"):
            for key in ("article_id", "title", "date"):
                d[key] = shared.get(d[key], d[key])
            chunks.append(Chunk.from_dict(d))
        sentences = [
            (shared.get(a, a), int(s), int(e)) for a, s, e in json.loads((data / "sentences.json").read_text("utf-8"))
        ]
        sentence_index = faiss.read_index(str(data / "sentences.faiss"), faiss.IO_FLAG_MMAP_IFC)
        bm25 = BM25.load(data / BM25_FILE) if BM25_FILE in manifest["files"] else None
    except (RuntimeError, ValueError, KeyError, TypeError, OSError) as err:
        raise IndexCorruptError(f"The index at {directory} cannot be read ({err}).", _fix(directory)) from err
    dim = int(manifest["embedding"]["dim"])
    if (
        vectors.ntotal != len(chunks)
        or sentence_index.ntotal != len(sentences)
        or vectors.d != dim
        or sentence_index.d != dim
    ):
        raise IndexCorruptError(
            f"The index at {directory} is inconsistent ({vectors.ntotal} vectors for {len(chunks)} chunks, "
            f"{sentence_index.ntotal} for {len(sentences)} sentences, {dim} dimensions expected).",
            _fix(directory),
        )
    if bm25 is not None and bm25.n != len(chunks):
        raise IndexCorruptError(f"The index at {directory} has a BM25 matrix for {bm25.n} chunks, not {len(chunks)}.",
                                _fix(directory))
    sentence_vectors = _flat_view(sentence_index)
    return Index(directory, manifest, articles, chunks, vectors, sentences, sentence_vectors, bm25, (sentence_index,))


def _flat_view(index: faiss.Index) -> np.ndarray:
    """The vectors of a flat index as a read-only array over its (memory-mapped) storage, no copy."""
    if not index.ntotal:
        return np.zeros((0, index.d), dtype=np.float32)
    flat = faiss.downcast_index(index)
    view = faiss.rev_swig_ptr(flat.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    view.flags.writeable = False
    return view


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
        return "; ".join(parts)


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as fh:
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
            slots: list[IndexEntry | None] = []
            pending: list[_Pending] = []
            for done, path in enumerate(files):
                if progress:
                    progress(done, len(files), article_id(path))
                entry = self._one(path, reusable, old_hashes, report)
                if isinstance(entry, _Pending):
                    entry.slot = len(slots)
                    slots.append(None)  # filled in when its batch is embedded
                    pending.append(entry)
                    if sum(len(p.texts) for p in pending) >= self.batch_texts:
                        self._embed(pending, slots, cache)
                elif entry is not None:
                    slots.append(entry)
            self._embed(pending, slots, cache)
            if progress:
                progress(len(files), len(files), "")
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
            cache.save()
        report.seconds = time.perf_counter() - started
        return report

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
        """Index one file: its previous entry when the file is unchanged, else its chunks awaiting vectors."""
        aid = article_id(path)
        try:
            _, digest = read_text(path)
            if aid in reusable and old_hashes.get(aid) == digest:
                report.unchanged += 1
                return reusable[aid]
            article = load_article(path)
        except ArticleError as err:
            if aid in reusable:
                message = f"{err} Kept the previously indexed version."
                report.warnings.append(message)
                log.warning("%s", message)
                report.unchanged += 1
                return reusable[aid]
            report.warnings.append(f"skipped {err}")
            log.warning("skipped %s", err)
            return None
        sentences = sentence_spans(article.body)
        chunks = chunk_article(article, self.chunk_chars, spans=sentences)
        texts = [c.embed_text() for c in chunks] + [article.body[s:e] for s, e in sentences]
        (report.changed if aid in old_hashes else report.added).append(aid)
        return _Pending(-1, article, chunks, sentences, texts)


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
    """The chunk vectors: exact (flat) up to ``exact_limit`` rows, else an inverted-file index
    (spherical k-means lists); returns its description for the manifest."""
    ntotal = sum(len(m) for m in matrices)
    if ntotal <= exact_limit:
        _write_flat(path, dim, matrices, ntotal)
        return {"type": "flat", "metric": "inner_product"}
    nlist = max(16, int(IVF_LISTS_PER_SQRT * np.sqrt(ntotal)))
    nprobe = max(1, -(-nlist // IVF_PROBE_SHARE))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.spherical = True
    ivf.cp.niter = 12
    ivf.cp.max_points_per_centroid = IVF_TRAIN_PER_LIST
    step = max(1, ntotal // (nlist * IVF_TRAIN_PER_LIST))
    ivf.train(_every(matrices, step))
    for block in _blocks(matrices):
        ivf.add(block)
    ivf.make_direct_map()  # rows can be read back (an update keeps unchanged articles' vectors)
    ivf.nprobe = nprobe
    faiss.write_index(ivf, str(path))
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
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    generation = f"gen-{stamp}"
    tmp = Path(tempfile.mkdtemp(dir=index_dir, prefix=".tmp-gen-"))
    try:
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
        for name in (*DATA_FILES, BM25_FILE):
            path = tmp / name
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
            files[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        tmp.chmod(0o755)
        os.replace(tmp, index_dir / generation)
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
    _atomic_write(index_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
    for stale in index_dir.glob("gen-*"):
        if stale.name != generation:
            shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.glob(".tmp-gen-*"):
        shutil.rmtree(stale, ignore_errors=True)
    return generation
