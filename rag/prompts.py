"""Prompts: text files in ``prompts/``, loaded by one function and rendered strictly.

Covers: finding the prompt directory (``RAG_PROMPTS_DIR`` or the project's ``prompts/``),
and ``render(name, **values)``, which fails when a placeholder has no value or a value
has no placeholder. Placeholders are ``{name}``; a literal brace is written ``{{``.
Does not cover: which prompt a backend uses (``rag.answer``).
"""

from __future__ import annotations

import os
import string
from functools import lru_cache
from pathlib import Path

from rag.errors import ConfigError

_DEFAULT_DIR = Path(__file__).resolve().parent.parent / "prompts"


def prompts_dir() -> Path:
    return Path(os.environ.get("RAG_PROMPTS_DIR") or _DEFAULT_DIR)


@lru_cache(maxsize=32)
def _load(path: Path) -> tuple[str, frozenset[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"Prompt file {path} cannot be read.", "Restore it from the repository.") from err
    fields = frozenset(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    return text, fields


def render(name: str, **values: object) -> str:
    """Render ``prompts/<name>.txt``; every placeholder needs a value and every value a placeholder."""
    text, fields = _load(prompts_dir() / f"{name}.txt")
    missing = sorted(fields - values.keys())
    unused = sorted(values.keys() - fields)
    if missing or unused:
        raise ConfigError(
            f"Prompt {name!r} does not fit its values (missing: {', '.join(missing) or '-'}; "
            f"unused: {', '.join(unused) or '-'}).",
            f"Fix {prompts_dir() / (name + '.txt')}.",
        )
    return text.format(**values)
