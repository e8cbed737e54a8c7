"""The benchmark's synthetic corpora and indexes at scale (bench/): what they are made of is checked here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench import scale
from bench.synth import SyntheticCorpus
from rag.chunking import chunk_article
from rag.index import load_index
from rag.ingest import load_article
from rag.text import sentence_spans

from .fakes import HashEmbeddings


def test_synthetic_articles_are_what_ingestion_makes_of_their_pages(articles_dir: Path, tmp_path: Path) -> None:
    corpus = SyntheticCorpus(articles_dir)
    assert corpus.spec(7) == SyntheticCorpus(articles_dir).spec(7)  # deterministic
    assert len({corpus.spec(i).date for i in range(50)}) > 40
    for path in corpus.write(tmp_path, 60):
        i = int(path.stem.split("-")[1])
        assert load_article(path) == corpus.article(i)
        spans, ids = corpus.sentences(corpus.spec(i))
        article = corpus.article(i)
        assert spans == sentence_spans(article.body)
        assert [article.body[s:e] for s, e in spans] == [corpus.pool[j] for j in ids]


def test_index_at_scale_loads_and_its_vectors_are_real_or_derived(articles_dir: Path, tmp_path: Path) -> None:
    corpus = SyntheticCorpus(articles_dir)
    emb = HashEmbeddings()
    pool = scale.embed_pool(corpus, emb)
    out = scale.build(corpus, 30, pool, tmp_path / "idx", engine=emb.engine, model=emb.model, exact_limit=100)
    index = load_index(tmp_path / "idx")
    assert out["articles"] == len(index.articles) == 30 and out["chunks"] == len(index.chunks)
    assert index.approximate and index.bm25.n == len(index.chunks)  # 30 articles > 100 chunks: IVF
    # sentence vectors are the pool's real ones
    for row in range(0, len(index.sentences), 17):
        aid, s, e = index.sentences[row]
        text = index.articles[aid].body[s:e]
        assert np.allclose(index.sentence_vectors[row], emb.embed_passages([text])[0], atol=1e-6)
    # a chunk's vector is the normalised mean of its sentences'
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    for row, chunk in list(enumerate(index.chunks))[::11]:
        article = index.articles[chunk.article_id]
        inside = [article.body[s:e] for s, e in sentence_spans(article.body) if s >= chunk.start and e <= chunk.end]
        mean = emb.embed_passages(inside).sum(axis=0)
        assert np.allclose(vectors[row], mean / np.linalg.norm(mean), atol=1e-5)
        assert chunk_article(article)[chunk.n] == chunk
    assert json.loads((tmp_path / "idx" / "manifest.json").read_text())["counts"]["sentences"] == out["sentences"]
