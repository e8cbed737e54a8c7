"""rag: a question-answering chatbot over news articles, with cited, verbatim sources.

``from rag import ChatBot`` is the entry point; see README.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Answer", "ChatBot", "Citation", "RagError", "Settings"]

if TYPE_CHECKING:
    from rag.answer import Answer, Citation
    from rag.bot import ChatBot
    from rag.config import Settings
    from rag.errors import RagError


def __getattr__(name: str) -> Any:
    # Lazy: `import rag` stays cheap, and nothing heavy loads until it is used.
    if name == "ChatBot":
        from rag.bot import ChatBot

        return ChatBot
    if name in ("Answer", "Citation"):
        from rag import answer

        return getattr(answer, name)
    if name == "Settings":
        from rag.config import Settings

        return Settings
    if name == "RagError":
        from rag.errors import RagError

        return RagError
    raise AttributeError(name)
