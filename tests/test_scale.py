"""Library code for large corpora: fast folding, sparse BM25, date arrays, index types, devices."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from unittest import mock

import faiss
import numpy as np
import pytest

from rag import text as text_module
from rag.bm25 import BM25
from rag.chunking import Chunk
from rag.dates import Period
from rag.index import IndexBuilder, _write_flat, load_index
from rag.retrieval import ChunkDates, date_match
from rag.text import fold, lexical_tokens, syllables

from .fakes import HashEmbeddings

# ---------------------------------------------------------------- folding


def test_fast_fold_equals_the_unicode_definition_for_every_character() -> None:
    ranges = [(0, 0x24F), (0x300, 0x3FF), (0x1E00, 0x1EFF), (0x2000, 0x20CF), (0x3000, 0x3010), (0x1D400, 0x1D410)]
    chars = [chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1)]
    for ch in chars:
        assert fold(ch) == text_module._fold_slow(ch), hex(ord(ch))
    rng = random.Random(6)
    pool = [*chars, " ", " ", "Σ", "ΟΔΟΣ ", "hoà ", "Đ", "a\u0301"]
    for _ in range(2000):
        s = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        assert fold(s) == text_module._fold_slow(s)
        assert syllables(s) == text_module._WORD.findall(text_module._fold_slow(s))


def test_tokens_of_the_sample_corpus_are_unchanged(articles_dir: Path) -> None:
    for path in sorted(articles_dir.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        slow = text_module._WORD.findall(text_module._fold_slow(raw))
        assert syllables(raw) == slow


# ---------------------------------------------------------------- BM25


def _reference_scores(docs: list[list[str]], terms: list[str], k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """The dictionary-of-postings BM25 the sparse one replaced."""
    n = len(docs)
    lengths = [len(d) for d in docs]
    avg = sum(lengths) / n
    out = np.zeros(n)
    for term in set(terms):
        holders = [i for i, d in enumerate(docs) if term in d]
        if not holders:
            continue
        idf = np.log(1 + (n - len(holders) + 0.5) / (len(holders) + 0.5))
        for i in holders:
            tf = docs[i].count(term)
            out[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / avg))
    return out


def test_sparse_bm25_scores_like_the_reference_and_saves(tmp_path: Path) -> None:
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(40)]
    docs = [[rng.choice(vocab[: rng.randint(3, 40)]) for _ in range(rng.randint(0, 30))] for _ in range(200)]
    bm25 = BM25(docs)
    with mock.patch.object(BM25, "_BLOCK", 50):  # built in many blocks: the same matrix
        blocked = BM25(iter(docs))
    for name in ("indptr", "rows", "tf", "weights", "lengths"):
        assert np.array_equal(getattr(blocked, name), getattr(bm25, name)), name
    bm25.save(tmp_path / "bm25.npz")
    loaded = BM25.load(tmp_path / "bm25.npz")
    for _ in range(30):
        terms = [rng.choice(vocab) for _ in range(rng.randint(1, 6))] + ["unknown"]
        expected = _reference_scores(docs, terms)
        for model in (bm25, loaded):
            assert np.allclose(model.scores(terms), expected, rtol=1e-5, atol=1e-6)
    with np.load(tmp_path / "bm25.npz", allow_pickle=False) as data:  # plain arrays only
        assert set(data.files) == {"terms", "indptr", "rows", "tf", "lengths", "params"}


def _top_by_sorting(bm25: BM25, terms: list[str], k: int, allowed: np.ndarray | None) -> list[int]:
    scores = bm25.scores(terms)
    return [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0 and (allowed is None or allowed[i])][:k]


def test_top_k_equals_sorting_every_score() -> None:
    rng = np.random.default_rng(2)
    common = [f"c{i}" for i in range(6)]
    docs = []
    for i in range(3000):
        doc = [t for t in common if rng.random() < 0.9] * int(rng.integers(1, 3))
        doc += [f"r{int(x)}" for x in rng.integers(0, 300, size=int(rng.integers(0, 8)))]
        doc += [f"dup{i % 50}"] if i % 7 == 0 else []  # identical documents: ties
        docs.append(doc)
    bm25 = BM25(docs)
    mask = rng.random(len(docs)) < 0.3
    for q in range(40):
        terms = [*common[: q % 6], f"r{q * 13 % 300}", f"dup{q % 50}", "absent"]
        for allowed in (None, mask):
            for k in (1, 50, 5000):
                rows, scores = bm25.top(terms, k, allowed)
                assert rows.tolist() == _top_by_sorting(bm25, terms, k, allowed)
                assert np.allclose(scores, bm25.scores(terms)[rows])
    assert bm25.top(["absent"], 5)[0].tolist() == []


def test_bm25_from_words_is_bm25_of_lexical_tokens(articles_dir: Path) -> None:
    from rag.ingest import load_article
    from rag.text import expanded_syllables

    texts = [p.read_text(encoding="utf-8") for p in sorted(articles_dir.glob("*.txt"))]
    texts += [load_article(p).body for p in sorted(articles_dir.glob("*.txt"))] + ["", "BĐBP", "a b a b a"]
    generic = BM25(lexical_tokens(t) for t in texts)
    with mock.patch("rag.bm25.bigram_postings.__defaults__", (50,)):  # many blocks
        fast = BM25.from_words(expanded_syllables(t) for t in texts)
    assert sorted(fast.terms) == sorted(generic.terms)
    assert np.array_equal(fast.lengths, generic.lengths)
    for term in generic.terms:
        a, b = generic.vocab[term], fast.vocab[term]
        assert np.array_equal(generic.rows[generic.indptr[a] : generic.indptr[a + 1]],
                              fast.rows[fast.indptr[b] : fast.indptr[b + 1]])
        assert np.array_equal(generic.weights[generic.indptr[a] : generic.indptr[a + 1]],
                              fast.weights[fast.indptr[b] : fast.indptr[b + 1]])


def test_bm25_ranks_the_sample_corpus_as_before(bot) -> None:
    docs = [lexical_tokens(f"{c.title}\n{c.text}") for c in bot.index.chunks]
    for question in ("Ngày 18/12/2024 Thủ tướng tiếp ai?", "nghị định thư cứu hộ cứu nạn", "Savannakhet"):
        terms = lexical_tokens(question)
        expected = _reference_scores(docs, terms)
        got = bot.retriever.bm25.scores(terms)
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-6)
        assert [int(i) for i in np.argsort(-got, kind="stable")] == [int(i) for i in np.argsort(-expected, kind="stable")]


# ---------------------------------------------------------------- dates


def test_chunk_date_arrays_match_date_match() -> None:
    rng = random.Random(3)
    isos = ["2021", "2021-12", "2021-12-12", "2022-06", "2024-12-18", "2025", "2025-10-16", "2020-09-25", "2026"]
    chunks = [Chunk("a", i, 0, 1, "x", "t", rng.choice([*isos, None]), tuple(rng.sample(isos, rng.randint(0, 3))))
              for i in range(300)]
    dates = ChunkDates(chunks)
    periods = [Period.from_iso(p) for p in ("2021", "2021-12", "2025-10", "2024-12-18", "2030")]
    periods.append(Period(date(2020, 1, 1), date(2022, 12, 31), "2020/2022"))
    for i in range(len(periods)):
        for chosen in (periods[i : i + 1], periods[i : i + 2]):
            expected = np.array([date_match(c, chosen) for c in chunks], dtype=np.float32)
            assert np.array_equal(dates.match(chosen), expected)
            published = np.array([bool(c.date) and Period.from_iso(c.date).overlaps(chosen[0]) for c in chunks])
            assert np.array_equal(dates.published_in(chosen[0]), published)


# ---------------------------------------------------------------- index types


def test_flat_writer_writes_what_faiss_writes(tmp_path: Path) -> None:
    for n in (0, 1, 37):
        x = np.random.default_rng(n).random((n, 8), dtype=np.float32)
        reference = faiss.IndexFlatIP(8)
        if n:
            reference.add(x)
        faiss.write_index(reference, str(tmp_path / "ref.faiss"))
        _write_flat(tmp_path / "ours.faiss", 8, [x[:5], x[5:]], n)
        assert (tmp_path / "ours.faiss").read_bytes() == (tmp_path / "ref.faiss").read_bytes()


def test_texts_are_embedded_many_articles_at_a_time(corpus_copy: Path, tmp_path: Path) -> None:
    one_by_one, batched = HashEmbeddings(), HashEmbeddings()
    IndexBuilder(one_by_one, batch_texts=1).run(corpus_copy, tmp_path / "a")
    IndexBuilder(batched, batch_texts=60).run(corpus_copy, tmp_path / "b")
    assert len(one_by_one.calls) == 5 and len(batched.calls) < 5 and sum(batched.calls) == sum(one_by_one.calls)
    a, b = load_index(tmp_path / "a"), load_index(tmp_path / "b")
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert np.array_equal(a.vectors.reconstruct_n(0, a.vectors.ntotal), b.vectors.reconstruct_n(0, b.vectors.ntotal))
    assert np.array_equal(a.sentence_vectors, b.sentence_vectors)


def test_index_type_follows_the_size_and_filters_work_on_both(corpus_copy: Path, tmp_path: Path) -> None:
    emb = HashEmbeddings()
    IndexBuilder(emb, exact_limit=10).run(corpus_copy, tmp_path / "ivf")
    IndexBuilder(emb).run(corpus_copy, tmp_path / "flat")
    ivf, flat = load_index(tmp_path / "ivf"), load_index(tmp_path / "flat")
    assert ivf.approximate and not flat.approximate
    assert ivf.manifest["vector_index"]["type"] == "ivf" and flat.manifest["vector_index"]["type"] == "flat"
    assert json.loads((tmp_path / "ivf" / "manifest.json").read_text())["files"]["bm25.npz"]["sha256"]
    assert ivf.bm25 is not None and ivf.bm25.n == len(ivf.chunks)
    q = emb.embed_queries(["Phan Văn Giang ký nghị định thư"])[0]
    nprobe, ivf.vectors.nprobe = ivf.vectors.nprobe, ivf.vectors.nlist  # all lists probed: exact
    assert [r for r, _ in ivf.search(q, 10)] == [r for r, _ in flat.search(q, 10)]
    ivf.vectors.nprobe = nprobe
    assert ivf.manifest["vector_index"]["nprobe"] == nprobe < ivf.vectors.nlist
    rows = [3, 7, 11, 40, 41]  # a small selection: every list is probed, the search is exact
    expected = flat.search(q, 3, rows=rows)
    got = ivf.search(q, 3, rows=rows)
    assert [r for r, _ in got] == [r for r, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected])
    assert {r for r, _ in expected} <= set(rows)
    assert {r for r, _ in ivf.search(q, 3, rows=list(range(0, 60)))} <= set(range(60))
    assert not ivf.sentence_vectors.flags.writeable  # memory-mapped, read-only
    # an update reads the unchanged articles' vectors back from the inverted lists
    changed = sorted(corpus_copy.glob("*.txt"))[2]  # kept whole by cleaning
    changed.write_text(changed.read_text(encoding="utf-8") + "\nMột câu mới được thêm vào cuối bài.\n", encoding="utf-8")
    again = HashEmbeddings()
    report = IndexBuilder(again, exact_limit=10).run(corpus_copy, tmp_path / "ivf")
    assert report.changed == [changed.stem] and 0 < again.embedded < 30
    assert load_index(tmp_path / "ivf").approximate


# ---------------------------------------------------------------- phrases


def test_phrase_index_counts_what_reading_every_sentence_counts(bot) -> None:
    from rag import evidence
    from rag.evidence import SentenceTable
    from rag.query import load_lexicon

    table = bot.extractive.table
    rng = random.Random(4)
    words = [w for s in table.sentences for w in s.padded.split()]
    phrases = {p for entry in load_lexicon() for p in entry.expansions}
    for s in rng.sample(table.sentences, 40):  # n-grams that occur
        w = s.padded.split()
        for n in (1, 2, 3, 4):
            if len(w) > n:
                start = rng.randrange(len(w) - n)
                phrases.add(" ".join(w[start : start + n]))
    phrases |= {" ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(200)}  # mostly absent
    phrases |= {"", " viet nam", "viet  nam", "covid-19", "Savannakhet", "savannakhet", "viet_nam", "quoc_phong"}
    with mock.patch.object(evidence, "PHRASE_INDEX_MIN", 0):
        indexed = SentenceTable(bot.index)
        for phrase in sorted(phrases):
            needle = f" {phrase} "
            assert indexed.df(phrase) == sum(1 for s in table.sentences if needle in s.padded), phrase
            assert indexed.in_corpus(phrase) == (needle in table.corpus), phrase
            # which sentences, not just how many: the same ids as reading every sentence
            assert indexed.holding(phrase) == table.holding(phrase), phrase
            assert table.holding(phrase) == [i for i, s in enumerate(table.sentences) if needle in s.padded], phrase


# ---------------------------------------------------------------- devices


@pytest.mark.parametrize(("cuda", "expected", "batch"), [(True, "cuda", 128), (False, "cpu", 32)])
def test_sentence_transformers_runs_on_the_gpu_when_there_is_one(cuda: bool, expected: str, batch: int) -> None:
    import sys
    import types

    from rag.embeddings import SentenceTransformerEmbeddings, default_device

    torch = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: cuda))
    loaded = {}

    class FakeST:
        def __init__(self, model: str, device: str, local_files_only: bool) -> None:
            loaded["device"] = device

        def get_embedding_dimension(self) -> int:
            return 4

        def encode(self, texts, **kwargs):
            loaded["batch_size"] = kwargs["batch_size"]
            return np.ones((len(texts), 4), dtype=np.float32)

    fake_st = types.SimpleNamespace(SentenceTransformer=FakeST)
    with mock.patch.dict(sys.modules, {"torch": torch, "sentence_transformers": fake_st}):
        assert default_device() == expected
        emb = SentenceTransformerEmbeddings("some/model")
        assert emb.device == expected and emb.batch_size == batch
        emb.embed_passages(["a", "b"])
        assert loaded == {"device": expected, "batch_size": batch}
        assert SentenceTransformerEmbeddings("some/model", device="cpu", batch_size=8).device == "cpu"
