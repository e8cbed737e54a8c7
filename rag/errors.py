"""Project errors: problems a user can cause, each with a one-line message that names the fix.

Covers: the exception hierarchy shown by the CLI and the UI. Does not cover: bugs,
which stay ordinary Python exceptions with tracebacks.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class. ``str(err)`` is one line: what went wrong, then what to do."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = " ".join(problem.split())
        self.fix = " ".join(fix.split()) if fix else None
        super().__init__(self.problem + (f" {self.fix}" if self.fix else ""))


class ConfigError(RagError):
    """A setting or flag has a value the program cannot use."""


class ArticleError(RagError):
    """An article file cannot be read (not UTF-8, empty, binary, too large)."""


class IndexMissingError(RagError):
    """There is no index where one was expected."""


class IndexCorruptError(RagError):
    """Index files are truncated, altered or unreadable."""


class IndexWriteError(RagError):
    """The index directory cannot be created or written (permissions, disk full)."""


class IndexMismatchError(RagError):
    """The index was built with another embedding model, engine or dimension."""


class QuestionError(RagError):
    """The question is empty or unusable."""


class EmbeddingError(RagError):
    """The embedding engine cannot be loaded."""


class BackendError(RagError):
    """The answer backend (an LLM server) failed or is misconfigured."""
