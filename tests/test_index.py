"""The persisted index: round trip, incremental updates, corruption, mismatches, atomic writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import rag.index as index_module
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from rag.index import MANIFEST, IndexBuilder, load_index

from .fakes import HashEmbeddings

PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def build(articles: Path, index: Path, emb: HashEmbeddings | None = None, cache: Path | None = None):
    emb = emb or HashEmbeddings()
    return IndexBuilder(emb, chunk_chars=600, cache_dir=cache).run(articles, index), emb


def data_files(index: Path) -> list[Path]:
    return sorted(p for p in index.rglob("*") if p.is_file() and p.name != ".lock")


def test_round_trip(corpus_copy: Path, tmp_path: Path) -> None:
    report, emb = build(corpus_copy, tmp_path / "idx")
    assert report.written and report.articles == 5 and len(report.added) == 5
    assert report.embedded == emb.embedded > report.chunks > 0
    idx = load_index(tmp_path / "idx")
    assert set(idx.articles) == {p.stem for p in corpus_copy.glob("*.txt")}
    assert len(idx.chunks) == report.chunks == idx.vectors.ntotal
    assert idx.manifest["embedding"] == {"engine": "fake-hash", "model": "hash-64", "dim": 64}
    for chunk in idx.chunks:
        assert idx.articles[chunk.article_id].body[chunk.start : chunk.end] == chunk.text
    for aid, start, end in idx.sentences:
        assert 0 <= start < end <= len(idx.articles[aid].body)
    # searching with a chunk's own vector finds that chunk first
    target = 7
    vec = emb.embed_passages([idx.chunks[target].embed_text()])[0]
    assert idx.search(vec, 3)[0][0] == target
    assert idx.search(vec, 3, rows=[1, 2])[0][0] in (1, 2)
    # nothing is pickled: JSON, FAISS and NumPy files only
    for path in data_files(tmp_path / "idx"):
        assert not path.read_bytes()[:2].startswith(PICKLE_MAGIC), path
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


def test_unchanged_reindex_embeds_nothing(corpus_copy: Path, tmp_path: Path) -> None:
    build(corpus_copy, tmp_path / "idx")
    before = (tmp_path / "idx" / MANIFEST).read_bytes()
    emb = HashEmbeddings()
    report, _ = build(corpus_copy, tmp_path / "idx", emb)
    assert emb.embedded == 0 and report.embedded == 0 and not report.written
    assert report.unchanged == 5 and (tmp_path / "idx" / MANIFEST).read_bytes() == before


def test_changed_article_reembeds_only_itself(corpus_copy: Path, tmp_path: Path) -> None:
    build(corpus_copy, tmp_path / "idx")
    old = load_index(tmp_path / "idx")
    target = corpus_copy / "004_3c74da71e6f5db71.txt"
    text = target.read_text(encoding="utf-8")
    marker = "tiếp tục tuyên truyền để quần chúng nhân dân thực hiện nghiêm"
    target.write_text(text.replace(marker, "tiếp tục tuyên truyền sâu rộng để quần chúng nhân dân thực hiện nghiêm"),
                      encoding="utf-8")
    emb = HashEmbeddings()
    report, _ = build(corpus_copy, tmp_path / "idx", emb)
    assert report.changed == ["004_3c74da71e6f5db71"] and report.unchanged == 4
    # only texts that changed go to the engine: the edited sentence and the chunks holding it
    assert 0 < emb.embedded <= 4
    new = load_index(tmp_path / "idx")
    for aid in old.articles:
        if aid == "004_3c74da71e6f5db71":
            continue
        old_rows = [i for i, c in enumerate(old.chunks) if c.article_id == aid]
        new_rows = [i for i, c in enumerate(new.chunks) if c.article_id == aid]
        assert np.allclose(old.vectors.reconstruct_n(0, old.vectors.ntotal)[old_rows],
                           new.vectors.reconstruct_n(0, new.vectors.ntotal)[new_rows])
    assert "sâu rộng" in new.articles["004_3c74da71e6f5db71"].body


def test_added_and_deleted_articles(corpus_copy: Path, tmp_path: Path) -> None:
    build(corpus_copy, tmp_path / "idx")
    (corpus_copy / "000_365769973c54f80b.txt").unlink()
    (corpus_copy / "new_article.txt").write_text(
        "Tiêu đề bài mới\n\nTin tức 01/03/2023 08:00\n\nSáng 1/3, hai bên hội đàm tại Viêng Chăn. "
        "Hai bên ký Bản ghi nhớ về hợp tác đào tạo.\n",
        encoding="utf-8",
    )
    emb = HashEmbeddings()
    report, _ = build(corpus_copy, tmp_path / "idx", emb)
    assert report.added == ["new_article"] and report.removed == ["000_365769973c54f80b"]
    idx = load_index(tmp_path / "idx")
    assert "000_365769973c54f80b" not in idx.articles and idx.articles["new_article"].date == "2023-03-01"
    assert not any(c.article_id == "000_365769973c54f80b" for c in idx.chunks)
    assert len(list((tmp_path / "idx").glob("gen-*"))) == 1  # old generations are cleaned up


def test_bad_file_skipped_and_old_version_kept(corpus_copy: Path, tmp_path: Path) -> None:
    build(corpus_copy, tmp_path / "idx")
    (corpus_copy / "001_4ecc485f7df185a9.txt").write_bytes(b"\xff\xfe\x00garbage")
    (corpus_copy / "junk.txt").write_bytes(b"")
    report, _ = build(corpus_copy, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    assert "001_4ecc485f7df185a9" in idx.articles  # nothing already indexed is lost
    assert "junk" not in idx.articles
    assert any("Kept the previously indexed version" in w for w in report.warnings)
    assert any("junk.txt" in w and "empty" in w for w in report.warnings)


@pytest.mark.parametrize("victim", ["vectors.faiss", "chunks.json", "articles.json", "sentences.faiss"])
def test_truncated_file_gives_one_line_error_and_rebuild_recovers(corpus_copy: Path, tmp_path: Path,
                                                                 victim: str) -> None:
    build(corpus_copy, tmp_path / "idx")
    path = next((tmp_path / "idx").glob(f"gen-*/{victim}"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError) as err:
        load_index(tmp_path / "idx")
    message = str(err.value)
    assert "\n" not in message and "rag index" in message and victim in message
    report, _ = build(corpus_copy, tmp_path / "idx")
    assert report.written and any("not reused" in w for w in report.warnings)
    assert len(load_index(tmp_path / "idx").articles) == 5


def test_missing_or_garbled_manifest(tmp_path: Path, corpus_copy: Path) -> None:
    with pytest.raises(IndexMissingError) as err:
        load_index(tmp_path / "nowhere")
    assert "rag index" in str(err.value)
    build(corpus_copy, tmp_path / "idx")
    (tmp_path / "idx" / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        load_index(tmp_path / "idx")


def test_other_engine_is_a_mismatch_and_is_never_mixed(corpus_copy: Path, tmp_path: Path) -> None:
    build(corpus_copy, tmp_path / "idx")
    idx = load_index(tmp_path / "idx")
    with pytest.raises(IndexMismatchError) as err:
        idx.check_embeddings(HashEmbeddings(model="hash-other"))
    assert "RAG_EMBEDDINGS" in str(err.value)
    other = HashEmbeddings(dim=32, model="hash-32")
    report, _ = build(corpus_copy, tmp_path / "idx", other)
    assert report.written and other.embedded > report.chunks  # everything re-embedded
    rebuilt = load_index(tmp_path / "idx")
    assert rebuilt.model == "hash-32" and rebuilt.vectors.d == 32
    with pytest.raises(IndexMismatchError):
        rebuilt.search(np.zeros(64, dtype=np.float32), 3)  # a 64-d query against a 32-d index


def test_interrupted_build_leaves_previous_index_usable(corpus_copy: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    build(corpus_copy, tmp_path / "idx")
    before = load_index(tmp_path / "idx")
    (corpus_copy / "001_4ecc485f7df185a9.txt").unlink()

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt  # killed between writing the data and committing the manifest

    monkeypatch.setattr(index_module, "_atomic_write", crash)
    with pytest.raises(KeyboardInterrupt):
        build(corpus_copy, tmp_path / "idx")
    after = load_index(tmp_path / "idx")
    assert after.fingerprint == before.fingerprint and "001_4ecc485f7df185a9" in after.articles
    monkeypatch.undo()
    build(corpus_copy, tmp_path / "idx")
    assert "001_4ecc485f7df185a9" not in load_index(tmp_path / "idx").articles
    assert len(list((tmp_path / "idx").glob("gen-*"))) == 1


def test_copied_index_still_loads(corpus_copy: Path, tmp_path: Path) -> None:
    build(corpus_copy, tmp_path / "idx")
    shutil.copytree(tmp_path / "idx", tmp_path / "moved")
    assert len(load_index(tmp_path / "moved").chunks) == len(load_index(tmp_path / "idx").chunks)


def test_disk_cache_is_shared_by_indexes_and_outside_them(corpus_copy: Path, tmp_path: Path) -> None:
    _first, emb = build(corpus_copy, tmp_path / "a", cache=tmp_path / "cache")
    assert emb.embedded > 0 and list((tmp_path / "cache").glob("*.npz"))
    cache_files = {p.name for p in (tmp_path / "cache").glob("*.npz")}
    assert not any(p.name in cache_files for p in (tmp_path / "a").rglob("*"))  # the index holds only index files
    again = HashEmbeddings()
    second, _ = build(corpus_copy, tmp_path / "b", again, cache=tmp_path / "cache")
    assert second.written and again.embedded == 0  # a new index of the same texts embeds nothing
